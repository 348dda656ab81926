"""USD prices from on-chain quotes against each chain's USD stablecoin.

Each non-reference token is quoted for two sizes (1 and 100 units) through the Uniswap V2 router
(``getAmountsOut`` along the token's price path) or, where only V3 is configured, QuoterV2
(``quoteExactInputSingle``), both inside the chain's single Multicall3 batch. On a constant-product curve
a sell of Δ returns out = Δγy/(x+Δγ), so 1/out is linear in 1/Δ: two quotes give the marginal price
(without the pool fee, so no size bias) and the effective input-side depth x, which the planner uses to
estimate price impact (≈ Δ/(x+Δ)) without another request. When the two quotes do not fit the curve
(a concentrated-liquidity pool, a revert on the big size) the small quote alone gives the price.
The chain's USD stable is the unit: 1 USD by definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent.amm import fit_curve
from agent.chain.abi import Function, abi
from agent.chain.multicall import Call
from agent.config.chains import ChainConfig, Token
from agent.portfolio.models import Price
from agent.units import to_units

V2_FEE = Decimal("0.997")
GET_AMOUNTS_OUT = abi("UniswapV2Router02").fn("getAmountsOut")
QUOTE_EXACT_INPUT_SINGLE = abi("QuoterV2").fn("quoteExactInputSingle")
#: A Multicall3 sub-call and the key its result is filed under.
KeyedCall = tuple[Call, tuple[str, str]]


@dataclass(frozen=True)
class PriceCall:
    symbol: str
    target: str
    fn: Function
    args: tuple[Any, ...]
    probe_raw: int
    depth_args: tuple[Any, ...]
    depth_probe_raw: int
    hops: int
    fee_factor: Decimal
    source: str


def probe_amount(token: Token) -> int:
    return 10**token.decimals


DEPTH_PROBE_FACTOR = 100


def plan_price_calls(chain: ChainConfig) -> list[PriceCall]:
    """One quote per token (except the USD stable itself) for the multicall batch."""
    usd = chain.token(chain.usd_stable)
    calls: list[PriceCall] = []
    for t in chain.tokens:
        if t.symbol == usd.symbol:
            continue
        probe = probe_amount(t)
        big = probe * DEPTH_PROBE_FACTOR
        if chain.uniswap_v2 is not None:
            path = t.price_path or (t.symbol, usd.symbol)
            addrs = [chain.token(s).address for s in path]
            hops = len(path) - 1
            calls.append(PriceCall(t.symbol, chain.uniswap_v2.router, GET_AMOUNTS_OUT, (probe, addrs), probe,
                                   (big, addrs), big, hops, V2_FEE**hops, f"uniswap_v2 getAmountsOut {'>'.join(path)}"))
        else:
            assert chain.uniswap_v3 is not None
            fee_factor = 1 - Decimal(t.v3_fee) / Decimal(1_000_000)
            arg = (t.address, usd.address, probe, t.v3_fee, 0)
            big_arg = (t.address, usd.address, big, t.v3_fee, 0)
            calls.append(PriceCall(t.symbol, chain.uniswap_v3.quoter_v2, QUOTE_EXACT_INPUT_SINGLE, (arg,), probe,
                                   (big_arg,), big, 1, fee_factor,
                                   f"uniswap_v3 QuoterV2 {t.symbol}>{usd.symbol} fee {t.v3_fee}"))
    return calls


@dataclass(frozen=True)
class PairCall:
    """Two-size quotes through a direct V2 pool, to measure its depth (in USD of ``a``)."""

    a: str
    b: str
    target: str
    small: tuple[Any, ...]
    big: tuple[Any, ...]
    small_in: int
    big_in: int

    @property
    def key(self) -> str:
        return f"{self.a}/{self.b}"


def plan_pair_calls(chain: ChainConfig) -> list[PairCall]:
    if chain.uniswap_v2 is None:
        return []
    out = []
    for a, b in chain.direct_pairs:
        ta, tb = chain.token(a), chain.token(b)
        small = probe_amount(ta)
        big = small * DEPTH_PROBE_FACTOR
        path = [ta.address, tb.address]
        out.append(PairCall(a, b, chain.uniswap_v2.router, (small, path), (big, path), small, big))
    return out


def pair_subcalls(calls: list[PairCall]) -> list[KeyedCall]:
    out = []
    for c in calls:
        out.append((Call(c.target, GET_AMOUNTS_OUT, c.small), ("pair", c.key)))
        out.append((Call(c.target, GET_AMOUNTS_OUT, c.big), ("pair_depth", c.key)))
    return out


def decode_pair_depths(chain: ChainConfig, calls: list[PairCall], prices: dict[str, Price],
                       values: dict[tuple[str, str], tuple[Any, ...] | None]) -> dict[str, Decimal]:
    """USD depth of each direct pool's input side, from the curve fit of its two quotes."""
    out: dict[str, Decimal] = {}
    for c in calls:
        small, big = values.get(("pair", c.key)), values.get(("pair_depth", c.key))
        price = prices.get(c.a)
        if not small or not big or price is None or small[0][-1] <= 0:
            continue
        _, depth_raw = fit_curve(small_in=c.small_in, small_out=int(small[0][-1]), big_in=c.big_in,
                                 big_out=int(big[0][-1]), fee_factor=V2_FEE)
        if depth_raw is not None:
            out[c.key] = to_units(depth_raw, chain.token(c.a).decimals) * price.usd
    return out


def price_subcalls(calls: list[PriceCall]) -> list[KeyedCall]:
    """The Multicall3 sub-calls behind ``calls`` — (call, result key) — for ``decode_prices``."""
    out = []
    for c in calls:
        out.append((Call(c.target, c.fn, c.args), ("price", c.symbol)))
        out.append((Call(c.target, c.fn, c.depth_args), ("depth", c.symbol)))
    return out


def _out(call: PriceCall, value: tuple[Any, ...] | None) -> int:
    if not value:
        return 0
    return int(value[0][-1] if call.fn == GET_AMOUNTS_OUT else value[0])


def decode_prices(chain: ChainConfig, calls: list[PriceCall],
                  values: dict[tuple[str, str], tuple[Any, ...] | None]) -> dict[str, Price]:
    usd = chain.token(chain.usd_stable)
    prices = {usd.symbol: Price(usd=Decimal(1), source=f"reference stable {usd.symbol}")}
    for call in calls:
        out_raw = _out(call, values.get(("price", call.symbol)))
        if out_raw <= 0:
            continue
        token = chain.token(call.symbol)
        raw_price, depth_raw = fit_curve(small_in=call.probe_raw, small_out=out_raw, big_in=call.depth_probe_raw,
                                         big_out=_out(call, values.get(("depth", call.symbol))),
                                         fee_factor=call.fee_factor)
        price = raw_price.scaleb(token.decimals - usd.decimals)
        depth_usd = None if depth_raw is None else to_units(depth_raw, token.decimals) * price
        prices[call.symbol] = Price(usd=price, source=call.source, depth_usd=depth_usd)
    return prices
