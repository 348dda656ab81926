"""Backtest paths that start processes: the process pool and Dask cluster against serial, and the CLI's report
and multi-path output (run as a child process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from agent.research.engine import simulate
from agent.research.parallel import run_many, run_on_dask
from tests.backtest_paths import grid

CLI = [sys.executable, "-c", "from agent.cli import main; main()"]


def test_process_pool_and_dask_cluster_give_the_serial_figures(real: tuple) -> None:
    from distributed import Client, LocalCluster

    market, costs, _ = real
    specs = grid()
    serial = simulate(specs, market, costs)
    pooled = run_many(specs, market, costs, workers=2)
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dasked = run_on_dask(specs, market, costs, client, chunks=3)
    for other in (pooled, dasked):
        assert np.array_equal(serial.values, other.values, equal_nan=True)
        assert np.array_equal(serial.costs, other.costs) and np.array_equal(serial.trades, other.trades)


def test_report_into_a_missing_directory_fails_first_in_one_line(tmp_path: Path) -> None:
    out = subprocess.run([*CLI, "backtest", "--targets", "ETH:50,USDC:50", "--report", str(tmp_path / "no" / "r.html")],
                         capture_output=True, text=True, cwd="/tmp", timeout=60)
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0 and "--report" in out.stderr


def test_multi_path_json_report_and_csv(tmp_path: Path) -> None:
    report, csv_dir = tmp_path / "r.html", tmp_path / "csv"
    out = subprocess.run([*CLI, "backtest", "--json", "--targets", "ETH:40,WBTC:30,USDC:30", "--strategy", "threshold",
                          "--from", "2019-01-01", "--to", "2022-12-31", "--starts", "yearly", "--sweep",
                          "band_pp=4:12:4", "--bootstrap", "3", "--report", str(report), "--csv", str(csv_dir)],
                         capture_output=True, text=True, cwd="/tmp", timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [b["strategy"] for b in doc["benchmarks"]] == ["buy and hold", "monthly calendar", "fixed 5 pp",
                                                          "BTC only", "equal weight"]
    s = doc["study"]
    assert s["variants"] == 3 and s["paths"] == 4 * 3 and s["luck"]["trials"] == 3 and "verdict" in s["luck"]
    dist = s["distribution"]["threshold band_pp=4"]["buy and hold"]
    assert dist["paths"] == 12 and 0 <= dist["sharpe"]["beats_share"] <= 1
    text = report.read_text()
    assert "plotly" in text and "Equity (USD, log scale)" in text and "monthly returns" in text
    assert "2019-01-01" in text and "Final value across 12 paths" in text
    header = (csv_dir / "equity.csv").read_text().splitlines()[0]
    assert header.startswith("date,threshold,buy and hold")
    assert (csv_dir / "trades.csv").read_text().count("\n") > 5 and "sharpe" in (csv_dir / "metrics.csv").read_text()
