"""``rebalancer bench backtest``: 1,000 backtests (40 band widths × 25 start dates) serially, on a process pool and
on a local Dask cluster, with their figures checked identical to running each alone.

The job: ETH:40,WBTC:30,USDC:30 on the daily closes 2018-10-08 → 2025-11-20, threshold bands of 1.0, 1.5, … 20.5 pp
(no relative band), starting on the first day of each quarter 2018-Q4 … 2024-Q4, each run to the end, with the
default cost model (route LP fees on Ethereum, the day's gas). Backtest-days are the bars summed over the runs.
Timings are wall clock; the pool and the cluster use ``workers`` processes (the machine's 2 cores by default).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np

from agent.research.backtest import CostModel, build_market, engine_costs
from agent.research.data import load_prices
from agent.research.engine import Result, Spec, simulate
from agent.research.parallel import run_many, run_on_dask
from agent.research.paths import start_indices

TARGETS = {"WETH": Decimal(40), "WBTC": Decimal(30), "USDC": Decimal(30)}
BANDS = [1.0 + 0.5 * i for i in range(40)]
ALONE_SAMPLE = 20


def job() -> tuple[list[Spec], Any, Any, Any]:
    table = load_prices(list(TARGETS), date(2018, 10, 8), date(2025, 11, 20))
    model = CostModel()
    cols = list(TARGETS)
    market = build_market(table, cols, model)
    starts = start_indices(table.dates, "quarterly", 365)[:25]
    t = {s: float(p) for s, p in TARGETS.items()}
    specs = [Spec(f"band {b:g} pp from {table.dates[s]}", "threshold", t, band_pp=b, band_rel_pct=0.0, start=s)
             for s in starts for b in BANDS]
    return specs, market, engine_costs(cols, model, 100_000.0), table


def _same(a: Result, b: Result, rows: Any = slice(None)) -> bool:
    keys = ("values", "rebalances", "trades", "skipped", "turnover", "costs", "gas", "decisions")
    return all(np.array_equal(getattr(a, k)[rows], getattr(b, k), equal_nan=True) for k in keys)


def run(workers: int | None = None) -> dict[str, Any]:
    workers = workers or min(2, os.cpu_count() or 1)
    specs, market, costs, table = job()
    days = int(sum(market.bars - s.start for s in specs))
    t0, c0 = time.perf_counter(), time.process_time()
    serial = simulate(specs, market, costs)
    t_serial, c_serial = time.perf_counter() - t0, time.process_time() - c0
    rng = np.random.default_rng(16)
    sample = sorted(rng.choice(len(specs), size=ALONE_SAMPLE, replace=False).tolist())
    alone = all(_same(serial, simulate([specs[i]], market, costs), [i]) for i in sample)
    t0 = time.perf_counter()
    pooled = run_many(specs, market, costs, workers=workers)
    t_pool = time.perf_counter() - t0
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        t0 = time.perf_counter()
        dasked = run_on_dask(specs, market, costs, client)
        t_dask = time.perf_counter() - t0
    finals = serial.values[:, -1]
    best = int(np.argmax(finals))
    return {
        "job": {"targets": {s: float(p) for s, p in TARGETS.items()}, "from": table.dates[0].isoformat(),
                "to": table.dates[-1].isoformat(), "bands_pp": [BANDS[0], BANDS[-1], 0.5], "starts": 25,
                "runs": len(specs), "backtest_days": days},
        "serial": {"wall_s": round(t_serial, 3), "cpu_s": round(c_serial, 3),
                   "backtest_days_per_s": round(days / t_serial)},
        "load_average_1m": round(os.getloadavg()[0], 2),
        "process_pool": {"workers": workers, "wall_s": round(t_pool, 3), "backtest_days_per_s": round(days / t_pool),
                         "identical_to_serial": _same(serial, pooled)},
        "dask_local_cluster": {"workers": workers, "wall_s": round(t_dask, 3),
                               "backtest_days_per_s": round(days / t_dask),
                               "identical_to_serial": _same(serial, dasked)},
        "identical_alone": {"checked_runs": ALONE_SAMPLE, "identical": alone},
        "target_wall_s": 10.0, "target_met": min(t_serial, t_pool) <= 10.0,
        "best_final": {"run": specs[best].name, "final_usd": round(float(finals[best]), 2)},
        "median_final_usd": round(float(np.median(finals)), 2),
        "median_rebalances": float(np.median(serial.rebalances)),
    }
