"""Progress lines on stderr from the journal's tail while a cycle runs."""

from __future__ import annotations

import io

from agent.journal.store import JournalStore
from agent.operator.progress import Progress


def test_twap_and_gas_progress_lines(journal: JournalStore) -> None:
    journal.record_event("gas_wait", {"state": "old"})  # before the cycle: not printed
    out = io.StringIO()
    with Progress(journal, out, poll_s=0.05):
        journal.record_event("gas_wait", {"state": "waiting", "chain_id": 31337, "base_fee_wei": 30 * 10**9,
                                          "threshold_wei": 20 * 10**9, "blocks_waited": 3, "waited_s": 36.0})
        row = journal.begin_action(key="k", chain_id=1, chain="a", plan_id="p", kind="twap", intent={})
        aid = row.id
        journal.record_event("twap_plan", {"key": "c1-abc:0", "n": 11}, action_id=aid)
        for i in range(2):
            journal.record_event("twap_chunk", {"index": i, "state": "confirmed"}, action_id=aid)
    lines = out.getvalue().splitlines()
    assert lines[0] == "gas waiting on chain 31337: base fee 30.00 gwei vs 20.00, 3 block(s), 36.0 s"
    assert "11 chunk(s) planned" in lines[1]
    assert lines[-1] == "split swap: 2/11 chunks done"
    assert not any("old" in line for line in lines)
    assert all(len(line) <= 80 for line in lines)
