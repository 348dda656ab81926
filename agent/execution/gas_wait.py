"""Waiting for gas: follow new blocks until the fee policy says send, or a deadline passes.

* ``wait_for_fees`` — follows new blocks until ``plan_fees`` says send or a deadline passes; the clock,
  the sleep and the progress callback are injected, so it is tested without real time. Two timing modes
  (``<CHAIN>_GAS_TIMING``): ``limit`` (default) sends at the first block whose base fee is within
  ``<CHAIN>_MAX_BASE_FEE_GWEI``; ``optimal`` also waits, within the deadline, for a block whose base fee is
  at or below a stopping threshold computed from the recent base fees, and sends at the last block before
  the deadline whatever the fee (within the limit and the hard cap).

``GasGate`` is that wait as a step of the cycle: the cycle calls ``wait`` before it runs an action (so the wait is
journaled and observable there); the sender asks ``fees`` for the fees of each transaction, which only waits again
when the base fee rose above the limit since.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.chain.reads import FeeInputs
from agent.errors import TemporaryError
from agent.execution.fee_model import (
    FEE_HISTORY_PAGE,
    FeeModel,
    GasTimingConfig,
    select_fee_model,
    stopping_boundary,
    timing_threshold_wei,
)
from agent.execution.fees import FeeDecision, plan_fees
from agent.execution.fees import gwei_str as _g


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
    #: ``optimal`` timing: the fee model chosen (``FeeModel.label()``)
    model: str | None = None

    def line(self) -> str:
        limit = f"{_g(self.limit_wei)} gwei" if self.limit_wei is not None else "none"
        wait = f", wait-for {_g(self.threshold_wei)} gwei" if self.threshold_wei is not None else ""
        wait += f" ({self.model})" if self.model else ""
        return (f"gas {self.state}: block {self.block_number} base fee {_g(self.base_fee_wei)} gwei, limit {limit}"
                f"{wait}; waited {self.blocks_waited} blocks / {self.waited_s:.0f} s")


class GasWaitTimeout(TemporaryError):
    """The base fee stayed above the limit until the deadline; nothing was sent."""


class GasWaitAborted(TemporaryError):
    """A stop was requested (SIGINT/SIGTERM) while waiting for gas; nothing was sent."""


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
    is taken whatever the fee (if ``plan_fees`` allows it). The model is chosen once, at the first block, by
    ``select_fee_model``. ``history(n)`` returns the base fees of the last ``n`` blocks followed by the next
    block's (as ``eth_feeHistory``); without it the model is fitted on the fees seen while waiting (from
    ``MIN_HISTORY`` of them) and the decision is on ``FeeInputs.base_fee_wei``."""
    started = clock()
    first_block: int | None = None
    last_block: int | None = None
    notify = on_progress or (lambda _p: None)
    waited = False
    timer = None
    if timing is not None and timing.mode == "optimal" and not urgent:
        timer = _OptimalTiming(timing, history, deadline_s=deadline_s, started=started, clock=clock)
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
            if timer is not None:
                decision, threshold = timer.decide(decision, inputs.block_number, inputs.base_fee_wei)
            progress = GasWaitProgress(
                state="done" if decision.send else "waiting", block_number=inputs.block_number,
                base_fee_wei=inputs.base_fee_wei, limit_wei=limit_wei, waited_s=clock() - started,
                blocks_waited=inputs.block_number - first_block, threshold_wei=threshold,
                model=timer.label() if timer is not None else None)
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


