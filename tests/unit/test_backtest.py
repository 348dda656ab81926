"""``rebalancer backtest``: strategies replayed on daily prices — hand-checked trades, costs, skips and errors."""

from __future__ import annotations

import itertools
import json
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agent.cli import main
from agent.commands import backtest as backtest_cmd
from agent.errors import ConfigError
from agent.planning.costs import ChainCosts, leg_cost_usd, swap_cost_usd
from agent.research.backtest import CostModel, PriceTable, load_prices, run_backtest
from strategies import Decision, StrategyContext
from strategies.calendar import CalendarStrategy
from strategies.threshold import ThresholdStrategy

D = Decimal
THRESHOLD = ThresholdStrategy(band_pp=D(5), band_rel_pct=D(0), emergency_band_pp=D(15))
NO_GAS = ([date(2000, 1, 1)], [0.0])


def table(**closes: list[float]) -> PriceTable:
    n = len(next(iter(closes.values())))
    return PriceTable(dates=tuple(date(2024, 1, 1) + timedelta(days=i) for i in range(n)),
                      closes={k: tuple(v) for k, v in closes.items()})


def test_a_doubling_asset_is_sold_back_to_target_through_the_hub_paying_the_fee() -> None:
    prices = table(ETH=[1000, 2000, 2000, 2000], USDC=[1, 1, 1, 1])
    run, hold = run_backtest(THRESHOLD, prices, {"ETH": D(50), "USDC": D(50)}, initial_usd=10_000,
                             model=CostModel(fee_bps=30, gas_gwei=0, min_trade_usd=0), gas=NO_GAS)
    # day 2: 5 ETH worth 10,000 + 5,000 USDC → 66.7% ETH, decided at that close and traded at day 3's:
    # sell 2,500 USD of ETH, the 0.3% fee taken from the proceeds
    assert [(e.decided, e.day) for e in run.events] == [(date(2024, 1, 2), date(2024, 1, 3))]
    (leg,) = run.events[0].legs
    assert (leg.asset, leg.side) == ("ETH", "sell") and leg.usd == pytest.approx(2500)
    assert leg.cost_usd == pytest.approx(7.5)
    assert run.values[1] == 15_000  # nothing traded on the bar that decided it
    assert run.values[2] == pytest.approx(15_000 - 7.5) and run.values[3] == run.values[2]
    assert run.weights["ETH"][2] == pytest.approx(100 * 7500 / 14_992.5)
    assert hold.values == [10_000, 15_000, 15_000, 15_000] and hold.events == []
    m = run.metrics()
    assert m["rebalances"] == 1 and m["costs_usd"] == 7.5 and m["turnover_usd"] == 2500


def test_gas_is_paid_at_the_days_gas_price_in_eth() -> None:
    prices = table(ETH=[1000, 2000, 2000], USDC=[1, 1, 1])
    gas = ([date(2024, 1, 1)], [10.0])  # 10 gwei
    run, _ = run_backtest(THRESHOLD, prices, {"ETH": D(50), "USDC": D(50)}, initial_usd=10_000,
                          model=CostModel(fee_bps=0, min_trade_usd=0), gas=gas)
    (leg,) = run.events[0].legs
    assert leg.gas_usd == pytest.approx((180_000 + 50_000) * 10e-9 * 2000)  # swap + exact approval, ETH at 2,000
    assert run.values[-1] == pytest.approx(15_000 - leg.gas_usd)


