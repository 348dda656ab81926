"""What the agent spent, from the journal (#14 item 8): one ``spend`` event per executed live action.

The cycle records ``spend`` when an action is confirmed (``record_spend``): the trade's USD (swaps; 0 for
wraps and vault moves) and the gas it paid in USD at that cycle's native price. ``spent_since`` sums them
over a window (``MAX_DAILY_USD`` and ``MAX_DAILY_GAS_USD`` read the last 24 hours).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from agent.journal.store import JournalStore

SPEND = "spend"


def record_spend(journal: JournalStore, *, key: str, chain: str, kind: str, trade_usd: Decimal, gas_usd: Decimal,
                 cycle_id: int | None = None) -> None:
    journal.record_event(SPEND, {"key": key, "chain": chain, "kind": kind, "trade_usd": str(trade_usd),
                                 "gas_usd": str(gas_usd)}, cycle_id=cycle_id)


def spent_since(journal: JournalStore, since: datetime) -> tuple[Decimal, Decimal]:
    """(trade USD, gas USD) of the ``spend`` events at or after ``since``."""
    start = since.astimezone(UTC).isoformat(timespec="milliseconds")
    with journal._lock:  # the journal's SQL stays in this package
        rows = journal._conn.execute("SELECT detail FROM events WHERE kind = ? AND created_at >= ?",
                                     (SPEND, start)).fetchall()
    trades, gas = Decimal(0), Decimal(0)
    for (detail,) in rows:
        d = json.loads(detail)
        trades += Decimal(str(d.get("trade_usd", 0)))
        gas += Decimal(str(d.get("gas_usd", 0)))
    return trades, gas
