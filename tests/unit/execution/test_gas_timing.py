"""Optimal gas timing (GAS_TIMING=optimal): the fee model, the stopping boundary, and the wait loop with an injected
clock — it waits for a cheap block, never past the deadline, and still honours the limit and urgency."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
import statistics
from collections.abc import Sequence

import pytest

from agent.chain.reads import FeeInputs
from agent.execution.fee_model import (
    QUADRATURE_POINTS,
    FeeModel,
    GasTimingConfig,
    fit_fee_model,
    horizon_phi,
    quadrature,
    select_fee_model,
    stopping_boundary,
    stopping_thresholds,
    timing_threshold_wei,
)
from agent.execution.fees import GWEI
from agent.execution.gas_wait import GasWaitTimeout, base_fee_history, wait_for_fees

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


def test_stopping_thresholds_fall_with_more_chances() -> None:
    v = stopping_thresholds([10, 20, 30, 40], 5)
    assert v[1] == 25 and v[2] == pytest.approx((10 + 20 + 25 + 25) / 4)
    assert all(a >= b for a, b in itertools.pairwise(v))


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


def random_walk(n: int, seed: int, step: float = 0.05) -> list[int]:
    rng = random.Random(seed)
    y, fees = math.log(20 * GWEI), []
    for _ in range(n):
        y += rng.gauss(0, step)
        fees.append(int(math.exp(y)))
    return fees


def ar1(n: int, seed: int, phi: float = 0.95, spread: float = 0.3) -> list[int]:
    """``log fee = log 20 gwei + z``, ``z' = φ·z + shock`` with a stationary spread of ``spread``."""
    rng = random.Random(seed)
    z, fees = rng.gauss(0, spread), []
    for _ in range(n):
        z = phi * z + rng.gauss(0, spread * math.sqrt(1 - phi ** 2))
        fees.append(int(20 * GWEI * math.exp(z)))
    return fees


