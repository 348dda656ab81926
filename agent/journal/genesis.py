"""One journal per chain (#14 item 5): the journal records each chain's genesis (block 0) hash and refuses a
chain whose genesis differs.

A reset sandbox (same chain id, new history) or an RPC URL pointing at another network with the same chain id
would otherwise make the agent reconcile, gap-fill and plan against transactions that are not there (after a
``sandbox up`` it once "filled" 20+ nonce gaps with self-transfers). ``check_genesis`` records the hash the first
time (``record=True``) and compares it every time after; a mismatch is a ``SafetyHalt`` naming the chain and the
fix. The journal's SQL stays in this package.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent.errors import SafetyHalt
from agent.journal.store import JournalStore


class GenesisMismatch(SafetyHalt):
    """The chain behind the RPC URL is not the one this journal has traded on."""


def recorded_genesis(journal: JournalStore, chain_id: int) -> str | None:
    with journal._lock:
        row = journal._conn.execute("SELECT genesis_hash FROM chain_genesis WHERE chain_id = ?",
                                    (chain_id,)).fetchone()
    return None if row is None else str(row[0])


def check_genesis(journal: JournalStore, *, chain: str, chain_id: int, rpc_env: str, genesis_hash: str,
                  record: bool = True) -> None:
    """Refuse ``genesis_hash`` when the journal recorded another one for ``chain_id``; record it when new."""
    genesis_hash = genesis_hash.lower()
    known = recorded_genesis(journal, chain_id)
    if known is None:
        if record:
            with journal._lock:
                journal._conn.execute(
                    "INSERT OR IGNORE INTO chain_genesis (chain_id, chain, genesis_hash, recorded_at) "
                    "VALUES (?, ?, ?, ?)", (chain_id, chain, genesis_hash, datetime.now(UTC).isoformat()))
        return
    if known != genesis_hash:
        raise GenesisMismatch(
            f"chain {chain} (id {chain_id}): its genesis block is {genesis_hash[:18]}…, but the journal "
            f"{journal.path} was written on a chain whose genesis is {known[:18]}… (a reset sandbox or another "
            f"network behind {rpc_env}_RPC_URL); point {rpc_env}_RPC_URL at the right network, or give this chain "
            "a fresh journal (JOURNAL_PATH=…; for the sandbox `rebalancer sandbox up` starts one)")
