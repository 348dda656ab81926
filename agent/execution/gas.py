"""Gas policy per chain (pure): when to send, which EIP-1559 fees to offer, and how to bump a stuck one.

* ``plan_fees`` — base fee of the latest block and a fee-history tip in; a decision out: send now with
  ``maxFeePerGas = min(2·base + tip, hard cap)``, or wait because the base fee is above
  ``<CHAIN>_MAX_BASE_FEE_GWEI`` (urgent actions may go above the limit, never above the hard cap).
* ``wait_for_fees`` — follows new blocks until ``plan_fees`` says send or a deadline passes; the clock,
  the sleep and the progress callback are injected, so it is tested without real time. Two timing modes
  (``<CHAIN>_GAS_TIMING``): ``limit`` (default) sends at the first block whose base fee is within
  ``<CHAIN>_MAX_BASE_FEE_GWEI``; ``optimal`` also waits, within the deadline, for a block whose base fee is
  at or below a stopping threshold computed from the recent base fees, and sends at the last block before
  the deadline whatever the fee (within the limit and the hard cap).
* ``fit_fee_model`` / ``stopping_boundary`` — the ``optimal`` rule (pure). The log base fee is modelled as
  a weekly season (when the history spans two weeks or more) plus an AR(1) deviation from a level, all
  fitted on the history only, with the empirical one-block shocks; backward induction over the blocks left
  (``W₀ = fee at the deadline``, ``Wᵣ = min(fee now, E[Wᵣ₋₁ next block])``) gives, per number of blocks
  left, the highest fee worth taking now. On a random walk (φ → 1) the rule sends at once; on i.i.d. fees
  (φ = 0) it is the classic ``Vᵣ₊₁ = E[min(X, Vᵣ)]``.
* ``plan_replacement`` — fees for a same-nonce replacement: tip and max fee each at least +12.5%
  (geth wants +10%), within the cap; ``None`` when the cap leaves no room.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agent.errors import TemporaryError

GWEI = 10**9
#: A tip floor so a replacement can always be bumped and empty fee histories still pay something.
MIN_TIP_WEI = 1_000_000  # 0.001 gwei
BUMP_NUMERATOR, BUMP_DENOMINATOR = 9, 8  # +12.5%


def gwei_to_wei(value: Decimal | None) -> int | None:
    return None if value is None else int((value * GWEI).to_integral_value())


def bump(value_wei: int) -> int:
    """``value`` raised by at least 12.5% and at least 1 wei (rounded up)."""
    return max(value_wei + 1, -(-value_wei * BUMP_NUMERATOR // BUMP_DENOMINATOR))


class FeeDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    send: bool
    base_fee_wei: int
    max_fee_per_gas_wei: int
    max_priority_fee_per_gas_wei: int
    reason: str


def plan_fees(*, base_fee_wei: int, priority_fee_wei: int, limit_wei: int | None, hard_cap_wei: int | None,
              urgent: bool = False) -> FeeDecision:
    """Send now (and with which fees) or wait. ``maxFeePerGas`` never exceeds ``hard_cap_wei``."""
    tip = max(priority_fee_wei, MIN_TIP_WEI)
    max_fee = 2 * base_fee_wei + tip
    if hard_cap_wei is not None:
        if base_fee_wei + MIN_TIP_WEI > hard_cap_wei:
            return FeeDecision(send=False, base_fee_wei=base_fee_wei, max_fee_per_gas_wei=0,
                               max_priority_fee_per_gas_wei=0,
                               reason=f"base fee {_g(base_fee_wei)} gwei is at the hard cap {_g(hard_cap_wei)} gwei")
        tip = min(tip, hard_cap_wei - base_fee_wei)
        max_fee = min(2 * base_fee_wei + tip, hard_cap_wei)
    over_limit = limit_wei is not None and base_fee_wei > limit_wei
    if over_limit and not urgent:
        return FeeDecision(send=False, base_fee_wei=base_fee_wei, max_fee_per_gas_wei=0,
                           max_priority_fee_per_gas_wei=0,
                           reason=f"base fee {_g(base_fee_wei)} gwei is above the limit {_g(limit_wei)} gwei")
    if over_limit:
        reason = f"urgent: base fee {_g(base_fee_wei)} gwei above the limit {_g(limit_wei)} gwei, within the cap"
    else:
        reason = f"base fee {_g(base_fee_wei)} gwei" + (f" ≤ limit {_g(limit_wei)} gwei" if limit_wei else "")
    return FeeDecision(send=True, base_fee_wei=base_fee_wei, max_fee_per_gas_wei=max_fee,
                       max_priority_fee_per_gas_wei=tip, reason=reason)


def plan_replacement(*, old_max_fee_wei: int, old_tip_wei: int, base_fee_wei: int, priority_fee_wei: int,
                     hard_cap_wei: int | None) -> FeeDecision | None:
    """Fees for re-sending at the same nonce: both raised ≥ 12.5% and enough for the current base fee."""
    tip = max(bump(old_tip_wei), priority_fee_wei)
    max_fee = max(bump(old_max_fee_wei), 2 * base_fee_wei + tip)
    if hard_cap_wei is not None and max_fee > hard_cap_wei:
        max_fee = hard_cap_wei
        if max_fee < bump(old_max_fee_wei) or tip > max_fee:
            return None
    return FeeDecision(send=True, base_fee_wei=base_fee_wei, max_fee_per_gas_wei=max_fee,
                       max_priority_fee_per_gas_wei=tip,
                       reason=f"replacement: max fee {_g(old_max_fee_wei)} → {_g(max_fee)} gwei, "
                              f"tip {_g(old_tip_wei)} → {_g(tip)} gwei")


def next_base_fee(base_fee_wei: int, gas_used: int, gas_limit: int) -> int:
    """EIP-1559: the next block's base fee (elasticity 2, change denominator 8)."""
    target = gas_limit // 2
    if gas_used == target:
        return base_fee_wei
    if gas_used > target:
        return base_fee_wei + max(base_fee_wei * (gas_used - target) // target // 8, 1)
    return base_fee_wei - base_fee_wei * (target - gas_used) // target // 8


@dataclass(frozen=True)
class FeeInputs:
    """What the chain says now: the latest block, its base fee and a fee-history tip."""

    block_number: int
    base_fee_wei: int
    priority_fee_wei: int


@dataclass(frozen=True)
class GasWaitProgress:
    state: str  # "waiting", "done" or "timeout"
    block_number: int
    base_fee_wei: int
    limit_wei: int | None
    waited_s: float
    blocks_waited: int
    #: ``optimal`` timing: the stopping threshold for this block (None in ``limit`` mode)
    threshold_wei: int | None = None

    def line(self) -> str:
        limit = f"{_g(self.limit_wei)} gwei" if self.limit_wei is not None else "none"
        wait = f", wait-for {_g(self.threshold_wei)} gwei" if self.threshold_wei is not None else ""
        return (f"gas {self.state}: block {self.block_number} base fee {_g(self.base_fee_wei)} gwei, limit {limit}"
                f"{wait}; waited {self.blocks_waited} blocks / {self.waited_s:.0f} s")


class GasWaitTimeout(TemporaryError):
    """The base fee stayed above the limit until the deadline; nothing was sent."""


class GasWaitAborted(TemporaryError):
    """A stop was requested (SIGINT/SIGTERM) while waiting for gas; nothing was sent."""


# ----------------------------------------------------------------------------------- optimal timing
GasTimingMode = Literal["limit", "optimal"]
WEEK_S = 7 * 86400
#: history entries needed before the model is trusted (fewer: the ``limit`` behaviour)
MIN_HISTORY = 16
#: default history: this many times the blocks until the deadline
HISTORY_FACTOR = 4
#: blocks one ``eth_feeHistory`` call may cover (geth's cap)
FEE_HISTORY_PAGE = 1024
#: backward induction runs over at most this many blocks; further from the deadline the boundary is held
MAX_HORIZON = 2048
GRID_POINTS = 81
QUADRATURE_POINTS = 11


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
class FeeModel:
    """``log fee(b) = level + season[b mod period] + z(b)``, ``z(b+1) = φ·z(b) + shock`` (fitted, see module doc)."""

    level: float
    phi: float
    season: tuple[float, ...]
    #: shocks at equally likely quantiles (an equal-weight quadrature of the empirical shock distribution)
    shocks: tuple[float, ...]

    @property
    def period(self) -> int:
        return len(self.season)

    def mean_log(self, block: int) -> float:
        return self.level + self.season[block % self.period]

    def deviation(self, block: int, fee_wei: int) -> float:
        return math.log(max(fee_wei, 1)) - self.mean_log(block)


def fit_fee_model(fees_wei: Sequence[int], *, first_block: int, block_time_s: float) -> FeeModel | None:
    """Fit the model on ``fees_wei`` (consecutive blocks from ``first_block``); None when too short."""
    ys = [math.log(max(int(f), 1)) for f in fees_wei]
    n = len(ys)
    if n < MIN_HISTORY:
        return None
    period = round(WEEK_S / block_time_s)
    season = [0.0]
    if period >= 2 and 2 * period <= n:  # a weekly season only when two weeks are in the history
        half = period // 2
        by_phase: list[list[float]] = [[] for _ in range(period)]
        for t in range(half, n - half):
            window = ys[t - half:t - half + period]  # one period around t: the local level
            by_phase[(first_block + t) % period].append(ys[t] - sum(window) / period)
        season = [statistics.fmean(d) if d else 0.0 for d in by_phase]
        centre = statistics.fmean(season)
        season = [v - centre for v in season]
    p = len(season)
    u = [ys[t] - season[(first_block + t) % p] for t in range(n)]
    xs, nx = u[:-1], u[1:]
    mx, my = statistics.fmean(xs), statistics.fmean(nx)
    sxx = sum((a - mx) ** 2 for a in xs)
    phi = sum((a - mx) * (b - my) for a, b in zip(xs, nx, strict=True)) / sxx if sxx > 0 else 0.0
    phi = min(max(phi, 0.0), 0.999)
    level = (my - phi * mx) / (1 - phi)
    shocks = sorted(b - level - phi * (a - level) for a, b in zip(xs, nx, strict=True))
    k = QUADRATURE_POINTS
    quad = tuple(shocks[min(int((i + 0.5) / k * len(shocks)), len(shocks) - 1)] for i in range(k))
    return FeeModel(level=level, phi=phi, season=tuple(season), shocks=quad)


def stopping_boundary(model: FeeModel, *, deadline_block: int, horizon: int) -> list[float]:
    """``z*[r]`` for ``r = 0 … horizon`` blocks left before ``deadline_block``: send at block
    ``deadline_block − r`` when its deviation ``z`` is ≤ ``z*[r]`` (``z*[0] = +∞``: the deadline block sends)."""
    horizon = max(0, horizon)
    steps = min(horizon, MAX_HORIZON)
    spread = math.sqrt(statistics.fmean([e * e for e in model.shocks]) or 1e-12)
    sd = spread / max(math.sqrt(1 - model.phi ** 2), 0.05)
    lo, hi = -6 * sd, 6 * sd
    dz = (hi - lo) / (GRID_POINTS - 1)
    grid = [lo + dz * i for i in range(GRID_POINTS)]

    def fee(block: int, z: float) -> float:
        return math.exp(model.mean_log(block) + z)

    value = [fee(deadline_block, z) for z in grid]  # r = 0: the fee paid at the deadline
    out = [math.inf]
    for r in range(1, steps + 1):
        block = deadline_block - r
        cont = []
        for z in grid:
            acc = 0.0
            for e in model.shocks:
                f = (model.phi * z + e - lo) / dz
                if f <= 0:
                    acc += value[0] * math.exp(f * dz)
                elif f >= GRID_POINTS - 1:
                    acc += value[-1] * math.exp((f - GRID_POINTS + 1) * dz)
                else:
                    i = int(f)
                    acc += value[i] + (value[i + 1] - value[i]) * (f - i)
            cont.append(acc / len(model.shocks))
        now = [fee(block, z) for z in grid]
        below = [z for z, a, c in zip(grid, now, cont, strict=True) if a <= c]
        out.append(max(below) if below else -math.inf)
        value = [min(a, c) for a, c in zip(now, cont, strict=True)]
    out += [out[-1]] * (horizon - steps)
    return out


def timing_threshold_wei(model: FeeModel, boundary: Sequence[float], *, block: int, blocks_left: int) -> int | None:
    """The highest base fee worth taking at ``block`` with ``blocks_left`` blocks to go (None: any fee)."""
    z = boundary[min(max(blocks_left, 0), len(boundary) - 1)]
    if z == math.inf:
        return None
    if z == -math.inf:
        return 0
    return int(math.exp(model.mean_log(block) + z))


def base_fee_history(fee_history: Callable[[int, Any, list[float]], Any], count: int) -> list[int]:
    """Base fees of the last ``count`` blocks and, last, the next block's — through ``eth_feeHistory``
    (``w3.eth.fee_history``) in pages of ``FEE_HISTORY_PAGE`` blocks, oldest first."""
    page = fee_history(min(max(count, 1), FEE_HISTORY_PAGE), "latest", [])
    fees = [int(b) for b in page["baseFeePerGas"]]
    oldest = int(page["oldestBlock"])
    while len(fees) - 1 < count and oldest > 0:
        n = min(count - (len(fees) - 1), FEE_HISTORY_PAGE, oldest)
        page = fee_history(n, oldest - 1, [])
        older = [int(b) for b in page["baseFeePerGas"]][:-1]  # its last entry is the block we already have
        if not older:
            break
        fees = older + fees
        oldest = int(page["oldestBlock"])
    return fees


def wait_for_fees(fetch: Callable[[], FeeInputs], *, limit_wei: int | None, hard_cap_wei: int | None,
                  urgent: bool = False, deadline_s: float, poll_s: float = 1.0,
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                  on_progress: Callable[[GasWaitProgress], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, timing: GasTimingConfig | None = None,
                  history: Callable[[int], Sequence[int]] | None = None) -> FeeDecision:
    """Follow new blocks until ``plan_fees`` says send; ``GasWaitTimeout`` after ``deadline_s``;
    ``GasWaitAborted`` as soon as ``should_stop()`` is true (nothing has been signed yet).

    With ``timing.mode == "optimal"`` (and not ``urgent``) a block is taken only when its base fee is also at or
    below the stopping threshold for the blocks left before ``deadline_s``; the last block before the deadline
    is taken whatever the fee (if ``plan_fees`` allows it). ``history(n)`` returns the base fees of the last
    ``n`` blocks followed by the next block's (as ``eth_feeHistory``); without it the model is fitted on the fees
    seen while waiting and the decision is on ``FeeInputs.base_fee_wei``."""
    started = clock()
    first_block: int | None = None
    last_block: int | None = None
    notify = on_progress or (lambda _p: None)
    waited = False
    optimal = timing is not None and timing.mode == "optimal" and not urgent
    block_time = timing.block_time_s if timing is not None else 12.0
    horizon = max(0, int(deadline_s // block_time)) if optimal else 0
    seen: list[int] = []
    model: FeeModel | None = None
    boundary: list[float] = []
    deadline_block = 0
    while True:
        if should_stop is not None and should_stop():
            raise GasWaitAborted("stop requested while waiting for the base fee to fall; nothing was sent")
        inputs = fetch()
        if inputs.block_number != last_block:
            last_block = inputs.block_number
            first_block = inputs.block_number if first_block is None else first_block
            decision = plan_fees(base_fee_wei=inputs.base_fee_wei, priority_fee_wei=inputs.priority_fee_wei,
                                 limit_wei=limit_wei, hard_cap_wei=hard_cap_wei, urgent=urgent)
            threshold: int | None = None
            if optimal and timing is not None:
                target = inputs.block_number + 1  # the block a transaction sent now is mined in
                if history is not None:
                    n = timing.history_for(horizon) if model is None else 1
                    fees = [int(f) for f in history(n)]
                    upcoming = fees[-1]
                    if model is None:
                        seen = fees
                else:
                    upcoming = inputs.base_fee_wei
                    seen.append(upcoming)
                if model is None:
                    deadline_block = target + horizon
                    model = fit_fee_model(seen, first_block=target - len(seen) + 1, block_time_s=block_time)
                    boundary = [] if model is None else stopping_boundary(model, deadline_block=deadline_block,
                                                                          horizon=horizon)
                left = max(0, int((deadline_s - (clock() - started)) // block_time))
                if model is not None:
                    threshold = timing_threshold_wei(model, boundary, block=target, blocks_left=left)
                if decision.send and threshold is not None and upcoming > threshold:
                    decision = decision.model_copy(update={
                        "send": False, "reason": f"waiting: next base fee {_g(upcoming)} gwei above the stopping "
                                                 f"threshold {_g(threshold)} gwei ({left} blocks to the deadline)"})
                elif decision.send and threshold is not None:
                    decision = decision.model_copy(update={
                        "reason": f"{decision.reason}; next base fee {_g(upcoming)} gwei ≤ stopping threshold "
                                  f"{_g(threshold)} gwei ({left} blocks to the deadline)"})
            progress = GasWaitProgress(
                state="done" if decision.send else "waiting", block_number=inputs.block_number,
                base_fee_wei=inputs.base_fee_wei, limit_wei=limit_wei, waited_s=clock() - started,
                blocks_waited=inputs.block_number - first_block, threshold_wei=threshold)
            if decision.send:
                if waited:
                    notify(progress)
                return decision
            waited = True
            notify(progress)
        elapsed = clock() - started
        if elapsed >= deadline_s:
            notify(GasWaitProgress(state="timeout", block_number=inputs.block_number,
                                   base_fee_wei=inputs.base_fee_wei, limit_wei=limit_wei, waited_s=elapsed,
                                   blocks_waited=inputs.block_number - (first_block or inputs.block_number)))
            raise GasWaitTimeout(
                f"base fee stayed above the limit for {elapsed:.0f} s (now {_g(inputs.base_fee_wei)} gwei, "
                f"limit {_g(limit_wei)} gwei); nothing was sent, the action will be retried later")
        sleep(poll_s)


def _g(wei: int | None) -> str:
    if wei is None:
        return "—"
    return f"{Decimal(wei) / GWEI:.3f}".rstrip("0").rstrip(".")
