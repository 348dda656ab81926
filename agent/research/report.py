"""The demo's report: a terminal summary and a self-contained ``report.html`` with plotly charts.

Pure rendering from a ``DemoRecord`` (no I/O besides writing the file): plotly.js is inlined once, nothing is
fetched. Every chart has dates on its x axis and its legend under it; a log axis where values span decades.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


@dataclass
class TradeRow:
    at: datetime
    chain: str
    kind: str
    sell: str
    buy: str
    amount_usd: float
    state: str
    source: str
    reason: str
    gas_paid_usd: float
    est_impact_bps: float
    tx_hash: str = ""
    note: str = ""


@dataclass
class DemoRecord:
    """Everything the demo observed, hour by hour."""

    title: str
    targets: dict[str, float]
    times: list[datetime] = field(default_factory=list)
    prices: dict[str, list[float]] = field(default_factory=dict)  # asset -> reference USD price per tick
    weights: dict[str, list[float]] = field(default_factory=dict)  # asset -> weight % per tick
    value_usd: list[float] = field(default_factory=list)
    hold_value_usd: list[float] = field(default_factory=list)  # the starting holdings, never rebalanced
    base_fee_gwei: list[float] = field(default_factory=list)
    trades: list[TradeRow] = field(default_factory=list)
    decisions: list[tuple[datetime, bool, str]] = field(default_factory=list)
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def gas_paid_usd(self) -> float:
        return sum(t.gas_paid_usd for t in self.trades)


#: legends go under each chart, in rows, so long names fit at any width (plotly wraps horizontal legends)
LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "font": {"size": 11}}
#: values spanning at least this ratio (max/min, all positive: a decade) are drawn on a log axis
LOG_RATIO = 10.0


def spans_decades(values: Sequence[float]) -> bool:
    """Whether positive values span enough orders of magnitude to need a log axis (``LOG_RATIO``)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) >= LOG_RATIO


def line_chart(times: Sequence[datetime], series: dict[str, list[float]], *, title: str, ytitle: str,
               hlines: dict[str, float] | None = None, marks: Sequence[datetime] = (), log: bool | None = None) -> Any:
    """A plotly line chart on a date axis: one line per series, dashed reference levels (``hlines``), dotted
    vertical marks (``marks``: when the agent traded); a log y axis when the values span decades (``log``: None),
    or as ``log`` says (weights in % stay linear)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for k, (name, ys) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=list(times[:len(ys)]), y=ys, name=name, mode="lines",
                                 line={"color": PALETTE[k % len(PALETTE)], "width": 1.8}))
    for k, (name, level) in enumerate((hlines or {}).items()):
        fig.add_trace(go.Scatter(x=[times[0], times[-1]], y=[level, level], name=name, mode="lines",
                                 line={"color": PALETTE[k % len(PALETTE)], "dash": "dash", "width": 1}))
    for t in sorted(set(marks)):
        fig.add_vline(x=t, line={"color": "#999", "dash": "dot", "width": 1})
    log = spans_decades([v for ys in series.values() for v in ys]) if log is None else log
    fig.update_layout(title=title, height=380, template="plotly_white", legend=LEGEND,
                      margin={"l": 70, "r": 20, "t": 50, "b": 110},
                      xaxis={"title": "time (UTC)", "type": "date", "tickformat": "%b %d\n%H:%M"},
                      yaxis={"title": ytitle + (" (log scale)" if log else ""), "type": "log" if log else "linear"})
    return fig


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def demo_figures(rec: DemoRecord) -> list[Any]:
    """The demo's charts, every one on the time axis of the replay: prices, weights against targets (from before
    the first cycle), value against buy and hold, the base fee; dotted marks when the agent traded."""
    if not rec.times:
        return []
    marks = [t.at for t in rec.trades]
    prices = {f"{a} (USD)": s for a, s in rec.prices.items() if s}
    return [
        line_chart(rec.times, prices, title="Reference prices replayed from real data", ytitle="USD"),
        line_chart(rec.times, rec.weights, title="Portfolio weights vs targets (dashed); dotted: trades",
                   ytitle="weight %", hlines={f"{a} target {t:g}%": t for a, t in rec.targets.items()}, marks=marks,
                   log=False),
        line_chart(rec.times, {"rebalanced": rec.value_usd, "buy and hold": rec.hold_value_usd},
                   title="Portfolio value", ytitle="USD", marks=marks),
        line_chart(rec.times, {"base fee": rec.base_fee_gwei}, title="Base fee replayed from a real per-block trace",
                   ytitle="gwei"),
    ]


def render_html(rec: DemoRecord) -> str:
    alloc_rows = [[a, f"{rec.before.get(a, 0):.2f}", f"{rec.after.get(a, 0):.2f}", f"{t:.2f}"]
                  for a, t in rec.targets.items()]
    trade_rows = [[t.at.strftime("%Y-%m-%d %H:%M"), t.chain, t.kind, f"{t.sell}→{t.buy}", f"{t.amount_usd:,.2f}",
                   t.state, t.source, f"{t.est_impact_bps:.1f}", f"{t.gas_paid_usd:.4f}", t.reason, t.note]
                  for t in rec.trades]
    figs = demo_figures(rec)
    charts = [f.to_html(full_html=False, include_plotlyjs=(i == 0), config={"responsive": True})
              for i, f in enumerate(figs)]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in rec.notes)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(rec.title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1100px}}
table{{border-collapse:collapse;font-size:12px;margin:8px 0}}td,th{{border:1px solid #ccc;padding:3px 6px}}
th{{background:#f3f3f3}}</style></head><body>
<h1>{html.escape(rec.title)}</h1>
<p>Total gas paid: {rec.gas_paid_usd:.4f} USD over {len(rec.trades)} actions;
 final value {rec.value_usd[-1] if rec.value_usd else 0:,.2f} USD
 (buy and hold: {rec.hold_value_usd[-1] if rec.hold_value_usd else 0:,.2f} USD).</p>
<h2>Allocation (%)</h2>{_table(["asset", "before", "after", "target"], alloc_rows)}
{"".join(f"<div class=chart>{c}</div>" for c in charts)}
<h2>Trades</h2>{_table(["time", "chain", "kind", "pair", "USD", "state", "source", "impact bps", "gas USD",
                         "reason", "note"], trade_rows)}
<h2>Notes</h2><ul>{notes}</ul>
</body></html>
"""


def write_report(rec: DemoRecord, path: Path) -> Path:
    path.write_text(render_html(rec))
    return path


def write_backtest_report(doc: dict, runs: list, hold: object, path: Path,
                          benchmarks: list | None = None) -> Path:
    """The backtest's tear sheet (plotly): ``agent.research.tearsheet``."""
    from agent.research.tearsheet import write

    return write(doc, runs, hold, path, benchmarks=benchmarks or [])
