"""The decide step records the prices it read beside the journal and hands the strategy that history up to now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from agent.config.settings import load_config
from agent.cycle.steps import asset_prices, decide
from agent.journal.prices import PriceHistory, history_path_for
from agent.journal.store import JournalStore
from tests.unit.portfolio_factory import PRICES, snapshot

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def config(**extra: str):  # type: ignore[no-untyped-def]
    env = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": "http://127.0.0.1:9", "TARGETS": "ETH:40,WBTC:30,USDC:30",
           "STRATEGY": "vol_bands", **extra}
    return load_config(env, env_file=Path("/nonexistent"))


def test_prices_are_recorded_per_asset_and_the_strategy_reads_them(tmp_path: Path) -> None:
    cfg = config()
    snap = snapshot({"ETH": Decimal(10), "WBTC": Decimal("0.5"), "USDC": Decimal(30_000)})
    assert asset_prices(cfg, snap)["ETH"] == PRICES["WETH"]
    with JournalStore.open(tmp_path / "j.sqlite") as journal:
        for day in range(25):
            decision = decide(cfg, snap, journal, T0 + timedelta(days=day))
        # a flat price path: 25 readings, volatility zero -> the base bands apply, and the decision says why
        assert decision.rule == "vol_bands"
        with PriceHistory.open(history_path_for(journal.path)) as store:
            seen = store.history(["ETH", "WBTC"], until=T0 + timedelta(days=24))
        assert [len(seen["ETH"]), len(seen["WBTC"])] == [25, 25]


def test_plan_reads_the_history_but_records_nothing(tmp_path: Path) -> None:
    cfg = config()
    snap = snapshot({"ETH": Decimal(10), "USDC": Decimal(30_000)})
    with JournalStore.open(tmp_path / "j.sqlite") as journal:
        decide(cfg, snap, journal, T0, record_prices=False)
        with PriceHistory.open(history_path_for(journal.path)) as store:
            assert store.history(["ETH"], until=T0)["ETH"] == []


def test_a_crash_in_the_recorded_history_pauses_the_live_decision(tmp_path: Path) -> None:
    cfg = config(STRATEGY="threshold", PAUSE_CRASH_PCT="15", PAUSE_CRASH_HOURS="48")
    snap = snapshot({"ETH": Decimal(1), "USDC": Decimal(90_000)})  # far off target: the bands alone would trade
    with JournalStore.open(tmp_path / "j.sqlite") as journal:
        with PriceHistory.open(history_path_for(journal.path)) as store:
            store.record_cycle(T0 - timedelta(hours=24), {"ETH": Decimal(3600)})  # 3600 -> 3000: -16.7% in a day
        decision = decide(cfg, snap, journal, T0)
    assert not decision.rebalance
    assert decision.pause is not None and decision.pause.trigger == "crash"
