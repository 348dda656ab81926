"""`rebalancer run` stopped by SIGTERM while it waits for gas: the action is abandoned with nothing signed, the
rest of the plan is journaled as dropped (to be retried by the next run), the process exits cleanly and nothing
moved on chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.devtools.sandbox.manager import sandbox_down, sandbox_up
from agent.journal.store import JournalStore
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _wait_for_gas_wait(journal_path: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if journal_path.exists():
            with JournalStore.open(journal_path) as j:
                if j.last_event("gas_wait") is not None:
                    return
        time.sleep(0.2)
    raise AssertionError("the agent never started waiting for gas")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_while_waiting_for_gas_abandons_safely(tmp_path: Path, sig: signal.Signals) -> None:
    env = sandbox_up(tmp_path, with_aggregator=False)
    try:
        run_env = {**os.environ, **env, "ENV_FILE": str(tmp_path / "sandbox.env"),
                   "SANDBOX_A_MAX_BASE_FEE_GWEI": "0.000001", "SANDBOX_B_MAX_BASE_FEE_GWEI": "0.000001",
                   "EMERGENCY_BAND_PP": "60", "RUN_INTERVAL_S": "3600"}
        proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--json"], env=run_env, cwd=REPO_ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        journal_path = Path(env["JOURNAL_PATH"])
        _wait_for_gas_wait(journal_path)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + sig, err  # SIGINT 130, SIGTERM 143 (docs/exit-codes.md)
        with JournalStore.open(journal_path) as j:
            summary = j.summary().to_json()
        (cycle,) = summary["cycles"]
        assert cycle["status"] == "dropped"
        # waiting for gas is the cycle's step before an action: stopped there, the action never began
        actions = [a for a in summary["actions"] if a["mode"] == "live"]
        assert all(a["state"] == "abandoned" for a in actions)
        assert all(not a["attempts"] for a in summary["actions"])  # nothing was signed
        assert not summary["open_actions"]
        waits = [e for e in summary["events"] if e["kind"] == "gas_wait"]
        assert waits and all(e["detail"]["plan_id"] for e in waits)
        dropped = [e for e in summary["events"] if e["kind"] == "plan_dropped"]
        assert dropped and dropped[0]["detail"]["disposition"] == "retry"  # the next run plans afresh
        assert '"dropped_because"' in out and "waiting for the base fee" in out
    finally:
        sandbox_down(tmp_path)