class _OptimalTiming:
    """The ``optimal`` timing of one wait: the fee model chosen at the first block, its stopping boundary up to the
    deadline (fixed at the first block, as the clock's deadline is), and the threshold of each new block."""

    def __init__(self, timing: GasTimingConfig, history: Callable[[int], Sequence[int]] | None, *,
                 deadline_s: float, started: float, clock: Callable[[], float]) -> None:
        self.timing, self.history = timing, history
        self.deadline_s, self.started, self.clock = deadline_s, started, clock
        self.block_time = timing.block_time_s
        self.horizon = max(0, int(deadline_s // self.block_time))
        self.seen: list[int] = []
        self.model: FeeModel | None = None
        self.boundary: list[float] = []
        self.deadline_block: int | None = None

    def label(self) -> str | None:
        return self.model.label() if self.model is not None else None

    def decide(self, decision: FeeDecision, block_number: int, base_fee_wei: int) -> tuple[FeeDecision, int | None]:
        """``decision`` held back or explained by this block's stopping threshold, and that threshold."""
        target = block_number + 1  # the block a transaction sent now is mined in
        upcoming = self._upcoming_fee(base_fee_wei)
        left = max(0, int((self.deadline_s - (self.clock() - self.started)) // self.block_time))
        if self.deadline_block is None:
            self.deadline_block = target + self.horizon
        if self.model is None:
            self._choose_model(target, self.deadline_block)
        if self.model is None:
            return decision, None
        threshold = timing_threshold_wei(self.model, self.boundary, block=target, blocks_left=left)
        return _timed(decision, self.model, upcoming=upcoming, threshold=threshold, left=left), threshold

    def _upcoming_fee(self, base_fee_wei: int) -> int:
        """The next block's base fee; the fees the model is fitted on are gathered on the way."""
        if self.history is None:
            self.seen.append(base_fee_wei)
            return base_fee_wei
        n = self.timing.history_for(self.horizon) if self.model is None else 1
        fees = [int(f) for f in self.history(n)]
        if self.model is None:
            self.seen = fees
        return fees[-1]

    def _choose_model(self, target: int, deadline_block: int) -> None:
        seen = self.seen
        self.model = select_fee_model(seen, first_block=target - len(seen) + 1, block_time_s=self.block_time,
                                      horizon=deadline_block - target)
        self.boundary = [] if self.model is None else stopping_boundary(self.model, deadline_block=deadline_block,
                                                                        horizon=deadline_block - target)


def _timed(decision: FeeDecision, model: FeeModel, *, upcoming: int, threshold: int | None,
           left: int) -> FeeDecision:
    """``decision`` (from ``plan_fees``) held back, or explained, by the stopping threshold of ``model``."""
    if not decision.send:
        return decision
    why = f"{left} blocks to the deadline; model: {model.describe()}"
    if threshold is None and left == 0:
        reason = f"{decision.reason}; the last block before the deadline, whatever the fee (model: {model.label()})"
    elif threshold is None:
        reason = f"{decision.reason}; no later block is expected to be cheaper ({why})"
    elif upcoming <= threshold:
        reason = (f"{decision.reason}; next base fee {_g(upcoming)} gwei ≤ stopping threshold {_g(threshold)} gwei "
                  f"({why})")
    elif threshold == 0:
        return decision.model_copy(update={
            "send": False, "reason": f"waiting: next base fee {_g(upcoming)} gwei, whatever it is a later block is "
                                     f"expected to be cheaper (stopping threshold 0; {why})"})
    else:
        return decision.model_copy(update={
            "send": False, "reason": f"waiting: next base fee {_g(upcoming)} gwei above the stopping threshold "
                                     f"{_g(threshold)} gwei ({why})"})
    return decision.model_copy(update={"reason": reason})


class GasGate:
    """Waiting for gas on one chain, as a step the cycle takes before each action (``wait``), and the fee check
    the sender makes for each transaction (``fees``).

    ``wait`` runs the configured timing (``limit`` or ``optimal``) until a block is worth sending in and clears
    the gate; ``fees`` then only re-checks the limit for the transactions of that action (an approval and the
    swap), waiting again only if the base fee rose above it meanwhile. Without a cleared gate (a sender used on
    its own), ``fees`` runs the whole wait. ``clear`` ends the action's pass."""

    def __init__(self, fetch: Callable[[], FeeInputs], *, limit_wei: int | None, hard_cap_wei: int | None,
                 deadline_s: float, poll_s: float = 1.0, timing: GasTimingConfig | None = None,
                 history: Callable[[int], Sequence[int]] | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self._fetch, self._history = fetch, history
        self.limit_wei, self.hard_cap_wei = limit_wei, hard_cap_wei
        self.deadline_s, self.poll_s, self.timing = deadline_s, poll_s, timing
        self.clock, self.sleep, self.should_stop = clock, sleep, should_stop
        self._cleared = False

    def wait(self, *, urgent: bool = False,
             on_progress: Callable[[GasWaitProgress], None] | None = None) -> FeeDecision:
        """Wait with the configured timing; the gate stays cleared for the action that follows."""
        decision = self._run(urgent=urgent, timing=self.timing, on_progress=on_progress)
        self._cleared = True
        return decision

    def fees(self, *, urgent: bool = False,
             on_progress: Callable[[GasWaitProgress], None] | None = None) -> FeeDecision:
        """Fees for one transaction now (see the class doc)."""
        if self._cleared:
            return self._run(urgent=urgent, timing=None, on_progress=on_progress)
        return self._run(urgent=urgent, timing=self.timing, on_progress=on_progress)

    def clear(self) -> None:
        self._cleared = False

    def _run(self, *, urgent: bool, timing: GasTimingConfig | None,
             on_progress: Callable[[GasWaitProgress], None] | None) -> FeeDecision:
        return wait_for_fees(self._fetch, limit_wei=self.limit_wei, hard_cap_wei=self.hard_cap_wei, urgent=urgent,
                             deadline_s=self.deadline_s, poll_s=self.poll_s, clock=self.clock, sleep=self.sleep,
                             on_progress=on_progress, should_stop=self.should_stop, timing=timing,
                             history=self._history if timing is not None else None)
