"""Strategies on hand-built allocations and histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from agent.errors import ConfigError
from agent.planning.allocation import compute_allocation
from strategies import StrategyContext, load_strategy
from strategies.calendar import CalendarStrategy
from strategies.hybrid import HybridStrategy
from strategies.threshold import ThresholdStrategy

from .portfolio_factory import snapshot

D = Decimal
NOW = datetime(2024, 3, 1, tzinfo=UTC)
TARGETS = {"ETH": D(40), "WBTC": D(30), "USDC": D(30)}


def ctx(eth: str, wbtc: str, usdc: str, *, last: datetime | None = None, targets=TARGETS) -> StrategyContext:
    # units chosen so that weights equal the given USD values' shares
    snap = snapshot({"WETH": D(eth) / 3000, "WBTC": D(wbtc) / 60000, "USDC": D(usdc)})
    return StrategyContext(allocation=compute_allocation(snap, targets), targets=targets, now=NOW,
                           last_rebalance_at=last)


def test_threshold_inside_band_does_nothing() -> None:
    s = ThresholdStrategy(band_pp=D(5), band_rel_pct=D(0), emergency_band_pp=D(15))
    d = s.decide(ctx("4300", "2900", "2800"))  # 43/29/28: max drift 3 pp
    assert not d.rebalance
    assert "within its band" in d.reasons[0]


def test_threshold_absolute_band_trips() -> None:
    s = ThresholdStrategy(band_pp=D(5), band_rel_pct=D(0), emergency_band_pp=D(15))
    d = s.decide(ctx("4600", "2500", "2900"))  # ETH +6 pp
    assert d.rebalance and not d.urgent
    assert any(r.startswith("ETH at 46.00%") for r in d.reasons)


def test_threshold_relative_band_trips_before_absolute() -> None:
    # WBTC target 10%: a 25% relative band is ±2.5 pp, tighter than the 5 pp absolute band
    targets = {"ETH": D(60), "WBTC": D(10), "USDC": D(30)}
    s = ThresholdStrategy(band_pp=D(5), band_rel_pct=D(25), emergency_band_pp=D(15))
    d = s.decide(ctx("5700", "1300", "3000", targets=targets))  # WBTC +3 pp = +30% relative
    assert d.rebalance
    assert any("WBTC" in r and "±2.50 pp" in r for r in d.reasons)
    assert not s.decide(ctx("5800", "1200", "3000", targets=targets)).rebalance  # +2 pp = 20%


def test_threshold_per_asset_band_override() -> None:
    s = ThresholdStrategy(band_pp=D(5), band_rel_pct=D(0), emergency_band_pp=D(15), asset_bands_pp={"ETH": D(2)})
    d = s.decide(ctx("4300", "2800", "2900"))  # ETH +3 > 2
    assert d.rebalance and not d.urgent
    assert any("ETH" in r and "±2.00 pp" in r for r in d.reasons), d.reasons
    plain = ThresholdStrategy(band_pp=D(5), band_rel_pct=D(0), emergency_band_pp=D(15))
    assert not plain.decide(ctx("4300", "2800", "2900")).rebalance  # the override alone made it rebalance


def test_threshold_emergency_is_urgent() -> None:
    s = ThresholdStrategy(band_pp=D(5), band_rel_pct=D(0), emergency_band_pp=D(15))
    d = s.decide(ctx("7000", "500", "2500"))
    assert d.rebalance and d.urgent


def test_calendar_waits_for_its_period() -> None:
    s = CalendarStrategy(interval=timedelta(days=7))
    assert not s.decide(ctx("4600", "2500", "2900", last=NOW - timedelta(days=3))).rebalance
    d = s.decide(ctx("4600", "2500", "2900", last=NOW - timedelta(days=7)))
    assert d.rebalance and "168 h period elapsed" in d.reasons[0]
    assert s.decide(ctx("4600", "2500", "2900")).rebalance  # never rebalanced: due now


def test_calendar_skips_when_already_on_target() -> None:
    s = CalendarStrategy(interval=timedelta(days=7))
    assert not s.decide(ctx("4000", "3000", "3000")).rebalance


def test_hybrid_emergency_band_between_dates() -> None:
    s = HybridStrategy(calendar=CalendarStrategy(interval=timedelta(days=30)), emergency_band_pp=D(10))
    recent = NOW - timedelta(days=2)
    assert not s.decide(ctx("4800", "2400", "2800", last=recent)).rebalance  # +8 pp: calendar says wait
    d = s.decide(ctx("5200", "2000", "2800", last=recent))  # +12 pp
    assert d.rebalance and d.urgent and "emergency band" in d.reasons[0]
    assert s.decide(ctx("4800", "2400", "2800", last=NOW - timedelta(days=31))).rebalance


def test_load_by_name() -> None:
    settings = SimpleNamespace(band_pp=D(5), band_rel_pct=D(25), emergency_band_pp=D(15), asset_bands_pp={},
                               calendar_interval_hours=D(24))
    assert load_strategy("threshold", settings).name == "threshold"
    assert load_strategy("calendar", settings).name == "calendar"
    assert load_strategy("hybrid", settings).name == "hybrid"
    with pytest.raises(ConfigError, match="STRATEGY: unknown strategy 'momentum'"):
        load_strategy("momentum", settings)
