"""``rebalancer bench rpc|execution|gas|structure|backtest|startup|sandbox [--json]``: one JSON object each."""

from __future__ import annotations

import importlib

import typer

from agent.commands.render import Table, console, print_json

BENCHES = ("rpc", "execution", "gas", "structure", "backtest", "startup", "sandbox")


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        name: str = typer.Argument(..., help="rpc | execution | gas | structure | backtest | startup | sandbox"),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object (the default output)."),
        table: bool = typer.Option(False, "--table", help="Also print a short table."),
    ) -> None:
        """Run a benchmark and print its figures as one JSON object."""
        if name not in BENCHES:
            raise typer.BadParameter(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHES)}")
        try:
            module = importlib.import_module(f"agent.devtools.bench.{name}")
        except ModuleNotFoundError as exc:
            raise typer.BadParameter(f"benchmark {name!r} is not built yet") from exc
        result = module.run()
        if table:
            t = Table(title=f"bench {name}")
            t.add_column("figure")
            t.add_column("value", justify="right")
            for k, v in result.items():
                if not isinstance(v, (list, dict)):
                    t.add_row(k, str(v))
            console.print(t)
        if json_out or not table:
            print_json(result)