def test_a_leg_costing_more_than_the_drift_it_removes_is_skipped_with_the_reason() -> None:
    prices = table(ETH=[1000, 1250, 1250], USDC=[1, 1, 1])  # 55.6% ETH: 5.6 pp out of a 5 pp band
    run, _ = run_backtest(THRESHOLD, prices, {"ETH": D(50), "USDC": D(50)}, initial_usd=10_000,
                          model=CostModel(fee_bps=1000, gas_gwei=0, min_trade_usd=0), gas=NO_GAS)
    (event,) = run.events
    assert event.legs == [] and "exceeds the drift benefit" in event.skipped[0]
    assert run.values[-1] == pytest.approx(11_250)  # nothing traded, nothing paid
    small, _ = run_backtest(THRESHOLD, prices, {"ETH": D(50), "USDC": D(50)}, initial_usd=10_000,
                            model=CostModel(fee_bps=0, gas_gwei=0, min_trade_usd=1_000), gas=NO_GAS)
    assert small.events[0].legs == [] and "below MIN_TRADE_USD" in small.events[0].skipped[0]


def test_without_a_stable_target_sells_fund_the_buys() -> None:
    prices = table(ETH=[1000, 2000, 2000], BTC=[100, 100, 100])
    run, _ = run_backtest(THRESHOLD, prices, {"ETH": D(50), "BTC": D(50)}, initial_usd=10_000,
                          model=CostModel(fee_bps=0, gas_gwei=0, min_trade_usd=0), gas=NO_GAS)
    sides = {(g.asset, g.side): g.usd for g in run.events[0].legs}
    assert sides == {("ETH", "sell"): pytest.approx(2500), ("BTC", "buy"): pytest.approx(2500)}
    assert run.weights["ETH"][-1] == pytest.approx(50) and run.values[-1] == pytest.approx(15_000)


class ShiftTargets:
    """A strategy that always rebalances, to targets of its own (as volatility-aware strategies may)."""

    name = "shift"

    def decide(self, ctx: StrategyContext) -> Decision:
        return Decision(rebalance=True, reasons=("shift",), targets={"ETH": D(25), "USDC": D(75)})


def test_trades_go_to_the_targets_the_decision_names() -> None:
    prices = table(ETH=[1000, 1000, 1000], USDC=[1, 1, 1])
    run, _ = run_backtest(ShiftTargets(), prices, {"ETH": D(50), "USDC": D(50)}, initial_usd=10_000,
                          model=CostModel(fee_bps=0, gas_gwei=0, min_trade_usd=0), gas=NO_GAS)
    (leg,) = run.events[0].legs
    assert (leg.asset, leg.side, leg.usd) == ("ETH", "sell", pytest.approx(2500))
    assert run.weights["ETH"][1] == pytest.approx(25)


def test_a_decision_on_the_last_day_is_reported_not_traded() -> None:
    prices = table(ETH=[1000, 1000, 2000], USDC=[1, 1, 1])
    run, _ = run_backtest(THRESHOLD, prices, {"ETH": D(50), "USDC": D(50)}, initial_usd=10_000,
                          model=CostModel(fee_bps=0, gas_gwei=0, min_trade_usd=0), gas=NO_GAS)
    assert run.events == [] and run.unexecuted is not None and run.unexecuted.decided == date(2024, 1, 3)
    assert run.values[-1] == 15_000


def test_the_calendar_rebalances_on_its_period_counted_from_the_decision() -> None:
    prices = table(ETH=[1000 * (1 + 0.05 * i) for i in range(10)], USDC=[1] * 10)
    run, _ = run_backtest(CalendarStrategy(interval=timedelta(days=3)), prices, {"ETH": D(50), "USDC": D(50)},
                          initial_usd=10_000, model=CostModel(fee_bps=0, gas_gwei=0, min_trade_usd=0), gas=NO_GAS)
    # due 3 days after the start (decided day 4), traded on day 5; due again 3 days after that decision (day 7),
    # traded on day 8 — counted from the trade day it would be day 9 (the old one-day-long calendar)
    assert [(e.decided.day, e.day.day) for e in run.events if e.legs] == [(4, 5), (7, 8)]


