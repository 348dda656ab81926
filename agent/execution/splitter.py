"""Impact-bounded splitting of a large swap (pure: no I/O, no clock).

* ``fit_impact_curve`` — quotes at several sizes in, an ``ImpactCurve`` out. For a constant-product pool
  ``size/out`` is linear in ``size`` (``size/out = α + β·size``); least squares on that line gives the
  zero-size price ``1/α`` (LP fee included) and an effective depth ``α/β`` in input-token units, so the
  average impact of a trade of ``q`` is ``q/(depth+q)`` — :func:`agent.amm.impact_bps`. An
  aggregator route over several pools behaves like one deeper pool, so the same fit serves both.
  ``local_points`` keeps the quotes whose impact is near the chunk-size bound: on concentrated liquidity (Uniswap
  V3) the curve is not constant-product, and a line through quotes that walk out of the active range (thousands
  of bps) misreads both the zero-size price and the impact of the chunk sizes that matter.
* ``expected_cost`` — what ``n`` equal chunks are expected to cost: the impact of each chunk; the *carry*
  (a chunk starts where arbitrage left the pool: within the no-arbitrage band — about the LP fee — of the
  reference, or further when arbitrage is slow); gas per chunk; and a price-risk term for waiting,
  ``risk_aversion · σ · √(duration/3)`` (the standard deviation of a linear schedule's shortfall), the
  duration being the schedule's span (``schedule_offsets``: ``i/n`` of a fixed horizon, or as fast as the
  blocks per chunk allow).
* ``choose_chunk_count`` — the ``n`` with the least expected cost among those whose chunks keep the
  impact within ``max_impact_bps`` (a hard bound): a small order stays one chunk; deeper impact gives
  more chunks; dear gas gives fewer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from agent.amm import impact_bps

FROZEN = ConfigDict(frozen=True, extra="forbid")
SECONDS_PER_YEAR = 365.25 * 24 * 3600


# ------------------------------------------------------------------------------------------ impact curve
class ImpactCurve(BaseModel):
    """Output per unit of input at zero size (LP fee included) and the effective depth (input units)."""

    model_config = FROZEN

    price0: float = Field(gt=0)
    #: None: no measurable impact at the quoted sizes (infinitely deep for our purposes)
    depth_in: float | None = Field(default=None, gt=0)
    #: worst relative error of the fitted line against the quotes it was fitted on
    fit_error: float = 0.0

    def impact_bps(self, size_in: float) -> float:
        """Average-price impact of a trade of ``size_in`` against the zero-size price."""
        if self.depth_in is None:
            return 0.0
        return float(impact_bps(Decimal(repr(size_in)), Decimal(repr(self.depth_in))))

    def out(self, size_in: float) -> float:
        return size_in * self.price0 * (1 - self.impact_bps(size_in) / 10_000)

    def price_move(self, size_in: float) -> float:
        """Relative move of the marginal price a trade leaves behind (constant product: 1/(1−s)² − 1)."""
        s = self.impact_bps(size_in) / 10_000
        return 1 / (1 - s) ** 2 - 1


def fit_impact_curve(points: Sequence[tuple[float, float]]) -> ImpactCurve:
    """Fit ``size/out = α + β·size`` to quotes ``(size_in, out)`` (two or more distinct sizes)."""
    pts = [(float(q), float(o)) for q, o in points if q > 0 and o > 0]
    if len({q for q, _ in pts}) < 2:
        raise ValueError("fit_impact_curve needs positive quotes at two or more distinct sizes")
    xs, ys = [q for q, _ in pts], [q / o for q, o in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    beta = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    alpha = my - beta * mx
    if alpha <= 0:  # absurd quotes (output growing faster than size): fall back to the smallest quote
        q0, o0 = min(pts)
        alpha, beta = q0 / o0, max(beta, 0.0)
    # Scale-free: "no measurable impact" means a depth beyond a billion times the largest size quoted (raw
    # units differ by 10^12 between a 6- and an 18-decimal token, so an absolute threshold would be wrong).
    depth = alpha / beta if beta > 0 and alpha / beta < 1e9 * max(xs) else None
    curve = ImpactCurve(price0=1 / alpha, depth_in=depth)
    err = max(abs(curve.out(q) - o) / o for q, o in pts)
    return curve.model_copy(update={"fit_error": err})


def local_points(points: Sequence[tuple[float, float]], max_impact_bps: float,
                 factor: float = 4.0) -> list[tuple[float, float]]:
    """The quotes ``(size_in, out)`` whose average price is within ``factor × max_impact_bps`` of the smallest
    quote's (always the two smallest): the part of the curve a chunk can live on. A constant-product curve fits
    the same from any of its points, so this changes nothing there."""
    pts = sorted((float(q), float(o)) for q, o in points if q > 0 and o > 0)
    if len(pts) <= 2:
        return pts
    q0, o0 = pts[0]
    bound = factor * max_impact_bps / 10_000
    return pts[:2] + [(q, o) for q, o in pts[2:] if 1 - (o / q) / (o0 / q0) <= bound]


# ------------------------------------------------------------------------------------------ chunk count
class SplitParams(BaseModel):
    """What the chunk-count choice assumes about the market and what it is allowed to do."""

    model_config = FROZEN

    max_impact_bps: float = Field(default=50, gt=0)
    max_chunks: int = Field(default=64, ge=1)
    #: arbitrage leaves the pool this far from the reference (≈ the LP fee: trading inside it loses money)
    band_bps: float = Field(default=30, ge=0)
    #: share of the deviation beyond the band that arbitrage removes between two chunks
    recovery: float = Field(default=1.0, ge=0, le=1)
    #: blocks from one chunk's swap to the next (approval, swap, spacing): the fastest a schedule can go
    blocks_per_chunk: int = Field(default=3, ge=1)
    #: spread the order over this many blocks (chunk ``i`` when ``i/n`` of it is due); 0: as fast as
    #: ``blocks_per_chunk`` allows. With a horizon every chunk count shares the same exposure to the price.
    horizon_blocks: int = Field(default=0, ge=0)
    block_time_s: float = Field(default=12.0, gt=0)
    annual_vol_pct: float = Field(default=80.0, ge=0)
    risk_aversion: float = Field(default=0.5, ge=0)


class ChunkCost(BaseModel):
    """Expected cost of ``n`` equal chunks, each part in bps of the whole order (the LP fee left out)."""

    model_config = FROZEN

    n: int
    impact_bps: float
    carry_bps: float
    gas_bps: float
    risk_bps: float

    @property
    def total_bps(self) -> float:
        return self.impact_bps + self.carry_bps + self.gas_bps + self.risk_bps


class SplitDecision(BaseModel):
    model_config = FROZEN

    n: int
    chunk_in: float
    chunk_impact_bps: float
    #: the fewest chunks that keep each chunk's impact within the bound
    n_min: int
    #: False when even ``max_chunks`` chunks break the impact bound (the order must be made smaller)
    feasible: bool
    expected: ChunkCost
    one_shot: ChunkCost
    reason: str


def block_vol(params: SplitParams) -> float:
    """σ of the price over one block, from the annual volatility."""
    return params.annual_vol_pct / 100 * math.sqrt(params.block_time_s / SECONDS_PER_YEAR)


def expected_cost(total_in: float, n: int, curve: ImpactCurve, *, gas_per_chunk_in: float,
                  params: SplitParams) -> ChunkCost:
    """Expected cost of selling ``total_in`` in ``n`` equal chunks (see the module docstring)."""
    q = total_in / n
    s = curve.impact_bps(q) / 10_000
    move = curve.price_move(q)
    band = params.band_bps / 10_000
    deviation = carry = 0.0
    for _ in range(n):
        carry += deviation / (1 + deviation)
        deviation = (1 + deviation) * (1 + move) - 1
        if deviation > band:
            deviation -= params.recovery * (deviation - band)
    duration = schedule_offsets(n, params)[-1]
    risk = params.risk_aversion * block_vol(params) * math.sqrt(duration / 3)
    return ChunkCost(n=n, impact_bps=s * 10_000, carry_bps=carry / n * 10_000,
                     gas_bps=n * gas_per_chunk_in / total_in * 10_000, risk_bps=risk * 10_000)


def schedule_offsets(n: int, params: SplitParams) -> list[int]:
    """Blocks after the decision at which each of ``n`` equal chunks is due: ``i·horizon/n`` on a straight
    line over the horizon, never closer than ``blocks_per_chunk`` to the previous chunk."""
    out = [0]
    for i in range(1, n):
        out.append(max(out[-1] + params.blocks_per_chunk, due_offset(i / n, params)))
    return out


def due_offset(sold_fraction: float, params: SplitParams) -> int:
    """Blocks after the decision by which ``sold_fraction`` of the order is due (the horizon's straight line)."""
    return int(params.horizon_blocks * min(max(sold_fraction, 0.0), 1.0))


def min_chunks_for_bound(total_in: float, curve: ImpactCurve, max_impact_bps: float, limit: int) -> int:
    """The fewest equal chunks whose impact is within ``max_impact_bps`` (``limit + 1`` when none is)."""
    if curve.depth_in is None or curve.impact_bps(total_in) <= max_impact_bps:
        return 1
    s = max_impact_bps / 10_000
    n = max(1, math.ceil(total_in * (1 - s) / (s * curve.depth_in)))  # q/(D+q) ≤ s  ⇔  q ≤ s·D/(1−s)
    while n > 1 and curve.impact_bps(total_in / (n - 1)) <= max_impact_bps:
        n -= 1
    while curve.impact_bps(total_in / n) > max_impact_bps and n <= limit:
        n += 1
    return n


def choose_chunk_count(total_in: float, curve: ImpactCurve, *, gas_per_chunk_in: float,
                       params: SplitParams) -> SplitDecision:
    """The chunk count with the least expected cost whose chunks respect ``max_impact_bps``."""
    if total_in <= 0:
        raise ValueError("choose_chunk_count needs a positive order size")
    n_min = min_chunks_for_bound(total_in, curve, params.max_impact_bps, params.max_chunks)
    one = expected_cost(total_in, 1, curve, gas_per_chunk_in=gas_per_chunk_in, params=params)
    if n_min > params.max_chunks:
        cost = expected_cost(total_in, n_min, curve, gas_per_chunk_in=gas_per_chunk_in, params=params)
        return SplitDecision(
            n=n_min, chunk_in=total_in / n_min, chunk_impact_bps=curve.impact_bps(total_in / n_min), n_min=n_min,
            feasible=False, expected=cost, one_shot=one,
            reason=f"{n_min} chunks needed to keep each within {params.max_impact_bps:g} bps of impact, "
                   f"more than the limit of {params.max_chunks}; make the order smaller")
    costs = [expected_cost(total_in, n, curve, gas_per_chunk_in=gas_per_chunk_in, params=params)
             for n in range(n_min, params.max_chunks + 1)]
    best = min(costs, key=lambda c: (c.total_bps, c.n))
    chunk = total_in / best.n
    if best.n == 1:
        reason = (f"one chunk: impact {one.impact_bps:.1f} bps is within the {params.max_impact_bps:g} bps bound "
                  "and splitting would save less than it costs in gas and waiting")
    else:
        bound = f"at least {n_min} to keep each chunk within {params.max_impact_bps:g} bps; " if n_min > 1 else ""
        span = schedule_offsets(best.n, params)[-1] + params.blocks_per_chunk
        reason = (f"{best.n} chunks over ~{span} blocks ({bound}expected {best.total_bps:.1f} bps vs "
                  f"{one.total_bps:.1f} bps in one shot: impact {best.impact_bps:.1f}, carry {best.carry_bps:.1f}, "
                  f"gas {best.gas_bps:.1f}, risk {best.risk_bps:.1f})")
    return SplitDecision(n=best.n, chunk_in=chunk, chunk_impact_bps=curve.impact_bps(chunk), n_min=n_min,
                         feasible=True, expected=best, one_shot=one, reason=reason)
