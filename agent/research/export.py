"""``--csv DIR``: the equity curves, trades and metrics of a backtest as CSV files."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_csv(directory: Path, doc: dict[str, Any], runs: Sequence[Any]) -> list[Path]:
    """``equity.csv`` (one column per run), ``trades.csv`` (every leg), ``metrics.csv`` (one row per run)."""
    directory.mkdir(parents=True, exist_ok=True)
    equity, trades, metrics = directory / "equity.csv", directory / "trades.csv", directory / "metrics.csv"
    dates = max((r.dates for r in runs), key=len)
    series = {r.name: dict(zip(r.dates, r.values, strict=True)) for r in runs}
    with equity.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", *series])
        for d in dates:
            w.writerow([d.isoformat(), *(round(s[d], 4) if d in s else "" for s in series.values())])
    with trades.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["strategy", "decided", "date", "asset", "side", "usd", "cost_usd", "gas_usd", "reasons"])
        for r in doc["runs"]:
            for e in r["events"]:
                for t in e["trades"]:
                    w.writerow([r["strategy"], e["decided"], e["date"], t["asset"], t["side"], t["usd"],
                                t["cost_usd"], t["gas_usd"], "; ".join(e["reasons"])])
    rows = [*doc["runs"], *doc["benchmarks"]]
    keys = [k for k in rows[0] if not isinstance(rows[0][k], (list, dict)) and k != "unexecuted_at_end"]
    with metrics.open("w", newline="") as fh:
        dw = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        dw.writeheader()
        for m in rows:
            dw.writerow({k: m.get(k) for k in keys})
    return [equity, trades, metrics]
