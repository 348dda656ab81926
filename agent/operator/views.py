"""What the dashboard shows, read from the journal: plain dicts and lists, no HTML.

The run loop journals one ``allocation`` event per cycle (``observer.py``); gas waits, split swaps (TWAP),
approvals, actions and their transaction attempts are journaled by the parts that do them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.journal.store import JournalStore
from agent.operator.approvals import expire_due

ALLOCATION_EVENT = "allocation"
#: block explorers of the public chains, by chain id (a sandbox chain has none: the dashboard's own tx page)
EXPLORERS = {1: "https://etherscan.io", 10: "https://optimistic.etherscan.io", 56: "https://bscscan.com",
             137: "https://polygonscan.com", 8453: "https://basescan.org", 42161: "https://arbiscan.io",
             43114: "https://snowtrace.io", 11155111: "https://sepolia.etherscan.io"}


def explorer_url(chain_id: int, tx_hash: str) -> str:
    base = EXPLORERS.get(int(chain_id))
    return f"{base}/tx/{tx_hash}" if base else f"/tx/{tx_hash}"


def latest_allocation(journal: JournalStore) -> dict[str, Any] | None:
    rows = journal.events(ALLOCATION_EVENT, limit=1)
    return rows[-1] if rows else None


def drift_history(journal: JournalStore, *, limit: int = 500) -> dict[str, list[tuple[str, float]]]:
    """Asset → [(time, drift in pp)] over the journaled cycles, oldest first."""
    out: dict[str, list[tuple[str, float]]] = {}
    for ev in journal.events(ALLOCATION_EVENT, limit=limit):
        for a in ev["detail"].get("assets", []):
            out.setdefault(a["symbol"], []).append((ev["detail"].get("at", ev["created_at"]), float(a["drift_pp"])))
    return out


def value_history(journal: JournalStore, *, limit: int = 500) -> list[tuple[str, float]]:
    return [(ev["detail"].get("at", ev["created_at"]), float(ev["detail"].get("total_usd", 0)))
            for ev in journal.events(ALLOCATION_EVENT, limit=limit)]


def approvals(journal: JournalStore) -> dict[str, list[dict[str, Any]]]:
    expire_due(journal, datetime.now(UTC))
    rows = journal.approvals(limit=50)
    return {"pending": [r for r in rows if r["status"] == "pending"],
            "decided": [r for r in rows if r["status"] != "pending"]}


def trades(journal: JournalStore, *, limit: int = 50) -> list[dict[str, Any]]:
    """Live actions (newest first) with every transaction attempt: full hash and an explorer link."""
    out = []
    for a in journal.summary(limit=limit).to_json()["actions"]:
        if a["mode"] != "live":
            continue
        attempts = [{**t, "explorer": explorer_url(t["chain_id"], t["tx_hash"])} for t in a["attempts"]]
        out.append({"id": a["id"], "key": a["idempotency_key"], "chain": a["chain"], "kind": a["kind"],
                    "state": a["state"], "error": a["error"], "updated_at": a["updated_at"],
                    "sell": (a["intent"] or {}).get("sell_token") or (a["intent"] or {}).get("sell"),
                    "attempts": attempts})
    return out


def gas_waits(journal: JournalStore, *, limit: int = 50) -> list[dict[str, Any]]:
    return [{"at": e["created_at"], **e["detail"]} for e in reversed(journal.events("gas_wait", limit=limit))]


def twap_progress(journal: JournalStore, *, limit: int = 20) -> list[dict[str, Any]]:
    """Each split swap: planned chunks, chunks done, sold so far, status (newest first)."""
    plans = journal.events("twap_plan", limit=limit)
    chunks = journal.events("twap_chunk", limit=2000)
    done = {e["action_id"]: e["detail"] for kind in ("twap_done", "twap_abandoned", "twap_failed", "twap_stopped")
            for e in journal.events(kind, limit=limit)}
    out = []
    for p in reversed(plans):
        mine = [c["detail"] for c in chunks if c["action_id"] == p["action_id"]]
        confirmed = [c for c in mine if c.get("state") == "confirmed"]
        fin = done.get(p["action_id"])
        out.append({"key": p["detail"]["key"], "planned": int(p["detail"]["n"]), "done": len(confirmed),
                    "sold_raw": str(sum(int(c.get("sell_raw", 0)) for c in confirmed)),
                    "status": fin["status"] if fin else "running", "reason": p["detail"].get("reason", ""),
                    "at": p["created_at"]})
    return out


def journal_view(journal: JournalStore, *, limit: int = 30) -> dict[str, Any]:
    s = journal.summary(limit=limit).to_json()
    return {"cycles": s["cycles"], "decisions": s["decisions"], "events": s["events"],
            "open_actions": s["open_actions"], "path": s["journal"]}


def attempt_by_hash(journal: JournalStore, tx_hash: str) -> dict[str, Any] | None:
    for t in journal.attempts():
        if t.tx_hash.lower() == tx_hash.lower():
            return t.to_json()
    return None
