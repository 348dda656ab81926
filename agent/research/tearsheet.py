"""The backtest tear sheet (``--report FILE.html``): plotly charts in one self-contained page.

Equity of every strategy against the benchmarks (log scale), drawdowns, rolling one-year Sharpe, the first
strategy's weights against its targets, its monthly returns as a heat map, the outcome distribution across paths
(with ``--starts``/``--bootstrap``), the metrics table and every rebalance with its reasons. Dates on the x axes;
legends sit under each chart so long names fit.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0, "font": {"size": 11}}
KEYS = ("strategy", "final_usd", "cagr_pct", "volatility_pct", "max_drawdown_pct", "sharpe", "sortino", "calmar",
        "longest_drawdown_days", "rebalances", "turnover_per_year", "costs_usd", "cost_drag_pct_per_year")


def _x(dates: Sequence[date]) -> list[str]:
    return [d.isoformat()[:16] for d in dates]


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    if kw.get("xaxis_title") == "date":
        kw.setdefault("xaxis_type", "date")  # a time axis, whatever plotly would guess from the strings
    fig.update_layout(title=title, height=420, margin={"l": 60, "r": 20, "t": 50, "b": 110}, legend=LEGEND,
                      template="plotly_white", **kw)
    return fig


def _rolling_sharpe(values: np.ndarray, window: int, per_year: float) -> np.ndarray:
    rets = values[1:] / values[:-1] - 1
    out = np.full(len(values), np.nan)
    if len(rets) < window:
        return out
    c1 = np.concatenate([[0], np.cumsum(rets)])
    c2 = np.concatenate([[0], np.cumsum(rets ** 2)])
    m = (c1[window:] - c1[:-window]) / window
    sd = np.sqrt(np.maximum((c2[window:] - c2[:-window]) / window - m * m, 0))
    out[window:] = np.where(sd > 0, m / np.where(sd > 0, sd, 1) * np.sqrt(per_year), np.nan)
    return out


def _monthly(dates: Sequence[date], values: Sequence[float]) -> go.Figure:
    last: dict[tuple[int, int], float] = {}
    for d, v in zip(dates, values, strict=True):
        last[(d.year, d.month)] = v
    keys = sorted(last)
    years = sorted({y for y, _ in keys})
    z = np.full((len(years), 12), np.nan)
    prev = values[0]
    for y, m in keys:
        z[years.index(y), m - 1] = 100 * (last[(y, m)] / prev - 1)
        prev = last[(y, m)]
    fig = go.Figure(go.Heatmap(z=z, x=["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"], y=[str(y) for y in years], colorscale="RdYlGn", zmid=0,
                               colorbar={"title": "%"}, hovertemplate="%{y} %{x}: %{z:.1f}%<extra></extra>"))
    return fig


def figures(doc: dict[str, Any], runs: Sequence[Any], hold: Any, benchmarks: Sequence[Any]) -> list[go.Figure]:
    lines = [*runs, hold, *benchmarks]
    per_year = runs[0].bars_per_year
    eq, dd, rs = go.Figure(), go.Figure(), go.Figure()
    for r in lines:
        v = np.asarray(r.values)
        x = _x(r.dates)
        dash = None if r in runs else "dot"
        eq.add_trace(go.Scatter(x=x, y=v, name=r.name, mode="lines", line={"dash": dash}))
        dd.add_trace(go.Scatter(x=x, y=-100 * (1 - v / np.maximum.accumulate(v)), name=r.name, mode="lines",
                                line={"dash": dash}))
        rs.add_trace(go.Scatter(x=x, y=_rolling_sharpe(v, int(per_year), per_year), name=r.name, mode="lines",
                                line={"dash": dash}))
    figs = [_layout(eq, "Equity (USD, log scale)", yaxis_type="log", xaxis_title="date", yaxis_title="USD"),
            _layout(dd, "Drawdown (%)", xaxis_title="date", yaxis_title="% below the peak"),
            _layout(rs, "Rolling one-year Sharpe", xaxis_title="date", yaxis_title="Sharpe")]
    w = go.Figure()
    colors = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")
    for k, (sym, series) in enumerate(runs[0].weights.items()):
        color = colors[k % len(colors)]
        w.add_trace(go.Scatter(x=_x(runs[0].dates), y=series, name=f"{sym} (target {doc['targets'][sym]:g}%)",
                               mode="lines", line={"color": color}))
        w.add_hline(y=float(doc["targets"][sym]), line={"color": color, "dash": "dash", "width": 1})
    figs.append(_layout(w, f"{runs[0].name}: weights (%)", xaxis_title="date", yaxis_title="%"))
    figs.append(_layout(_monthly(runs[0].dates, runs[0].values),
                        f"{runs[0].name}: monthly returns (%)", xaxis_title="month", yaxis_title="year"))
    finals = doc.get("study", {}).get("path_finals")
    if finals:
        box = go.Figure()
        for name, vals in finals.items():
            box.add_trace(go.Box(y=vals, name=name, boxpoints="outliers"))
        figs.append(_layout(box, f"Final value across {doc['study']['paths']} paths (USD, log scale)",
                            yaxis_type="log", showlegend=False, yaxis_title="USD"))
    return figs


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(doc: dict[str, Any], runs: Sequence[Any], hold: Any, benchmarks: Sequence[Any]) -> str:
    figs = figures(doc, runs, hold, benchmarks)
    charts = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs)]
    metrics = [[m.get(k) for k in KEYS] for m in [*doc["runs"], *doc["benchmarks"]]]
    events = [[r["strategy"], e["decided"], e["date"], "; ".join(e["reasons"]),
               ", ".join(f"{t['side']} {t['asset']} {t['usd']:,.0f} (cost {t['cost_usd']:,.2f})" for t in e["trades"]),
               "; ".join(e["skipped"])] for r in doc["runs"] for e in r["events"]]
    luck = doc.get("study", {}).get("luck", {}).get("verdict", "")
    taxed = [[m["strategy"], m["after_tax"]["method"], m["after_tax"]["short_term_gain_usd"],
              m["after_tax"]["long_term_gain_usd"], m["after_tax"]["tax_usd"], m["final_usd"],
              m["after_tax"]["final_after_tax_usd"], m["after_tax"]["liquidation_after_tax_usd"]]
             for m in [*doc["runs"], doc.get("buy_and_hold", {})] if m.get("after_tax")]
    title = f"Backtest {doc['from']} → {doc['to']}"
    warn = "".join(f"<p class=w>warning: {html.escape(w)}</p>" for w in doc["warnings"])
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1100px}}
table{{border-collapse:collapse;font-size:12px;margin:8px 0}}td,th{{border:1px solid #ccc;padding:3px 6px}}
th{{background:#f3f3f3}}.w{{color:#a40}}</style></head><body>
<h1>{html.escape(title)}</h1>{warn}
<p>{doc['bars']} bars ({doc['interval']}) of {html.escape(_source(doc['prices']))};
stables: {doc['prices']['stable_price']}; fees: {html.escape(str(doc['costs']['fee_bps']))};
gas: {html.escape(str(doc['costs']['gas_gwei']))}.</p>
<p>{html.escape(luck)}</p>
<div style="overflow-x:auto">{_table(KEYS, metrics)}</div>
<h2>After tax</h2><p>Through the agent's tax lots (agent/research/aftertax.py): realised gains taxed per year at
37 % short-term / 20 % long-term, losses carried forward; <i>liquidation</i> also pays the tax on what is unrealised
at the end.</p>
{_table(["strategy", "lots", "short-term gain", "long-term gain", "tax", "final", "final after tax",
         "liquidation after tax"], taxed)}
{"".join(f"<div>{c}</div>" for c in charts)}
<h2>Rebalances</h2>{_table(["strategy", "decided", "traded", "why", "trades", "skipped"], events)}
</body></html>
"""


def write(doc: dict[str, Any], runs: Sequence[Any], hold: Any, path: Path, *, benchmarks: Sequence[Any] = ()) -> Path:
    path.write_text(render(doc, runs, hold, benchmarks))
    return path


def _source(prices: dict[str, Any]) -> str:
    """The data's file name; a user's file (``--prices``) with the rows read from it."""
    rows = prices.get("rows_read")
    return prices["source"] if rows is None else f"{prices['source']} ({rows:,} rows read)"
