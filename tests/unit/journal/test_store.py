"""The journal: WAL, migrations, idempotency keys, attempt states, summaries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agent.errors import ConfigError, SafetyHalt
from agent.journal.records import (
    ActionRecord,
    ActionState,
    AttemptRecord,
    AttemptStatus,
    Broadcast,
    CycleStatus,
    Mode,
)
from agent.journal.schema import MIGRATIONS
from agent.journal.store import JournalStore

ADDR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture
def store(tmp_path: Path) -> JournalStore:
    s = JournalStore.open(tmp_path / "j" / "journal.sqlite")
    yield s
    s.close()


def _action(store: JournalStore, key: str = "k1", mode: Mode = Mode.LIVE) -> ActionRecord:
    return store.begin_action(key=key, chain_id=1, chain="ethereum", plan_id="p1", kind="swap",
                              intent={"to": ADDR}, mode=mode)


def test_wal_and_schema_version(store: JournalStore) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    again = JournalStore.open(store.path)  # re-opening does not re-run migrations
    assert again.schema_version == len(MIGRATIONS)
    again.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    s = JournalStore.open(tmp_path / "j.sqlite")
    s._conn.execute("UPDATE schema_version SET version = 99")
    s.close()
    with pytest.raises(ConfigError, match="newer than this agent"):
        JournalStore.open(tmp_path / "j.sqlite")


def test_idempotency_key_claims_one_live_action(store: JournalStore) -> None:
    first = _action(store)
    second = _action(store)
    assert first.id == second.id and first.state is ActionState.PENDING
    assert first.intent == {"to": ADDR}  # JSON columns come back decoded
    assert store.is_blocked("k1") and [a.idempotency_key for a in store.open_actions()] == ["k1"]
    dry1, dry2 = _action(store, mode=Mode.DRY_RUN), _action(store, mode=Mode.DRY_RUN)
    assert len({first.id, dry1.id, dry2.id}) == 3  # dry runs never claim the key
    assert dry1.mode is Mode.DRY_RUN
    store.set_action_state(first.id, ActionState.ABANDONED)
    assert not store.is_blocked("k1") and store.open_actions() == []


def test_attempt_lifecycle_and_used_nonces(store: JournalStore) -> None:
    action = _action(store)
    a = store.record_attempt(action_id=action.id, purpose="main", chain_id=1, sender=ADDR, nonce=4,
                             tx_hash="0xaa", raw_tx=b"\x02raw", max_fee_per_gas_wei=10**20,
                             max_priority_fee_per_gas_wei=1)
    assert store.highest_used_nonce(1, ADDR) is None  # signed, not yet handed to a node
    store.mark_broadcast(a, Broadcast.MAYBE)
    assert store.highest_used_nonce(1, ADDR) == 4
    [row] = store.unresolved_attempts()
    assert isinstance(row, AttemptRecord) and row.status is AttemptStatus.PENDING and row.broadcast is Broadcast.MAYBE
    assert row.raw_tx == b"\x02raw" and row.max_fee_per_gas_wei == 10**20  # above int64: stored exactly
    store.mark_attempt(a, AttemptStatus.MINED, block_number=9, gas_used=21000, effective_gas_price_wei=7)
    assert store.unresolved_attempts() == []
    [mined] = store.attempts(nonce=4)
    assert (mined.status, mined.block_number, mined.gas_used, mined.effective_gas_price_wei) == (
        AttemptStatus.MINED, 9, 21000, 7)


def test_cycles_decisions_events_and_summary(store: JournalStore) -> None:
    cycle = store.start_cycle(mode=Mode.LIVE)
    store.record_decision(cycle, rebalance=True, reasons=["ETH 70% vs 40% target"], detail={"drift_pp": 30},
                          plan_id="p1")
    store.record_event("gas_wait", {"state": "waiting"}, cycle_id=cycle)
    action = _action(store)
    store.record_attempt(action_id=action.id, purpose="main", chain_id=1, sender=ADDR, nonce=0, tx_hash="0x01",
                         raw_tx=b"x", max_fee_per_gas_wei=1, max_priority_fee_per_gas_wei=1)
    store.finish_cycle(cycle, status=CycleStatus.OK)
    summary = store.summary()
    assert summary.cycles[0].status is CycleStatus.OK and summary.decisions[0].rebalance is True
    doc = summary.to_json()
    assert doc["cycles"][0]["status"] == "ok"
    assert doc["decisions"][0]["reasons"] == ["ETH 70% vs 40% target"]
    assert doc["events"][0]["detail"] == {"state": "waiting"}
    assert doc["actions"][0]["attempts"][0]["tx_hash"] == "0x01"
    assert "raw_tx" not in doc["actions"][0]["attempts"][0]
    assert doc["open_actions"] == ["k1"]
    store.record_event("gas_wait", {"state": "done"})
    last = store.last_event("gas_wait")
    assert last is not None and last.detail == {"state": "done"} and store.last_event("nope") is None


def test_events_filter_by_kind_and_detail_fields(store: JournalStore) -> None:
    store.record_event("sample", {"chain": "a", "vault": "v", "timestamp": 10})
    store.record_event("sample", {"chain": "a", "vault": "v", "timestamp": 20})
    store.record_event("sample", {"chain": "b", "vault": "v", "timestamp": 30})
    store.record_event("other", {"chain": "a", "vault": "v", "timestamp": 40})
    got = store.events_where("sample", detail_equals={"chain": "a", "vault": "v"}, detail_at_least={"timestamp": 15})
    assert [e.detail["timestamp"] for e in got] == [20]
    assert [e.kind for e in store.events_where("sample", "other")] == ["sample", "sample", "sample", "other"]
    with pytest.raises(ValueError, match="not a detail field"):
        store.events_where("sample", detail_equals={"x') OR 1=1 --": "a"})


def test_old_dry_run_spelling_reads_as_the_enum(store: JournalStore) -> None:
    store._conn.execute("UPDATE actions SET mode = 'dry-run'")  # none yet: insert one the old way
    _action(store, key="old", mode=Mode.DRY_RUN)
    store._conn.execute("UPDATE actions SET mode = 'dry-run'")
    assert store.summary().actions[0][0].mode is Mode.DRY_RUN


def test_unknown_state_text_fails_loudly(store: JournalStore) -> None:
    action = _action(store)
    store._conn.execute("UPDATE actions SET state = 'weird' WHERE id = ?", (action.id,))
    with pytest.raises(ValueError, match="weird"):
        store.action(action.id)


def test_the_same_signed_bytes_after_an_abandoned_attempt_take_its_row_over(store: JournalStore) -> None:
    """Signing is deterministic: a re-made action after a crash before broadcast can sign the very same bytes."""
    first, again = _action(store, "k1"), _action(store, "k2")
    kw = {"purpose": "main", "chain_id": 1, "sender": ADDR, "nonce": 4, "tx_hash": "0xaa", "raw_tx": b"\x02raw",
          "max_fee_per_gas_wei": 10, "max_priority_fee_per_gas_wei": 1}
    a = store.record_attempt(action_id=first.id, **kw)
    store.mark_attempt(a, AttemptStatus.ABANDONED, error="never broadcast (interrupted)")
    b = store.record_attempt(action_id=again.id, **kw)
    [row] = store.attempts()
    assert b == a and row.action_id == again.id and row.status is AttemptStatus.PENDING and row.error is None
    store.mark_broadcast(b, Broadcast.MAYBE)
    with pytest.raises(SafetyHalt, match="already journaled as pending"):
        store.record_attempt(action_id=again.id, **kw)
