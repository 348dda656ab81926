"""``rebalancer tax``: realised gains from a journal written through the store's public API, checked by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from agent.journal.prices import PriceHistory, PricePoint, history_path_for
from agent.journal.store import JournalStore
from agent.planning.lots import LotBook, LotMethod
from agent.planning.tax import tax_aware_skip
from tests.journal_trades import USDC, WETH, swap

YEAR = datetime.now(UTC).year
_swap = swap


@pytest.fixture()
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite"
    with PriceHistory.open(history_path_for(path)) as ph:
        ph.record([PricePoint(symbol="ETH", at=datetime.now(UTC) - timedelta(minutes=5), usd=Decimal(3000),
                              source="cycle")])
    with JournalStore.open(path) as store:
        _swap(store, 1, (USDC, 2000 * 10 ** 6), (WETH, 10 ** 18), 2000.0)  # buy 1 ETH for 2,000 USDC, gas 3 USD
        _swap(store, 2, (WETH, 15 * 10 ** 17), (USDC, 4500 * 10 ** 6), 4500.0)  # sell 1.5 ETH for 4,500, gas 3 USD
        cycle = store.start_cycle(mode="live")  # a dry run and a failed swap are not trades
        store.begin_action(key="dry", chain_id=1, chain="ethereum", plan_id="p", kind="swap", intent={},
                           mode="dry_run", cycle_id=cycle)
    (tmp_path / "lots.csv").write_text("asset,acquired_at,quantity,cost_usd\nETH,2020-01-01,1,1000\n")
    return path


def _tax(journal: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOURNAL_PATH": str(journal)}
    return subprocess.run([sys.executable, "-m", "agent.cli", "tax", "--year", str(YEAR), *args], env=env,
                          capture_output=True, text=True, timeout=60, cwd=journal.parent)


@pytest.mark.parametrize(("method", "short", "long_"), [("fifo", "497.50", "1998.00"), ("hifo", "995.00", "999.00"),
                                                     ("lifo", "995.00", "999.00"), ("min-tax", "995.00", "999.00")])
def test_gains_by_method_with_opening_lots_partial_lots_and_gas(journal: Path, method: str, short: str,
                                                                long_: str) -> None:
    # lots: opening 1 ETH @1000 (2020, long-term) + 1 ETH @2000 + 3 USD gas; sale 1.5 ETH for 4500 - 3 USD gas
    out = _tax(journal, "--method", method, "--lots", str(journal.parent / "lots.csv"), "--json",
               "--csv", str(journal.parent / "gains.csv"))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["trades"] == 2
    assert Decimal(doc["short_term_gain_usd"]) == Decimal(short)
    assert Decimal(doc["long_term_gain_usd"]) == Decimal(long_)
    assert Decimal(doc["total_gain_usd"]) == Decimal(short) + Decimal(long_)  # the lots consumed differ by method
    assert (journal.parent / "gains.csv").read_text().count("\n") == 3  # header + two partial disposals


def test_without_opening_lots_the_oversell_names_the_fix(journal: Path) -> None:
    out = _tax(journal)
    assert out.returncode == 2
    assert "--lots" in out.stderr and "asset,acquired_at,quantity,cost_usd" in out.stderr


def test_a_bad_lots_file_is_one_line_exit_2(journal: Path) -> None:
    bad = journal.parent / "bad.csv"
    bad.write_text("asset,acquired_at,quantity,cost_usd\nETH,yesterday,1,1000\n")
    out = _tax(journal, "--lots", str(bad))
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "line 2" in lines[0] and "--lots" in lines[0]


def test_tax_aware_skips_a_sell_whose_tax_exceeds_its_drift_benefit() -> None:
    book = LotBook(method=LotMethod.FIFO)
    at = datetime(2025, 6, 1, tzinfo=UTC)
    book.buy(asset="ETH", at=at - timedelta(days=30), quantity=Decimal(1), usd=Decimal(1000))
    why = tax_aware_skip(book, asset="ETH", at=at, quantity=Decimal("0.1"), usd=Decimal(300),
                         drift_benefit_usd=Decimal(20))
    assert why is not None and "estimated tax 74.00 USD" in why and "TAX_AWARE" in why  # 200 gain x 37 %
    assert tax_aware_skip(book, asset="ETH", at=at, quantity=Decimal("0.1"), usd=Decimal(300),
                          drift_benefit_usd=Decimal(80)) is None
    assert tax_aware_skip(book, asset="ETH", at=at, quantity=Decimal("0.1"), usd=Decimal(90),
                          drift_benefit_usd=Decimal(1)) is None  # a loss costs no tax


def test_the_tax_aware_planner_skips_the_taxable_sell_and_keeps_the_loss_making_one() -> None:
    from agent.planning.planner import PlanParams, plan_rebalance
    from tests.unit.portfolio_factory import chains, snapshot
    from tests.unit.test_planner import NOW, TARGETS, costs

    snap = snapshot({"WETH": Decimal(10), "WBTC": Decimal("0.3"), "USDC": Decimal(12_000)})  # ETH 50 % vs 40 %

    def sells(book: LotBook | None) -> tuple[list[str], list[str]]:
        p = plan_rebalance(snapshot=snap, chains=chains(), targets=TARGETS, costs=costs(),
                           params=PlanParams(tax_lots=book), now=NOW)
        return [a.sell for a in p.actions if a.kind == "swap" and a.sell != "USDC"], [s.why for s in p.skipped]

    assert sells(None)[0] == ["WETH"]
    cheap = LotBook(method=LotMethod.FIFO)
    cheap.buy(asset="ETH", at=NOW - timedelta(days=20), quantity=Decimal(10), usd=Decimal(1000))
    sold, why = sells(cheap)
    assert sold == [] and any("TAX_AWARE" in w and "exceeds its drift benefit" in w for w in why)
    dear = LotBook(method=LotMethod.FIFO)
    dear.buy(asset="ETH", at=NOW - timedelta(days=20), quantity=Decimal(10), usd=Decimal(31_000))
    assert sells(dear)[0] == ["WETH"]  # a sale at a loss costs no tax: the rebalance goes ahead
