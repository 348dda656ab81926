"""Gas policy: fee decisions, the wait loop on a real base-fee path, replacement bumps."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.chain.reads import FeeInputs
from agent.execution.fees import GWEI, bump, next_base_fee, plan_fees, plan_replacement
from agent.execution.gas_wait import GasWaitProgress, GasWaitTimeout, wait_for_fees
from tests.paths import REPO_ROOT

TRACE = REPO_ROOT / "data" / "eth_basefee_15534142-15534341.csv"


def load_trace(path: Path = TRACE) -> list[dict[str, int]]:
    with path.open() as fh:
        return [{"block": int(r["block_number"]), "base_fee": int(r["base_fee_wei"]), "gas_used": int(r["gas_used"]),
                 "gas_limit": int(r["gas_limit"])} for r in csv.DictReader(fh)]


class FakeChain:
    """Replays the trace: each sleep of one block time advances the clock and the chain by one block."""

    def __init__(self, rows: list[dict[str, int]], start: int, block_time_s: float = 12.0) -> None:
        self.rows, self.index, self.now, self.block_time_s = rows, start, 0.0, block_time_s

    def fetch(self) -> FeeInputs:
        row = self.rows[self.index]
        return FeeInputs(block_number=row["block"], base_fee_wei=row["base_fee"], priority_fee_wei=GWEI // 10)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.now >= (self.index + 1) * self.block_time_s and self.index + 1 < len(self.rows):
            self.index += 1


def test_trace_follows_the_eip1559_rule() -> None:
    rows = load_trace()
    assert len(rows) == 200
    for prev, nxt in itertools.pairwise(rows):
        assert next_base_fee(prev["base_fee"], prev["gas_used"], prev["gas_limit"]) == nxt["base_fee"]


def test_waits_on_the_real_path_until_the_base_fee_is_at_the_limit() -> None:
    rows = load_trace()
    limit = 15 * GWEI
    start = next(i for i, r in enumerate(rows) if r["base_fee"] > 20 * GWEI)
    expected = next(r for r in rows[start:] if r["base_fee"] <= limit)
    chain = FakeChain(rows, start)
    chain.now = start * chain.block_time_s
    seen: list[GasWaitProgress] = []
    decision = wait_for_fees(chain.fetch, limit_wei=limit, hard_cap_wei=100 * GWEI, deadline_s=3600, poll_s=3,
                             clock=chain.clock, sleep=chain.sleep, on_progress=seen.append)
    assert decision.send and decision.base_fee_wei == expected["base_fee"]
    assert decision.max_fee_per_gas_wei == 2 * expected["base_fee"] + GWEI // 10
    assert seen[0].state == "waiting" and seen[-1].state == "done"
    assert seen[-1].block_number == expected["block"]
    assert seen[-1].blocks_waited == expected["block"] - rows[start]["block"]
    assert all(p.base_fee_wei > limit for p in seen if p.state == "waiting")


def test_deadline_raises_and_reports_a_timeout() -> None:
    rows = load_trace()
    start = next(i for i, r in enumerate(rows) if r["base_fee"] > 20 * GWEI)
    chain = FakeChain(rows, start)
    chain.now = start * chain.block_time_s
    seen: list[GasWaitProgress] = []
    with pytest.raises(GasWaitTimeout, match="nothing was sent"):
        wait_for_fees(chain.fetch, limit_wei=5 * GWEI, hard_cap_wei=None, deadline_s=120, poll_s=3,
                      clock=chain.clock, sleep=chain.sleep, on_progress=seen.append)
    assert seen[-1].state == "timeout" and seen[-1].waited_s >= 120


def test_no_progress_when_sending_at_once() -> None:
    seen: list[GasWaitProgress] = []
    d = wait_for_fees(lambda: FeeInputs(1, 10 * GWEI, GWEI), limit_wei=20 * GWEI, hard_cap_wei=None,
                      deadline_s=10, on_progress=seen.append, sleep=lambda _s: None)
    assert d.send and seen == []


def test_urgent_pays_above_the_limit_within_the_cap() -> None:
    d = plan_fees(base_fee_wei=40 * GWEI, priority_fee_wei=2 * GWEI, limit_wei=20 * GWEI, hard_cap_wei=60 * GWEI,
                  urgent=True)
    assert d.send and d.max_fee_per_gas_wei == 60 * GWEI and d.max_priority_fee_per_gas_wei == 2 * GWEI
    assert "urgent" in d.reason
    calm = plan_fees(base_fee_wei=40 * GWEI, priority_fee_wei=2 * GWEI, limit_wei=20 * GWEI, hard_cap_wei=60 * GWEI)
    assert not calm.send and "above the limit" in calm.reason


def test_urgent_still_waits_when_the_base_fee_reaches_the_cap() -> None:
    d = plan_fees(base_fee_wei=70 * GWEI, priority_fee_wei=GWEI, limit_wei=20 * GWEI, hard_cap_wei=70 * GWEI,
                  urgent=True)
    assert not d.send and "hard cap" in d.reason


@given(base=st.integers(0, 10**13), tip=st.integers(0, 10**12), cap=st.integers(10**6, 10**13),
       limit=st.one_of(st.none(), st.integers(1, 10**13)), urgent=st.booleans())
def test_max_fee_never_exceeds_the_cap(base: int, tip: int, cap: int, limit: int | None, urgent: bool) -> None:
    d = plan_fees(base_fee_wei=base, priority_fee_wei=tip, limit_wei=limit, hard_cap_wei=cap, urgent=urgent)
    assert d.max_fee_per_gas_wei <= cap
    if d.send:
        assert base < d.max_fee_per_gas_wei and d.max_priority_fee_per_gas_wei <= d.max_fee_per_gas_wei - base
        assert urgent or limit is None or base <= limit


@given(old_max=st.integers(0, 10**12), old_tip=st.integers(0, 10**11), base=st.integers(0, 10**12),
       cap=st.one_of(st.none(), st.integers(1, 10**13)))
def test_replacement_raises_both_fees_by_at_least_12_5_percent(old_max: int, old_tip: int, base: int,
                                                               cap: int | None) -> None:
    old_tip = min(old_tip, old_max)
    d = plan_replacement(old_max_fee_wei=old_max, old_tip_wei=old_tip, base_fee_wei=base, priority_fee_wei=0,
                         hard_cap_wei=cap)
    if d is None:
        assert cap is not None and cap < max(bump(old_max), bump(old_tip))
        return
    assert d.max_fee_per_gas_wei * 8 >= old_max * 9 and d.max_fee_per_gas_wei > old_max
    assert d.max_priority_fee_per_gas_wei * 8 >= old_tip * 9 and d.max_priority_fee_per_gas_wei > old_tip
    assert d.max_priority_fee_per_gas_wei <= d.max_fee_per_gas_wei
    assert cap is None or d.max_fee_per_gas_wei <= cap


def test_bump_examples() -> None:
    assert bump(0) == 1 and bump(8) == 9 and bump(9) == 11 and bump(100 * GWEI) == 112_500_000_000
