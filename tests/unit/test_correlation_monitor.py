"""The correlation monitor on hand-built paths, its alert on each crossing (journaled and heard by an observer), and
every strategy naming its rule and inputs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from agent.cycle.events import CycleEvent, CycleEventKind, EventBus
from agent.cycle.loop import _correlation_alert
from agent.journal.store import JournalStore
from agent.planning.allocation import Allocation, AssetAllocation
from strategies import Decision, StrategyContext
from strategies.calendar import CalendarStrategy
from strategies.correlation import read_correlation
from strategies.hybrid import HybridStrategy
from strategies.threshold import ThresholdStrategy

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _daily(moves: list[float], start: float = 100.0) -> list[tuple[datetime, Decimal]]:
    out, p = [], start
    for i, m in enumerate(moves):
        p *= math.exp(m)
        out.append((NOW - timedelta(days=len(moves) - 1 - i), Decimal(repr(p))))
    return out


WIGGLE = [0.02 * math.sin(i * 1.7) + 0.01 * math.cos(i * 0.3) for i in range(40)]
OTHER = [0.02 * math.cos(i * 2.9) - 0.01 * math.sin(i * 1.1) for i in range(40)]


def test_assets_moving_as_one_read_one_and_alert() -> None:
    history = {"ETH": _daily(WIGGLE), "WBTC": _daily([2 * m for m in WIGGLE], 50_000), "USDC": _daily([0.0] * 40, 1)}
    reading = read_correlation(history, ["ETH", "WBTC", "USDC"], NOW, window_days=30, threshold=0.9)
    assert reading is not None and math.isclose(reading.average, 1.0, abs_tol=1e-9)
    assert reading.above and list(reading.pairs) == ["ETH/WBTC"]  # the stable is not part of it


def test_unrelated_assets_read_low_and_do_not_alert() -> None:
    history = {"ETH": _daily(WIGGLE), "WBTC": _daily(OTHER)}
    reading = read_correlation(history, ["ETH", "WBTC"], NOW, window_days=30, threshold=0.9)
    assert reading is not None and abs(reading.average) < 0.5 and not reading.above


def test_a_spike_at_the_end_of_the_window_is_seen_and_the_future_is_not() -> None:
    calm = {"ETH": _daily([*OTHER[:25], *WIGGLE[25:]]), "WBTC": _daily([*WIGGLE[:25], *WIGGLE[25:]])}
    late = read_correlation(calm, ["ETH", "WBTC"], NOW, window_days=12, threshold=0.9)
    early = read_correlation(calm, ["ETH", "WBTC"], NOW - timedelta(days=16), window_days=12, threshold=0.9)
    assert late is not None and late.above  # the last 12 days move together
    assert early is not None and not early.above  # 16 days earlier only the unrelated stretch was known


def test_days_are_paired_by_date_not_by_position() -> None:
    eth = _daily(WIGGLE)
    history = {"ETH": [*eth[:-1], (NOW, eth[-1][1] * 3)], "WBTC": _daily(WIGGLE)[:-1]}  # WBTC lacks today
    reading = read_correlation(history, ["ETH", "WBTC"], NOW, window_days=30, threshold=0.9)
    assert reading is not None and math.isclose(reading.average, 1.0, abs_tol=1e-9)


def test_too_little_history_gives_no_reading() -> None:
    history = {"ETH": _daily(WIGGLE[:5]), "WBTC": _daily(WIGGLE[:5])}
    assert read_correlation(history, ["ETH", "WBTC"], NOW, window_days=30, threshold=0.9) is None


class _Heard:
    def __init__(self) -> None:
        self.events: list[CycleEvent] = []

    def on_event(self, event: CycleEvent) -> None:
        self.events.append(event)


def test_the_alert_fires_on_each_crossing_only_journaled_and_observed(tmp_path: Path) -> None:
    heard = _Heard()
    with JournalStore.open(tmp_path / "j.sqlite") as journal:
        run = SimpleNamespace(journal=journal, events=EventBus([heard]), cycle_id=journal.start_cycle(), now=NOW)

        def cycle(average: float) -> None:
            corr = {"average": average, "threshold": 0.85, "window_days": 30, "above": average >= 0.85, "pairs": {}}
            _correlation_alert(run, Decision(rebalance=False, reasons=(), targets={}, inputs={"correlation": corr}))

        for average in (0.5, 0.9, 0.95, 0.6, 0.7, 0.86):
            cycle(average)
        states = [(e["detail"]["state"], e["detail"]["average"]) for e in journal.events("correlation_alert")]
    assert states == [("above", 0.9), ("below", 0.6), ("above", 0.86)]  # oldest first
    assert [(e.kind, e.detail["state"], e.detail["average"]) for e in heard.events] == [
        (CycleEventKind.CORRELATION_ALERT, "above", 0.9), (CycleEventKind.CORRELATION_ALERT, "below", 0.6),
        (CycleEventKind.CORRELATION_ALERT, "above", 0.86)]


def _ctx(eth_pct: float, last: datetime | None = None) -> StrategyContext:
    assets = tuple(AssetAllocation(symbol=s, balance=Decimal(1), usd=Decimal(repr(w * 1000)),
                                   weight_pct=Decimal(repr(w)), target_pct=Decimal(50),
                                   drift_pp=Decimal(repr(w - 50)), by_chain={})
                   for s, w in (("ETH", eth_pct), ("USDC", 100 - eth_pct)))
    return StrategyContext(allocation=Allocation(total_usd=Decimal(100_000), assets=assets, untargeted_usd=Decimal(0)),
                           targets={"ETH": Decimal(50), "USDC": Decimal(50)}, now=NOW, last_rebalance_at=last)


def test_every_strategy_names_its_rule_and_inputs() -> None:
    th = ThresholdStrategy(band_pp=Decimal(5), band_rel_pct=Decimal(0), emergency_band_pp=Decimal(15))
    hold, trade = th.decide(_ctx(52)), th.decide(_ctx(58))
    assert (hold.rule, hold.rebalance, trade.rule, trade.rebalance) == ("threshold", False, "threshold", True)
    assert trade.inputs["drift"]["ETH"] == {"drift_pp": 8.0, "band_pp": 5.0} and trade.inputs["max_drift_pp"] == 8.0
    cal = CalendarStrategy(interval=timedelta(days=7))
    waiting = cal.decide(_ctx(58, NOW - timedelta(days=2)))
    assert waiting.rule == "calendar" and waiting.inputs["interval_hours"] == 168
    hybrid = HybridStrategy(calendar=cal, emergency_band_pp=Decimal(15))
    assert hybrid.decide(_ctx(70, NOW - timedelta(days=2))).rule == "hybrid:emergency"
    assert hybrid.decide(_ctx(58, NOW - timedelta(days=2))).rule == "hybrid:calendar"
    explained: dict[str, Any] = trade.explain()
    assert set(explained) == {"rule", "inputs", "pause"} and explained["pause"] is None