def rising(n: int, seed: int, slope: float = 0.002) -> list[int]:
    """Fees that keep rising (+0.2% a block) with a little noise: a reversion to the history's level never comes."""
    rng = random.Random(seed)
    return [int(20 * GWEI * math.exp(slope * t + 0.05 * rng.gauss(0, 1))) for t in range(n)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_fees_that_keep_rising_the_backtest_picks_the_walk_and_it_sends_at_once(seed: int) -> None:
    fees = rising(400, seed)
    model = select_fee_model(fees, first_block=0, block_time_s=BT, horizon=25)
    assert model is not None and model.kind == "walk" and model.backtest_origins > 0
    scores = dict(model.backtest)
    assert scores["ar"] - scores["walk"] > model.backtest_se > 0  # waiting for the level lost, beyond the noise
    chain = Replay(fees + rising(60, seed + 10)[-60:], start=400)
    assert chain.wait(25, history_blocks=399) == 400


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_on_mean_reverting_fees_the_backtest_keeps_the_ar(seed: int) -> None:
    model = select_fee_model(ar1(2000, seed), first_block=0, block_time_s=BT, horizon=25)
    assert model is not None and model.kind == "ar" and 0.9 < model.phi < 0.98
    assert dict(model.backtest)["ar"] < dict(model.backtest)["walk"] == 1.0


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
def test_on_random_walks_there_is_nothing_to_gain_and_little_is_lost() -> None:
    """No rule beats sending at once on a martingale. With 200 blocks of history the AR fitted at the horizon may
    still see some reversion (φ ≈ 0.94–0.99) and wait — at no systematic cost; it never passes the deadline."""
    paid = immediate = 0
    for seed in range(24):
        fees = random_walk(260, seed)
        chain = Replay(fees, start=200)
        mined = chain.wait(25)
        assert 200 <= mined <= 225
        paid, immediate = paid + fees[mined], immediate + fees[200]
    assert 0.93 < paid / immediate < 1.05


def test_horizon_phi_recovers_the_reversion_of_an_ar1() -> None:
    for phi in (0.0, 0.5, 0.95):
        ys = [math.log(f / (20 * GWEI)) for f in ar1(6000, seed=4, phi=phi)]
        mean = statistics.fmean(ys)
        assert abs(horizon_phi([y - mean for y in ys], 50) - phi) < 0.03


def test_at_the_horizon_a_slow_wobble_on_top_of_reversion_does_not_hide_the_reversion() -> None:
    """One-step changes of a smooth path look persistent (φ₁ ≈ 1); the lags up to the horizon see it revert."""
    coarse = [math.log(f / (20 * GWEI)) for f in ar1(400, seed=6, phi=0.6)]
    fine = [a + (b - a) * i / 10 for a, b in itertools.pairwise(coarse) for i in range(10)]  # every 10 blocks
    mean = statistics.fmean(fine)
    z = [y - mean for y in fine]
    assert horizon_phi(z, 1) > 0.98
    assert horizon_phi(z, 100) < 0.97


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
def test_on_mean_reverting_fees_the_rule_waits_and_pays_less_than_at_once() -> None:
    fees = ar1(4000, seed=8, phi=0.9)
    paid = immediate = hindsight = 0
    for start in range(400, 3900, 101):  # one rebalance per window, 25-block deadline, 200 blocks of history
        chain = Replay(fees, start=start)
        mined = chain.wait(25)
        assert start <= mined <= start + 25  # never past the deadline
        paid, immediate = paid + fees[mined], immediate + fees[start]
        hindsight += min(fees[start:start + 26])
    assert paid < 0.95 * immediate
    assert paid < 1.35 * hindsight


def test_the_first_decision_uses_only_the_history() -> None:
    history = ar1(300, seed=10)
    thresholds = []
    for future in ([history[-1] // 4] * 30, [history[-1] * 4] * 30):
        chain = Replay(history + future, start=300)
        seen: list[int | None] = []
        wait_for_fees(chain.fetch, limit_wei=None, hard_cap_wei=None, deadline_s=25 * BT, poll_s=BT,
                      clock=chain.clock, sleep=chain.sleep, on_progress=lambda p, s=seen: s.append(p.threshold_wei),
                      timing=GasTimingConfig(mode="optimal", block_time_s=BT),
                      history=lambda n, c=chain: c.history(n)[:-1])  # the upcoming fee is not known yet either
        thresholds.append(seen[0] if seen else None)
    assert thresholds[0] == thresholds[1]


def test_walk_with_a_season_waits_only_for_a_cheaper_day_of_the_week() -> None:
    season = (0.2, 0.2, 0.2, 0.2, 0.2, -0.5, -0.5)
    model = FeeModel(level=math.log(20 * GWEI), phi=1.0, season=season, shocks=(-0.1, 0.1), kind="walk")
    boundary = stopping_boundary(model, deadline_block=14, horizon=7)  # deadline on day 0; days 7 … 13 before it
    take = [r for r in range(1, 8) if boundary[r] == math.inf]
    assert take == [1, 2]  # days 13 and 12 (weekend): nothing cheaper follows; days 7 … 11: wait
    assert stopping_boundary(dataclasses.replace(model, season=(0.0,)), deadline_block=14, horizon=7)[1:] == [
        math.inf] * 7  # no season: a martingale, send at once


def test_the_reasons_name_the_threshold_and_the_chosen_model() -> None:
    history = iid_fees(400, seed=12)  # independent fees: waiting pays, the backtest keeps the AR (φ ≈ 0)
    chain = Replay(history + [max(history) * 2] * 5 + [min(history) // 2] * 30, start=400)
    lines: list[str] = []
    decision = wait_for_fees(chain.fetch, limit_wei=None, hard_cap_wei=None, deadline_s=25 * BT, poll_s=BT,
                             clock=chain.clock, sleep=chain.sleep, on_progress=lambda p: lines.append(p.line()),
                             timing=GasTimingConfig(mode="optimal", block_time_s=BT), history=chain.history)
    assert "stopping threshold" in decision.reason and "AR φ=" in decision.reason and "backtest" in decision.reason
    assert lines and "wait-for" in lines[0] and "AR φ=" in lines[0]


def test_waits_past_an_expensive_block_for_a_cheap_one_then_sends() -> None:
    history = iid_fees(200, seed=5)
    median = sorted(history)[100]
    future = [3 * median, 2 * median, int(0.5 * median)] + [3 * median] * 20
    chain = Replay(history + future, start=200)
    assert chain.wait(20) == 202  # skips the two dear blocks, takes the cheap one
    assert chain.history_calls[0] == 160  # 8 x deadline blocks of history, then one block at a time
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


def test_the_shock_quadrature_keeps_the_mean_and_gives_an_outlier_only_its_share() -> None:
    values = [0.0] * 79 + [3.0]  # one extreme shock in 80
    quad = quadrature(values)
    assert len(quad) == QUADRATURE_POINTS
    assert abs(statistics.fmean(quad) - 3.0 / 80) < 1e-12
    assert max(quad) == pytest.approx(3.0 * QUADRATURE_POINTS / 80)  # its 1/80 of mass, spread over a 1/41 slice
    assert quadrature([2.0, 1.0]) == (1.0, 2.0)  # fewer values than points: the values themselves
