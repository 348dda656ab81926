"""Spending limits and the pause file on the sandbox (#14 item 8): a cut plan says what and why, a pause file
stops every send (also one created in the middle of a plan), and the daily budget reads the journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from agent.config.settings import load_config
from agent.cycle.events import CycleEvent, CycleEventKind
from agent.cycle.loop import run_cycle
from agent.devtools.sandbox.manager import sandbox_down, sandbox_up
from agent.devtools.sandbox.spec import WALLET
from agent.journal.spending import spent_since
from agent.journal.store import JournalStore
from agent.signers.dev import dev_account_key
from agent.signers.local import LocalKeySigner
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env={**os.environ, **env}, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def _nonces(env: dict[str, str]) -> dict[str, int]:
    return {c: Web3(Web3.HTTPProvider(env[f"{c.upper()}_RPC_URL"])).eth.get_transaction_count(WALLET)
            for c in ("sandbox_a", "sandbox_b")}


class PauseAfterFirstSwap:
    """Creates the pause file once the plan's first swap is done (a person pausing mid-plan)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_event(self, event: CycleEvent) -> None:
        if event.kind == CycleEventKind.TRADE and event.detail["kind"] == "swap":
            self.path.touch()


def test_limits_cut_the_plan_and_the_pause_file_stops_every_send(tmp_path: Path) -> None:
    env = sandbox_up(tmp_path / "sandbox", with_aggregator=False)
    try:
        pause = tmp_path / "pause"
        base = {**env, "ENV_FILE": str(tmp_path / "sandbox" / "sandbox.env"), "PAUSE_FILE": str(pause),
                "MAX_TRADE_USD": "400"}
        # plan: every trade within MAX_TRADE_USD, and the cut says what and why
        out = _cli(base, "plan", "--json")
        assert out.returncode == 0, out.stderr
        doc: dict[str, Any] = json.loads(out.stdout)
        swaps = [a for a in doc["actions"] if a["kind"] == "swap"]
        assert swaps and all(a["amount_usd"] <= 400 for a in swaps)
        assert doc["cuts"] and {c["limit"] for c in doc["cuts"]} == {"MAX_TRADE_USD"}
        assert all(c["to_usd"] < c["from_usd"] and "MAX_TRADE_USD=400" in c["why"] for c in doc["cuts"])
        text = _cli(base, "plan")
        assert "cut by MAX_TRADE_USD" in text.stdout and "why:" in text.stdout

        # the pause file exists: `run --once` sends nothing, says why and exits non-zero (its plan was deferred)
        pause.touch()
        before = _nonces(env)
        paused = _cli(base, "run", "--once", "--json")
        assert paused.returncode == 1, paused.stderr
        assert "PAUSE_FILE" in json.loads(paused.stdout)["dropped_because"]
        assert _nonces(env) == before
        pause.unlink()

        # paused in the middle of a plan: the first swap (and a wrap before it) runs, nothing after it is sent
        config = load_config({**os.environ, **base})
        signer = LocalKeySigner.from_key(dev_account_key(0))
        with JournalStore.open(config.settings.journal_path) as journal:
            report = run_cycle(config, now=datetime.now(UTC), journal=journal, signer=signer,
                               observers=[PauseAfterFirstSwap(pause)])
            assert report.plan is not None and len(report.plan.actions) > len(report.actions)
            assert [a.state for a in report.actions] == ["confirmed"] * len(report.actions)
            assert [a.action.kind for a in report.actions][-1] == "swap"
            assert sum(a.action.kind == "swap" for a in report.actions) == 1
            assert report.dropped_because and "PAUSE_FILE" in report.dropped_because
            traded, gas = spent_since(journal, datetime(2000, 1, 1, tzinfo=UTC))
            assert gas > 0 and 0 < traded <= Decimal(400)
        after_one = _nonces(env)
        assert sum(after_one.values()) - sum(before.values()) >= 1
        pause.unlink()

        # the daily budget is what the journal says was traded: a budget of exactly that leaves nothing to trade
        budget = {**base, "MAX_DAILY_USD": str(traded)}
        spent = json.loads(_cli(budget, "plan", "--json").stdout)
        assert spent["actions"] == [] and spent["rebalance"] is False
        assert {c["limit"] for c in spent["cuts"]} == {"MAX_DAILY_USD"}
        assert all(c["to_usd"] == 0 for c in spent["cuts"])
        assert _nonces(env) == after_one
    finally:
        sandbox_down(tmp_path / "sandbox")
