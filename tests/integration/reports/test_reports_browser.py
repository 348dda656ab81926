"""The demo's and the backtest's HTML reports in a real headless Chromium (Debian's, driven by Playwright): every
plotly chart renders, its x axis shows dates, its legend fits inside the chart, a series spanning decades is on a
log axis, the weights chart starts before the first rebalance, the deposit row shows its USD value. Screenshots
go to docs/images/."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.research.report import DemoRecord, TradeRow, write_report
from tests.integration.operator.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs Debian's chromium")]
IMAGES = REPO_ROOT / "docs" / "images"
T0 = datetime(2021, 5, 17, tzinfo=UTC)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def demo_record(hours: int = 96) -> DemoRecord:
    times = [T0 + timedelta(hours=h) for h in range(hours)]
    rec = DemoRecord(title="demo report in the browser", targets={"ETH": 40.0, "WBTC": 30.0, "USDC": 30.0},
                     times=times)
    rec.prices = {"ETH": [3000 - 10 * h for h in range(hours)], "BTC": [60000 - 150 * h for h in range(hours)]}
    rec.weights = {"ETH": [70 - min(h, 30) for h in range(hours)], "WBTC": [5 + min(h, 25) for h in range(hours)],
                   "USDC": [25 + min(h, 5) for h in range(hours)]}
    rec.value_usd = [237_000 - 300 * h for h in range(hours)]
    rec.hold_value_usd = [237_000 - 500 * h for h in range(hours)]
    rec.base_fee_gwei = [0.5 * 1.08 ** h for h in range(hours)]  # 0.5 → ~800 gwei: three decades
    at = times[4]
    rec.trades = [TradeRow(at=at, chain="sandbox_a", kind="swap", sell="WETH", buy="WBTC", amount_usd=59_100,
                           state="confirmed", source="0x", reason="ETH over target", gas_paid_usd=1.2,
                           est_impact_bps=30.0),
                  TradeRow(at=at, chain="sandbox_b", kind="deposit", sell="USDC", buy="sUSDC", amount_usd=44_000,
                           state="confirmed", source="vault", reason="park idle stables above the buffer",
                           gas_paid_usd=0.1, est_impact_bps=0.0)]
    rec.before, rec.after = {"ETH": 70.0, "WBTC": 5.0, "USDC": 25.0}, {"ETH": 40.0, "WBTC": 30.0, "USDC": 30.0}
    return rec


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    ctx = pw.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM,
                                                args=CHROMIUM_ARGS, headless=True,
                                                viewport={"width": 1100, "height": 900})
    try:
        yield ctx.new_page()
    finally:
        ctx.close()
        pw.stop()


def charts(page: Any) -> list[dict[str, Any]]:
    """Per rendered plotly chart: its box, its legend's box, its x tick labels, its axes' types, its first x."""
    return page.evaluate("""() => [...document.querySelectorAll('.plotly-graph-div')].map(gd => {
        const box = gd.getBoundingClientRect(), leg = gd.querySelector('.legend');
        const lb = leg ? leg.getBoundingClientRect() : null;
        return {title: gd.layout.title.text || (gd.layout.title || ''),
                box: [box.left, box.top, box.right, box.bottom],
                legend: lb ? [lb.left, lb.top, lb.right, lb.bottom] : null,
                xticks: [...gd.querySelectorAll('.xtick text')].map(t => t.textContent),
                xtype: gd._fullLayout.xaxis.type, ytype: gd._fullLayout.yaxis.type,
                first_x: gd.data.length ? String(gd.data[0].x[0]) : null, traces: gd.data.length};
    })""")


def check_chart(c: dict[str, Any]) -> None:
    """A chart of several lines has a legend, and it sits inside the chart (nothing cut off)."""
    if c["traces"] < 2:
        return
    assert c["legend"] is not None, c["title"]
    left, _top, right, bottom = c["box"]
    l2, _t2, r2, b2 = c["legend"]
    assert l2 >= left - 1 and r2 <= right + 1 and b2 <= bottom + 1, f"legend outside its chart: {c}"


def test_demo_report_reads_well_in_chromium(page: Any, tmp_path: Path) -> None:
    rec = demo_record()
    path = write_report(rec, tmp_path / "report.html")
    page.goto(path.as_uri())
    page.wait_for_selector(".plotly-graph-div .main-svg")
    got = charts(page)
    assert len(got) == 4
    for c in got:
        check_chart(c)
        assert c["xtype"] == "date" and any(m in " ".join(c["xticks"]) for m in MONTHS), c
    by_title = {c["title"]: c for c in got}
    fee = next(c for t, c in by_title.items() if "Base fee" in t)
    assert fee["ytype"] == "log"  # 0.5 → 800 gwei
    prices = next(c for t, c in by_title.items() if "prices" in t)
    assert prices["ytype"] == "log"  # ETH near 3,000 and BTC near 60,000 on one axis
    weights = next(c for t, c in by_title.items() if "weights" in t)
    assert weights["ytype"] == "linear"
    assert weights["first_x"].startswith("2021-05-17")  # before the first rebalance (hour 4)
    deposit = page.locator("tr", has_text="deposit")
    assert "44,000.00" in deposit.inner_text()  # the deposit row's USD value
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / "demo-report.png"), full_page=True)


def test_backtest_report_reads_well_in_chromium(page: Any, tmp_path: Path) -> None:
    report = tmp_path / "backtest.html"
    out = subprocess.run([sys.executable, "-m", "agent.cli", "backtest", "--targets", "ETH:40,WBTC:30,USDC:30",
                          "--strategy", "threshold,calendar", "--from", "2019-01-01", "--to", "2022-12-31",
                          "--report", str(report)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "COLUMNS": "80"})
    assert out.returncode == 0, out.stderr
    page.goto(report.as_uri())
    page.wait_for_selector(".plotly-graph-div .main-svg")
    got = charts(page)
    assert len(got) >= 5
    dated = [c for c in got if c["xtype"] == "date"]
    assert len(dated) >= 4
    for c in dated:
        check_chart(c)
        assert any(y in " ".join(c["xticks"]) for y in ("2019", "2020", "2021", "2022")), c
    equity = next(c for c in got if c["title"].startswith("Equity"))
    assert equity["ytype"] == "log"
    weights = next(c for c in got if "weights" in c["title"])
    assert weights["first_x"].startswith("2019-01-01")  # from the first day, before any rebalance
    bottom = max(c["box"][3] for c in got)  # the charts (the long table of rebalances below is left out)
    page.screenshot(path=str(IMAGES / "backtest-report.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1100, "height": bottom + 10})
