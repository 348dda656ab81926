"""The engine's fast paths for vol_bands, regime (rule and HMM) and dynamic trade exactly as the live ``decide`` bar by
bar."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from agent.research.backtest import CostModel, build_market, engine_costs, load_prices, spec_for
from agent.research.engine import simulate
from agent.research.fastpath import prepare, window
from strategies.dynamic import DynamicTargetsStrategy
from strategies.regime import RegimeStrategy
from strategies.threshold import ThresholdStrategy
from strategies.vol_bands import VolBandsStrategy

TARGETS = {"ETH": Decimal(40), "WBTC": Decimal(30), "USDC": Decimal(30)}
BASE = ThresholdStrategy(band_pp=Decimal(5), band_rel_pct=Decimal(25), emergency_band_pp=Decimal(15))
STRATEGIES = [
    VolBandsStrategy(base=BASE, exponent=1.0),
    VolBandsStrategy(base=BASE, exponent=-1.0, min_scale=0.3),
    RegimeStrategy(base=BASE, trend_band_pp=Decimal(10), range_band_pp=Decimal(3), window_days=20, er_trend=0.25),
    DynamicTargetsStrategy(base=BASE, method="inverse_vol", bounds_pct={"ETH": (10, 60), "WBTC": (10, 60)}),
    DynamicTargetsStrategy(base=BASE, method="vol_target", vol_target_pct=40),
    RegimeStrategy(base=BASE, trend_band_pp=Decimal(10), range_band_pp=Decimal(3), model="hmm"),
]


@pytest.fixture(scope="module")
def market_and_costs():  # type: ignore[no-untyped-def]
    table = load_prices(list(TARGETS), date(2021, 1, 1), date(2022, 6, 30))
    model = CostModel(fee_bps=30.0)
    return build_market(table, list(TARGETS), model), engine_costs(list(TARGETS), model, 100_000.0)


@pytest.mark.parametrize("strategy", STRATEGIES,
                         ids=lambda s: f"{s.name}-{getattr(s, 'method', '')}{getattr(s, 'model', '')}")
def test_the_fast_path_trades_exactly_as_decide_bar_by_bar(strategy, market_and_costs) -> None:  # type: ignore[no-untyped-def]
    market, costs = market_and_costs
    slow = spec_for(strategy, TARGETS, 50.0)
    assert slow.kind == "custom"
    quick = prepare(slow, market)
    assert quick.kind == "signal"
    res = simulate([slow, quick.with_(name="fast")], market, costs, detail=True)
    assert res.events is not None
    slow_bars = [e["decided"] for e in res.events[0]]
    assert len(slow_bars) >= 3  # the strategy did trade on this history: the comparison means something
    assert [e["decided"] for e in res.events[1]] == slow_bars
    assert res.trades[0] == res.trades[1]
    np.testing.assert_allclose(res.values[1], res.values[0], rtol=1e-9)


def test_the_regime_bands_switch_with_the_market(market_and_costs) -> None:  # type: ignore[no-untyped-def]
    market, _ = market_and_costs
    quick = prepare(spec_for(STRATEGIES[2], TARGETS, 50.0), market)
    eth = market.assets.index("ETH")
    seen = set(np.round(quick.bands_by_bar[0, 30:, eth], 6))
    assert {10.0, 3.0} <= seen  # both the trend band and the (relative-band-capped) range band are used


def test_a_window_cuts_the_per_bar_arrays(market_and_costs) -> None:  # type: ignore[no-untyped-def]
    market, _ = market_and_costs
    quick = prepare(spec_for(STRATEGIES[0], TARGETS, 50.0), market)
    cut = window(quick, 100, 200)
    assert cut.bands_by_bar.shape[1] == 100
    np.testing.assert_array_equal(cut.bands_by_bar[0, 0], quick.bands_by_bar[0, 100])
