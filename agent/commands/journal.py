"""``rebalancer journal [--json]``: cycles, decisions, actions and their transaction attempts.

Needs only ``JOURNAL_PATH`` (or ``--path``), not the chain settings, so it works when RPCs are down.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.commands.plan import rule_line
from agent.commands.render import Table, console, print_json
from agent.errors import ConfigError

if TYPE_CHECKING:
    from agent.journal.store import JournalSummary


def journal_path(path: Path | None) -> Path:
    """``--path``, else JOURNAL_PATH, else the per-user default; absolute, and refused when it is not a journal."""
    from agent.config.environment import check_journal_path, default_journal_path, read_environment

    if path is not None:
        return check_journal_path(path, name="--path")
    env = read_environment()
    return check_journal_path(Path(env.get("JOURNAL_PATH") or str(default_journal_path())))


def _render(summary: JournalSummary) -> None:
    cycles = Table(title=f"Cycles — {summary.path}")
    for col in ("id", "started", "mode", "status", "note"):
        cycles.add_column(col)
    for c in summary.cycles:
        cycles.add_row(str(c.id), c.started_at, c.mode, c.status, c.note)
    console.print(cycles)
    decisions = Table(title="Decisions")
    for col in ("id", "cycle", "plan", "rebalance", "reasons"):
        decisions.add_column(col)
    for d in summary.decisions:
        explained = d.detail.get("decision")
        line = rule_line(explained if isinstance(explained, dict) else None)
        decisions.add_row(str(d.id), str(d.cycle_id), d.plan_id or "—", "yes" if d.rebalance else "no",
                          "; ".join([*([line] if line else []), *d.reasons]))
    console.print(decisions)
    actions = Table(title="Actions and transactions")
    for col in ("id", "key", "chain", "kind", "state", "transactions", "error"):
        actions.add_column(col)
    for a, attempts in summary.actions:
        txs = "\n".join(f"{t.purpose} n{t.nonce} {t.tx_hash[:12]}… {t.broadcast}/{t.status}" for t in attempts) or "—"
        actions.add_row(str(a.id), a.idempotency_key, a.chain, a.kind, a.state, txs, a.error or "")
    console.print(actions)
    if summary.events:
        events = Table(title="Events")
        for col in ("time", "kind", "detail"):
            events.add_column(col)
        for e in summary.events:
            events.add_row(e.created_at, e.kind, str(e.detail)[:100])
        console.print(events)


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
            summary = store.summary(limit=limit)
        if as_json:
            print_json(summary.to_json())
        else:
            _render(summary)
