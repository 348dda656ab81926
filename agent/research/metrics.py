"""Per-run performance figures from a value series (pure numpy).

Returns are simple per-bar returns; volatility is the population standard deviation × √(bars per year); Sharpe is
the mean excess return over that deviation × √(bars per year), the risk-free rate (``rf_pct``, APY) taken per bar;
Sortino uses the downside deviation (root mean square of the negative excess returns); CAGR is over (n−1) bars;
Calmar is CAGR over the maximum drawdown; the longest drawdown is the most days spent below a previous peak;
turnover per year is the traded notional over the mean value per year; cost drag is the costs paid as % of the
mean value per year.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def drawdowns(values: np.ndarray) -> np.ndarray:
    """1 − value / running peak, per bar."""
    return 1 - values / np.maximum.accumulate(values)


def longest_drawdown_bars(values: np.ndarray) -> int:
    below = values < np.maximum.accumulate(values)
    best = run = 0
    for b in below.tolist():
        run = run + 1 if b else 0
        best = max(best, run)
    return best


def sharpe(rets: np.ndarray, bars_per_year: float, rf_pct: float = 0.0) -> float | None:
    ex = rets - ((1 + rf_pct / 100) ** (1 / bars_per_year) - 1)
    sd = float(np.std(rets))
    return float(np.mean(ex) / sd * np.sqrt(bars_per_year)) if sd > 0 else None


def run_metrics(values: np.ndarray, bars_per_year: float, *, rf_pct: float = 0.0, turnover_usd: float = 0.0,
                costs_usd: float = 0.0) -> dict[str, Any]:
    v = values
    years = (len(v) - 1) / bars_per_year
    rets = v[1:] / v[:-1] - 1
    sd = float(np.std(rets)) if len(rets) > 1 else 0.0
    rf_bar = (1 + rf_pct / 100) ** (1 / bars_per_year) - 1
    ex = rets - rf_bar
    downside = float(np.sqrt(np.mean(np.minimum(ex, 0.0) ** 2))) if len(rets) else 0.0
    mdd = float(drawdowns(v).max())
    cagr = (v[-1] / v[0]) ** (1 / years) - 1 if years > 0 else None
    mean_value = float(np.mean(v))
    s = sharpe(rets, bars_per_year, rf_pct) if len(rets) > 1 else None
    return {
        "initial_usd": round(float(v[0]), 2), "final_usd": round(float(v[-1]), 2),
        "return_pct": round(100 * (float(v[-1]) / float(v[0]) - 1), 2),
        "cagr_pct": round(100 * cagr, 2) if cagr is not None else None,
        "volatility_pct": round(100 * sd * np.sqrt(bars_per_year), 2),
        "max_drawdown_pct": round(100 * mdd, 2),
        "sharpe": round(s, 3) if s is not None else None,
        "sortino": round(float(np.mean(ex)) / downside * float(np.sqrt(bars_per_year)), 3) if downside > 0 else None,
        "calmar": round(cagr / mdd, 3) if cagr is not None and mdd > 0 else None,
        "longest_drawdown_days": round(longest_drawdown_bars(v) * 365 / bars_per_year, 1),
        "turnover_per_year": round(turnover_usd / mean_value / years, 3) if years > 0 else None,
        "cost_drag_pct_per_year": round(100 * costs_usd / mean_value / years, 3) if years > 0 else None,
        "risk_free_pct": rf_pct,
    }
