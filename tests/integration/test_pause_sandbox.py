"""On the sandbox: a stress pause blocks every send (no nonce moves) and says why and when it resumes in plan, status,
run and the journal; the correlation monitor journals its alert; once the trigger is gone the agent trades again."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from agent.devtools.sandbox.manager import sandbox_down, sandbox_up
from agent.journal.prices import PriceHistory, PricePoint, history_path_for
from agent.journal.store import JournalStore
from tests.integration.test_agent_loop import cli, nonces, status

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
WINDOW_S = 40  # PAUSE_CRASH_HOURS as seconds: short, so the trigger leaves the window within the test


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = sandbox_up(tmp_path)
    try:
        yield {**env, "SANDBOX_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "sandbox.env"),
               "PAUSE_CRASH_PCT": "20", "PAUSE_CRASH_HOURS": str(WINDOW_S / 3600), "CORRELATION_ALERT": "0.9"}
    finally:
        sandbox_down(tmp_path)


def _seed(journal: Path, eth_usd: float, btc_usd: float) -> datetime:
    """30 days of daily closes in which ETH and WBTC move as one (correlation 1), and a reading seconds ago with
    ETH 60 % above the pools' price: the pools now show a 37.5 % crash inside the pause window."""
    now = datetime.now(UTC)
    points = []
    for day in range(30, 0, -1):
        move = 1 + (0.03 if day % 2 else -0.025) * (1 + day % 5) / 3
        at = now - timedelta(days=day)
        points += [PricePoint("ETH", at, Decimal(repr(eth_usd * move)), "feed"),
                   PricePoint("WBTC", at, Decimal(repr(btc_usd * move)), "feed")]
    points.append(PricePoint("ETH", now - timedelta(seconds=2), Decimal(repr(eth_usd * 1.6)), "feed"))
    with PriceHistory.open(history_path_for(journal)) as store:
        store.record(points)
    return now


def test_the_pause_blocks_sends_then_the_agent_resumes(sandbox: dict[str, str]) -> None:
    journal = Path(sandbox["SANDBOX_DIR"]) / "journal.sqlite"
    before = status(sandbox)
    prices = {h["asset"]: h["price_usd"] for h in before["holdings"] if h["price_usd"]}
    seeded = _seed(journal, prices["ETH"], prices["WBTC"])
    sent = nonces(sandbox)

    plan = json.loads(cli(sandbox, "plan", "--json").stdout)
    assert plan["rebalance"] is False and plan["actions"] == []
    assert plan["decision"]["rule"] == "stress_pause" and plan["decision"]["pause"]["trigger"] == "crash"
    assert "resumes when" in " ".join(plan["reasons"])
    paused_status = status(sandbox)
    assert paused_status["pause"]["trigger"] == "crash" and paused_status["pause"]["resume_when"]
    assert paused_status["correlation"]["above"] is True and paused_status["correlation"]["threshold"] == 0.9

    run = cli(sandbox, "run", "--once", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["rebalance"] is False and doc["actions"] == [] and doc["decision"]["pause"]["trigger"] == "crash"
    assert "rule: stress_pause" in cli(sandbox, "journal").stdout
    assert nonces(sandbox) == sent  # nothing was sent while paused
    with JournalStore.open(journal) as j:
        summary = j.summary().to_json()
    [decision] = [d for d in summary["decisions"] if d["cycle_id"] == doc["cycle_id"]]
    assert decision["detail"]["decision"]["pause"]["trigger"] == "crash"
    alerts = [e for e in summary["events"] if e["kind"] == "correlation_alert"]
    assert [a["detail"]["state"] for a in alerts] == ["above"] and alerts[0]["detail"]["average"] >= 0.9

    time.sleep(max(0.0, WINDOW_S + 2 - (datetime.now(UTC) - seeded).total_seconds()))
    resumed = json.loads(cli(sandbox, "run", "--once", "--json").stdout)
    assert resumed["decision"]["pause"] is None and resumed["rebalance"] is True
    assert resumed["actions"] and all(a["state"] == "confirmed" for a in resumed["actions"])
    assert sum(nonces(sandbox).values()) > sum(sent.values())
