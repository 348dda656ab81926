"""``rebalancer journal [--json]`` reads only the journal file."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from agent.commands import journal as journal_cmd
from agent.journal.store import JournalStore


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    journal_cmd.register(app)
    return app


def test_journal_json_lists_decisions_and_actions(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with JournalStore.open(path) as store:
        cycle = store.start_cycle()
        store.record_decision(cycle, rebalance=False, reasons=["inside the band"])
        store.begin_action(key="swap-1", chain_id=31337, chain="sandbox_a", plan_id="p", kind="swap", intent={})
    result = CliRunner().invoke(_app(), ["journal", "--json", "--path", str(path)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["decisions"][0]["reasons"] == ["inside the band"]
    assert doc["actions"][0]["idempotency_key"] == "swap-1" and doc["open_actions"] == ["swap-1"]
    table = CliRunner().invoke(_app(), ["journal", "--path", str(path)])
    assert table.exit_code == 0 and "swap-1" in table.stdout


def test_missing_journal_is_a_config_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["journal", "--path", str(tmp_path / "none.sqlite")])
    assert result.exit_code != 0 and "JOURNAL_PATH" in str(result.exception)
