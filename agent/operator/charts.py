"""Plotly charts for the dashboard, rendered server-side to HTML fragments (plotly.js is served locally)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go

LAYOUT: dict[str, Any] = {"margin": {"l": 50, "r": 20, "t": 40, "b": 40}, "height": 340,
                          "legend": {"orientation": "h", "y": -0.2}, "template": "plotly_white"}


def plotly_js_path() -> Path:
    """The plotly.js bundle shipped inside the plotly package (no CDN: the dashboard works offline)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _html(fig: go.Figure, div_id: str) -> str:
    return str(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                           config={"displaylogo": False, "responsive": True}))


def allocation_chart(assets: list[dict[str, Any]]) -> str:
    symbols = [a["symbol"] for a in assets]
    fig = go.Figure([go.Bar(name="weight %", x=symbols, y=[float(a["weight_pct"]) for a in assets]),
                     go.Bar(name="target %", x=symbols, y=[float(a["target_pct"]) for a in assets])])
    fig.update_layout(title="Allocation vs target", barmode="group", yaxis_title="% of portfolio", **LAYOUT)
    return _html(fig, "chart-allocation")


def drift_chart(history: dict[str, list[tuple[str, float]]]) -> str:
    fig = go.Figure([go.Scatter(name=sym, x=[t for t, _ in pts], y=[d for _, d in pts], mode="lines+markers")
                     for sym, pts in sorted(history.items())])
    fig.update_layout(title="Drift from target (pp)", xaxis_title="time (UTC)", yaxis_title="pp", **LAYOUT)
    fig.update_xaxes(type="date")
    return _html(fig, "chart-drift")


def value_chart(points: list[tuple[str, float]]) -> str:
    fig = go.Figure([go.Scatter(name="portfolio USD", x=[t for t, _ in points], y=[v for _, v in points],
                                mode="lines+markers")])
    fig.update_layout(title="Portfolio value (USD)", xaxis_title="time (UTC)", **LAYOUT)
    fig.update_xaxes(type="date")
    return _html(fig, "chart-value")


def twap_chart(rows: list[dict[str, Any]]) -> str:
    keys = [r["key"][-24:] for r in rows]
    fig = go.Figure([go.Bar(name="chunks done", x=keys, y=[r["done"] for r in rows]),
                     go.Bar(name="chunks planned", x=keys, y=[r["planned"] for r in rows])])
    fig.update_layout(title="Split swaps (TWAP): chunks done / planned", barmode="group", **LAYOUT)
    return _html(fig, "chart-twap")
