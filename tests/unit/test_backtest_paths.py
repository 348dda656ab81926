"""Many paths: sweeps, starts, bootstrap, walk-forward, distributions, pool/cluster == serial, hourly, outputs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from agent.errors import ConfigError
from agent.research.backtest import run_backtest
from agent.research.data import load_prices
from agent.research.engine import Spec, simulate
from agent.research.paths import block_bootstrap, compare, parse_sweep, start_indices
from agent.research.study import walk_forward
from strategies.threshold import ThresholdStrategy
from tests.backtest_paths import T, grid


def test_each_run_in_a_batch_is_identical_to_running_it_alone(real: tuple) -> None:
    market, costs, _ = real
    specs = [*grid(), Spec("cal", "calendar", T, interval_hours=24 * 30, start=100),
             Spec("hyb", "hybrid", T, emergency_band_pp=8, start=50)]
    batch = simulate(specs, market, costs)
    for i in (0, 7, len(specs) - 2, len(specs) - 1):
        alone = simulate([specs[i]], market, costs)
        assert np.array_equal(batch.values[i], alone.values[0], equal_nan=True)
        assert (batch.rebalances[i], batch.costs[i]) == (alone.rebalances[0], alone.costs[0])
    assert len(set(batch.rebalances[:6].tolist())) > 3  # the bands really differ


def test_the_fast_rule_and_the_live_strategy_give_the_same_run(real: tuple) -> None:
    _, _, table = real
    live = ThresholdStrategy(band_pp=Decimal(5), band_rel_pct=Decimal(25), emergency_band_pp=Decimal(15))
    run, _ = run_backtest(live, table, {k: Decimal(v) for k, v in T.items()})  # events explained by decide()
    market, costs, _ = real
    rule = simulate([Spec("t", "threshold", T, band_pp=5, band_rel_pct=25)], market, costs)
    assert run.values == rule.values[0].tolist() and len([e for e in run.events if e.legs]) == rule.rebalances[0]
    assert all("outside its" in " ".join(e.reasons) for e in run.events)




def test_bootstrap_is_seeded_and_keeps_the_first_closes_and_the_peg() -> None:
    closes = np.column_stack([np.linspace(100, 300, 500) * (1 + 0.01 * np.sin(np.arange(500))), np.ones(500)])
    a, b = block_bootstrap(closes, 5, 20, seed=1), block_bootstrap(closes, 5, 20, seed=1)
    assert np.array_equal(a, b) and not np.array_equal(a, block_bootstrap(closes, 5, 20, seed=2))
    assert a.shape == (5, 500, 2) and np.allclose(a[:, 0], closes[0]) and np.allclose(a[:, :, 1], 1)
    # blocks of real returns: every resampled return is one of the data's
    rets = set(np.round(np.diff(np.log(closes[:, 0])), 12))
    assert set(np.round(np.diff(np.log(a[0, :, 0])), 12)) <= rets


def test_walk_forward_never_reads_the_test_window(real: tuple) -> None:
    market, costs, _ = real
    specs = [Spec(f"b{b}", "threshold", T, band_pp=b, band_rel_pct=0) for b in (2, 5, 10, 15)]
    bench = [Spec("buy and hold", "hold", T)]
    out = walk_forward(specs, bench, market, costs, 365, 180)
    # poison everything after the first training window: the first choice cannot change
    from dataclasses import replace

    closes = market.closes.copy()
    closes[:, 365:] = np.nan
    poisoned = walk_forward(specs, bench, replace(market, closes=closes), costs, 365, 180)
    assert poisoned["windows"][0]["chosen"] == out["windows"][0]["chosen"]
    assert [w["train"][1] < w["test"][0] for w in out["windows"]] == [True] * len(out["windows"])
    assert out["out_of_sample"]["walk-forward"]["final_usd"] > 0
    with pytest.raises(ConfigError, match="--walk-forward"):
        walk_forward(specs, bench, market, costs, 5000, 100)


def test_sweeps_and_starts_parse_and_name_the_fix() -> None:
    assert parse_sweep("band_pp=2:4:0.5") == ("band_pp", [2, 2.5, 3, 3.5, 4])
    assert parse_sweep("CALENDAR_HOURS=24:72:24") == ("interval_hours", [24, 48, 72])
    for bad in ("band_pp=2:4", "colour=1:2:1", "band_pp=4:2:1"):
        with pytest.raises(ConfigError, match="--sweep"):
            parse_sweep(bad)
    days = [date(2020, 1, 1) + timedelta(days=i) for i in range(400)]
    assert start_indices(days, "quarterly", 100) == [0, 91, 182, 274]
    with pytest.raises(ConfigError, match="--starts"):
        start_indices(days, "fortnightly", 100)


def test_compare_counts_paths_beating_the_benchmark() -> None:
    a = [{"final": 110, "sharpe": 1.0, "mdd": 0.3}, {"final": 90, "sharpe": 0.5, "mdd": 0.5},
         {"final": 130, "sharpe": 1.2, "mdd": 0.2}]
    b = [{"final": 100, "sharpe": 0.8, "mdd": 0.4}] * 3
    out = compare(a, b)
    assert out["final_value_pct"]["beats_share"] == 0.667
    assert out["final_value_pct"]["median"] == 10.0
    assert out["max_drawdown_pp"]["beats_share"] == 0.667 and out["max_drawdown_pp"]["median"] == -10
    assert out["sharpe"]["beats_share"] == 0.667


def test_an_hourly_agent_trades_more_often_than_a_daily_test_shows() -> None:
    targets = {"ETH": Decimal(50), "BTC": Decimal(50)}
    live = ThresholdStrategy(band_pp=Decimal(5), band_rel_pct=Decimal(0), emergency_band_pp=Decimal(15))
    hourly = load_prices(list(targets), date(2018, 5, 16), date(2022, 2, 3), interval="1h")
    daily = load_prices(list(targets), date(2018, 5, 16), date(2022, 2, 3))
    assert len(hourly.dates) == 24 * len(daily.dates) and hourly.source.startswith("prices_hourly_btc_eth_2018-05")
    h, _ = run_backtest(live, hourly, targets)
    d, _ = run_backtest(live, daily, targets)
    assert h.metrics()["rebalances"] > d.metrics()["rebalances"] > 10






def test_a_sweep_varies_only_the_rules_that_read_the_setting() -> None:
    from agent.research.study import variants

    base = [Spec("threshold", "threshold", T), Spec("calendar", "calendar", T)]
    out = variants(base, ["band_pp=2:6:2", "calendar_hours=24:48:24"])
    assert [s.name for s in out] == ["threshold band_pp=2", "threshold band_pp=4", "threshold band_pp=6",
                                     "calendar interval_hours=24", "calendar interval_hours=48"]
    assert [s.interval_hours for s in out[3:]] == [24, 48] and out[1].band_pp == 4
