"""Many paths, not one: start dates, parameter sweeps, block-bootstrap price paths, benchmarks, distributions.

Every strategy variant runs on every path (a start date on the real prices, or a resampled price path) beside the
same benchmarks on the same path; the output is, per variant and benchmark, the share of paths on which the variant
beats it (final value and Sharpe higher, max drawdown lower) and the median, p10 and p90 of the differences.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from agent.errors import ConfigError
from agent.research.engine import Result, Spec
from agent.research.metrics import drawdowns

#: --sweep names → Spec fields (the strategy settings, by their env names too)
SWEEPABLE = {"band_pp": "band_pp", "band_rel_pct": "band_rel_pct", "emergency_band_pp": "emergency_band_pp",
             "calendar_hours": "interval_hours", "calendar_interval_hours": "interval_hours",
             "min_trade_usd": "min_trade_usd", "min_drift_pp": "min_drift_pp"}
BENCHMARKS = ("buy and hold", "monthly calendar", "fixed 5 pp", "BTC only", "equal weight")
MONTH_HOURS = 24 * 30


def benchmarks(targets: Mapping[str, float], btc_column: str | None) -> list[Spec]:
    """Buy and hold, a monthly calendar, fixed 5 pp bands, BTC only (held; not without a BTC column: the user's
    prices may have none) and equal weight (monthly)."""
    t = dict(targets)
    eq = {a: 100 / len(t) for a in t}
    return [Spec("buy and hold", "hold", t), Spec("monthly calendar", "calendar", t, interval_hours=MONTH_HOURS),
            Spec("fixed 5 pp", "threshold", t, band_pp=5.0, band_rel_pct=0.0),
            *([Spec("BTC only", "hold", {btc_column: 100.0})] if btc_column is not None else []),
            Spec("equal weight", "calendar", eq, interval_hours=MONTH_HOURS)]


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """``PARAM=LO:HI:STEP`` → (the Spec field, the values LO, LO+STEP, … ≤ HI)."""
    try:
        name, rng = text.split("=", 1)
        lo, hi, step = (float(x) for x in rng.split(":"))
    except ValueError:
        raise ConfigError(f"--sweep: {text!r} is not PARAM=LO:HI:STEP; write e.g. --sweep band_pp=2:20:0.5") from None
    key = SWEEPABLE.get(name.strip().lower())
    if key is None:
        raise ConfigError(f"--sweep: {name!r} is not a strategy setting; choose one of {', '.join(SWEEPABLE)}")
    if step <= 0 or hi < lo:
        raise ConfigError(f"--sweep: {text!r} needs STEP > 0 and HI ≥ LO")
    n = int(np.floor((hi - lo) / step + 1e-9)) + 1
    return key, [round(lo + i * step, 10) for i in range(n)]


def start_indices(dates: Sequence[date], every: str, min_bars: int) -> list[int]:
    """Bars to start on: the first bar of each month / quarter / year (``monthly``, ``quarterly``, ``yearly``) or
    every N days, each leaving at least ``min_bars`` bars to the end."""
    def key(d: date) -> Any:
        return {"monthly": (d.year, d.month), "quarterly": (d.year, (d.month - 1) // 3),
                "yearly": d.year}[every]
    if every in ("monthly", "quarterly", "yearly"):
        seen, out = set(), []
        for i, d in enumerate(dates):
            if key(d) not in seen:
                seen.add(key(d))
                out.append(i)
    else:
        try:
            days = int(every)
        except ValueError:
            raise ConfigError(f"--starts: {every!r} is not monthly, quarterly, yearly or a number of days") from None
        step = max(1, round(days * len(dates) / max(1, (dates[-1] - dates[0]).days + 1)))
        out = list(range(0, len(dates), step))
    out = [i for i in out if len(dates) - i >= min_bars]
    if not out:
        raise ConfigError(f"--starts: no start leaves {min_bars} bars before the end (the range has {len(dates)}); "
                          "widen --from/--to, or give --prices a longer file")
    return out


def block_bootstrap(closes: np.ndarray, n: int, block: int, seed: int) -> np.ndarray:
    """``n`` price paths (n, bars, assets) from the bars' joint log returns resampled in circular blocks of
    ``block`` bars (cross-asset correlation and short-range dependence kept), each starting at the first closes;
    the same ``seed`` gives the same paths."""
    logs = np.diff(np.log(closes), axis=0)  # (bars-1, assets)
    m = len(logs)
    rng = np.random.default_rng(seed)
    paths = np.empty((n, m + 1, closes.shape[1]))
    for k in range(n):
        starts = rng.integers(0, m, size=-(-m // block))
        idx = ((starts[:, None] + np.arange(block)[None]) % m).ravel()[:m]
        paths[k] = closes[0] * np.exp(np.vstack([np.zeros(closes.shape[1]), np.cumsum(logs[idx], axis=0)]))
    return paths


def path_figures(res: Result, specs: Sequence[Spec], bars_per_year: float) -> list[dict[str, float]]:
    """Final value, Sharpe and max drawdown of every run (over its own window)."""
    out = []
    for r, s in enumerate(specs):
        v = res.values[r, s.start:(s.end % res.values.shape[1]) + 1]
        rets = v[1:] / v[:-1] - 1
        sd = float(np.std(rets))
        out.append({"final": float(v[-1]), "sharpe": float(np.mean(rets) / sd * np.sqrt(bars_per_year)) if sd else 0.0,
                    "mdd": float(drawdowns(v).max())})
    return out


def compare(figs: Sequence[Mapping[str, float]], bench: Sequence[Mapping[str, float]]) -> dict[str, Any]:
    """A variant's paths against a benchmark's same paths: share beating it and the differences' quantiles."""
    out: dict[str, Any] = {"paths": len(figs)}
    for key, better, scale in (("final", 1, 1.0), ("sharpe", 1, 1.0), ("mdd", -1, 100.0)):
        d = np.array([(a[key] - b[key]) for a, b in zip(figs, bench, strict=True)])
        if key == "final":
            d = np.array([100 * (a[key] / b[key] - 1) for a, b in zip(figs, bench, strict=True)])
        name = {"final": "final_value_pct", "sharpe": "sharpe", "mdd": "max_drawdown_pp"}[key]
        out[name] = {"beats_share": round(float(np.mean(better * d > 0)), 3),
                     "median": round(float(np.median(d)) * scale, 3),
                     "p10": round(float(np.percentile(d, 10)) * scale, 3),
                     "p90": round(float(np.percentile(d, 90)) * scale, 3)}
    return out
