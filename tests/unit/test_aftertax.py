"""After-tax backtest results through the agent's tax lots: hand-checked per method (partial lots, fees, terms, a loss
carried forward), and present in the backtest's JSON for the strategy and buy and hold."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from agent.planning.lots import LotMethod
from agent.research.aftertax import TaxedTrade, after_tax
from agent.research.backtest import CostModel, backtest_document, load_prices, run_backtest
from strategies.threshold import ThresholdStrategy

STABLES = frozenset({"USDC"})
TRADES = [
    TaxedTrade(date(2022, 6, 1), "ETH", "sell", 600.0, 6.0, 2000.0),  # 0.3 ETH of the opening lot: +294 short
    TaxedTrade(date(2022, 6, 1), "USDC", "buy", 594.0, 0.0, 1.0),  # stables are cash: no lot
    TaxedTrade(date(2023, 3, 1), "ETH", "buy", 500.0, 5.0, 1000.0),  # 0.495 ETH costing 500
    TaxedTrade(date(2023, 6, 1), "ETH", "sell", 1000.0, 10.0, 2500.0),  # 0.4 ETH for 990 net
]


def _run(method: LotMethod) -> dict:  # type: ignore[type-arg]
    return after_tax(trades=TRADES, opening={"ETH": (1.0, 1000.0), "USDC": (1000.0, 1.0)}, start=date(2022, 1, 1),
                     end=date(2023, 12, 31), final_usd=5000.0, last_close={"ETH": 3000.0, "USDC": 1.0},
                     stables=STABLES, method=method)


@pytest.mark.parametrize(("method", "short", "long_", "tax_2023", "unrealised_tax"), [
    # FIFO: the 2023 sale takes 0.4 of the 2022-01 lot (long-term: cost 400, +590); left: 0.3 of it (+600 long) and
    # the 2023-03 lot (0.495 worth 1,485 for 500: +985 short)
    (LotMethod.FIFO, 294.0, 590.0, 118.0, Decimal("600") * Decimal("0.2") + Decimal("985") * Decimal("0.37")),
    # LIFO: it takes 0.4 of the 2023-03 lot (cost 500 x 0.4/0.495 = 404.04, short: +585.96); left: 0.7 of the opening
    # lot (+1,400 long) and 0.095 of the 2023-03 lot (worth 285 for 95.96: +189.04 short)
    (LotMethod.LIFO, 294.0 + 585.96, 0.0, 585.96 * 0.37,
     Decimal("1400") * Decimal("0.2") + (Decimal("285") - Decimal(500) * Decimal("0.095") / Decimal("0.495"))
     * Decimal("0.37")),
])
def test_gains_and_tax_by_method_by_hand(method: LotMethod, short: float, long_: float, tax_2023: float,
                                         unrealised_tax: Decimal) -> None:
    got = _run(method)
    assert got["short_term_gain_usd"] == pytest.approx(short, abs=0.01)
    assert got["long_term_gain_usd"] == pytest.approx(long_, abs=0.01)
    assert got["by_year"][2022] == {"short_term_gain_usd": 294.0, "long_term_gain_usd": 0.0, "tax_usd": 108.78}
    assert got["by_year"][2023]["tax_usd"] == pytest.approx(tax_2023, abs=0.01)
    assert got["tax_usd"] == pytest.approx(108.78 + tax_2023, abs=0.01)
    assert got["final_after_tax_usd"] == pytest.approx(5000 - got["tax_usd"], abs=0.01)
    assert got["liquidation_after_tax_usd"] == pytest.approx(got["final_after_tax_usd"] - float(unrealised_tax),
                                                             abs=0.02)


def test_a_years_loss_is_carried_forward_against_the_next_years_tax() -> None:
    trades = [TaxedTrade(date(2022, 6, 1), "ETH", "sell", 500.0, 0.0, 500.0),  # 1 ETH bought at 1000: -500 short
              TaxedTrade(date(2022, 7, 1), "ETH", "buy", 1000.0, 0.0, 500.0),  # 2 ETH at 500
              TaxedTrade(date(2023, 2, 1), "ETH", "sell", 1400.0, 0.0, 700.0)]  # FIFO: those 2 ETH, +400 short
    got = after_tax(trades=trades, opening={"ETH": (1.0, 1000.0)}, start=date(2022, 1, 1), end=date(2023, 3, 1),
                    final_usd=1400.0, last_close={"ETH": 700.0}, stables=STABLES)
    assert got["by_year"][2022]["tax_usd"] == 0.0 and got["by_year"][2023]["tax_usd"] == 0.0  # 400 x .37 < 500 x .37
    assert got["loss_carried_forward_usd"] == pytest.approx(100 * 0.37, abs=0.01)
    assert got["liquidation_after_tax_usd"] == 1400.0


def test_the_backtest_reports_after_tax_results_for_the_strategy_and_buy_and_hold() -> None:
    targets = {"ETH": Decimal(50), "USDC": Decimal(50)}
    table = load_prices(list(targets), date(2020, 6, 1), date(2022, 6, 1))
    model = CostModel(fee_bps=30.0, gas_gwei=20.0)
    run, hold = run_backtest(ThresholdStrategy(band_pp=Decimal(5), band_rel_pct=Decimal(0),
                                               emergency_band_pp=Decimal(15)), table, targets, model=model)
    doc = backtest_document([run], hold, table, targets, model)
    taxed, held = doc["runs"][0]["after_tax"], doc["buy_and_hold"]["after_tax"]
    assert doc["rebalances"] > 3 and taxed["tax_usd"] > 0  # the rebalances sold ETH at a gain in 2020-21
    assert taxed["tax_usd"] == pytest.approx(sum(y["tax_usd"] for y in taxed["by_year"].values()), abs=0.05)
    assert taxed["final_after_tax_usd"] == pytest.approx(doc["final_usd"] - taxed["tax_usd"], abs=0.01)
    assert held["tax_usd"] == 0.0 and held["liquidation_after_tax_usd"] < doc["buy_and_hold"]["final_usd"]
