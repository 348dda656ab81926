"""``rebalancer journal [--json]``: cycles, decisions, actions and their transaction attempts.

Needs only ``JOURNAL_PATH`` (or ``--path``), not the chain settings, so it works when RPCs are down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from agent.commands.plan import rule_line
from agent.commands.render import Table, console, line, notes, print_json, short_ts
from agent.errors import ConfigError


def journal_path(path: Path | None) -> Path:
    """``--path``, else JOURNAL_PATH, else the per-user default; absolute, and refused when it is not a journal."""
    from agent.config.environment import check_journal_path, default_journal_path, read_environment

    if path is not None:
        return check_journal_path(path, name="--path")
    env = read_environment()
    return check_journal_path(Path(env.get("JOURNAL_PATH") or str(default_journal_path())))


def _render(doc: dict[str, Any]) -> None:
    """The journal at 80 columns: compact tables; reasons, transactions (full hashes), errors and event details
    on lines of their own under each table."""
    notes([f"journal {doc['journal']}"], indent="")
    cycles = Table(title="Cycles")
    for col in ("id", "started", "mode", "status", "note"):
        cycles.add_column(col)
    for c in doc["cycles"]:
        cycles.add_row(str(c["id"]), short_ts(c["started_at"]), c["mode"], c["status"], c["note"])
    console.print(cycles)
    decisions = Table(title="Decisions")
    for col in ("id", "cycle", "plan", "rebalance"):
        decisions.add_column(col)
    for d in doc["decisions"]:
        decisions.add_row(str(d["id"]), str(d["cycle_id"]), d["plan_id"] or "—", "yes" if d["rebalance"] else "no")
    console.print(decisions)
    notes(f"{d['id']}: {r}" for d in doc["decisions"] for r in _decision_lines(d))
    actions = Table(title="Actions")
    for col in ("id", "chain", "kind", "state", "txs"):
        actions.add_column(col)
    for a in doc["actions"]:
        actions.add_row(str(a["id"]), a["chain"], a["kind"], a["state"], str(len(a["attempts"])))
    console.print(actions)
    for a in doc["actions"]:
        notes([f"{a['id']}: {a['idempotency_key']}"] + ([f"   error: {a['error']}"] if a["error"] else []))
        for t in a["attempts"]:
            line(f"     {t['purpose']} n{t['nonce']} {t['broadcast']}/{t['status']}")
            line(f"     {t['tx_hash']}")
    if doc["events"]:
        events = Table(title="Events")
        for col in ("id", "time", "kind"):
            events.add_column(col)
        for e in doc["events"]:
            events.add_row(str(e["id"]), short_ts(e["created_at"]), e["kind"])
        console.print(events)
        notes(f"{e['id']}: {_detail(e['detail'])}" for e in doc["events"])


def _decision_lines(d: dict[str, Any]) -> list[str]:
    """A decision's rule line (which rule decided, on which figures) and then its reasons."""
    explained = (d.get("detail") or {}).get("decision")
    rule = rule_line(explained if isinstance(explained, dict) else None)
    return [*([rule] if rule else []), *d["reasons"]]


def _detail(detail: object) -> str:
    """An event's detail as ``key=value`` pairs (the whole document is in --json)."""
    if not isinstance(detail, dict):
        return str(detail)
    return ", ".join(f"{k}={v}" for k, v in detail.items() if not isinstance(v, dict | list))


def register(app: typer.Typer) -> None:
    @app.command("journal")
    def journal(as_json: bool = typer.Option(False, "--json", help="one JSON document on stdout"),
                limit: int = typer.Option(20, "--limit", min=1, help="rows per section, newest first"),
                path: Path | None = typer.Option(None, "--path", help="journal file (default JOURNAL_PATH)")) -> None:
        """Decisions and trades recorded in the journal."""
        file = journal_path(path)
        if not file.exists():
            raise ConfigError(f"JOURNAL_PATH: no journal at {file}; run the agent first or point JOURNAL_PATH at it")
        from agent.journal.store import JournalStore

        with JournalStore.open(file) as store:
            doc: dict[str, Any] = dict(store.summary(limit=limit).to_json())
        for action in doc["actions"]:  # the same name as run's and simulate's actions (docs/json.md)
            action["key"] = action["idempotency_key"]
        if as_json:
            print_json(doc)
        else:
            _render(doc)
