"""The fee model behind ``optimal`` gas timing (pure).

* ``select_fee_model`` / ``stopping_boundary`` — the ``optimal`` rule (pure). The log base fee is modelled as
  ``level + season[block mod week] + z`` (the weekly season only when the history spans two weeks; the level is
  the history's mean) with one of two dynamics for the deviation ``z`` (``fit_fee_model``):

  - ``ar``: ``z' = φ·z + shock`` with φ fitted **at the horizon that matters** — the slopes of ``z(t+k)`` on
    ``z(t)`` for k = 1 … blocks to the deadline (geometrically spaced) matched by ``φᵏ`` (``horizon_phi``), so a
    fee that looks like a random walk from one block to the next but reverts over the window is seen to revert;
    the shocks are the one-step residuals rescaled so the model's stationary spread is the deviations' spread (a
    41-point equal-mass quadrature). φ = 0 is the classic i.i.d. rule (``stopping_boundary`` then runs the exact
    recursion); φ → 1 waits for almost nothing.
  - ``walk``: a martingale in fee (``z' = z + shock`` with ``E[e^shock] = 1``): no block is cheaper in
    expectation, except through the season — it sends at once, or waits for a cheaper day of the week.

  ``backtest_fee_models`` replays the stopping rule of each on the history itself, walk-forward (each fit uses
  only the fees before the decision it is tested on: from every origin of the second half that has a whole
  deadline window after it, refitted every deadline-length), and ``select_fee_model`` keeps ``ar`` — it nests
  the i.i.d. case and approaches the walk — unless the ``walk`` paid less by more than one standard error
  (paired by origin, overlapping windows counted once). The default history is ``HISTORY_FACTOR`` (8) × the
  blocks to the deadline (``eth_feeHistory``, pages of 1,024): half to fit, half to test. ``stopping_boundary``
  runs backward induction over the blocks left (``W₀`` = fee at the deadline, ``Wᵣ(z) = min(fee now,
  E[Wᵣ₋₁(z')])``) and gives, per number of blocks left, the highest deviation — hence fee — worth taking now.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
import operator
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from agent.execution.fee_fit import MIN_HISTORY, FeeModel, FeeModelKind, fit_fee_model
from agent.execution.fee_fit import QUADRATURE_POINTS as QUADRATURE_POINTS  # re-exported: moved there
from agent.execution.fee_fit import horizon_phi as horizon_phi  # re-exported: moved there
from agent.execution.fee_fit import quadrature as quadrature  # re-exported: moved there

GasTimingMode = Literal["limit", "optimal"]
#: the candidates of the backtest (i.i.d. fees are ``ar`` at φ = 0, so they are not a separate candidate)
MODEL_KINDS: tuple[FeeModelKind, ...] = ("walk", "ar")
#: default history: this many times the blocks until the deadline. The backtest fits on the first half (4 horizons,
#: growing) and replays decisions from every origin of the second half that still has a whole window after it (3
#: horizons of origins); the final model is fitted on all of it.
HISTORY_FACTOR = 8
#: blocks one ``eth_feeHistory`` call may cover (geth's cap)
FEE_HISTORY_PAGE = 1024
#: backward induction runs over at most this many blocks; further from the deadline the boundary is held
MAX_HORIZON = 2048
GRID_POINTS = 81
#: the backtest replays at most this many decision origins (evenly spread), which bounds its cost on long histories
MAX_BACKTEST_ORIGINS = 512


@dataclass(frozen=True)
class GasTimingConfig:
    """How ``wait_for_fees`` times a send (``<CHAIN>_GAS_TIMING``, ``<CHAIN>_GAS_HISTORY_BLOCKS``)."""

    mode: GasTimingMode = "limit"
    #: base fees the model is fitted on; None: ``HISTORY_FACTOR`` × the blocks until the deadline
    history_blocks: int | None = None
    #: seconds per block (turns the deadline into blocks left; the week into a season length)
    block_time_s: float = 12.0

    @classmethod
    def from_settings(cls, chain_settings: Any, block_time_s: float) -> GasTimingConfig:
        """From a chain's ``ChainSettings`` (``gas_timing``, ``gas_history_blocks``) and its block time."""
        return cls(mode=chain_settings.gas_timing, history_blocks=chain_settings.gas_history_blocks,
                   block_time_s=block_time_s)

    def history_for(self, horizon_blocks: int) -> int:
        if self.history_blocks is not None:
            return self.history_blocks
        return max(MIN_HISTORY, HISTORY_FACTOR * horizon_blocks)


@dataclass(frozen=True)
class Backtest:
    """What ``backtest_fee_models`` found: per kind, the fee paid / the fee at once at every origin replayed."""

    ratios: dict[str, tuple[float, ...]]
    #: independent deadline windows the origins span (span / horizon, at least 1): the effective sample size
    windows: float

    @property
    def origins(self) -> int:
        return max((len(v) for v in self.ratios.values()), default=0)

    def mean(self, kind: str) -> float:
        return statistics.fmean(self.ratios[kind])

    def standard_error(self, kind: str, other: str) -> float:
        """Standard error of ``mean(kind) − mean(other)`` (paired by origin; overlapping windows are counted once)."""
        diffs = [a - b for a, b in zip(self.ratios[kind], self.ratios[other], strict=True)]
        return statistics.pstdev(diffs) / math.sqrt(self.windows)


