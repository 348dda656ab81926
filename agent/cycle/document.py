"""The cycle's JSON document: what ``rebalancer run --json`` prints per cycle and what observers get with
``cycle_end`` (``detail["document"]``): notifications, metrics and the dashboard read it, nothing of the
cycle's internals. Keys are the public contract documented in docs/json.md."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from agent.cycle.report import ActionReport, CycleReport
from agent.jsonable import jsonable
from agent.planning.allocation import compute_allocation


def cycle_document(report: CycleReport, targets: Mapping[str, Decimal]) -> dict[str, Any]:
    before = compute_allocation(report.snapshot_before, targets)
    after = compute_allocation(report.snapshot_after or report.snapshot_before, targets)
    return {
        "cycle_id": report.cycle_id, "at": report.now.isoformat(), "rebalance": report.decision.rebalance,
        "reasons": list(report.decision.reasons), "decision": jsonable(report.decision.explain()),
        "blocked_chains": report.blocked_chains,
        "dropped_because": report.dropped_because,
        "cuts": [c.as_json() for c in report.plan.cuts] if report.plan else [],
        "disposition": str(report.disposition) if report.disposition else None,
        "partial": report.snapshot_before.partial, "unread": report.snapshot_before.unread,
        "approval": None if report.approval is None else {
            "status": report.approval.status, "approval_id": report.approval.approval_id,
            "expires_at": report.approval.expires_at, "reason": report.approval.reason},
        "actions": [action_document(a) for a in report.actions],
        "parking": [{"key": r.idempotency_key, "state": r.state,
                     "tx_hashes": [o.tx_hash for o in r.outcomes if o.tx_hash]} for r in report.parking],
        "allocation_before": [{"symbol": a.symbol, "weight_pct": a.weight_pct, "drift_pp": a.drift_pp}
                              for a in before.assets],
        "allocation_after": [{"symbol": a.symbol, "weight_pct": a.weight_pct, "drift_pp": a.drift_pp,
                              "target_pct": a.target_pct, "usd": a.usd} for a in after.assets],
        "chains": [{"chain": c.chain, "chain_id": c.chain_id, "available": c.available, "block": c.block,
                    "error": c.error} for c in (report.snapshot_after or report.snapshot_before).chains],
        "total_usd_after": after.total_usd,
    }


def action_document(a: ActionReport) -> dict[str, Any]:
    """One executed action: the plan's action fields (as ``plan --json`` has them) and what became of it.

    ``source`` is the quote source that won (``quote_source`` in the cycle's internals; ``simulate`` keeps that
    name as an alias); ``tx_hashes`` are full hashes, a split swap's chunks included."""
    hashes = [o.tx_hash for o in a.result.outcomes if o.tx_hash] if a.result else []
    if a.twap is not None:
        hashes += [h for c in a.twap.chunks for h in c.tx_hashes]
    return {**a.action.as_json(), "key": a.key, "state": a.state, "source": a.quote_source, "error": a.error,
            "gas_paid_wei": a.gas_paid_wei, "tx_hashes": hashes,
            "chunks": None if a.twap is None else {"done": sum(c.state == "confirmed" for c in a.twap.chunks),
                                                   "planned": a.twap.planned_chunks, "status": a.twap.status}}

