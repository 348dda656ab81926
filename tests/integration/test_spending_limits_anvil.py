"""On the sandbox: spending limits and the pause file (#14 item 8): a cut plan says what and why, a pause file
stops every send (also one created in the middle of a plan), and the daily budget reads the journal; quote
sanity (#14 item 10): ETH↔WETH is a wrap/unwrap with no quote source asked, an amount above the balance is
refused with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

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


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    directory = tmp_path_factory.mktemp("sandbox")
    env = sandbox_up(directory, with_aggregator=False)
    try:
        yield directory, {**env, "ENV_FILE": str(directory / "sandbox.env")}
    finally:
        sandbox_down(directory)


class _Counter(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(503)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def counting_api(sandbox: tuple[Path, dict[str, str]]) -> Iterator[tuple[dict[str, str], list[str]]]:
    """A real loopback HTTP server standing in for the 0x API: it counts every request it gets (and fails it)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Counter.seen = []
    try:
        yield ({**sandbox[1], "QUOTE_SOURCES": "onchain,0x", "ZEROX_API_URL": f"http://127.0.0.1:{server.server_port}"},
               _Counter.seen)
    finally:
        server.shutdown()


@pytest.mark.parametrize(("sell", "buy", "kind", "selector"), [("ETH", "WETH", "wrap", "0xd0e30db0"),
                                                             ("WETH", "ETH", "unwrap", "0x2e1a7d4d")])
def test_eth_weth_is_a_wrap_or_unwrap_and_no_source_is_asked(counting_api: tuple[dict[str, str], list[str]],
                                                             sell: str, buy: str, kind: str, selector: str) -> None:
    env, seen = counting_api
    out = _cli(env, "quote", "--chain", "sandbox_a", "--sell", sell, "--buy", buy, "--amount", "0.5", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["wrap"]["kind"] == kind and doc["wrap"]["data"].startswith(selector)
    assert doc["wrap"]["buy_amount_raw"] == str(5 * 10**17) and doc["quotes"] == [] and doc["best"] is None
    assert doc["wrap"]["to"] == doc["buy" if kind == "wrap" else "sell"]["address"]  # the WETH contract itself
    text = _cli(env, "quote", "--chain", "sandbox_a", "--sell", sell, "--buy", buy, "--amount", "0.5")
    assert f"is an {kind}" in text.stdout and "not a swap" in text.stdout
    assert seen == []  # no aggregator was asked
    control = _cli(env, "quote", "--chain", "sandbox_a", "--sell", "WETH", "--buy", "USDC", "--amount", "0.5")
    assert control.returncode == 0 and seen  # the same set-up asks the aggregator for a real swap


def test_an_amount_above_the_balance_is_refused_with_the_reason(
        counting_api: tuple[dict[str, str], list[str]]) -> None:
    env, seen = counting_api
    out = _cli(env, "quote", "--chain", "sandbox_a", "--sell", "WETH", "--buy", "USDC", "--amount", "1000000",
               "--json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert "above the wallet's balance" in doc["refused"] and doc["quotes"] == []
    assert int(doc["balance_raw"]) < 10**24
    assert out.stderr.strip().splitlines()[-1].startswith("error: the amount")
    assert seen == []


def test_limits_cut_the_plan_and_the_pause_file_stops_every_send(tmp_path: Path,
                                                                 sandbox: tuple[Path, dict[str, str]]) -> None:
    _, env = sandbox
    try:
        pause = tmp_path / "pause"
        base = {**env, "PAUSE_FILE": str(pause), "MAX_TRADE_USD": "400"}
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
        said = json.loads(_cli(base, "plan", "--json").stdout)
        assert said["paused"] is True and any("PAUSE_FILE" in r for r in said["reasons"])
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
        pause.unlink(missing_ok=True)