def backtest_fee_models(fees_wei: Sequence[int], *, first_block: int, block_time_s: float, horizon: int,
                        kinds: Sequence[FeeModelKind] = MODEL_KINDS) -> Backtest | None:
    """Walk-forward backtest of the stopping rule on the history itself (past data only).

    Every origin ``t`` from the middle of the history to the last one with ``horizon`` blocks after it is a past
    decision: each kind is fitted on the fees before the latest refit point ≤ ``t`` (the middle, then every
    ``horizon`` blocks), its boundary is run from ``t`` to the deadline ``t + horizon``, and the fee it would
    have paid is divided by the fee at ``t`` (sending at once). None when the history is shorter than about
    twice the horizon."""
    n, h = len(fees_wei), max(1, horizon)
    start, last = max(MIN_HISTORY, n // 2), n - 1 - h
    if last < start:
        return None
    origins = list(range(start, last + 1))
    origins = origins[::-(-len(origins) // MAX_BACKTEST_ORIGINS)]
    logs = [math.log(max(int(f), 1)) for f in fees_wei]
    ratios: dict[str, list[float]] = {k: [] for k in kinds}
    models: dict[tuple[str, int], FeeModel | None] = {}
    boundaries: dict[tuple[str, int, int], list[float]] = {}
    for t in origins:
        refit = start + (t - start) // h * h
        fitted: list[tuple[FeeModelKind, FeeModel]] = []
        for kind in kinds:
            if (kind, refit) not in models:
                models[kind, refit] = fit_fee_model(fees_wei[:refit], first_block=first_block,
                                                    block_time_s=block_time_s, horizon=h, kind=kind)
            model = models[kind, refit]
            if model is None:
                return None
            fitted.append((kind, model))
        for kind, model in fitted:
            deadline = first_block + t + h
            key = (kind, refit, deadline % model.period)
            if key not in boundaries:
                boundaries[key] = stopping_boundary(model, deadline_block=deadline, horizon=h)
            boundary = boundaries[key]
            paid = logs[t + h]
            for j in range(h):
                if logs[t + j] - model.mean_log(first_block + t + j) <= boundary[h - j]:
                    paid = logs[t + j]
                    break
            ratios[kind].append(math.exp(paid - logs[t]))
    return Backtest(ratios={k: tuple(v) for k, v in ratios.items()},
                    windows=max(1.0, (origins[-1] - origins[0] + 1) / h))


def select_fee_model(fees_wei: Sequence[int], *, first_block: int, block_time_s: float,
                     horizon: int) -> FeeModel | None:
    """``ar`` — the model that nests the others (φ = 0: i.i.d.; φ → 1: a walk) — unless the backtest shows the
    ``walk`` paying less by more than one standard error; fitted on the whole history, with its backtest attached.
    Not backtested (``ar``) when the history is too short for a backtest."""
    test = backtest_fee_models(fees_wei, first_block=first_block, block_time_s=block_time_s, horizon=horizon)
    if test is None:
        return fit_fee_model(fees_wei, first_block=first_block, block_time_s=block_time_s, horizon=horizon)
    se = test.standard_error("ar", "walk")
    kind: FeeModelKind = "walk" if test.mean("ar") - test.mean("walk") > se else "ar"
    model = fit_fee_model(fees_wei, first_block=first_block, block_time_s=block_time_s, horizon=horizon, kind=kind)
    if model is None:
        return None
    return dataclasses.replace(model, backtest=tuple((k, test.mean(k)) for k in test.ratios),
                               backtest_origins=test.origins, backtest_se=se)


def stopping_boundary(model: FeeModel, *, deadline_block: int, horizon: int) -> list[float]:
    """``z*[r]`` for ``r = 0 … horizon`` blocks left before ``deadline_block``: send at block
    ``deadline_block − r`` when its deviation ``z`` is ≤ ``z*[r]`` (``z*[0] = +∞``: the deadline block sends)."""
    horizon = max(0, horizon)
    steps = min(horizon, MAX_HORIZON)
    if model.phi >= 1:
        out = _walk_boundary(model, deadline_block, steps)
    elif model.phi == 0:
        out = _iid_boundary(model, deadline_block, steps)
    else:
        out = _ar_boundary(model, deadline_block, steps)
    return out + [out[-1]] * (horizon - steps)


def _walk_boundary(model: FeeModel, deadline_block: int, steps: int) -> list[float]:
    """A martingale in fee: ``W_r(z) = e^z · min(e^season(now), w_{r−1})`` — take a block iff no later block of the
    window has a cheaper season (+∞), else wait (−∞). Without a season: send at once."""
    out = [math.inf]
    best = model.season[deadline_block % model.period]
    for r in range(1, steps + 1):
        s = model.season[(deadline_block - r) % model.period]
        out.append(math.inf if s <= best else -math.inf)
        best = min(best, s)
    return out


def stopping_thresholds(sample: Sequence[int], horizon: int) -> list[float]:
    """The classic rule for i.i.d. fees drawn from ``sample``: ``V[r]``, the expected fee when ``r`` more chances
    remain (``V[0] = ∞``, ``V[1] = E[X]``, ``V[r+1] = E[min(X, V[r])]``). ``_iid_boundary`` is the same recursion on
    a model's seasonal scale; ``bench gas`` uses this one on a window's own fees as an oracle for context."""
    xs = sorted(sample)
    if not xs:
        return [math.inf] * (horizon + 1)
    prefix = [0, *itertools.accumulate(xs)]
    out = [math.inf, prefix[-1] / len(xs)]
    for _ in range(1, horizon):
        v = out[-1]
        k = bisect.bisect_right(xs, v)  # E[min(X, v)] = (Σ_{x≤v} x + (N−k)·v) / N
        out.append((prefix[k] + (len(xs) - k) * v) / len(xs))
    return out


def _iid_boundary(model: FeeModel, deadline_block: int, steps: int) -> list[float]:
    """Independent deviations: the classic ``C_{r+1} = E[min(fee_r, C_r)]`` on the empirical deviations
    (``C_1`` = the expected fee at the deadline); send iff the fee is ≤ ``C_r``."""
    xs = sorted(math.exp(e) for e in model.shocks)
    prefix = [0.0, *itertools.accumulate(xs)]
    n = len(xs)
    cont = math.exp(model.mean_log(deadline_block)) * prefix[-1] / n
    out = [math.inf]
    for r in range(1, steps + 1):
        scale = math.exp(model.mean_log(deadline_block - r))
        out.append(math.log(cont / scale))
        k = bisect.bisect_right(xs, cont / scale)  # E[min(scale·X, C)] = (scale·Σ_{x ≤ C/scale} x + (n − k)·C) / n
        cont = (scale * prefix[k] + (n - k) * cont) / n
    return out


def _ar_boundary(model: FeeModel, deadline_block: int, steps: int) -> list[float]:
    """Backward induction on a grid of ``z`` (±6 stationary spreads): ``W_0`` = fee at the deadline,
    ``W_r(z) = min(fee now, E[W_{r−1}(φz + shock)])`` (linear interpolation; beyond the grid ``W ∝ e^z``)."""
    spread = math.sqrt(statistics.fmean([e * e for e in model.shocks]) or 1e-12)
    sd = spread / max(math.sqrt(1 - model.phi ** 2), 0.05)
    lo, hi = -6 * sd, 6 * sd
    dz = (hi - lo) / (GRID_POINTS - 1)
    grid = [lo + dz * i for i in range(GRID_POINTS)]
    # the one-step transition as fixed weights on the grid values: row i → (indices, weights)
    k = len(model.shocks)
    rows: list[tuple[list[int], list[float]]] = []
    for z in grid:
        acc: dict[int, float] = {}
        for e in model.shocks:
            f = (model.phi * z + e - lo) / dz
            if f <= 0:
                acc[0] = acc.get(0, 0.0) + math.exp(f * dz) / k
            elif f >= GRID_POINTS - 1:
                acc[GRID_POINTS - 1] = acc.get(GRID_POINTS - 1, 0.0) + math.exp((f - GRID_POINTS + 1) * dz) / k
            else:
                i = int(f)
                acc[i] = acc.get(i, 0.0) + (i + 1 - f) / k
                acc[i + 1] = acc.get(i + 1, 0.0) + (f - i) / k
        rows.append((list(acc), list(acc.values())))
    exp_grid = [math.exp(z) for z in grid]
    value = [math.exp(model.mean_log(deadline_block)) * x for x in exp_grid]  # r = 0: the fee paid at the deadline
    out = [math.inf]
    for r in range(1, steps + 1):
        cont = [sum(map(operator.mul, weights, map(value.__getitem__, idx))) for idx, weights in rows]
        scale = math.exp(model.mean_log(deadline_block - r))
        now = [scale * x for x in exp_grid]
        below = [z for z, a, c in zip(grid, now, cont, strict=True) if a <= c]
        out.append(max(below) if below else -math.inf)
        value = [min(a, c) for a, c in zip(now, cont, strict=True)]
    return out


def timing_threshold_wei(model: FeeModel, boundary: Sequence[float], *, block: int, blocks_left: int) -> int | None:
    """The highest base fee worth taking at ``block`` with ``blocks_left`` blocks to go (None: any fee)."""
    z = boundary[min(max(blocks_left, 0), len(boundary) - 1)]
    if z == math.inf:
        return None
    if z == -math.inf:
        return 0
    return int(math.exp(model.mean_log(block) + z))
