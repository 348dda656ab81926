"""Start-up reconciliation: settle every journaled attempt whose outcome is unknown.

For each unresolved attempt: ``never`` broadcast → ``abandoned`` (nothing left the process). Otherwise
its receipt is looked up; if mined it is recorded (and its siblings at the same nonce marked
``replaced``); if the chain's nonce already moved past it without any of our attempts being mined it is
``dropped``; else it is looked up by hash and its exact raw bytes are rebroadcast (never re-signed, never
re-planned; ``agent.execution.maybe``): given up only when the node refuses those bytes and does not know the
hash. Receipts of what is still in flight are then waited for a little (``wait_s``). Then each
pending action is settled: its main transaction mined → ``confirmed``/``failed``; nothing in flight
→ ``abandoned`` (the same key may be executed again); something in flight → stays ``pending``, and the
planner must leave it alone (``JournalStore.open_actions``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.chain.reads import fetch_nonces, fetch_receipt
from agent.chain.rpc import ChainRpc
from agent.errors import TemporaryError
from agent.execution.maybe import Lookup, look_up
from agent.journal.records import ActionState, AttemptRecord, AttemptStatus, Broadcast
from agent.journal.store import JournalStore

log = logging.getLogger(__name__)


class ReconcileReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mined: tuple[str, ...] = ()
    rebroadcast: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    abandoned: tuple[str, ...] = ()
    #: "maybe" attempts the node proved it never had (it refused the same bytes again): given up
    unknown: tuple[str, ...] = ()
    unreachable_chains: tuple[int, ...] = ()
    #: idempotency keys of actions still in flight after reconciling
    pending_actions: tuple[str, ...] = ()


def reconcile(journal: JournalStore, rpcs: Mapping[int, ChainRpc], *, wait_s: float = 0.0,
              poll_s: float = 0.25, sleep: Callable[[float], None] = time.sleep,
              clock: Callable[[], float] = time.monotonic) -> ReconcileReport:
    """Settle unresolved attempts on every chain in ``rpcs`` (chain id → RPC), then pending actions.

    ``wait_s``: how long to wait for the receipts of attempts still in flight (a crash just before or after a
    broadcast is then settled within the cycle that restarts, instead of blocking its chain until the next)."""
    out: dict[str, list[Any]] = {k: [] for k in ("mined", "rebroadcast", "dropped", "abandoned", "unknown",
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
    _wait_for_receipts(journal, rpcs, out, deadline=clock() + wait_s, poll_s=poll_s, sleep=sleep, clock=clock)
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
        _record_mined(journal, attempt, receipt)
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
    found = look_up(journal, rpc, attempt)  # by hash, then the same signed bytes again
    if found == Lookup.UNKNOWN:
        out["unknown"].append(attempt.tx_hash)
    elif found == Lookup.KNOWN:
        out["rebroadcast"].append(attempt.tx_hash)


def _wait_for_receipts(journal: JournalStore, rpcs: Mapping[int, ChainRpc], out: dict[str, list[Any]], *,
                       deadline: float, poll_s: float, sleep: Callable[[float], None],
                       clock: Callable[[], float]) -> None:
    """Poll the receipts of the attempts still in flight until they are mined or ``deadline`` passes."""
    def in_flight() -> list[AttemptRecord]:
        return [a for a in journal.unresolved_attempts() if a.chain_id in rpcs and a.broadcast.in_flight]

    waiting = in_flight()
    while waiting:
        for attempt in waiting:
            try:
                receipt = fetch_receipt(rpcs[attempt.chain_id], attempt.tx_hash)
            except TemporaryError:
                continue
            if receipt is not None:
                _record_mined(journal, attempt, receipt)
                out["mined"].append(attempt.tx_hash)
        waiting = in_flight()
        if not waiting or clock() >= deadline:
            return
        sleep(poll_s)


def _record_mined(journal: JournalStore, attempt: AttemptRecord, receipt: dict[str, Any]) -> None:
    status = AttemptStatus.MINED if int(receipt["status"]) == 1 else AttemptStatus.REVERTED
    journal.mark_attempt(attempt.id, status, block_number=int(receipt["blockNumber"]),
                         gas_used=int(receipt["gasUsed"]),
                         effective_gas_price_wei=int(receipt.get("effectiveGasPrice") or 0))
    journal.mark_broadcast(attempt.id, Broadcast.DEFINITELY)
    for other in journal.attempts(chain_id=attempt.chain_id, sender=attempt.sender, nonce=attempt.nonce):
        if other.id != attempt.id and other.status == AttemptStatus.PENDING:
            journal.mark_attempt(other.id, AttemptStatus.REPLACED)


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
