"""Market signals the decision rules read (pure: numbers in, numbers out; no clock, no I/O).

Every function takes only the history known at the decision time, oldest first, so the same call gives the
same answer live and in the backtest. Prices are floats (the statistics are not money); returns are log
returns per period. ``periods_per_year`` annualises (365 for daily bars, 8760 for hourly).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

DAILY = 365
HOURLY = 365 * 24


def log_returns(prices: Sequence[float]) -> list[float]:
    """Log returns between consecutive prices; a non-positive price is refused (it cannot be a market price)."""
    if any(p <= 0 for p in prices):
        raise ValueError("prices must be positive")
    return [math.log(b / a) for a, b in itertools.pairwise(prices)]


def ewma_volatility(returns: Sequence[float], *, halflife: float, periods_per_year: int = DAILY) -> float:
    """Annualised exponentially weighted volatility (RiskMetrics style, mean zero), weights halving every
    ``halflife`` periods, newest heaviest. Zero for an empty history."""
    if halflife <= 0:
        raise ValueError("halflife must be positive")
    if not returns:
        return 0.0
    decay = 0.5 ** (1 / halflife)
    weight, total, norm = 1.0, 0.0, 0.0
    for r in reversed(returns):
        total += weight * r * r
        norm += weight
        weight *= decay
    return math.sqrt(total / norm * periods_per_year)


def realised_volatility(returns: Sequence[float], *, periods_per_year: int = DAILY) -> float:
    """Annualised sample standard deviation of the returns (at least two needed, else 0)."""
    n = len(returns)
    if n < 2:
        return 0.0
    mean = sum(returns) / n
    return math.sqrt(sum((r - mean) ** 2 for r in returns) / (n - 1) * periods_per_year)


def efficiency_ratio(prices: Sequence[float], window: int) -> float:
    """Kaufman's efficiency ratio over the last ``window`` moves: |net move| / sum of |moves|, in [0, 1].
    Near 1 the market trends, near 0 it ranges. Zero when flat or when the history is too short."""
    if window < 1 or len(prices) < window + 1:
        return 0.0
    tail = prices[-(window + 1):]
    path = sum(abs(b - a) for a, b in itertools.pairwise(tail))
    return 0.0 if path == 0 else abs(tail[-1] - tail[0]) / path


def moving_average_slope(prices: Sequence[float], window: int, lag: int) -> float:
    """Relative change per period of the ``window``-period simple moving average over the last ``lag`` periods
    (e.g. 0.002 = the average rises 0.2% a period). Zero when the history is too short."""
    if window < 1 or lag < 1 or len(prices) < window + lag:
        return 0.0
    now = sum(prices[-window:]) / window
    then = sum(prices[-window - lag:-lag]) / window
    return (now / then - 1) / lag


def correlation(a: Sequence[float], b: Sequence[float]) -> float:
    """Pearson correlation of two equally long series; 0 when either is constant or shorter than 3."""
    if len(a) != len(b):
        raise ValueError("series must have the same length")
    n = len(a)
    if n < 3:
        return 0.0
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return 0.0 if va == 0 or vb == 0 else cov / math.sqrt(va * vb)


def correlation_matrix(returns: Mapping[str, Sequence[float]], window: int) -> dict[tuple[str, str], float]:
    """Pairwise correlations of the last ``window`` returns of each asset (keys sorted pairs, a < b)."""
    names = sorted(returns)
    tails = {k: list(returns[k][-window:]) for k in names}
    out = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            n = min(len(tails[a]), len(tails[b]))
            out[(a, b)] = correlation(tails[a][len(tails[a]) - n:], tails[b][len(tails[b]) - n:])
    return out


def average_pairwise_correlation(returns: Mapping[str, Sequence[float]], window: int) -> float:
    """Mean of the pairwise correlations (0 with fewer than two assets)."""
    matrix = correlation_matrix(returns, window)
    return sum(matrix.values()) / len(matrix) if matrix else 0.0


def inverse_volatility_weights(vols: Mapping[str, float], *, bounds: Mapping[str, tuple[float, float]] | None = None,
                               ) -> dict[str, float]:
    """Weights proportional to 1/vol, summing to 1, each clipped into its (low, high) bound with the excess or
    shortfall spread over the assets still inside their bounds. An asset with zero volatility (a stable) needs
    an explicit bound: it would otherwise take everything."""
    if not vols:
        return {}
    bounds = dict(bounds or {})
    for name, vol in vols.items():
        if vol <= 0 and name not in bounds:
            raise ValueError(f"{name}: zero volatility needs a weight bound")
    raw = {k: (1 / v if v > 0 else 0.0) for k, v in vols.items()}
    return _clip_to_bounds(raw, {k: bounds.get(k, (0.0, 1.0)) for k in vols})


def _clip_to_bounds(raw: Mapping[str, float], bounds: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    """Water-filling: the scale s with sum(clip(s * raw, low, high)) = 1, found by bisection (the sum rises with s)."""
    if sum(lo for lo, _ in bounds.values()) > 1 + 1e-12 or sum(hi for _, hi in bounds.values()) < 1 - 1e-12:
        raise ValueError("weight bounds cannot sum to 1")

    def weights(scale: float) -> dict[str, float]:
        return {k: min(max(scale * v, bounds[k][0]), bounds[k][1]) for k, v in raw.items()}

    low, high = 0.0, 1.0
    while sum(weights(high).values()) < 1 and high < 1e18:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if sum(weights(mid).values()) < 1 else (low, mid)
    out = weights(high)
    total = sum(out.values())
    return {k: v / total for k, v in out.items()}


def volatility_target_stable_share(portfolio_vol: float, *, target_vol: float, min_share: float = 0.0,
                                   max_share: float = 1.0) -> float:
    """Volatility targeting: the share to hold in the stable so the risky part's volatility scales to
    ``target_vol`` (share = 1 - target/vol), within [min_share, max_share]."""
    if target_vol <= 0:
        raise ValueError("target_vol must be positive")
    share = 0.0 if portfolio_vol <= target_vol else 1 - target_vol / portfolio_vol
    return min(max(share, min_share), max_share)


def fastest_drop(history: Sequence[tuple[datetime, float]], *, within: timedelta) -> float:
    """The largest fall from a high to a later low inside any span of ``within`` ending at the newest point
    (0.25 = a 25% crash). Only points inside the last ``within`` are read."""
    if not history:
        return 0.0
    start = history[-1][0] - within
    recent = [p for t, p in history if t >= start]
    worst, peak = 0.0, recent[0]
    for price in recent:
        peak = max(peak, price)
        worst = max(worst, 1 - price / peak)
    return worst


def periods_per_year_of(times: Sequence[datetime]) -> int:
    """Bars per year from the median spacing of the timestamps (daily history -> 365, hourly -> 8760)."""
    if len(times) < 2:
        return DAILY
    gaps = sorted((b - a).total_seconds() for a, b in itertools.pairwise(times))
    median = gaps[len(gaps) // 2]
    return max(1, round(365 * 86400 / median)) if median > 0 else DAILY


def closes(history: Sequence[tuple[datetime, object]]) -> tuple[list[datetime], list[float]]:
    """Split a ``[(time, price)]`` history into times and float prices, dropping non-positive prices."""
    times, prices = [], []
    for t, p in history:
        value = float(p)  # type: ignore[arg-type]
        if value > 0:
            times.append(t)
            prices.append(value)
    return times, prices
