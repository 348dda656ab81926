"""A "maybe" attempt is looked up by hash, then its same signed bytes are sent again; it is given up only when the
node refuses them with a reason and still does not know the hash (``agent.execution.maybe``). Against a real local
JSON-RPC server scripted answer by answer; the journal is a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.execution.maybe import Lookup, look_up, refusal_of
from agent.journal.records import AttemptStatus, Broadcast
from agent.journal.store import JournalStore
from tests.integration.chain.jsonrpc_server import Answer, error, http, jsonrpc_server, result
from tests.integration.chain.test_rpc_errors import WALLET, rpc_for

TX_HASH = "0x" + "ab" * 32
UNKNOWN = result(None)  # eth_getTransactionByHash: null


def _attempt(journal: JournalStore) -> int:
    attempt = journal.record_attempt(action_id=None, purpose="main", chain_id=31337, sender=WALLET, nonce=3,
                                     tx_hash=TX_HASH, raw_tx=b"\x02\xf8raw", max_fee_per_gas_wei=10**10,
                                     max_priority_fee_per_gas_wei=10**9)
    journal.mark_broadcast(attempt, Broadcast.MAYBE)
    return attempt


@pytest.mark.parametrize(("answers", "found", "broadcast", "status"), [
    ([UNKNOWN, result(TX_HASH)], Lookup.KNOWN, Broadcast.DEFINITELY, AttemptStatus.PENDING),
    ([UNKNOWN, error(-32003, "transaction already imported")], Lookup.KNOWN, Broadcast.DEFINITELY,
     AttemptStatus.PENDING),
    ([UNKNOWN, error(-32000, "request failed")], Lookup.UNSURE, Broadcast.MAYBE, AttemptStatus.PENDING),
    ([UNKNOWN, http(502)], Lookup.UNSURE, Broadcast.MAYBE, AttemptStatus.PENDING),
    ([UNKNOWN, error(-32000, "nonce too low")], Lookup.UNSURE, Broadcast.MAYBE, AttemptStatus.PENDING),
    ([UNKNOWN, error(-32000, "replacement transaction underpriced")], Lookup.UNSURE, Broadcast.MAYBE,
     AttemptStatus.PENDING),
    ([UNKNOWN, error(-32003, "Insufficient funds for gas * price + value"), UNKNOWN], Lookup.UNKNOWN,
     Broadcast.NEVER, AttemptStatus.REJECTED),
    ([UNKNOWN, error(-32000, "transaction underpriced"), UNKNOWN], Lookup.UNKNOWN, Broadcast.NEVER,
     AttemptStatus.REJECTED),
])
def test_a_maybe_attempt_is_settled_only_by_proof(tmp_path: Path, answers: list[Answer], found: Lookup,
                                                 broadcast: Broadcast, status: AttemptStatus) -> None:
    with JournalStore.open(tmp_path / "j.sqlite") as journal, jsonrpc_server(*answers) as (url, script):
        attempt_id = _attempt(journal)
        [attempt] = journal.attempts()
        assert look_up(journal, rpc_for(url, attempts=1), attempt) == found
        [after] = journal.attempts()
        assert (after.broadcast, after.status) == (broadcast, status)
        assert script.methods()[:2] == ["eth_getTransactionByHash", "eth_sendRawTransaction"]
        assert after.id == attempt_id
        if found == Lookup.UNKNOWN:
            assert refusal_of(after) is not None and journal.highest_used_nonce(31337, WALLET) is None
