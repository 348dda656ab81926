"""Samples and flags in the journal: thinning, losses always stored, flags sticky until cleared."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from agent.journal.store import JournalStore
from agent.vaults.samples import clear_vault_flag, flag_vault, load_flags, load_samples, record_samples

from .vault_factory import T0, state, three_vaults

D = Decimal
CHAIN = three_vaults()


def test_samples_round_trip_thinned_by_chain_time(tmp_path: Path) -> None:
    with JournalStore.open(tmp_path / "j.sqlite") as j:
        first = state(CHAIN, "sUSDC", price=D("1.01"), block=10, timestamp=T0)
        assert len(record_samples(j, [first, state(CHAIN, "vB", block=10, timestamp=T0)])) == 2
        # 5 minutes later: too soon for a new sample of a rising price
        assert record_samples(j, [state(CHAIN, "sUSDC", price=D("1.02"), block=11, timestamp=T0 + 300)]) == []
        # ... but a falling one is always stored
        assert len(record_samples(j, [state(CHAIN, "sUSDC", price=D("1.00"), block=12, timestamp=T0 + 360)])) == 1
        assert len(record_samples(j, [state(CHAIN, "sUSDC", price=D("1.03"), block=13, timestamp=T0 + 1200)])) == 1
        got = load_samples(j, "sandbox_a", "sUSDC")
        assert [s.assets_per_share for s in got] == [D("1.01"), D("1.00"), D("1.03")]
        assert [s.block for s in load_samples(j, "sandbox_a", "sUSDC", since_ts=T0 + 1000)] == [13]
        assert len(load_samples(j, "sandbox_a", "vB")) == 1


def test_flags_stay_until_cleared(tmp_path: Path) -> None:
    with JournalStore.open(tmp_path / "j.sqlite") as j:
        flag_vault(j, "sandbox_a", "vB", "share price fell 3 bps", drop_bps=D(3))
        assert load_flags(j) == {("sandbox_a", "vB"): "share price fell 3 bps"}
        clear_vault_flag(j, "sandbox_a", "vB", "operator: loss was a one-off, reviewed")
        assert load_flags(j) == {}
        events = j.summary().to_json()["events"]
        assert [e["kind"] for e in events][:2] == ["vault_unflagged", "vault_flagged"]
