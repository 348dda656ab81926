"""Fitting the fee model behind ``optimal`` gas timing (pure): ``log fee(b) = level + season[b mod week] + z(b)``
with ``ar`` or ``walk`` dynamics for the deviation ``z`` (``fit_fee_model``; ``agent.execution.fee_model`` says
how a kind is chosen and how the model times a send)."""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

FeeModelKind = Literal["walk", "ar"]
WEEK_S = 7 * 86400
#: history entries needed before the model is trusted (fewer: the ``limit`` behaviour)
MIN_HISTORY = 16
QUADRATURE_POINTS = 41
#: φ is kept below this (a stationary deviation; φ = 1 is the ``walk`` model)
PHI_MAX = 0.999


@dataclass(frozen=True)
class FeeModel:
    """``log fee(b) = level + season[b mod period] + z(b)``, ``z(b+1) = φ·z(b) + shock`` (fitted, see module doc).

    ``kind``: ``walk`` — φ = 1 with shocks of ``E[e^shock] = 1`` (the fee is a martingale: only the season can make
    a later block cheaper in expectation); ``ar`` — φ fitted to the k-step regressions of the deviation for k up
    to the horizon."""

    level: float
    phi: float
    season: tuple[float, ...]
    #: equally likely shocks (an equal-mass quadrature of the empirical shocks, ``quadrature``)
    shocks: tuple[float, ...]
    kind: FeeModelKind = "ar"
    #: the walk-forward backtest that chose the kind: (kind, mean fee paid / fee of the first block) per candidate
    backtest: tuple[tuple[str, float], ...] = ()
    #: decision origins the backtest replayed (0: not backtested)
    backtest_origins: int = 0
    #: standard error of the backtest's ``ar`` − ``walk`` difference
    backtest_se: float = 0.0

    @property
    def period(self) -> int:
        return len(self.season)

    def mean_log(self, block: int) -> float:
        return self.level + self.season[block % self.period]

    def deviation(self, block: int, fee_wei: int) -> float:
        return math.log(max(fee_wei, 1)) - self.mean_log(block)

    def label(self) -> str:
        """Short name: ``random walk`` or ``AR φ=…``, with ``+ weekly season`` when fitted."""
        name = "random walk" if self.kind == "walk" else f"AR φ={self.phi:.3f}"
        return f"{name} + weekly season" if self.period > 1 else name

    def describe(self) -> str:
        """One line for decision reasons: the model and the backtest that chose it."""
        if not self.backtest_origins:
            return f"{self.label()} (not backtested: history shorter than 2 × the deadline)"
        scores = ", ".join(f"{k} {v:.3f}" for k, v in self.backtest)
        return (f"{self.label()}, chosen by a backtest over {self.backtest_origins} past deadline windows "
                f"(fee paid / fee at once: {scores}; standard error of the difference {self.backtest_se:.3f})")


def quadrature(values: Sequence[float]) -> tuple[float, ...]:
    """An equal-weight quadrature of the empirical distribution of ``values``: the sorted values cut into
    ``QUADRATURE_POINTS`` slices of equal mass (fractional at the edges), each represented by its mean — the mean is
    kept exactly and no single extreme value gets more than its share. Fewer values than points: the values."""
    xs = sorted(values)
    n, k = len(xs), QUADRATURE_POINTS
    if n <= k:
        return tuple(xs)
    out = []
    for i in range(k):
        lo, hi = i * n / k, (i + 1) * n / k
        acc, j = 0.0, int(lo)
        while j < hi:
            acc += (min(j + 1, hi) - max(j, lo)) * xs[j]
            j += 1
        out.append(acc * k / n)
    return tuple(out)


