"""Optimal gas timing (GAS_TIMING=optimal): the fee model, the stopping boundary, and the wait loop with an injected
clock — it waits for a cheap block, never past the deadline, and still honours the limit and urgency."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

import pytest

from agent.execution.gas import (
    GWEI,
    FeeInputs,
    GasTimingConfig,
    GasWaitTimeout,
    base_fee_history,
    fit_fee_model,
    stopping_boundary,
    timing_threshold_wei,
    wait_for_fees,
)
from agent.execution.splitter import stopping_thresholds

BT = 12.0


def iid_fees(n: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [int(GWEI * math.exp(math.log(20) + 0.3 * rng.gauss(0, 1))) for _ in range(n)]


class Replay:
    """A chain replaying ``fees`` (one per block): ``sleep`` advances one block and the clock one block time."""

    def __init__(self, fees: Sequence[int], start: int, block_time_s: float = BT) -> None:
        self.fees, self.start, self.k, self.block_time_s = list(fees), start, 0, block_time_s
        self.history_calls: list[int] = []

    @property
    def latest(self) -> int:
        return self.start - 1 + self.k

    def fetch(self) -> FeeInputs:
        return FeeInputs(block_number=self.latest, base_fee_wei=self.fees[self.latest + 1], priority_fee_wei=GWEI // 10)

    def history(self, n: int) -> list[int]:
        self.history_calls.append(n)
        return self.fees[max(0, self.latest + 1 - n):self.latest + 2]

    def clock(self) -> float:
        return self.k * self.block_time_s

    def sleep(self, _s: float) -> None:
        self.k += 1

    def wait(self, deadline_blocks: int, *, limit: int | None = None, urgent: bool = False,
             history_blocks: int | None = None) -> int:
        """Run the wait; the index of the block the transaction would be mined in."""
        wait_for_fees(self.fetch, limit_wei=limit, hard_cap_wei=None, urgent=urgent,
                      deadline_s=deadline_blocks * self.block_time_s, poll_s=self.block_time_s, clock=self.clock,
                      sleep=self.sleep, timing=GasTimingConfig(mode="optimal", history_blocks=history_blocks,
                                                               block_time_s=self.block_time_s),
                      history=self.history)
        return self.latest + 1


def test_iid_fees_fit_no_persistence_and_match_the_classic_thresholds() -> None:
    fees = iid_fees(2000)
    model = fit_fee_model(fees, first_block=0, block_time_s=BT)
    assert model is not None and model.phi < 0.1 and model.period == 1
    boundary = stopping_boundary(model, deadline_block=100, horizon=10)
    classic = stopping_thresholds(fees, 10)
    for r in (1, 5, 10):
        ours = timing_threshold_wei(model, boundary, block=100 - r, blocks_left=r)
        assert ours is not None and abs(ours / classic[r] - 1) < 0.05  # V_r = E[min(X, V_{r-1})] on the same sample


def test_threshold_rises_as_the_deadline_nears_and_is_open_at_it() -> None:
    model = fit_fee_model(iid_fees(400), first_block=0, block_time_s=BT)
    assert model is not None
    boundary = stopping_boundary(model, deadline_block=50, horizon=20)
    thresholds = [timing_threshold_wei(model, boundary, block=50 - r, blocks_left=r) for r in range(1, 21)]
    assert all(a is not None and b is not None and a >= b for a, b in itertools.pairwise(thresholds))
    assert timing_threshold_wei(model, boundary, block=50, blocks_left=0) is None  # deadline: any fee


def test_a_random_walk_sends_at_once() -> None:
    rng = random.Random(3)
    y, fees = math.log(20 * GWEI), []
    for _ in range(400):
        y += rng.gauss(0, 0.05)
        fees.append(int(math.exp(y)))
    chain = Replay(fees + [fees[-1]] * 50, start=400)
    assert chain.wait(25) == 400  # no expected saving from waiting on a martingale-like path


def test_waits_past_an_expensive_block_for_a_cheap_one_then_sends() -> None:
    history = iid_fees(200, seed=5)
    median = sorted(history)[100]
    future = [3 * median, 2 * median, int(0.5 * median)] + [3 * median] * 20
    chain = Replay(history + future, start=200)
    assert chain.wait(20) == 202  # skips the two dear blocks, takes the cheap one
    assert chain.history_calls[0] == 80  # 4 x deadline blocks of history, then one block at a time
    assert set(chain.history_calls[1:]) == {1}


def test_never_past_the_deadline_even_when_every_block_is_dear() -> None:
    history = iid_fees(200, seed=7)
    chain = Replay(history + [10 * max(history)] * 40, start=200)
    assert chain.wait(10) == 210  # the deadline block, whatever its fee


def test_the_limit_still_holds_in_optimal_mode() -> None:
    history = iid_fees(200, seed=9)
    chain = Replay(history + [30 * GWEI] * 40, start=200)
    with pytest.raises(GasWaitTimeout):
        chain.wait(10, limit=GWEI)


def test_urgent_does_not_wait_for_a_cheaper_block() -> None:
    history = iid_fees(200, seed=11)
    chain = Replay(history + [3 * max(history)] + [min(history)] * 20, start=200)
    assert chain.wait(10, urgent=True) == 200


def test_weekly_season_waits_for_the_weekend() -> None:
    rng = random.Random(13)
    # daily fees: weekdays ~30 gwei, days 5 and 6 of each week ~15 gwei, small noise
    fees = [int(GWEI * (15 if d % 7 in (5, 6) else 30) * math.exp(0.05 * rng.gauss(0, 1))) for d in range(8 * 7 + 14)]
    model = fit_fee_model(fees[:56], first_block=0, block_time_s=86400)
    assert model is not None and model.period == 7
    assert max(model.season[5], model.season[6]) < min(model.season[:5]) - 0.5
    chain = Replay(fees, start=56, block_time_s=86400)  # day 56 is a Monday-like day 0
    assert chain.wait(7, history_blocks=56) in (61, 62)


def test_without_a_history_source_the_fees_seen_while_waiting_are_used() -> None:
    fees = iid_fees(60, seed=17)
    chain = Replay(fees, start=1)
    wait_for_fees(chain.fetch, limit_wei=None, hard_cap_wei=None, deadline_s=40 * BT, poll_s=BT, clock=chain.clock,
                  sleep=chain.sleep, timing=GasTimingConfig(mode="optimal"))
    assert chain.latest + 1 <= 41


def test_base_fee_history_pages_back_through_fee_history() -> None:
    fees = list(range(1, 3001))  # base fee of block b is b + 1; block 2999 is the latest, 3000 the next

    def fee_history(count: int, newest: object, _pct: list[float]) -> dict[str, object]:
        last = 2999 if newest == "latest" else int(newest)  # type: ignore[call-overload]
        oldest = last - count + 1
        return {"oldestBlock": oldest, "baseFeePerGas": fees[oldest:last + 2]}

    got = base_fee_history(fee_history, 2500)
    assert got == fees[3000 - 2501:]
    assert len(got) == 2501
