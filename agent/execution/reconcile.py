"""Start-up reconciliation: settle every journaled attempt whose outcome is unknown.

For each unresolved attempt: ``never`` broadcast → ``abandoned`` (nothing left the process). Otherwise
its receipt is looked up; if mined it is recorded (and its siblings at the same nonce marked
``replaced``); if the chain's nonce already moved past it without any of our attempts being mined it is
``dropped``; else its exact raw bytes are rebroadcast (never re-signed, never re-planned). Then each
pending action is settled: its main transaction mined → ``confirmed``/``failed``; nothing in flight
→ ``abandoned`` (the same key may be executed again); something in flight → stays ``pending``, and the
planner must leave it alone (``JournalStore.open_actions``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.chain.reads import fetch_nonces, fetch_receipt
from agent.chain.rpc import ChainRpc
from agent.errors import TemporaryError, TxRejected
from agent.journal.records import ActionState, AttemptRecord, AttemptStatus, Broadcast
from agent.journal.store import JournalStore

log = logging.getLogger(__name__)


class ReconcileReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mined: tuple[str, ...] = ()
    rebroadcast: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    abandoned: tuple[str, ...] = ()
    unreachable_chains: tuple[int, ...] = ()
    #: idempotency keys of actions still in flight after reconciling
    pending_actions: tuple[str, ...] = ()


def reconcile(journal: JournalStore, rpcs: Mapping[int, ChainRpc]) -> ReconcileReport:
    """Settle unresolved attempts on every chain in ``rpcs`` (chain id → RPC), then pending actions."""
    out: dict[str, list[Any]] = {k: [] for k in ("mined", "rebroadcast", "dropped", "abandoned",
                                                  "unreachable_chains")}
    for attempt in journal.unresolved_attempts():
        if attempt.broadcast == Broadcast.NEVER:
            journal.mark_attempt(attempt.id, AttemptStatus.ABANDONED,
                                 error="never broadcast (interrupted before sending)")
            out["abandoned"].append(attempt.tx_hash)
            continue
        rpc = rpcs.get(attempt.chain_id)
        if rpc is None:
            if attempt.chain_id not in out["unreachable_chains"]:
                out["unreachable_chains"].append(attempt.chain_id)
            continue
        _settle_attempt(journal, rpc, attempt, out)
    pending = _settle_actions(journal, set(rpcs))
    report = ReconcileReport(**{k: tuple(v) for k, v in out.items()}, pending_actions=tuple(pending))
    journal.record_event("reconcile", report.model_dump(mode="json"))
    log.info("journal reconciled: %d mined, %d rebroadcast, %d dropped, %d abandoned, %d actions in flight",
             len(report.mined), len(report.rebroadcast), len(report.dropped), len(report.abandoned), len(pending))
    return report


def _settle_attempt(journal: JournalStore, rpc: ChainRpc, attempt: AttemptRecord, out: dict[str, list[Any]]) -> None:
    current = journal.attempts(action_id=None, chain_id=attempt.chain_id, sender=attempt.sender,
                               nonce=attempt.nonce)
    if any(a.status.settled_on_chain for a in current):
        journal.mark_attempt(attempt.id, AttemptStatus.REPLACED)
        return
    chain_latest, _ = fetch_nonces(rpc, attempt.sender)
    receipt = fetch_receipt(rpc, attempt.tx_hash)
    if receipt is not None:
        status = AttemptStatus.MINED if int(receipt["status"]) == 1 else AttemptStatus.REVERTED
        journal.mark_attempt(attempt.id, status, block_number=int(receipt["blockNumber"]),
                             gas_used=int(receipt["gasUsed"]),
                             effective_gas_price_wei=int(receipt.get("effectiveGasPrice") or 0))
        journal.mark_broadcast(attempt.id, Broadcast.DEFINITELY)
        out["mined"].append(attempt.tx_hash)
        return
    if chain_latest > attempt.nonce:
        # Another attempt at this nonce may still be unsettled; it is looked at in its own turn.
        siblings = [a for a in current if a.id != attempt.id and a.status == AttemptStatus.PENDING
                    and a.broadcast.in_flight]
        if not any(fetch_receipt(rpc, s.tx_hash) for s in siblings):
            journal.mark_attempt(attempt.id, AttemptStatus.DROPPED, error="nonce used by another transaction")
            out["dropped"].append(attempt.tx_hash)
        return
    try:
        rpc.send_raw_transaction(attempt.raw_tx, what=f"rebroadcast of {attempt.tx_hash}")
        journal.mark_broadcast(attempt.id, Broadcast.DEFINITELY)
    except TxRejected as exc:
        log.info("rebroadcast of %s: %s", attempt.tx_hash, exc.reason)
    except TemporaryError as exc:
        log.warning("rebroadcast of %s failed (%s); it stays in flight", attempt.tx_hash, type(exc).__name__)
        return
    out["rebroadcast"].append(attempt.tx_hash)


def _settle_actions(journal: JournalStore, chain_ids: set[int]) -> list[str]:
    pending: list[str] = []
    for action in journal.open_actions():
        if action.chain_id not in chain_ids:
            pending.append(action.idempotency_key)
            continue
        attempts = journal.attempts(action_id=action.id)
        main = [a for a in attempts if a.purpose in ("main", "cancel") and a.status.settled_on_chain]
        if main:
            last = main[-1]
            ok = last.purpose == "main" and last.status == AttemptStatus.MINED
            journal.set_action_state(
                action.id, ActionState.CONFIRMED if ok else ActionState.FAILED,
                error=None if ok else f"{last.purpose} transaction {last.tx_hash} {last.status}",
                result={"transactions": [a.to_json() for a in attempts],
                        "settled_by": "reconcile"})
            continue
        if any(a.status == AttemptStatus.PENDING and a.broadcast.in_flight for a in attempts):
            pending.append(action.idempotency_key)
        else:
            journal.set_action_state(action.id, ActionState.ABANDONED,
                                     error="interrupted with nothing in flight; safe to execute again")
    return pending
