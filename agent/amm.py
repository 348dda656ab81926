"""The one home of constant-product (Uniswap V2 style) AMM maths: small pure functions, integers where the
chain uses integers.

- ``get_amount_out`` / ``get_amount_in``: exactly what UniswapV2Library computes on chain (fee in bps: 30 =
  the 0.3% pair fee), so a simulated swap and the real one agree to the wei;
- ``spot_out``: what ``amount_in`` buys at the marginal price (no fee, no impact);
- ``impact_bps`` / ``shortfall_bps``: average-price impact of a trade against a pool of input-side depth x
  (Δ/(x+Δ)), and a quote's shortfall against its ideal;
- ``fit_curve``: the marginal price and input-side depth of a pool from two quotes of different sizes;
- ``amount_in_to_price``: the input that moves a pool's price to a target (the arbitrage keeper's trade).
"""

from __future__ import annotations

import math
from decimal import Decimal

BPS = 10_000
V2_FEE_BPS = 30


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, *, fee_bps: int = V2_FEE_BPS) -> int:
    """Output of selling ``amount_in`` into a pool (UniswapV2Library.getAmountOut); 0 for an empty pool or input."""
    if amount_in <= 0 or reserve_in <= 0 or reserve_out <= 0:
        return 0
    with_fee = amount_in * (BPS - fee_bps)
    return with_fee * reserve_out // (reserve_in * BPS + with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, *, fee_bps: int = V2_FEE_BPS) -> int:
    """Least input that buys ``amount_out`` (UniswapV2Library.getAmountIn); the pool must hold more than that."""
    if amount_out <= 0:
        return 0
    if reserve_in <= 0 or amount_out >= reserve_out:
        raise ValueError(f"a pool with reserves ({reserve_in}, {reserve_out}) cannot pay out {amount_out}")
    return reserve_in * amount_out * BPS // ((reserve_out - amount_out) * (BPS - fee_bps)) + 1


def get_amounts_out(amount_in: int, reserves: list[tuple[int, int]], *, fee_bps: int = V2_FEE_BPS) -> list[int]:
    """Amounts along a path of pools given as (reserve_in, reserve_out) per hop (UniswapV2Library.getAmountsOut)."""
    amounts = [amount_in]
    for reserve_in, reserve_out in reserves:
        amounts.append(get_amount_out(amounts[-1], reserve_in, reserve_out, fee_bps=fee_bps))
    return amounts


def spot_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """What ``amount_in`` buys at the pool's marginal price (no fee, no impact)."""
    if amount_in <= 0 or reserve_in <= 0:
        return 0
    return amount_in * reserve_out // reserve_in


def impact_bps(trade: Decimal, depth: Decimal | None) -> Decimal:
    """Average-price impact of selling ``trade`` into input-side depth ``depth`` (same unit): Δ/(x+Δ), in bps.

    Zero when the depth is unknown or the trade empty."""
    if depth is None or depth <= 0 or trade <= 0:
        return Decimal(0)
    return trade / (depth + trade) * BPS


def shortfall_bps(ideal_out: int, actual_out: int) -> Decimal:
    """How far ``actual_out`` falls short of ``ideal_out``, in bps (fee and impact together)."""
    if ideal_out <= 0:
        return Decimal(0)
    return Decimal(ideal_out - actual_out) * BPS / ideal_out


def fit_curve(*, small_in: int, small_out: int, big_in: int, big_out: int,
              fee_factor: Decimal) -> tuple[Decimal, Decimal | None]:
    """Marginal price (out per in, fee removed) and input-side depth (in) of a pool from two quotes.

    On a constant-product curve out = Δγy/(x+Δγ), so 1/out = a·(1/Δ) + b with a = x/(γy) and b = 1/y: the
    marginal price with the fee is 1/a, and x = γ·a/b. Falls back to the small quote's average price (depth
    unknown) when the two quotes do not fit such a curve (concentrated liquidity, a revert on the big size).
    """
    fallback = (Decimal(small_out) / small_in / fee_factor, None)
    if big_out <= 0 or big_in == small_in:
        return fallback
    u1, u2 = 1 / Decimal(small_out), 1 / Decimal(big_out)
    v1, v2 = 1 / Decimal(small_in), 1 / Decimal(big_in)
    a = (u1 - u2) / (v1 - v2)
    b = u1 - a * v1
    if a <= 0 or b <= 0:
        return fallback
    return 1 / a / fee_factor, fee_factor * a / b


def amount_in_to_price(reserve_in: int, reserve_out: int, *, target_out_per_in: float) -> int:
    """Input (fee ignored) after which the pool's marginal price is ``target_out_per_in``; 0 when the pool
    already pays less than that (selling this side cannot reach it).

    k = x·y stays, and the price y/x becomes p, so the new x is √(k/p)."""
    if reserve_in <= 0 or reserve_out <= 0 or target_out_per_in <= 0:
        return 0
    return max(0, int(math.sqrt(reserve_in * reserve_out / target_out_per_in)) - reserve_in)
