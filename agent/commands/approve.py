"""``rebalancer approve ID`` / ``reject ID`` (and ``approve --list``): decide a plan waiting for approval.

Needs only the journal (``JOURNAL_PATH`` or ``--path``). The agent runs an approved plan on its next cycle, after
re-planning it on fresh prices (within ``APPROVAL_TOLERANCE_BPS`` of what was approved, else it asks again).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from agent.commands.journal import journal_path
from agent.commands.render import console, print_json
from agent.errors import ConfigError
from agent.journal.store import JournalStore
from agent.operator.approvals import decide, expire_due


def _open(path: Path | None) -> JournalStore:
    file = journal_path(path)
    if not file.exists():
        raise ConfigError(f"JOURNAL_PATH: no journal at {file}; run the agent first or point JOURNAL_PATH at it")
    return JournalStore.open(file)


def _list(store: JournalStore, as_json: bool) -> None:
    from datetime import UTC, datetime

    expire_due(store, datetime.now(UTC))
    rows = store.approvals(limit=50)
    if as_json:
        print_json({"approvals": rows})
        return
    t = Table(title="Approvals (newest first)")
    for col in ("id", "status", "trade $", "expires", "actions"):
        t.add_column(col, overflow="fold")
    for r in rows:
        legs = "; ".join(f"{a['sell']}>{a['buy']}@{a['chain']}" for a in r["detail"]["actions"])
        t.add_row(r["id"], r["status"], f"{float(r['total_usd']):,.0f}", r["expires_at"][:16], legs)
    console.print(t)


def _decide(approval_id: str, approve: bool, path: Path | None, as_json: bool) -> None:
    with _open(path) as store:
        row = decide(store, approval_id, approve=approve, by="cli")
    if as_json:
        print_json(row)
    else:
        usd = float(row["total_usd"])
        console.print(f"approval {row['id']}: {row['status']} (plan {row['plan_id']}, trades ${usd:,.2f})")


def register(app: typer.Typer) -> None:
    @app.command("approve")
    def approve(approval_id: str | None = typer.Argument(None, metavar="ID", help="the approval's id"),
                list_: bool = typer.Option(False, "--list", help="list approvals instead"),
                as_json: bool = typer.Option(False, "--json", help="one JSON document on stdout"),
                path: Path | None = typer.Option(None, "--path", help="journal file (default JOURNAL_PATH)")) -> None:
        """Approve a plan waiting for approval (APPROVAL=manual|above:USD); --list shows them."""
        if list_ or approval_id is None:
            with _open(path) as store:
                _list(store, as_json)
            return
        _decide(approval_id, True, path, as_json)

    @app.command("reject")
    def reject(approval_id: str = typer.Argument(..., metavar="ID", help="the approval's id"),
               as_json: bool = typer.Option(False, "--json", help="one JSON document on stdout"),
               path: Path | None = typer.Option(None, "--path", help="journal file (default JOURNAL_PATH)")) -> None:
        """Reject a plan waiting for approval: it never trades."""
        _decide(approval_id, False, path, as_json)
