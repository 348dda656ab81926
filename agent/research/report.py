"""The demo's report: a terminal summary and a self-contained ``report.html`` with inline SVG charts.

Pure rendering from a ``DemoRecord`` (no I/O besides writing the file): no JavaScript, no external assets.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

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


def svg_lines(series: dict[str, list[float]], *, width: int = 860, height: int = 220, title: str = "",
              hlines: dict[str, float] | None = None, unit: str = "") -> str:
    """A small multi-line chart (one polyline per series, shared y axis, optional dashed reference lines)."""
    values = [v for s in series.values() for v in s] + list((hlines or {}).values())
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        hi = lo + 1
    pad, n = 40, max(len(s) for s in series.values())

    def xy(i: int, v: float) -> str:
        x = pad + (width - 2 * pad) * (i / max(1, n - 1))
        y = height - pad + (2 * pad - height) * ((v - lo) / (hi - lo))
        return f"{x:.1f},{y:.1f}"

    parts = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">',
             f'<text x="{pad}" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>',
             f'<text x="2" y="{pad}" font-size="10">{hi:,.2f}{unit}</text>',
             f'<text x="2" y="{height - pad}" font-size="10">{lo:,.2f}{unit}</text>']
    for k, (name, level) in enumerate((hlines or {}).items()):
        y = xy(0, level).split(",")[1]
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y}" y2="{y}" stroke="{PALETTE[k % 6]}" '
                     f'stroke-dasharray="4 3" stroke-width="1"><title>{html.escape(name)}</title></line>')
    for k, (name, s) in enumerate(series.items()):
        pts = " ".join(xy(i, v) for i, v in enumerate(s))
        color = PALETTE[k % len(PALETTE)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{pts}"/>')
        parts.append(f'<text x="{width - pad + 4}" y="{30 + 14 * k}" font-size="11" fill="{color}">'
                     f'{html.escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(rec: DemoRecord) -> str:
    alloc_rows = [[a, f"{rec.before.get(a, 0):.2f}", f"{rec.after.get(a, 0):.2f}", f"{t:.2f}"]
                  for a, t in rec.targets.items()]
    trade_rows = [[t.at.strftime("%Y-%m-%d %H:%M"), t.chain, t.kind, f"{t.sell}→{t.buy}", f"{t.amount_usd:,.2f}",
                   t.state, t.source, f"{t.est_impact_bps:.1f}", f"{t.gas_paid_usd:.4f}", t.reason, t.note]
                  for t in rec.trades]
    first_price = {a: s[0] for a, s in rec.prices.items() if s}
    norm = {f"{a} (×{s[0]:,.0f})": [v / first_price[a] for v in s] for a, s in rec.prices.items() if s}
    charts = [
        svg_lines(norm, title="Reference prices replayed from real data (relative to start)"),
        svg_lines(rec.weights, title="Portfolio weights (%) vs targets (dashed)", hlines=rec.targets, unit="%"),
        svg_lines({"rebalanced": rec.value_usd, "buy and hold": rec.hold_value_usd},
                  title="Portfolio value (USD)"),
        svg_lines({"base fee": rec.base_fee_gwei}, title="Base fee replayed from a real per-block trace (gwei)"),
    ]
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in rec.notes)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(rec.title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1000px}}
table{{border-collapse:collapse;font-size:12px;margin:8px 0}}td,th{{border:1px solid #ccc;padding:3px 6px}}
th{{background:#f3f3f3}}</style></head><body>
<h1>{html.escape(rec.title)}</h1>
<p>Total gas paid: {rec.gas_paid_usd:.4f} USD over {len(rec.trades)} transactions'
 actions; final value {rec.value_usd[-1] if rec.value_usd else 0:,.2f} USD
 (buy and hold: {rec.hold_value_usd[-1] if rec.hold_value_usd else 0:,.2f} USD).</p>
<h2>Allocation (%)</h2>{_table(["asset", "before", "after", "target"], alloc_rows)}
{"".join(f"<div>{c}</div>" for c in charts)}
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
