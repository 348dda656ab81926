"""USD prices from on-chain quotes against each chain's USD stablecoin.

Each non-reference token is quoted for a small probe amount (1/100 of a unit) through the Uniswap V2 router
(``getAmountsOut`` along the token's price path) or, where only V3 is configured, QuoterV2
(``quoteExactInputSingle``). The pool fee is taken back out so the price is the pool's marginal price,
not the price after fee. The chain's USD stable is the unit: 1 USD by definition (its own peg is
watched by comparing other stables against it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent.abicall import GET_AMOUNTS_OUT, QUOTE_EXACT_INPUT_SINGLE, Fn
from agent.chains import ChainConfig, Token
from agent.portfolio.models import Price

V2_FEE = Decimal("0.997")


@dataclass(frozen=True)
class PriceCall:
    symbol: str
    target: str
    fn: Fn
    args: tuple[Any, ...]
    probe_raw: int
    hops: int
    fee_factor: Decimal
    source: str


def probe_amount(token: Token) -> int:
    return max(1, 10**token.decimals // 100)


def plan_price_calls(chain: ChainConfig) -> list[PriceCall]:
    """One quote per token (except the USD stable itself) for the multicall batch."""
    usd = chain.token(chain.usd_stable)
    calls: list[PriceCall] = []
    for t in chain.tokens:
        if t.symbol == usd.symbol:
            continue
        probe = probe_amount(t)
        if chain.uniswap_v2 is not None:
            path = t.price_path or (t.symbol, usd.symbol)
            addrs = [chain.token(s).address for s in path]
            hops = len(path) - 1
            calls.append(PriceCall(t.symbol, chain.uniswap_v2.router, GET_AMOUNTS_OUT, (probe, addrs), probe, hops,
                                   V2_FEE**hops, f"uniswap_v2 getAmountsOut {'>'.join(path)}"))
        else:
            assert chain.uniswap_v3 is not None
            fee_factor = 1 - Decimal(t.v3_fee) / Decimal(1_000_000)
            arg = (t.address, usd.address, probe, t.v3_fee, 0)
            calls.append(PriceCall(t.symbol, chain.uniswap_v3.quoter_v2, QUOTE_EXACT_INPUT_SINGLE, (arg,), probe, 1,
                                   fee_factor, f"uniswap_v3 QuoterV2 {t.symbol}>{usd.symbol} fee {t.v3_fee}"))
    return calls


def decode_prices(chain: ChainConfig, calls: list[PriceCall],
                  values: dict[tuple[str, str], tuple[Any, ...] | None]) -> dict[str, Price]:
    usd = chain.token(chain.usd_stable)
    prices = {usd.symbol: Price(usd=Decimal(1), source=f"reference stable {usd.symbol}")}
    for call in calls:
        v = values.get(("price", call.symbol))
        if not v:
            continue
        out_raw = v[0][-1] if call.fn is GET_AMOUNTS_OUT else v[0]
        if out_raw <= 0:
            continue
        token = chain.token(call.symbol)
        in_units = Decimal(call.probe_raw).scaleb(-token.decimals)
        out_units = Decimal(out_raw).scaleb(-usd.decimals)
        prices[call.symbol] = Price(usd=out_units / in_units / call.fee_factor, source=call.source)
    return prices
