"""The approval gate on a real journal: who trades, who waits, what is asked again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from agent.errors import ConfigError
from agent.journal.store import JournalStore
from agent.operator.approvals import ApprovalPolicy, decide, gate_plan
from tests.unit.operator.conftest import NOW, make_plan

MANUAL = ApprovalPolicy(mode="manual", ttl_s=600, tolerance_bps=100)


def gate(journal: JournalStore, plan=None, policy=MANUAL, now=NOW, plan_id="c1-x"):  # type: ignore[no-untyped-def]
    return gate_plan(policy, journal, plan or make_plan(), plan_id=plan_id, cycle_id=None, now=now)


def test_auto_and_below_threshold_run_without_asking(journal: JournalStore) -> None:
    assert gate(journal, policy=ApprovalPolicy(mode="auto")).proceed
    above = ApprovalPolicy(mode="above", above_usd=Decimal(5000))
    assert gate(journal, make_plan("4999"), policy=above).proceed
    assert not journal.approvals()


def test_above_threshold_waits(journal: JournalStore) -> None:
    g = gate(journal, make_plan("5001"), policy=ApprovalPolicy(mode="above", above_usd=Decimal(5000)))
    assert not g.proceed and g.status == "requested"
    assert journal.approval(g.approval_id)["status"] == "pending"


def test_manual_waits_then_runs_once_approved(journal: JournalStore) -> None:
    first = gate(journal)
    assert not first.proceed and first.status == "requested"
    again = gate(journal, now=NOW + timedelta(minutes=5))
    assert again.status == "pending" and again.approval_id == first.approval_id  # no second request
    decide(journal, first.approval_id, approve=True, by="cli", now=NOW + timedelta(minutes=6))
    run = gate(journal, now=NOW + timedelta(minutes=7), plan_id="c3-y")
    assert run.proceed and run.status == "approved"
    assert journal.approval(first.approval_id)["status"] == "executed"
    # an approval is used once: the same trades later ask again
    assert gate(journal, now=NOW + timedelta(minutes=8)).status == "requested"


def test_moved_past_tolerance_asks_again(journal: JournalStore) -> None:
    first = gate(journal)
    decide(journal, first.approval_id, approve=True, by="cli", now=NOW)
    moved = gate(journal, make_plan("1020", raw=10**18), now=NOW + timedelta(minutes=1))  # +2% > 1%
    assert not moved.proceed and moved.status == "requested" and moved.approval_id != first.approval_id
    assert journal.approval(first.approval_id)["status"] == "stale"


def test_within_tolerance_runs(journal: JournalStore) -> None:
    first = gate(journal)
    decide(journal, first.approval_id, approve=True, by="cli", now=NOW)
    assert gate(journal, make_plan("1005", raw=10**18 + 10**15 // 2), now=NOW + timedelta(minutes=1)).proceed


def test_rejected_never_trades_and_is_not_asked_again_before_expiry(journal: JournalStore) -> None:
    first = gate(journal)
    decide(journal, first.approval_id, approve=False, by="dashboard", now=NOW)
    later = gate(journal, now=NOW + timedelta(minutes=5))
    assert not later.proceed and later.status == "rejected"
    assert gate(journal, now=NOW + timedelta(minutes=11)).status == "requested"  # after its expiry: asks again


def test_expired_never_trades_and_cannot_be_approved(journal: JournalStore) -> None:
    first = gate(journal)
    with pytest.raises(ConfigError, match="expired"):
        decide(journal, first.approval_id, approve=True, by="cli", now=NOW + timedelta(minutes=11))
    g = gate(journal, now=NOW + timedelta(minutes=12))
    assert not g.proceed and g.status == "requested" and g.approval_id != first.approval_id


def test_approved_but_expired_before_the_next_cycle_does_not_run(journal: JournalStore) -> None:
    first = gate(journal)
    decide(journal, first.approval_id, approve=True, by="cli", now=NOW)
    assert not gate(journal, now=NOW + timedelta(minutes=20)).proceed
    assert journal.approval(first.approval_id)["status"] == "expired"


def test_unknown_or_decided_id_is_one_clear_error(journal: JournalStore) -> None:
    with pytest.raises(ConfigError, match="no such approval"):
        decide(journal, "ap-nope", approve=True, by="cli", now=NOW)
    first = gate(journal)
    decide(journal, first.approval_id, approve=False, by="cli", now=NOW)
    with pytest.raises(ConfigError, match="rejected, not pending"):
        decide(journal, first.approval_id, approve=True, by="cli", now=NOW)
