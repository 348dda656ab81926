"""Deploy the official protocol builds (contracts/build/official) onto an anvil chain.

Uniswap V2 (factory, Router02) and V3 (factory with the 0.01% tier enabled, NonfungiblePositionManager with
its descriptor and the NFTDescriptor library linked, QuoterV2, TickLens, SwapRouter02), Circle's FiatToken
behind its proxy, OpenZeppelin tokens and vault, the USDT-like token, and Multicall3 by its canonical
pre-signed transaction. Every step goes through ``agent.devtools.contracts`` (artifact loading, receipts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_typing import ChecksumAddress, HexStr
from web3 import Web3
from web3.logs import DISCARD
from web3.types import Wei

from agent.devtools.contracts import deploy_official, load_official, official_at
from agent.errors import ExecutionError

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
MULTICALL3_DEPLOYER = "0x05f32B3cC3888453ff71B01135B34FF8e41263F2"
#: fee (hundredths of a bip) -> tick spacing, as on mainnet; 100 must be enabled by the factory owner
FEE_TIERS = {100: 1, 500: 10, 3000: 60, 10000: 200}
MIN_TICK, MAX_TICK = -887272, 887272
RECEIPT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class UniswapV3:
    factory: ChecksumAddress
    position_manager: ChecksumAddress
    descriptor: ChecksumAddress
    quoter: ChecksumAddress
    tick_lens: ChecksumAddress
    swap_router02: ChecksumAddress


def transact(w3: Web3, call: Any, sender: str, value: int = 0) -> Any:
    """Send one contract call from `sender` and wait; a revert raises naming the function."""
    tx_hash = call.transact({"from": Web3.to_checksum_address(sender), "value": value})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
    if receipt["status"] != 1:
        raise ExecutionError(f"{call.fn_name} reverted: tx {tx_hash.to_0x_hex()}")
    return receipt


def deploy_multicall3(w3: Web3, *, funder: str | None = None) -> ChecksumAddress:
    """Send Multicall3's canonical pre-signed transaction after funding its one-time deployer with 0.1 ETH.

    It lands at 0xcA11…CA11 with the mainnet code, as on every chain it was deployed to this way. With no
    `funder` the deployer is funded with ``anvil_setBalance``, so no other account's nonce moves (the sandbox's
    addresses stay what they are). Where the code is already there (a fork of mainnet), nothing is sent.
    """
    if len(w3.eth.get_code(Web3.to_checksum_address(MULTICALL3_ADDRESS))) > 0:
        return Web3.to_checksum_address(MULTICALL3_ADDRESS)
    raw_tx = load_official("Multicall3").raw_transaction
    assert raw_tx is not None
    if funder is None:
        w3.provider.make_request("anvil_setBalance", [MULTICALL3_DEPLOYER, hex(10**17)])  # type: ignore[arg-type]
    else:
        fund = w3.eth.send_transaction({"from": Web3.to_checksum_address(funder), "to": MULTICALL3_DEPLOYER,
                                        "value": Wei(10**17)})
        w3.eth.wait_for_transaction_receipt(fund, timeout=RECEIPT_TIMEOUT_S)
    tx_hash = w3.eth.send_raw_transaction(HexStr(raw_tx))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
    if receipt["status"] != 1 or receipt.get("contractAddress") != MULTICALL3_ADDRESS:
        raise ExecutionError(f"Multicall3 pre-signed deployment failed: {dict(receipt)}")
    return Web3.to_checksum_address(MULTICALL3_ADDRESS)


def deploy_uniswap_v2(w3: Web3, *, sender: str, weth: str) -> tuple[ChecksumAddress, ChecksumAddress]:
    """The official UniswapV2Factory (fee setter = sender) and UniswapV2Router02; returns (factory, router)."""
    factory = deploy_official(w3, "UniswapV2Factory", sender, sender=sender)
    router = deploy_official(w3, "UniswapV2Router02", factory, weth, sender=sender)
    return factory, router


def deploy_uniswap_v3(w3: Web3, *, sender: str, weth: str, factory_v2: str) -> UniswapV3:
    """The official V3 factory (0.01% tier enabled), position manager, QuoterV2, TickLens and SwapRouter02."""
    factory = deploy_official(w3, "UniswapV3Factory", sender=sender)
    transact(w3, official_at(w3, "UniswapV3Factory", factory).functions.enableFeeAmount(100, 1), sender)
    library = deploy_official(w3, "NFTDescriptor", sender=sender)
    label = b"ETH".ljust(32, b"\0")
    descriptor = deploy_official(w3, "NonfungibleTokenPositionDescriptor", weth, label, sender=sender,
                                 libraries={"NFTDescriptor": library})
    manager = deploy_official(w3, "NonfungiblePositionManager", factory, weth, descriptor, sender=sender)
    quoter = deploy_official(w3, "QuoterV2", factory, weth, sender=sender)
    lens = deploy_official(w3, "TickLens", sender=sender)
    router = deploy_official(w3, "SwapRouter02", factory_v2, factory, manager, weth, sender=sender)
    return UniswapV3(factory, manager, descriptor, quoter, lens, router)


def deploy_usdc(w3: Web3, *, owner: str, proxy_admin: str, name: str = "USD Coin",
                symbol: str = "USDC") -> ChecksumAddress:
    """Circle's FiatTokenV2_2 behind FiatTokenProxy, initialised through V2_2 as on mainnet.

    `owner` is owner, master minter, pauser and blacklister, and a minter with an unlimited allowance;
    `proxy_admin` (a different account) administers the proxy and, as on mainnet, cannot call the token.
    """
    if Web3.to_checksum_address(owner) == Web3.to_checksum_address(proxy_admin):
        raise ValueError("deploy_usdc: the proxy admin must differ from the token owner (it cannot call the token)")
    checker = deploy_official(w3, "SignatureChecker", sender=owner)
    implementation = deploy_official(w3, "FiatTokenV2_2", sender=owner, libraries={"SignatureChecker": checker})
    proxy = deploy_official(w3, "FiatTokenProxy", implementation, sender=proxy_admin)
    token = official_at(w3, "FiatTokenV2_2", proxy)
    f = token.functions
    for call in (f.initialize(name, symbol, "USD", 6, owner, owner, owner, owner), f.initializeV2(name),
                 f.initializeV2_1(owner), f.initializeV2_2([], symbol), f.configureMinter(owner, 2**256 - 1)):
        transact(w3, call, owner)
    return proxy


def sqrt_price_x96(price_raw: Decimal) -> int:
    """sqrtPriceX96 for a price of token1 per token0 in raw units."""
    return int(price_raw.sqrt() * Decimal(2**96))


def tick_at(price_raw: Decimal, spacing: int) -> int:
    """The tick of a raw price, rounded down to a multiple of `spacing` (and kept in range)."""
    tick = math.floor(math.log(float(price_raw)) / math.log(1.0001))
    aligned = (tick // spacing) * spacing
    low, high = -(MAX_TICK // spacing) * spacing, (MAX_TICK // spacing) * spacing
    return max(low, min(high, aligned))


def create_v3_pool(w3: Web3, v3: UniswapV3, *, token_a: str, token_b: str, fee: int, price_b_per_a: Decimal,
                   sender: str) -> tuple[ChecksumAddress, str, str]:
    """Create and initialise the pool at a price of `token_b` per `token_a` (raw units).

    Returns ``(pool, token0, token1)`` with tokens sorted as the pool sorts them.
    """
    a, b = Web3.to_checksum_address(token_a), Web3.to_checksum_address(token_b)
    token0, token1 = sorted((a, b), key=lambda t: int(t, 16))
    price01 = price_b_per_a if token0 == a else 1 / price_b_per_a
    manager = official_at(w3, "NonfungiblePositionManager", v3.position_manager)
    transact(w3, manager.functions.createAndInitializePoolIfNecessary(token0, token1, fee,
                                                                      sqrt_price_x96(price01)), sender)
    pool = official_at(w3, "UniswapV3Factory", v3.factory).functions.getPool(token0, token1, fee).call()
    return Web3.to_checksum_address(pool), token0, token1


def mint_position(w3: Web3, v3: UniswapV3, *, token0: str, token1: str, fee: int, tick_lower: int,
                  tick_upper: int, amount0: int, amount1: int, sender: str) -> int:
    """Add a position (sender must hold and have approved the amounts to the manager); returns its token id."""
    manager = official_at(w3, "NonfungiblePositionManager", v3.position_manager)
    params = (token0, token1, fee, tick_lower, tick_upper, amount0, amount1, 0, 0, sender, 2**63)
    receipt = transact(w3, manager.functions.mint(params), sender)
    events = manager.events.IncreaseLiquidity().process_receipt(receipt, errors=DISCARD)
    return int(events[0]["args"]["tokenId"])
