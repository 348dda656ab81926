"""Tokens and liquidity of the sandbox worlds on the official builds: minting, V2 pairs, V3 positions.

Every ERC-20 of the sandbox has ``mint(address,uint256)`` callable by the deployer: OpenZeppelin's
SandboxToken (owner), Circle's FiatToken (the deployer is a configured minter) and the USDT-like TetherToken
(owner). WETH is WETH9: the deployer wraps ETH and transfers it.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3

from agent.devtools.contracts import official_at
from agent.devtools.protocols import FEE_TIERS, MAX_TICK, UniswapV3, create_v3_pool, mint_position
from agent.devtools.sandbox.spec import DEPLOYER, DeployedAddresses, PoolSpec, TokenSpec, V3PoolSpec
from agent.errors import SandboxError

MAX_UINT = 2**256 - 1


def send_tx(fn: Any, sender: str = DEPLOYER, value: int = 0) -> None:
    h = fn.transact({"from": Web3.to_checksum_address(sender), "value": value})
    receipt = fn.w3.eth.wait_for_transaction_receipt(h)
    if receipt["status"] != 1:
        raise SandboxError(f"sandbox deploy step reverted: {fn.fn_name}")


def raw(amount: Decimal, decimals: int) -> int:
    return int((amount * Decimal(10) ** decimals).to_integral_value())


def token_contract(w3: Web3, address: str) -> Any:
    """A handle with the ERC-20 functions and ``mint`` (SandboxToken's ABI fits every sandbox token)."""
    return official_at(w3, "SandboxToken", address)


def fund_token(w3: Web3, token: TokenSpec, address: str, to: str, amount_raw: int) -> None:
    """Give ``to`` tokens: mint ERC-20s, wrap ETH for WETH (the deployer holds plenty)."""
    if amount_raw <= 0:
        return
    if token.symbol == "WETH":
        weth = official_at(w3, "WETH9", address)
        send_tx(weth.functions.deposit(), value=amount_raw)
        if Web3.to_checksum_address(to) != DEPLOYER:
            send_tx(weth.functions.transfer(Web3.to_checksum_address(to), amount_raw))
    else:
        send_tx(token_contract(w3, address).functions.mint(Web3.to_checksum_address(to), amount_raw))


def seed_pool(w3: Web3, pool: PoolSpec, specs: dict[str, TokenSpec], out: DeployedAddresses, scale: Decimal) -> None:
    """Create the official V2 pair on the venue's factory and mint its first liquidity to the deployer."""
    factory = official_at(w3, "UniswapV2Factory", out.factory if pool.venue == "uniswap" else out.sushi_factory)
    a, b = specs[pool.a], specs[pool.b]
    send_tx(factory.functions.createPair(out.tokens[a.symbol], out.tokens[b.symbol]))
    pair = factory.functions.getPair(out.tokens[a.symbol], out.tokens[b.symbol]).call()
    usd = pool.usd_per_side * scale
    for t in (a, b):
        fund_token(w3, t, out.tokens[t.symbol], pair, raw(usd / t.usd_price, t.decimals))
    send_tx(official_at(w3, "UniswapV2Pair", pair).functions.mint(DEPLOYER))
    out.pairs[(pool.venue, a.symbol, b.symbol)] = pair


def v3_addresses(out: DeployedAddresses) -> UniswapV3:
    c = Web3.to_checksum_address
    return UniswapV3(c(out.v3_factory), c(out.position_manager), c(out.position_descriptor), c(out.quoter),
                     c(out.tick_lens), c(out.swap_router02))


def position_ticks(tick: int, spacing: int, half_width: float | None) -> tuple[int, int]:
    """Ticks of a position around ``tick`` spanning ±``half_width`` in price (None: the full range)."""
    if half_width is None:
        edge = (MAX_TICK // spacing) * spacing
        return -edge, edge
    w = math.log(1 + half_width) / math.log(1.0001)
    low = math.floor((tick - w) / spacing) * spacing
    high = math.ceil((tick + w) / spacing) * spacing
    return min(low, (tick // spacing) * spacing), max(high, (tick // spacing + 1) * spacing)


def position_amounts(price01: float, tick_lower: int, tick_upper: int, value1: float) -> tuple[int, int]:
    """Raw amounts (token0, token1) of a position worth ``value1`` (raw token1) at ``price01``."""
    sp = math.sqrt(price01)
    sa, sb = 1.0001 ** (tick_lower / 2), 1.0001 ** (tick_upper / 2)
    liquidity = value1 / (2 * sp - price01 / sb - sa)
    return int(liquidity * (1 / sp - 1 / sb)), int(liquidity * (sp - sa))


def seed_v3_pool(w3: Web3, pool: V3PoolSpec, specs: dict[str, TokenSpec], out: DeployedAddresses,
                 scale: Decimal) -> ChecksumAddress:
    """Create and initialise the official V3 pool at the spec prices and add its positions (owned by the deployer)."""
    v3 = v3_addresses(out)
    a, b = specs[pool.a], specs[pool.b]
    price_b_per_a = (a.usd_price / b.usd_price) * Decimal(10) ** (b.decimals - a.decimals)
    address, token0, token1 = create_v3_pool(w3, v3, token_a=out.tokens[a.symbol], token_b=out.tokens[b.symbol],
                                             fee=pool.fee, price_b_per_a=price_b_per_a, sender=DEPLOYER)
    t0, t1 = (a, b) if Web3.to_checksum_address(out.tokens[a.symbol]) == token0 else (b, a)
    sqrt_x96 = int(official_at(w3, "UniswapV3Pool", address).functions.slot0().call()[0])
    price01 = (sqrt_x96 / 2**96) ** 2
    tick = math.floor(math.log(price01) / math.log(1.0001))
    spacing = FEE_TIERS[pool.fee]
    total1 = float(pool.usd_total * scale / t1.usd_price) * 10**t1.decimals
    for half_width, share in pool.ranges:
        low, high = position_ticks(tick, spacing, half_width)
        amount0, amount1 = position_amounts(price01, low, high, total1 * share)
        desired0, desired1 = amount0 + amount0 // 1000 + 1, amount1 + amount1 // 1000 + 1
        for t, amount in ((t0, desired0), (t1, desired1)):
            fund_token(w3, t, out.tokens[t.symbol], DEPLOYER, amount)
        mint_position(w3, v3, token0=token0, token1=token1, fee=pool.fee, tick_lower=low, tick_upper=high,
                      amount0=desired0, amount1=desired1, sender=DEPLOYER)
    out.v3_pools[(a.symbol, b.symbol, pool.fee)] = address
    return address


def approve_position_manager(w3: Web3, out: DeployedAddresses, symbols: list[str]) -> None:
    """The deployer lets the position manager pull every pooled token (once, unlimited)."""
    for sym in symbols:
        send_tx(token_contract(w3, out.tokens[sym]).functions.approve(out.position_manager, MAX_UINT))
