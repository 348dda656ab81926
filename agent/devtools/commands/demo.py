"""``rebalancer demo``: sandbox + a replayed real market + the agent; prints a report and writes report.html."""

from __future__ import annotations

from pathlib import Path

import typer

from agent.commands.render import Table, console, err_console, notes


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(report: Path = typer.Option(Path("report.html"), help="Where to write the HTML report."),
             hours: int = typer.Option(96, min=8, help="Hours of real market to replay (one block per hour)."),
             cycle_every: int = typer.Option(4, min=1, help="Run an agent cycle every N hours.")) -> None:
        """Run the agent on the local sandbox across a replayed real market and report what it did."""
        from agent.devtools.demo import run_demo

        rec = run_demo(report_path=report, bars=hours, cycle_every=cycle_every,
                       progress=lambda line: err_console.print(line, highlight=False))
        t = Table(title="Allocation (%)")
        for col in ("asset", "before", "after", "target"):
            t.add_column(col, justify="left" if col == "asset" else "right")
        for asset, target in rec.targets.items():
            t.add_row(asset, f"{rec.before.get(asset, 0):.2f}", f"{rec.after.get(asset, 0):.2f}", f"{target:.2f}")
        console.print(t)
        trades = Table(title=f"Trades — gas paid {rec.gas_paid_usd:.4f} USD")
        for col in ("#", "time", "chain", "pair", "USD", "state", "source", "bps"):
            trades.add_column(col, justify="right" if col in ("USD", "bps") else "left")
        for i, tr in enumerate(rec.trades):
            trades.add_row(str(i), f"{tr.at:%m-%d %H:%M}", tr.chain, f"{tr.sell}→{tr.buy}", f"{tr.amount_usd:,.0f}",
                           tr.state, tr.source or "—", f"{tr.est_impact_bps:.1f}")
        console.print(trades)
        console.print("bps: estimated price impact; why each trade:", highlight=False)
        notes(f"{i}: {tr.reason}" for i, tr in enumerate(rec.trades))
        if rec.value_usd:
            console.print(f"final value {rec.value_usd[-1]:,.2f} USD (buy and hold: {rec.hold_value_usd[-1]:,.2f} USD)")
        console.print(f"report written to {report.resolve()}")