def _season(ys: Sequence[float], first_block: int, period: int) -> list[float]:
    """Mean deviation from a centred one-period moving average per phase (centred to 0); ``[0.0]`` unless the
    history spans two periods."""
    n = len(ys)
    if period < 2 or 2 * period > n:
        return [0.0]
    half = period // 2
    by_phase: list[list[float]] = [[] for _ in range(period)]
    for t in range(half, n - half):
        window = ys[t - half:t - half + period]  # one period around t: the local level
        by_phase[(first_block + t) % period].append(ys[t] - sum(window) / period)
    season = [statistics.fmean(d) if d else 0.0 for d in by_phase]
    centre = statistics.fmean(season)
    return [v - centre for v in season]


def horizon_phi(z: Sequence[float], max_lag: int) -> float:
    """φ of an AR(1) fitted at the lags that matter: the slopes ``b_k`` of ``z(t+k)`` on ``z(t)`` (z centred) for
    k = 1 … ``max_lag`` (geometrically spaced), and the φ in [0, ``PHI_MAX``] minimising ``Σ (b_k − φ^k)²``.
    With ``max_lag = 1`` this is the one-step least-squares φ."""
    n = len(z)
    max_lag = max(1, min(max_lag, n - 2))
    lags = {1, max_lag}
    k = 1.0
    while k < max_lag:
        lags.add(round(k))
        k *= 1.5
    slopes: list[tuple[int, float]] = []
    for lag in sorted(lags):
        den = sum(a * a for a in z[:-lag])
        slopes.append((lag, sum(a * b for a, b in zip(z[:-lag], z[lag:], strict=False)) / den if den > 0 else 0.0))
    if max_lag == 1:
        return min(max(slopes[0][1], 0.0), PHI_MAX)
    # candidates: φ = 0 and φ = exp(−1/τ) for reversion times τ from a quarter block to 100 × max_lag blocks
    taus = [0.25 * (400 * max_lag) ** (i / 399) for i in range(400)]
    candidates = [0.0] + [min(math.exp(-1 / tau), PHI_MAX) for tau in taus]
    return min(candidates, key=lambda phi: sum((b - phi ** lag) ** 2 for lag, b in slopes))


def fit_fee_model(fees_wei: Sequence[int], *, first_block: int, block_time_s: float, horizon: int | None = None,
                  kind: FeeModelKind = "ar") -> FeeModel | None:
    """Fit one model of ``kind`` on ``fees_wei`` (consecutive blocks from ``first_block``); None when too short.

    The weekly season is fitted when the history spans two weeks; the level is the mean of the deseasonalised
    log fees. ``ar``: φ from ``horizon_phi`` with lags up to ``horizon`` (None: one step), shocks the one-step
    residuals rescaled so that the stationary spread equals the deviations' spread."""
    ys = [math.log(max(int(f), 1)) for f in fees_wei]
    n = len(ys)
    if n < MIN_HISTORY:
        return None
    season = _season(ys, first_block, round(WEEK_S / block_time_s))
    p = len(season)
    u = [ys[t] - season[(first_block + t) % p] for t in range(n)]
    level = statistics.fmean(u)
    z = [v - level for v in u]
    if kind == "walk":
        steps = [b - a for a, b in itertools.pairwise(u)]
        drift = statistics.fmean(steps)
        quad = quadrature([s - drift for s in steps])
        c = math.log(statistics.fmean([math.exp(e) for e in quad]))  # E[e^shock] = 1: a martingale in fee
        return FeeModel(level=level, phi=1.0, season=tuple(season), shocks=tuple(e - c for e in quad), kind="walk")
    phi = horizon_phi(z, max(1, min(horizon or 1, n // 4)))
    resid = [b - phi * a for a, b in itertools.pairwise(z)]
    mean_r, sd_r = statistics.fmean(resid), statistics.pstdev(resid)
    scale = statistics.pstdev(z) * math.sqrt(1 - phi ** 2) / sd_r if sd_r > 0 else 0.0
    return FeeModel(level=level, phi=phi, season=tuple(season),
                    shocks=quadrature([(r - mean_r) * scale for r in resid]), kind="ar")
