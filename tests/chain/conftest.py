"""In-process EVM (eth-tester / py-evm) with a small world of the official builds, deployed once per session.

Every test runs inside a snapshot that is reverted afterwards, so tests can change state freely.
The world: WETH9; USDC (Circle's FiatToken behind its proxy, 6 decimals), WBTC (8) and DAI (18) as OpenZeppelin
tokens, USDT (6, the USDT-quirk token); two official Uniswap-V2 deployments ("uni" and "sushi") with seeded pools at
ETH = 3000 USD and BTC = 60000 USD; official Uniswap V3 (QuoterV2, SwapRouter02) with WETH/USDC, WBTC/USDC and
WETH/WBTC pools at the same prices; a USDC ERC-4626 savings vault earning 5%/year; Multicall3 (its pre-signed
deployment); the local aggregator router (the one contract of the project's own).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from eth_tester.exceptions import TransactionFailed
from eth_typing import ChecksumAddress
from eth_utils import keccak
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from agent.devtools.contracts import (
    add_liquidity,
    contract_at,
    deploy,
    deploy_official,
    deploy_token,
    load_official,
    official_at,
)
from agent.devtools.protocols import (
    FEE_TIERS,
    MAX_TICK,
    create_v3_pool,
    deploy_multicall3,
    deploy_uniswap_v2,
    deploy_uniswap_v3,
    deploy_usdc,
    mint_position,
)
from agent.devtools.protocols import UniswapV3 as V3Addresses

NATIVE = Web3.to_checksum_address("0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE")
VAULT_RATE_BPS_PER_YEAR = 500


@dataclass(frozen=True)
class World:
    w3: Web3
    deployer: ChecksumAddress
    user: ChecksumAddress
    other: ChecksumAddress
    weth: Contract
    usdc: Contract
    wbtc: Contract
    dai: Contract
    usdt: Contract
    factory: Contract
    router: Contract
    sushi_factory: Contract
    sushi_router: Contract
    vault: Contract
    multicall: Contract
    aggregator: Contract
    quoter: Contract
    swap_router02: Contract
    v3: V3Addresses

    def pair(self, token_a: Contract, token_b: Contract, *, factory: Contract | None = None) -> Contract:
        address = (factory or self.factory).functions.getPair(token_a.address, token_b.address).call()
        return official_at(self.w3, "UniswapV2Pair", address)

    def transact(self, call, *, sender: str | None = None, value: int = 0) -> dict:
        """Send a contract call from `sender` (default: the user) and return its receipt."""
        tx_hash = call.transact({"from": sender or self.user, "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return receipt

    def advance_time(self, seconds: int) -> int:
        """Move the chain clock forward and mine a block; returns the new block timestamp."""
        target = self.w3.eth.get_block("latest")["timestamp"] + seconds
        self.w3.testing.timeTravel(target)
        self.w3.testing.mine()
        return self.w3.eth.get_block("latest")["timestamp"]

    def deadline(self, seconds: int = 3600) -> int:
        return self.w3.eth.get_block("latest")["timestamp"] + seconds


def _v3_pools(w3: Web3, v3: V3Addresses, deployer: ChecksumAddress, tokens: dict[str, ChecksumAddress]) -> None:
    """WETH/USDC, WBTC/USDC and WETH/WBTC at 0.3%, each one full-range position at the spec price (so a V3 pool
    prices and deepens as the V2 pool of the same value does; the sandbox world has the concentrated ranges)."""
    units = {"WETH": (3000, 18), "USDC": (1, 6), "WBTC": (60000, 8)}
    for a, b, usd in (("WETH", "USDC", 6_000_000), ("WBTC", "USDC", 6_000_000), ("WETH", "WBTC", 4_000_000)):
        (pa, da), (pb, db) = units[a], units[b]
        price = Decimal(pa) / Decimal(pb) * Decimal(10) ** (db - da)
        _pool, token0, token1 = create_v3_pool(w3, v3, token_a=tokens[a], token_b=tokens[b], fee=3000,
                                              price_b_per_a=price, sender=deployer)
        edge = (MAX_TICK // FEE_TIERS[3000]) * FEE_TIERS[3000]
        half = {tokens[a]: usd // 2 * 10**da // pa, tokens[b]: usd // 2 * 10**db // pb}
        mint_position(w3, v3, token0=token0, token1=token1, fee=3000, tick_lower=-edge, tick_upper=edge,
                      amount0=half[token0], amount1=half[token1], sender=deployer)


def _seed(w3: Web3, deployer: ChecksumAddress, user: ChecksumAddress) -> World:
    weth = deploy_official(w3, "WETH9", sender=deployer)
    usdc = deploy_usdc(w3, owner=deployer, proxy_admin=Web3.to_checksum_address(w3.eth.accounts[3]))
    wbtc = deploy_token(w3, name="Wrapped BTC", symbol="WBTC", decimals=8, sender=deployer)
    dai = deploy_token(w3, name="Dai Stablecoin", symbol="DAI", decimals=18, sender=deployer)
    usdt = deploy_token(w3, name="Tether USD", symbol="USDT", decimals=6, sender=deployer, approve_requires_zero=True)
    factory, router = deploy_uniswap_v2(w3, sender=deployer, weth=weth)
    sushi_factory, sushi_router = deploy_uniswap_v2(w3, sender=deployer, weth=weth)

    handles = {a: official_at(w3, "SandboxToken", a) for a in (usdc, wbtc, dai, usdt)}
    for address, amount in ((usdc, 10**16), (wbtc, 10**12), (dai, 10**26), (usdt, 10**16)):
        for holder in (deployer, user):
            handles[address].functions.mint(holder, amount).transact({"from": deployer})
    weth_contract = official_at(w3, "WETH9", weth)
    for holder in (deployer, user):
        weth_contract.functions.deposit().transact({"from": holder, "value": 10_000 * 10**18})

    e18, e6, e8 = 10**18, 10**6, 10**8
    pools = [
        (factory, weth, usdc, 1_000 * e18, 3_000_000 * e6),
        (factory, wbtc, usdc, 100 * e8, 6_000_000 * e6),
        (factory, weth, wbtc, 2_000 * e18, 100 * e8),
        (factory, dai, usdc, 1_000_000 * e18, 1_000_000 * e6),
        (sushi_factory, weth, usdc, 500 * e18, 1_500_000 * e6),
    ]
    for pool_factory, token_a, token_b, amount_a, amount_b in pools:
        add_liquidity(
            w3,
            factory=pool_factory,
            token_a=token_a,
            token_b=token_b,
            amount_a_raw=amount_a,
            amount_b_raw=amount_b,
            sender=deployer,
        )

    v3 = deploy_uniswap_v3(w3, sender=deployer, weth=weth, factory_v2=factory)
    for token in (weth, usdc, wbtc):
        official_at(w3, "SandboxToken", token).functions.approve(v3.position_manager, 2**256 - 1).transact(
            {"from": deployer})
    _v3_pools(w3, v3, deployer, {"WETH": weth, "USDC": usdc, "WBTC": wbtc})
    vault = deploy_official(w3, "SavingsVault", usdc, "Sandbox USDC Vault", "svUSDC", VAULT_RATE_BPS_PER_YEAR, 0,
                            sender=deployer)
    official_at(w3, "FiatTokenV2_2", usdc).functions.configureMinter(vault, 2**256 - 1).transact({"from": deployer})
    return World(
        w3=w3,
        deployer=deployer,
        user=user,
        other=Web3.to_checksum_address(w3.eth.accounts[2]),
        weth=weth_contract,
        usdc=handles[usdc],
        wbtc=handles[wbtc],
        dai=handles[dai],
        usdt=handles[usdt],
        factory=official_at(w3, "UniswapV2Factory", factory),
        router=official_at(w3, "UniswapV2Router02", router),
        sushi_factory=official_at(w3, "UniswapV2Factory", sushi_factory),
        sushi_router=official_at(w3, "UniswapV2Router02", sushi_router),
        vault=official_at(w3, "SavingsVault", vault),
        multicall=official_at(w3, "Multicall3", deploy_multicall3(w3, funder=deployer)),
        aggregator=contract_at(w3, "AggregatorRouter", deploy(w3, "AggregatorRouter", weth, sender=deployer)),
        quoter=official_at(w3, "QuoterV2", v3.quoter),
        swap_router02=official_at(w3, "SwapRouter02", v3.swap_router02),
        v3=v3,
    )


@pytest.fixture(scope="session")
def w3() -> Web3:
    return Web3(EthereumTesterProvider())


@pytest.fixture(scope="session")
def _world(w3: Web3) -> World:
    accounts = [Web3.to_checksum_address(a) for a in w3.eth.accounts]
    return _seed(w3, accounts[0], accounts[1])


@pytest.fixture
def world(_world: World, w3: Web3) -> Iterator[World]:
    """The sandbox world; state changes are reverted after each test."""
    snapshot = w3.testing.snapshot()
    yield _world
    w3.testing.revert(snapshot)


@pytest.fixture
def reverts_custom():
    """``with reverts_custom("ErrorName"):`` expects a revert with that custom error (OpenZeppelin's errors)."""
    errors = {e["name"]: e for c in ("SavingsVault", "SandboxToken", "FiatTokenV2_2")
              for e in load_official(c).abi if e["type"] == "error"}

    @contextmanager
    def expect(name: str) -> Iterator[None]:
        entry = errors[name]
        selector = keccak(text=f"{name}({','.join(i['type'] for i in entry['inputs'])})")[:4]
        with pytest.raises((ContractLogicError, TransactionFailed)) as info:
            yield
        assert selector in _revert_data(info.value), f"expected {name}, got {info.value}"

    return expect


def _revert_data(exc: BaseException) -> bytes:
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    text = str(exc).split("execution reverted: ", 1)[-1]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.encode()
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture
def reverts():
    """``with reverts("reason"):`` expects a revert whose message matches (eth-tester or a JSON-RPC node)."""

    def expect(match: str):
        return pytest.raises((ContractLogicError, TransactionFailed), match=match)

    return expect
