"""Approval before execution: ``APPROVAL=auto|manual|above:USD``.

A plan that needs approval is journaled as *pending* with an id and an expiry (``APPROVAL_TTL_S``) and nothing
trades. A person decides it (``rebalancer approve ID`` / ``reject ID`` or the dashboard). Plan ids change every
cycle, so a decision is matched to later plans by the plan's *fingerprint* (which trades, on which chains). When
the next cycle re-plans the same trades on fresh prices, it runs only if every action stays within
``APPROVAL_TOLERANCE_BPS`` of what was approved (amount in USD and unit price); otherwise the approval turns
*stale* and a new one is asked for. Rejected plans are not asked again until the rejection's expiry; expired and
rejected approvals never trade. Approval states: pending → approved → executed | stale; pending → rejected;
pending → expired.

A hardware signer still asks for confirmation on the device: approval comes before signing, not instead of it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from agent.errors import ConfigError
from agent.journal.store import JournalStore
from agent.planning.models import Action, Plan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApprovalPolicy:
    mode: str  # auto | manual | above
    above_usd: Decimal | None = None
    ttl_s: float = 3600.0
    tolerance_bps: int = 100

    @classmethod
    def from_settings(cls, settings: Any) -> ApprovalPolicy:
        mode, _, usd = settings.approval.partition(":")
        return cls(mode=mode, above_usd=Decimal(usd) if usd else None, ttl_s=settings.approval_ttl_s,
                   tolerance_bps=settings.approval_tolerance_bps)

    def needs_approval(self, plan: Plan) -> bool:
        if not plan.actions or self.mode == "auto":
            return False
        if self.mode == "above":
            return plan_trade_usd(plan) > (self.above_usd or Decimal(0))
        return True


@dataclass(frozen=True)
class Gate:
    """What the approval step says about one plan: run it now, or not (and why)."""

    proceed: bool
    status: str  # auto | approved | requested | pending | rejected
    reason: str
    approval_id: str | None = None
    expires_at: str | None = None


def plan_trade_usd(plan: Plan) -> Decimal:
    """The USD the plan moves: swaps (and wraps); vault moves only shift stables between wallet and vault."""
    swaps = [a for a in plan.actions if a.kind in ("swap", "wrap")]
    return sum((a.amount_usd for a in swaps), Decimal(0))


def fingerprint(plan: Plan) -> str:
    legs = sorted(f"{a.kind}|{a.chain}|{a.sell}|{a.buy}" for a in plan.actions)
    return hashlib.sha256("\n".join(legs).encode()).hexdigest()[:16]


def action_terms(a: Action) -> dict[str, str]:
    return {"kind": a.kind, "chain": a.chain, "sell": a.sell, "buy": a.buy, "amount_raw": str(a.amount_raw),
            "amount_usd": str(a.amount_usd), "est_cost_usd": str(a.est_cost_usd), "reason": a.reason}


def within_tolerance(approved: list[dict[str, str]], plan: Plan, tolerance_bps: int) -> tuple[bool, str]:
    """Does the re-planned ``plan`` stay within ``tolerance_bps`` of the ``approved`` actions?"""
    tol = Decimal(tolerance_bps) / 10_000
    key = lambda d: (d["kind"], d["chain"], d["sell"], d["buy"])  # noqa: E731
    was = {key(d): d for d in approved}
    now = {key(action_terms(a)): a for a in plan.actions}
    if set(was) != set(now):
        return False, "the plan's trades changed"
    for k, a in now.items():
        old_usd, old_raw = Decimal(was[k]["amount_usd"]), int(was[k]["amount_raw"])
        if old_usd > 0 and abs(a.amount_usd - old_usd) / old_usd > tol:
            return False, (f"{a.sell}>{a.buy} on {a.chain}: ${a.amount_usd:.2f} now vs ${old_usd:.2f} approved "
                           f"(more than {tolerance_bps} bps apart)")
        if old_raw > 0 and a.amount_raw > 0 and old_usd > 0:
            old_price, price = old_usd / old_raw, a.amount_usd / a.amount_raw
            if abs(price - old_price) / old_price > tol:
                return False, f"{a.sell} price moved more than {tolerance_bps} bps since approval"
    return True, "within tolerance"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def expire_due(journal: JournalStore, now: datetime) -> list[str]:
    """Turn pending/approved approvals past their expiry into *expired*; returns their ids."""
    out = []
    for status in ("pending", "approved"):
        for row in journal.approvals(status=status, limit=1000):
            if _at(row["expires_at"]) <= now and journal.transition_approval(
                    row["id"], from_status=status, to_status="expired", by="agent", note=f"expired while {status}"):
                journal.record_event("approval_expired", {"approval_id": row["id"], "plan_id": row["plan_id"]})
                out.append(row["id"])
    return out


def gate_plan(policy: ApprovalPolicy, journal: JournalStore, plan: Plan, *, plan_id: str, cycle_id: int | None,
              now: datetime) -> Gate:
    """Decide whether ``plan`` may run now; journal a new pending approval when it needs one."""
    if not policy.needs_approval(plan):
        return Gate(proceed=True, status="auto", reason="no approval needed")
    expire_due(journal, now)
    fp = fingerprint(plan)
    latest = next(iter(journal.approvals(fingerprint=fp, limit=1)), None)
    if latest is not None:
        status, aid = latest["status"], latest["id"]
        if status == "approved":
            ok, why = within_tolerance(latest["detail"]["actions"], plan, policy.tolerance_bps)
            if ok and journal.transition_approval(aid, from_status="approved", to_status="executed", by="agent",
                                                  note=f"runs as plan {plan_id}"):
                journal.record_event("approval_used", {"approval_id": aid, "plan_id": plan_id}, cycle_id=cycle_id)
                return Gate(proceed=True, status="approved", approval_id=aid,
                            reason=f"approved as {aid}; re-planned on fresh prices within {policy.tolerance_bps} bps")
            if not ok:
                journal.transition_approval(aid, from_status="approved", to_status="stale", by="agent", note=why)
                log.warning("approval %s is stale (%s); asking again", aid, why)
        elif status == "pending":
            return Gate(proceed=False, status="pending", approval_id=aid, expires_at=latest["expires_at"],
                        reason=f"waiting for approval {aid} (expires {latest['expires_at']})")
        elif status == "rejected" and _at(latest["expires_at"]) > now:
            return Gate(proceed=False, status="rejected", approval_id=aid, expires_at=latest["expires_at"],
                        reason=f"rejected as {aid}; not asked again before {latest['expires_at']}")
    return _request(policy, journal, plan, plan_id=plan_id, cycle_id=cycle_id, now=now, fp=fp)


def _request(policy: ApprovalPolicy, journal: JournalStore, plan: Plan, *, plan_id: str, cycle_id: int | None,
             now: datetime, fp: str) -> Gate:
    aid = "ap-" + hashlib.sha256(f"{plan_id}|{now.isoformat()}".encode()).hexdigest()[:8]
    expires = (now + timedelta(seconds=policy.ttl_s)).astimezone(UTC).isoformat(timespec="seconds")
    usd = plan_trade_usd(plan)
    detail = {"actions": [action_terms(a) for a in plan.actions], "reasons": list(plan.reasons)}
    journal.create_approval(approval_id=aid, cycle_id=cycle_id, plan_id=plan_id, fingerprint=fp,
                            total_usd=str(usd), detail=detail, expires_at=expires)
    journal.record_event("approval_requested", {"approval_id": aid, "plan_id": plan_id, "trade_usd": str(usd),
                                                "expires_at": expires}, cycle_id=cycle_id)
    log.info("plan %s waits for approval %s (trades $%.2f, expires %s)", plan_id, aid, usd, expires)
    return Gate(proceed=False, status="requested", approval_id=aid, expires_at=expires,
                reason=f"plan {plan_id} needs approval: run `rebalancer approve {aid}` (or reject it) before {expires}")


def decide(journal: JournalStore, approval_id: str, *, approve: bool, by: str, now: datetime | None = None) -> dict:
    """A person's decision on a pending approval. Raises ConfigError naming the id when it cannot be decided."""
    now = now or datetime.now(UTC)
    row = journal.approval(approval_id)
    if row is None:
        raise ConfigError(f"approval {approval_id!r}: no such approval in the journal; list them with "
                          "`rebalancer approve --list` or on the dashboard")
    expire_due(journal, now)
    row = journal.approval(approval_id) or row
    if row["status"] != "pending":
        raise ConfigError(f"approval {approval_id}: it is {row['status']}, not pending; only a pending plan can be "
                          "decided (the agent asks again on its next cycle)")
    to = "approved" if approve else "rejected"
    if not journal.transition_approval(approval_id, from_status="pending", to_status=to, by=by):
        raise ConfigError(f"approval {approval_id}: decided by someone else meanwhile; see `rebalancer approve --list`")
    journal.record_event("approval_decided", {"approval_id": approval_id, "decision": to, "by": by})
    log.info("approval %s %s by %s", approval_id, to, by)
    return journal.approval(approval_id) or row


__all__ = ["ApprovalPolicy", "Gate", "decide", "expire_due", "fingerprint", "gate_plan", "plan_trade_usd",
           "within_tolerance"]
