"""``rebalancer bench rpc|execution|gas|structure|backtest|startup|sandbox [--json]``: one JSON object each."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import typer

from agent.commands.render import Table, console, print_json
from agent.errors import ConfigError

BENCHES = ("rpc", "execution", "gas", "structure", "backtest", "startup", "sandbox")


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        name: str = typer.Argument(..., help="rpc | execution | gas | structure | backtest | startup | sandbox"),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object (the default output)."),
        table: bool = typer.Option(False, "--table", help="Also print a short table."),
        trace: Path = typer.Option(None, "--trace", help="gas: your base-fee trace (CSV: base_fee_wei, "
                                   "base_fee_gwei or baseFeePerGas per block; or date,avg_gas_price_wei daily)."),
        deadlines: str = typer.Option(None, "--deadlines", help="gas: deadlines in trace entries, e.g. 25,100 "
                                      "(default: 25,100 per block, 7,14 daily)."),
    ) -> None:
        """Run a benchmark and print its figures as one JSON object."""
        if name not in BENCHES:
            raise typer.BadParameter(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHES)}")
        options = _gas_options(name, trace, deadlines)
        try:
            module = importlib.import_module(f"agent.devtools.bench.{name}")
        except ModuleNotFoundError as exc:
            raise typer.BadParameter(f"benchmark {name!r} is not built yet") from exc
        result = module.run(**options)
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


def _gas_options(name: str, trace: Path | None, deadlines: str | None) -> dict[str, Any]:
    """``bench gas``'s ``--trace``/``--deadlines`` as ``run`` keywords (none for the bundled run)."""
    if name != "gas":
        if trace is not None or deadlines is not None:
            raise ConfigError(f"--trace/--deadlines: only bench gas takes them, not bench {name}; drop them")
        return {}
    out: dict[str, Any] = {}
    if trace is not None:
        out["trace"] = trace
    if deadlines is not None:
        try:
            out["deadlines"] = tuple(dict.fromkeys(int(x) for x in deadlines.split(",")))  # each once
        except ValueError:
            raise ConfigError(f"--deadlines: {deadlines!r} is not a comma list of whole numbers; write e.g. "
                              "--deadlines 25,100") from None
    return out
