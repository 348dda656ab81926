"""The command line starts light: building the app and `--help` import no web3 (nor the rest of the agent).

Not timed (a timing assertion on a shared machine would be flaky): `rebalancer bench startup --json` measures.
What is checked here is the cause of a slow start — heavy libraries imported before a command runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from agent.devtools.bench.startup import HEAVY

CLI = [str(Path(sys.executable).parent / "rebalancer")]
COMMANDS = ("status", "quote", "journal", "plan", "run", "backtest", "approve", "reject", "serve", "bench", "demo",
            "simulate", "sandbox")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, env={"COLUMNS": "100",
                          "PATH": "/usr/bin:/bin"})


def test_building_the_app_imports_no_heavy_library() -> None:
    proc = _python(
        "import sys, json, typer, agent.cli\n"
        "agent.cli._register_commands()\n"
        "group = typer.main.get_command(agent.cli.app)\n"
        "print(json.dumps({'commands': sorted(group.commands), "
        "'heavy': sorted(m for m in sys.modules if m.split('.')[0] in " + repr(HEAVY) + ")}))")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(COMMANDS) <= set(doc["commands"])  # the devtools plugins registered through their entry points
    assert doc["heavy"] == []


def test_help_imports_no_heavy_library() -> None:
    proc = _python(
        "import sys, json\n"
        "sys.argv = ['rebalancer', '--help']\n"
        "from agent.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print(json.dumps({'code': code, 'heavy': sorted({m.split('.')[0] for m in sys.modules} & set("
        + repr(HEAVY) + "))}), file=sys.stderr)")
    doc = json.loads(proc.stderr.strip().splitlines()[-1])
    assert doc == {"code": 0, "heavy": []}
    assert "Usage: rebalancer" in proc.stdout and "sandbox" in proc.stdout


def test_version_comes_from_the_package_metadata() -> None:
    proc = _cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"rebalancer {version('rebalancer')}"


def test_h_is_help_everywhere() -> None:
    assert _cli("-h").stdout == _cli("--help").stdout != ""
    assert _cli("sandbox", "-h").stdout == _cli("sandbox", "--help").stdout
    assert "Usage: rebalancer sandbox" in _cli("sandbox", "-h").stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_still_registers_its_options(command: str) -> None:
    proc = _cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert f"Usage: rebalancer {command}" in proc.stdout


def test_backtest_help_names_every_known_strategy() -> None:
    from agent.commands.backtest import STRATEGY_NAMES
    from strategies import KNOWN

    assert STRATEGY_NAMES == KNOWN
    out = _cli("backtest", "--help").stdout
    assert all(name in out for name in KNOWN)


def test_a_command_imports_what_it_needs_when_it_runs(tmp_path: Path) -> None:
    from agent.journal.store import JournalStore

    path = tmp_path / "journal.sqlite"
    JournalStore.open(path).close()
    proc = _cli("journal", "--path", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["cycles"] == [] and doc["actions"] == []
    missing = _cli("journal", "--path", str(tmp_path / "missing.sqlite"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"error: JOURNAL_PATH: no journal at {tmp_path / 'missing.sqlite'}; run the agent first or point "
        "JOURNAL_PATH at it"]
