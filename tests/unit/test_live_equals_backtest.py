"""Live and backtest give the same decision on the same history: the live decide step (price history in SQLite
beside a real journal, the strategy built from the settings) and the backtest's ``decide_on_bar`` (closes in a market
array) on a hand-built path — a range, a trend, a crash — longer than the look-back, at several bars."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from agent.config.settings import load_config
from agent.cycle.steps import decide
from agent.journal.prices import PriceHistory, PricePoint, history_path_for
from agent.journal.store import JournalStore
from agent.research.live import bar_time, decide_on_bar
from strategies import load_strategy
from tests.unit.portfolio_factory import PRICES, snapshot

DAYS = 480
ASSETS = ["ETH", "WBTC", "USDC"]
UNITS = {"ETH": Decimal(14), "WBTC": Decimal("0.4"), "USDC": Decimal(20_000)}  # ETH 55 % vs 40 %


def _path() -> np.ndarray:
    eth, btc, out = 2000.0, 40000.0, []
    for d in range(DAYS):
        if d < 200:  # a range
            step_e, step_b = 0.03 * math.sin(d / 2.0), 0.02 * math.cos(d / 3.0)
        elif d < 400:  # a trend
            step_e, step_b = 0.012 + 0.01 * math.sin(d), 0.008 + 0.01 * math.cos(d)
        else:  # a crash, then a chop
            step_e, step_b = (-0.09, -0.07) if d < 404 else (0.02 * math.sin(d), 0.015 * math.sin(d + 1))
        eth, btc = eth * math.exp(step_e), btc * math.exp(step_b)
        out.append([eth, btc, 1.0])
    return np.array([out])


SETTINGS = {
    "vol_bands": {"STRATEGY": "vol_bands", "VOL_BANDS_EXPONENT": "1"},
    "regime": {"STRATEGY": "regime", "REGIME_WINDOW_DAYS": "20"},
    "regime_hmm": {"STRATEGY": "regime", "REGIME_MODEL": "hmm"},
    "dynamic": {"STRATEGY": "dynamic", "DYNAMIC_METHOD": "inverse_vol", "DYNAMIC_BOUNDS": "ETH:10-60,WBTC:10-60"},
    "pause": {"STRATEGY": "threshold", "PAUSE_CRASH_PCT": "15", "PAUSE_CRASH_HOURS": "168",
              "PAUSE_CORRELATION": "0.95"},
    "stop_loss": {"STRATEGY": "threshold", "STOP_LOSS_PCT": "20"},
}


@pytest.fixture(scope="module")
def market() -> SimpleNamespace:
    times = tuple(date(2022, 1, 1) + timedelta(days=d) for d in range(DAYS))
    return SimpleNamespace(times=times, closes=_path(), assets=ASSETS, hours_per_bar=24.0)


@pytest.mark.parametrize("name", list(SETTINGS))
def test_the_live_decision_equals_the_backtest_decision(name: str, market: SimpleNamespace, tmp_path: Path) -> None:
    env = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": "http://127.0.0.1:9", "TARGETS": "ETH:40,WBTC:30,USDC:30",
           "CORRELATION_ALERT": "off", **SETTINGS[name]}
    cfg = load_config(env, env_file=Path("/nonexistent"))
    strategy = load_strategy(cfg.settings.strategy.name, cfg.settings.strategy)
    snap = snapshot({"WETH": UNITS["ETH"], "WBTC": UNITS["WBTC"], "USDC": UNITS["USDC"]})
    units = np.array([float(UNITS[a]) for a in ASSETS])
    prices = np.array([float(PRICES["WETH"]), float(PRICES["WBTC"]), 1.0])
    targets = {"ETH": 40.0, "WBTC": 30.0, "USDC": 30.0}
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        journal.record_event("rebalanced", {"at": bar_time(market.times, 0, 24).isoformat()})
        with PriceHistory.open(history_path_for(journal.path)) as store:
            store.record(PricePoint(a, bar_time(market.times, t, 24), Decimal(repr(float(market.closes[0, t, j]))),
                                    "feed") for t in range(DAYS) for j, a in enumerate(ASSETS))
        seen = []
        for t in (150, 260, 399, 402, 470):
            now = bar_time(market.times, t, 24)
            basis = {"ETH": float(market.closes[0, 399, 0]), "WBTC": float(market.closes[0, 399, 1])}
            cost = {"ETH": Decimal(repr(basis["ETH"])), "WBTC": Decimal(repr(basis["WBTC"]))}
            live = decide(cfg, snap, journal, now, record_prices=False,
                          lots=_Lots(cost) if name == "stop_loss" else None)
            test = decide_on_bar(strategy, market, t, units, prices, np.array(list(targets.values())), 0, targets,
                                 history_bars=366, cost_basis=basis if name == "stop_loss" else None)
            assert (live.rebalance, live.rule, live.reasons[:len(test.reasons)], live.pause) == \
                (test.rebalance, test.rule, test.reasons, test.pause), f"bar {t}"
            assert {k: v for k, v in live.inputs.items() if k not in ("correlation", "lots")} == test.inputs
            assert {k: round(float(v), 9) for k, v in live.targets.items()} == \
                {k: round(float(v), 9) for k, v in test.targets.items()}
            seen.append(live.reasons)
    assert len(set(seen)) > 1, seen  # the path moves what the rule reads and says: the comparison means something


class _Lots:
    """The cost basis a journal's lots would give (the lots themselves are tested in test_lots_step)."""

    def __init__(self, basis: dict[str, Decimal]) -> None:
        self.basis, self.book, self.method, self.warnings = basis, object(), "fifo", []

    def cost_basis(self) -> dict[str, Decimal]:
        return self.basis


def test_bar_times_are_midnight_utc(market: SimpleNamespace) -> None:
    assert bar_time(market.times, 3, 24) == datetime(2022, 1, 4, tzinfo=UTC)