def test_a_weekly_calendar_trades_every_7_days_not_8() -> None:
    n = 60
    prices = table(ETH=[1000 * (1 + 0.02 * i) for i in range(n)], USDC=[1] * n)
    run, _ = run_backtest(CalendarStrategy(interval=timedelta(hours=168)), prices, {"ETH": D(50), "USDC": D(50)},
                          initial_usd=10_000, model=CostModel(fee_bps=0, gas_gwei=0, min_trade_usd=0), gas=NO_GAS)
    days = [e.day for e in run.events if e.legs]
    assert len(days) == 8 and {(b - a).days for a, b in itertools.pairwise(days)} == {7}


def test_without_a_stable_the_proceeds_of_a_sell_whose_buy_is_skipped_are_kept() -> None:
    # ETH doubles: 9,000 / 4,500 / 1,000 of 14,500 → sell 2,475 ETH, buy 2,025 BTC, the 450 LINK buy is under
    # MIN_TRADE_USD 500 and skipped: its 450 stay as cash (the old engine lost them: 14,050)
    prices = table(ETH=[1000, 2000, 2000, 2000], BTC=[100] * 4, LINK=[10] * 4)
    run, _ = run_backtest(THRESHOLD, prices, {"ETH": D(45), "BTC": D(45), "LINK": D(10)}, initial_usd=10_000,
                          model=CostModel(fee_bps=0, gas_gwei=0, min_trade_usd=500), gas=NO_GAS)
    legs = {(g.asset, g.side): g.usd for g in run.events[0].legs}
    assert legs == {("ETH", "sell"): pytest.approx(2475), ("BTC", "buy"): pytest.approx(2025)}
    assert "LINK: below MIN_TRADE_USD" in run.events[0].skipped[0]
    assert run.values[-1] == pytest.approx(14_500)
    assert run.weights["LINK"][-1] == pytest.approx(100 * 1000 / 14_500)  # the cash is outside every target


def test_stables_are_marked_at_1_unless_market_prices_are_asked_for() -> None:
    peg = load_prices(["WETH", "USDC"], date(2019, 1, 1), date(2020, 12, 31))
    market = load_prices(["WETH", "USDC"], date(2019, 1, 1), date(2020, 12, 31), stable_price="market")
    assert set(peg.closes["USDC"]) == {1.0} and peg.closes["ETH"] == market.closes["ETH"]
    moves = [abs(b / a - 1) for a, b in zip(market.closes["USDC"], market.closes["USDC"][1:], strict=False)]
    assert sum(m > 0.005 for m in moves) > 50  # the noisy Yahoo close the peg replaces
    with pytest.raises(ConfigError, match="--stable-price"):
        load_prices(["USDC"], None, None, stable_price="close")


def test_an_asset_whose_data_ends_inside_the_range_is_warned_about() -> None:
    t = load_prices(["WETH", "MATIC", "USDC"], None, None)
    assert t.dates[-1] == date(2023, 2, 24)
    assert t.warnings == ("MATIC's data ends 2023-02-24 (the data set runs to 2025-11-20): the backtest stops there",)
    assert load_prices(["WETH", "MATIC"], None, date(2022, 1, 1)).warnings == ()


