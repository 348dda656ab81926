"""What the run loop tells the operator after every cycle: the journal's allocation record (the dashboard's drift
history), the metrics, and the notifications (trades, plans awaiting approval, dropped plans, halts, a daily
summary). Fed with the cycle's JSON document (``rebalancer run --json`` prints the same), so it needs nothing of
the cycle's internals; nothing here may raise into the loop.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.journal.store import JournalStore
from agent.operator.metrics import Metrics
from agent.operator.notify import Message, Notifier
from agent.operator.views import ALLOCATION_EVENT

log = logging.getLogger(__name__)
SUMMARY_EVENT = "daily_summary"


def cycle_messages(doc: dict[str, Any]) -> list[Message]:
    out = []
    done = [a for a in doc["actions"] if a["state"] == "confirmed"]
    if done:
        lines = [f"{a['kind']} {a['sell']}→{a['buy']} on {a['chain']}: {a['amount_raw']} raw, "
                 f"{a['state']}" + "".join(f"\n  tx {h}" for h in a["tx_hashes"] if h) for a in done]
        out.append(Message(title=f"rebalancer: {len(done)} trade(s) confirmed (cycle {doc['cycle_id']})",
                           body="\n".join(lines) + f"\nportfolio ${float(doc['total_usd_after']):,.2f}", kind="trade"))
    approval = doc.get("approval") or {}
    if approval.get("status") == "requested":
        aid = approval["approval_id"]
        out.append(Message(title=f"rebalancer: plan awaiting approval {aid}",
                           body=f"{approval['reason']}\napprove: rebalancer approve {aid}\nreject: rebalancer reject "
                                f"{aid}\nor on the dashboard (rebalancer serve) before {approval['expires_at']}",
                           kind="approval"))
    if doc.get("dropped_because"):
        out.append(Message(title=f"rebalancer: plan dropped (cycle {doc['cycle_id']})", body=doc["dropped_because"],
                           kind="dropped"))
    return out


def summary_message(journal: JournalStore, doc: dict[str, Any], since: datetime) -> Message:
    trades = [a for a in journal.summary(limit=200).to_json()["actions"]
              if a["mode"] == "live" and a["state"] == "confirmed" and a["updated_at"] >= since.isoformat()]
    drift = ", ".join(f"{a['symbol']} {float(a['drift_pp']):+.1f} pp" for a in doc["allocation_after"])
    return Message(title="rebalancer: daily summary",
                   body=f"portfolio ${float(doc['total_usd_after']):,.2f}; drift {drift}; "
                        f"{len(trades)} confirmed action(s) in the last 24 h; "
                        f"{len(journal.approvals(status='pending'))} plan(s) awaiting approval", kind="summary")


class Operator:
    """Observer of the run loop; ``on_cycle`` after each cycle, ``on_halt`` when the loop stops on a halt."""

    def __init__(self, journal: JournalStore, *, notifier: Notifier | None = None, metrics: Metrics | None = None,
                 summary_every: timedelta = timedelta(hours=24)) -> None:
        self.journal, self.notifier, self.metrics, self.summary_every = journal, notifier, metrics, summary_every

    def on_cycle(self, doc: dict[str, Any], *, now: datetime | None = None) -> None:
        """Journal, metrics, notifications: each on its own, none may raise into the loop."""
        now = now or datetime.now(UTC)
        for step in (self._journal_allocation, self._metrics, self._notify):
            try:
                step(doc, now)
            except Exception as exc:  # the operator's view must never stop the agent
                log.warning("operator %s failed on cycle %s: %s", step.__name__.strip("_"), doc.get("cycle_id"),
                            type(exc).__name__)

    def _journal_allocation(self, doc: dict[str, Any], _: datetime) -> None:
        self.journal.record_event(ALLOCATION_EVENT, {
            "at": doc["at"], "cycle_id": doc["cycle_id"], "total_usd": str(doc["total_usd_after"]),
            "assets": [{k: str(v) for k, v in a.items()} for a in doc["allocation_after"]]}, cycle_id=doc["cycle_id"])

    def _metrics(self, doc: dict[str, Any], _: datetime) -> None:
        if self.metrics is not None:
            self.metrics.on_cycle(doc, in_flight=len(self.journal.unresolved_attempts()),
                                  pending_approvals=len(self.journal.approvals(status="pending")))

    def _notify(self, doc: dict[str, Any], now: datetime) -> None:
        if self.notifier is None:
            return
        for msg in cycle_messages(doc):
            self.notifier.send(msg)
        last = self.journal.last_event(SUMMARY_EVENT)
        if last is None or datetime.fromisoformat(str(last.detail["at"])) + self.summary_every <= now:
            self.notifier.send(summary_message(self.journal, doc, now - self.summary_every))
            self.journal.record_event(SUMMARY_EVENT, {"at": now.isoformat()})

    def on_halt(self, why: str) -> None:
        if self.metrics is not None:
            self.metrics.on_halt(why)
        if self.notifier is not None:
            self.notifier.send(Message(title="rebalancer: HALTED", body=f"the agent stopped: {why}", kind="halt"))
        self.journal.record_event("halt", {"reason": why})

    def close(self) -> None:
        if self.notifier is not None:
            self.notifier.close()


__all__ = ["Operator", "cycle_messages", "summary_message"]
