"""``rebalancer prices backfill``: the CLI fills the price history beside the journal from a CoinGecko-shaped server
over real HTTP, the key never shows, a bad setting is one line; and a live decision on that history sees only what was
known at its ``now``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from agent.config.settings import load_config
from agent.cycle.steps import decide
from agent.devtools.pricefeed import PriceFeedServer
from agent.journal.prices import PriceHistory, history_path_for
from agent.journal.store import JournalStore
from tests.unit.portfolio_factory import snapshot

T0 = datetime(2024, 1, 1, tzinfo=UTC)
CALM = [(T0 + timedelta(days=i), 2000.0 * (1.001 if i % 2 else 0.999)) for i in range(60)]
#: ETH falls 30 % on day 60 .. 61: a crash the pause must see only once ``now`` has passed it
CRASH = [*CALM, (T0 + timedelta(days=60), 1700.0), (T0 + timedelta(days=61), 1400.0)]
BTC = [(t, 40000.0 * (1.002 if i % 3 else 0.998)) for i, (t, _) in enumerate(CRASH)]
USDC = [(t, 1.0) for t, _ in CRASH]
SERIES = {"ethereum": CRASH, "wrapped-bitcoin": BTC, "usd-coin": USDC}


def _cli(journal: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    empty = journal.parent / "empty.env"  # no .env of the checkout leaks in
    empty.touch()
    full = {**os.environ, "JOURNAL_PATH": str(journal), "TARGETS": "ETH:40,WBTC:30,USDC:30",
            "ENV_FILE": str(empty), **env}
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=full, capture_output=True, text=True,
                          timeout=60, check=False)


def test_backfill_fills_the_store_and_keeps_the_key_out_of_every_output(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    with PriceFeedServer(SERIES) as server:
        out = _cli(journal, "prices", "backfill", "--days", "90", "--json", PRICE_FEED_URL=server.url,
                   PRICE_FEED_API_KEY="CG-topsecret-42")
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        assert [(r["symbol"], r["written"]) for r in doc["symbols"]] == [("ETH", 62), ("WBTC", 62), ("USDC", 62)]
        assert "topsecret" not in out.stdout + out.stderr
        assert {r["headers"].get("x-cg-demo-api-key") for r in server.seen} == {"CG-topsecret-42"}
        again = _cli(journal, "prices", "backfill", "--days", "90", "--json", PRICE_FEED_URL=server.url)
        assert [r["written"] for r in json.loads(again.stdout)["symbols"]] == [0, 0, 0]  # idempotent
    with PriceHistory.open(history_path_for(journal)) as store:
        assert store.coverage("ETH")["rows"] == 62
    shown = json.loads(_cli(journal, "prices", "show", "--json").stdout)
    assert [r["rows"] for r in json.loads(_cli(journal, "prices", "show", "--symbols", "LINK", "--json").stdout)[
        "symbols"]] == [0]
    assert [r["rows"] for r in shown["symbols"]] == [62, 62, 62]


def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    out = _cli(tmp_path / "j.sqlite", "prices", "backfill", PRICE_FEED_IDS="PEPE")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].startswith("error: PRICE_FEED_IDS:")
    dead = _cli(tmp_path / "j.sqlite", "prices", "backfill", "--symbols", "ETH", PRICE_FEED_URL="http://127.0.0.1:9")
    assert dead.returncode == 1 and "price feed" in dead.stderr


def test_the_live_decision_sees_the_backfilled_crash_only_after_it_happened(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    with PriceFeedServer(SERIES) as server:
        assert _cli(journal, "prices", "backfill", "--days", "90", PRICE_FEED_URL=server.url).returncode == 0
    env = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": "http://127.0.0.1:9", "TARGETS": "ETH:40,WBTC:30,USDC:30",
           "PAUSE_CRASH_PCT": "20", "PAUSE_CRASH_HOURS": "72"}
    cfg = load_config(env, env_file=Path("/nonexistent"))
    snap = snapshot({"ETH": Decimal(1), "WBTC": Decimal("0.1"), "USDC": Decimal(90_000)})  # far off target
    with JournalStore.open(journal) as store:
        before = decide(cfg, snap, store, T0 + timedelta(days=59, hours=12), record_prices=False)
        after = decide(cfg, snap, store, T0 + timedelta(days=61, hours=1), record_prices=False)
    assert before.rebalance and before.pause is None  # the crash of days 60-61 is not known yet
    assert not after.rebalance and after.pause is not None and after.pause.trigger == "crash"
    assert after.explain()["rule"] == "stress_pause"
