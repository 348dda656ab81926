"""End to end on the sandbox: an off-target wallet → `run --once` → within band, journal complete;
`run --once --dry-run` changes nothing on chain; `plan --json` has the public keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from agent.devtools.sandbox.manager import sandbox_down, sandbox_up
from agent.devtools.sandbox.spec import WALLET
from agent.journal.store import JournalStore
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = sandbox_up(tmp_path)
    try:
        yield {**env, "SANDBOX_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "sandbox.env")}
    finally:
        sandbox_down(tmp_path)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env={**os.environ, **env}, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def status(env: dict[str, str]) -> dict:
    out = cli(env, "status", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def nonces(env: dict[str, str]) -> dict[str, int]:
    out = {}
    for chain in ("sandbox_a", "sandbox_b"):
        w3 = Web3(Web3.HTTPProvider(env[f"{chain.upper()}_RPC_URL"]))
        out[chain] = w3.eth.get_transaction_count(WALLET)
    return out


def balances(doc: dict) -> dict[tuple[str, str], str]:
    return {(h["chain"], h["symbol"]): h["balance_raw"] for h in doc["holdings"]}


def test_plan_json_has_the_public_keys(sandbox: dict[str, str]) -> None:
    out = cli(sandbox, "plan", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["rebalance"] is True and doc["reasons"]
    assert doc["actions"]
    for a in doc["actions"]:
        assert {"kind", "chain", "sell", "buy", "amount_raw", "reason", "est_cost_usd"} <= set(a)
        assert int(a["amount_raw"]) > 0


def test_dry_run_changes_nothing_then_run_reaches_the_band(sandbox: dict[str, str]) -> None:
    before = status(sandbox)
    nonces_before = nonces(sandbox)
    assert max(abs(a["drift_pp"]) for a in before["assets"]) > 20

    dry = cli(sandbox, "run", "--once", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    dry_doc = json.loads(dry.stdout)
    assert dry_doc["actions"] and all(a["state"] in ("dry_run", "quoted") for a in dry_doc["actions"])
    after_dry = status(sandbox)
    assert balances(after_dry) == balances(before)  # nothing moved on chain
    assert nonces(sandbox) == nonces_before  # the wallet sent no transaction

    live = cli(sandbox, "run", "--once", "--json")
    assert live.returncode == 0, live.stderr
    doc = json.loads(live.stdout)
    assert doc["dropped_because"] is None, doc
    assert doc["actions"] and all(a["state"] == "confirmed" for a in doc["actions"])
    after = status(sandbox)
    for a in after["assets"]:
        assert abs(a["drift_pp"]) < 5, a  # within the 5 pp band
    assert after["total_usd"] > before["total_usd"] * 0.98  # costs were small

    # the journal has the cycle, the decision with reasons, and every action with its mined transaction
    with JournalStore.open(Path(sandbox["SANDBOX_DIR"]) / "journal.sqlite") as j:
        summary = j.summary().to_json()
    live_actions = [a for a in summary["actions"] if a["mode"] == "live"]
    assert len(live_actions) >= len(doc["actions"])  # a split swap adds a journaled action per chunk
    for a in live_actions:
        assert a["state"] == "confirmed", a
        if a["kind"] != "twap":  # a split swap's parent only plans; its chunks carry the transactions
            assert any(t["status"] == "mined" and t["purpose"] == "main" for t in a["attempts"]), a
    assert any(d["rebalance"] and d["reasons"] for d in summary["decisions"])
    assert not summary["open_actions"]

    # a second run finds the portfolio in band and does nothing
    again = json.loads(cli(sandbox, "run", "--once", "--json").stdout)
    assert again["rebalance"] is False and not again["actions"]
