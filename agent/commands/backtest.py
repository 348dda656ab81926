"""``rebalancer backtest``: strategies replayed on real daily prices and gas, against buy and hold.

Strategy settings come from the environment / ``.env`` like the agent's (``STRATEGY``, ``TARGETS``, ``BAND_PP``,
``BAND_REL_PCT``, ``ASSET_BANDS_PP``, ``EMERGENCY_BAND_PP``, ``CALENDAR_INTERVAL_HOURS``, ``MIN_TRADE_USD``);
options override them. No chain, RPC or key is needed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table

from agent.commands.render import console, err_console, print_json
from agent.config.settings import Settings, read_environment, settings_error
from agent.errors import ConfigError
from strategies import KNOWN, load_strategy

#: option → the Settings field (and env name) it overrides
OVERRIDES = {"targets": "targets", "band_pp": "band_pp", "emergency_band_pp": "emergency_band_pp",
             "calendar_hours": "calendar_interval_hours", "min_trade_usd": "min_trade_usd"}


def backtest_settings(options: dict[str, Any]) -> Settings:
    """The strategy settings: env / .env, then the options given; ``ConfigError`` naming the field."""
    env = read_environment()
    fields = Settings.model_fields
    values: dict[str, Any] = {k.lower(): v for k, v in env.items() if k.lower() in fields and v != ""}
    values["chains"] = ("backtest",)  # no chain is read
    values.update({OVERRIDES[k]: v for k, v in options.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise settings_error(exc) from None


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a date; write YYYY-MM-DD") from None


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        strategy: str = typer.Option(None, "--strategy", help=f"{' | '.join(KNOWN)}, a comma list, or 'all' "
                                     "(default: STRATEGY)."),
        targets: str = typer.Option(None, "--targets", help="e.g. ETH:40,WBTC:30,USDC:30 (default: TARGETS)."),
        start: str = typer.Option(None, "--from", help="First day, YYYY-MM-DD (default: first day with prices "
                                  "for every target)."),
        end: str = typer.Option(None, "--to", help="Last day, YYYY-MM-DD (default: the last such day)."),
        initial_usd: float = typer.Option(100_000.0, "--initial-usd", min=1, help="Starting value (USD)."),
        fee_bps: float = typer.Option(30.0, "--fee-bps", min=0, max=10_000,
                                      help="LP fee + slippage per swap leg (bps of its notional)."),
        gas_gwei: float = typer.Option(None, "--gas-gwei", min=0, help="A fixed gas price instead of the day's "
                                       "Ethereum average (e.g. 0.01 for an L2)."),
        band_pp: float = typer.Option(None, "--band-pp", min=0, help="Threshold band (default: BAND_PP)."),
        emergency_band_pp: float = typer.Option(None, "--emergency-band-pp", min=0,
                                                help="Default: EMERGENCY_BAND_PP."),
        calendar_hours: float = typer.Option(None, "--calendar-hours", min=1,
                                             help="Calendar period (default: CALENDAR_INTERVAL_HOURS)."),
        min_trade_usd: float = typer.Option(None, "--min-trade-usd", min=0, help="Default: MIN_TRADE_USD."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
        report: Path = typer.Option(None, "--report", help="Also write an HTML report to this file."),
    ) -> None:
        """Replay strategies on real daily prices (with real gas and fees) and compare them with buy and hold."""
        from agent.research.backtest import CostModel, backtest_document, load_prices, run_all

        settings = backtest_settings({"targets": targets, "band_pp": band_pp, "emergency_band_pp": emergency_band_pp,
                                      "calendar_hours": calendar_hours, "min_trade_usd": min_trade_usd})
        names = [s.strip() for s in (strategy or settings.strategy).split(",") if s.strip()]
        names = list(KNOWN) if names == ["all"] else names
        strategies = []
        for name in names:
            try:
                strategies.append(load_strategy(name, settings))
            except ConfigError as exc:
                raise ConfigError(str(exc).replace("STRATEGY:", "--strategy/STRATEGY:", 1)) from None
        table = load_prices(list(settings.targets), _date(start, "--from"), _date(end, "--to"))
        model = CostModel(fee_bps=fee_bps, min_trade_usd=float(settings.min_trade_usd), gas_gwei=gas_gwei)
        runs, hold = run_all(strategies, table, settings.targets, initial_usd=initial_usd, model=model)
        doc = backtest_document(runs, hold, table, settings.targets, model)
        if report is not None:
            from agent.research.report import write_backtest_report

            write_backtest_report(doc, runs, hold, report)
        if json_out:
            print_json(doc)
            return
        t = Table(title=f"Backtest {doc['from']} → {doc['to']} ({doc['days']} days), targets "
                        + ", ".join(f"{s} {p:g}%" for s, p in doc["targets"].items()))
        cols = ("strategy", "final USD", "return %", "CAGR %", "vol %", "max DD %", "Sharpe", "rebalances",
                "trades", "costs USD", "mean max drift pp")
        for c in cols:
            t.add_column(c, justify="left" if c == "strategy" else "right")
        for m in [*doc["runs"], doc["buy_and_hold"]]:
            t.add_row(m["strategy"], f"{m['final_usd']:,.0f}", f"{m['return_pct']:,.1f}", str(m["cagr_pct"]),
                      f"{m['volatility_pct']:.1f}", f"{m['max_drawdown_pct']:.1f}", str(m["sharpe"]),
                      str(m["rebalances"]), str(m["trades"]), f"{m['costs_usd']:,.0f}", f"{m['mean_max_drift_pp']:.2f}")
        console.print(t)
        for r in doc["runs"]:
            if r["events"]:
                e = r["events"][-1]
                err_console.print(f"{r['strategy']}: last rebalance {e['date']}: {'; '.join(e['reasons'])}",
                                  highlight=False)
        if report is not None:
            console.print(f"report written to {report.resolve()}")