def test_costs_come_from_the_live_cost_model_route_fee_depth_and_gas() -> None:
    model = CostModel()  # ethereum: WETH on its 0.05% V3 pool, WBTC on the 0.3% default tier
    assert (model.route_fee_bps("WETH"), model.route_fee_bps("WBTC")) == (5.0, 30.0)
    costs = ChainCosts(chain="ethereum", gas_price_wei=20 * 10**9, native_usd=D(2000), lp_fee_bps=D(5))
    total, gas, _ = swap_cost_usd(costs, D(100_000), D(5_000_000))
    assert leg_cost_usd(100_000.0, float(costs.gas_usd(gas)), 5.0, 5_000_000.0) == pytest.approx(float(total))
    prices = table(ETH=[1000, 2000, 2000], USDC=[1, 1, 1])
    deep, _ = run_backtest(THRESHOLD, prices, {"ETH": D(50), "USDC": D(50)}, initial_usd=10_000,
                           model=CostModel(gas_gwei=0, min_trade_usd=0), gas=NO_GAS)
    shallow, _ = run_backtest(THRESHOLD, prices, {"ETH": D(50), "USDC": D(50)}, initial_usd=10_000,
                              model=CostModel(gas_gwei=0, min_trade_usd=0, depth_usd={"ETH": 250_000}), gas=NO_GAS)
    assert deep.events[0].legs[0].cost_usd == pytest.approx(2500 * 5 / 10_000)
    assert shallow.events[0].legs[0].cost_usd == pytest.approx(2500 * (5 / 10_000 + 2500 / 252_500))


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
def test_real_prices_threshold_keeps_drift_inside_the_band_and_cuts_volatility() -> None:
    prices = load_prices(["WETH", "WBTC", "USDC"], date(2021, 1, 1), date(2022, 12, 31))
    run, hold = run_backtest(ThresholdStrategy(band_pp=D(5), band_rel_pct=D(25), emergency_band_pp=D(15)), prices,
                             {"WETH": D(40), "WBTC": D(30), "USDC": D(30)}, initial_usd=100_000)
    m, h = run.metrics(), hold.metrics()
    assert m["rebalances"] > 5 and h["max_drift_pp"] > 15
    # traded back to target the day after the band is left: drift beyond the band is one day's move at most
    assert m["mean_max_drift_pp"] < 5 < h["mean_max_drift_pp"] and m["max_drift_pp"] < 12
    executed = [prices.dates.index(e.day) for e in run.events if e.legs]
    assert all(run.max_drift_pp[i] < 5 for i in executed)  # back inside the band (legs not worth their cost skipped)
    assert sum(run.max_drift_pp[i] < 0.5 for i in executed) > len(executed) / 2
    assert m["volatility_pct"] < h["volatility_pct"] and m["costs_usd"] > 0 and m["gas_usd"] > 0


def test_ranges_the_data_does_not_cover_name_the_option_and_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"--from: 2016-01-01 .* use --from 2017-11-09"):
        load_prices(["ETH", "USDT"], date(2016, 1, 1), None)
    with pytest.raises(ConfigError, match=r"TARGETS: no daily prices for DOGE"):
        load_prices(["ETH", "DOGE"], None, None)
    with pytest.raises(ConfigError, match=r"--to: 2030-01-01"):
        load_prices(["ETH"], None, date(2030, 1, 1))


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None: ...

    backtest_cmd.register(app)
    return app


def test_backtest_json_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    report = tmp_path / "bt.html"
    result = CliRunner().invoke(_app(), ["backtest", "--json", "--targets", "ETH:60,USDC:40", "--strategy",
                                         "threshold,calendar", "--from", "2022-01-01", "--to", "2022-06-30",
                                         "--report", str(report)], env={"BAND_PP": "4"})
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["from"], doc["to"], doc["days"]) == ("2022-01-01", "2022-06-30", 181)
    assert [r["strategy"] for r in doc["runs"]] == ["threshold", "calendar"]
    threshold = doc["runs"][0]
    assert threshold["rebalances"] > 0 and threshold["events"]
    assert all("±4.00 pp band" in " ".join(e["reasons"]) for e in threshold["events"])  # BAND_PP from the environment
    assert all(e["decided"] < e["date"] for e in threshold["events"])
    assert doc["buy_and_hold"]["trades"] == 0
    text = report.read_text()
    assert "<svg" in text and "buy and hold" in text and threshold["events"][0]["date"] in text


def test_a_bad_strategy_is_one_clear_error(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["rebalancer", "backtest", "--targets", "ETH:50,USDC:50", "--strategy",
                                      "momentum"])
    monkeypatch.chdir("/tmp")
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert err.strip().count("\n") == 0 and "unknown strategy 'momentum'" in err
