"""``rebalancer backtest``: strategies replayed on real daily prices and gas, against buy and hold.

Strategy settings come from the environment / ``.env`` like the agent's (``STRATEGY``, ``TARGETS``, ``BAND_PP``,
``BAND_REL_PCT``, ``ASSET_BANDS_PP``, ``EMERGENCY_BAND_PP``, ``CALENDAR_INTERVAL_HOURS``, ``MIN_TRADE_USD``);
options override them. No chain, RPC or key is needed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agent.commands.render import Table, console, err_console, print_json
from agent.errors import ConfigError

if TYPE_CHECKING:  # the CLI starts without web3: what a command needs is imported when it runs
    from agent.config.settings import Settings

#: the names in strategies.KNOWN, spelled out so --help needs no import of the strategies (a test checks them)
STRATEGY_NAMES = ("threshold", "calendar", "hybrid", "vol_bands", "regime", "dynamic")

#: option → the Settings field (and env name) it overrides
OVERRIDES = {"targets": "targets", "band_pp": "band_pp", "emergency_band_pp": "emergency_band_pp",
             "calendar_hours": "calendar_interval_hours", "min_trade_usd": "min_trade_usd"}


def backtest_settings(options: dict[str, Any]) -> Settings:
    """The strategy settings: env / .env, then the options given; ``ConfigError`` naming the field."""
    from pydantic import ValidationError

    from agent.config.settings import Settings, read_environment, settings_error

    env = read_environment()
    fields = Settings.env_names()
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
    app.command()(backtest)


def backtest(
    strategy: str = typer.Option(None, "--strategy", help=f"{' | '.join(STRATEGY_NAMES)}, a comma list, or 'all' "
                                 "(default: STRATEGY)."),
    targets: str = typer.Option(None, "--targets", help="e.g. ETH:40,WBTC:30,USDC:30 (default: TARGETS)."),
    start: str = typer.Option(None, "--from", help="First day, YYYY-MM-DD (default: first day with prices "
                              "for every target)."),
    end: str = typer.Option(None, "--to", help="Last day, YYYY-MM-DD (default: the last such day)."),
    initial_usd: float = typer.Option(100_000.0, "--initial-usd", min=1, help="Starting value (USD)."),
    interval: str = typer.Option(None, "--interval", help="1d (daily closes, 10 assets) or 1h (hourly BTC/ETH "
                                 "bars 2018-05 → 2022-02); default 1d, or with --prices the file's."),
    stable_price: str = typer.Option("peg", "--stable-price", help="peg: stablecoins at 1 USD; market: the "
                                     "data's noisy daily close."),
    chain: str = typer.Option("ethereum", "--chain", help="Chain whose route fees and gas price the legs."),
    fee_bps: float = typer.Option(None, "--fee-bps", min=0, max=10_000, help="A flat LP fee + slippage per "
                                  "leg instead of each asset's route fee on --chain."),
    depth_usd: str = typer.Option(None, "--depth-usd", help="Pool depth per asset for price impact, e.g. "
                                  "WETH:20000000,WBTC:10000000 (default: no impact)."),
    gas_gwei: float = typer.Option(None, "--gas-gwei", min=0, help="A fixed gas price instead of the day's "
                                   "Ethereum average (e.g. 0.01 for an L2)."),
    stable_apy: float = typer.Option(0.0, "--stable-apy", min=0, help="Yield on the stables held (APY %)."),
    risk_free: float = typer.Option(0.0, "--risk-free-pct", help="Risk-free rate (APY %) for Sharpe/Sortino."),
    band_pp: float = typer.Option(None, "--band-pp", min=0, help="Threshold band (default: BAND_PP)."),
    emergency_band_pp: float = typer.Option(None, "--emergency-band-pp", min=0, help="Default: EMERGENCY_BAND_PP."),
    calendar_hours: float = typer.Option(None, "--calendar-hours", min=1,
                                         help="Calendar period (default: CALENDAR_INTERVAL_HOURS)."),
    min_trade_usd: float = typer.Option(None, "--min-trade-usd", min=0, help="Default: MIN_TRADE_USD."),
    starts: str = typer.Option(None, "--starts", help="Also run from many start dates: monthly, quarterly, "
                               "yearly or every N days."),
    sweep: list[str] = typer.Option([], "--sweep", help="PARAM=LO:HI:STEP over a strategy setting (repeatable),"
                                    " e.g. band_pp=2:20:1."),
    bootstrap: int = typer.Option(0, "--bootstrap", min=0, help="Also run on N block-bootstrap price paths."),
    block_days: int = typer.Option(30, "--block-days", min=1, help="Bootstrap block length (bars)."),
    seed: int = typer.Option(16, "--seed", help="Bootstrap seed (same seed, same paths)."),
    walk_forward: str = typer.Option(None, "--walk-forward", help="TRAIN:TEST days: choose the best variant on "
                                     "each trailing window, score it on the next."),
    workers: int = typer.Option(1, "--workers", min=1, help="Local processes for the multi-path runs."),
    cluster: str = typer.Option(None, "--cluster", help="Dask scheduler address for the multi-path runs."),
    evaluate: bool = typer.Option(False, "--evaluate", help="Run every strategy family's evaluation (several "
                                  "mixes, yearly starts, walk-forward, deflated Sharpe) and print the cards."),
    write: Path = typer.Option(None, "--write", help="With --evaluate: write the cards (Markdown) to this file, "
                               "e.g. docs/strategies.md."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    report: Path = typer.Option(None, "--report", help="Also write an HTML tear sheet to this file."),
    csv_dir: Path = typer.Option(None, "--csv", help="Also export equity curves, trades and metrics here."),
    prices: Path = typer.Option(None, "--prices", help="Your own closes (CSV: date,asset,close rows or "
                                "date,BTC,ETH columns; daily or hourly) instead of the bundled data."),
    fill_gaps: str = typer.Option(None, "--fill-gaps", help="With --prices: 'forward' carries the last close "
                                  "over missing bars (default: a gap is an error)."),
) -> None:
    """Replay strategies on real prices (with the live cost model) beside buy and hold and other benchmarks."""
    if evaluate or write is not None:
        _no_prices_file(prices, fill_gaps)
        _evaluate(write, json_out, fee_bps, gas_gwei, chain, _date(end, "--to"))
        return
    settings = _checked_settings(report, csv_dir, {
        "targets": targets, "band_pp": band_pp, "emergency_band_pp": emergency_band_pp,
        "calendar_hours": calendar_hours, "min_trade_usd": min_trade_usd})
    model = _model(fee_bps, settings, gas_gwei, chain, depth_usd, stable_apy)
    study = {"starts": starts, "sweeps": tuple(sweep), "bootstrap": bootstrap, "block_bars": block_days, "seed": seed,
             "walk_forward": walk_forward, "workers": workers, "cluster": cluster}
    data = {"interval": interval if prices is not None else interval or "1d", "stable_price": stable_price,
            "prices": prices, "fill_gaps": fill_gaps}
    doc, runs, hold, bench = _run(settings, model, strategy, (start, end), initial_usd, risk_free, data=data,
                                  study=study)
    _write_files(doc, runs, hold, bench, report=report, csv_dir=csv_dir)
    _show(doc, report, json_out=json_out)


def _checked_settings(report: Path | None, csv_dir: Path | None, options: dict[str, Any]) -> Settings:
    """Fail before computing when an output cannot be written; then the strategy settings (``backtest_settings``)."""
    from agent.research.job import check_outputs

    check_outputs(report, csv_dir)
    return backtest_settings(options)


def _run(settings: Settings, model: Any, strategy: str | None, days: tuple[str | None, str | None],
         initial_usd: float, risk_free: float, *, data: dict[str, Any],
         study: dict[str, Any]) -> tuple[dict[str, Any], list[Any], Any, list[Any]]:
    """The backtest job of the options (strategies, days, cost model, price data, study), run: (document, runs,
    hold, bench). ``data``: interval, stable_price, prices (a user's file or None) and fill_gaps."""
    from agent.research.job import Job, run_job
    from agent.research.study import StudyOptions

    start, end = days
    return run_job(Job(_strategies(strategy, settings), settings.targets, _date(start, "--from"), _date(end, "--to"),
                       initial_usd, model, rf_pct=risk_free, tax_method=settings.strategy.lot_method,
                       study=StudyOptions(**study), **data))


def _write_files(doc: dict[str, Any], runs: list[Any], hold: Any, bench: list[Any], *, report: Path | None,
                 csv_dir: Path | None) -> None:
    """The HTML tear sheet (``--report``) and the CSV export (``--csv``), when asked for."""
    if report is not None:
        from agent.research.report import write_backtest_report

        write_backtest_report(doc, runs, hold, report, benchmarks=bench)
    if csv_dir is not None:
        from agent.research.export import write_csv

        write_csv(csv_dir, doc, [*runs, hold, *bench])


def _show(doc: dict[str, Any], report: Path | None, *, json_out: bool) -> None:
    """The warnings (stderr), then the JSON document or the tables."""
    for w in doc["warnings"]:
        err_console.print(f"warning: {w}", highlight=False)
    if json_out:
        print_json(doc)
        return
    _print(doc, report)


def _no_prices_file(prices: Path | None, fill_gaps: str | None) -> None:
    if prices is not None or fill_gaps is not None:
        raise ConfigError("--evaluate: the evaluation cards run on the bundled prices only (fixed mixes from "
                          "2018-10-08); drop --prices/--fill-gaps, or run backtest --prices with --starts/--sweep/"
                          "--bootstrap/--walk-forward")


def _evaluate(write: Path | None, json_out: bool, fee_bps: float | None, gas_gwei: float | None, chain: str,
              to: date | None) -> None:
    from agent.research.backtest import CostModel
    from agent.research.cards import render
    from agent.research.evaluate import evaluate

    if write is not None and not write.parent.resolve().is_dir():
        raise ConfigError(f"--write: directory {write.parent} does not exist; create it or choose another path")
    doc = evaluate(CostModel(fee_bps=fee_bps, gas_gwei=gas_gwei, chain=chain), to,
                   progress=lambda m: err_console.print(f"evaluate: {m}", highlight=False))
    if json_out:
        print_json(doc)
    text = render(doc)
    if write is not None:
        write.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {write}", highlight=False)
    elif not json_out:
        console.print(text, highlight=False, markup=False)


def _model(fee_bps: float | None, settings: Settings, gas_gwei: float | None, chain: str,
           depth_usd: str | None, apy: float) -> Any:
    from agent.research.backtest import CostModel
    from agent.research.job import parse_depths

    depths = parse_depths(depth_usd)
    return CostModel(fee_bps=fee_bps, min_trade_usd=float(settings.strategy.min_trade_usd), gas_gwei=gas_gwei,
                     chain=chain, depth_usd=depths, stable_apy_pct=apy)


def _strategies(strategy: str | None, settings: Settings) -> list[Any]:
    from strategies import KNOWN, load_strategy

    names = [s.strip() for s in (strategy or settings.strategy.name).split(",") if s.strip()]
    names = list(KNOWN) if names == ["all"] else names
    out = []
    for name in names:
        try:
            out.append(load_strategy(name, settings.strategy))
        except ConfigError as exc:
            raise ConfigError(str(exc).replace("STRATEGY:", "--strategy/STRATEGY:", 1)) from None
    return out


def _fig(v: Any) -> str:
    """A ratio or percentage cell: two decimals (None: —)."""
    return "—" if v is None else f"{float(v):.2f}"


def _print(doc: dict[str, Any], report: Path | None) -> None:
    console.print(f"Backtest {doc['from']} → {doc['to']} ({doc['bars']} bars, {doc['interval']}), targets "
                  + ", ".join(f"{s} {p:g}%" for s, p in doc["targets"].items()), highlight=False, markup=False)
    if doc.get("prices", {}).get("file"):  # the user's own closes (--prices), not the bundled data set
        filled = ", gaps filled forward" if doc["prices"].get("fill_gaps") else ""
        console.print(f"prices: {doc['prices']['source']} ({doc['prices']['rows_read']:,} rows read{filled})",
                      highlight=False, markup=False)
    rows = [*doc["runs"], *doc["benchmarks"]]
    # two compact tables (80 columns): returns and risk, then trading and drift
    t = Table(title="Returns and risk")
    for c in ("strategy", "final USD", "return %", "CAGR %", "vol %", "max DD %", "Sharpe", "Sortino"):
        t.add_column(c, justify="left" if c == "strategy" else "right")
    for m in rows:
        t.add_row(m["strategy"], f"{m['final_usd']:,.0f}", f"{m['return_pct']:,.1f}", _fig(m["cagr_pct"]),
                  f"{m['volatility_pct']:.1f}", f"{m['max_drawdown_pct']:.1f}", _fig(m["sharpe"]), _fig(m["sortino"]))
    console.print(t)
    t = Table(title="Trading")
    for c in ("strategy", "rebalances", "trades", "costs USD", "mean max drift pp"):
        t.add_column(c, justify="left" if c == "strategy" else "right")
    for m in rows:
        t.add_row(m["strategy"], str(m["rebalances"]), str(m["trades"]), f"{m['costs_usd']:,.0f}",
                  f"{m['mean_max_drift_pp']:.2f}")
    console.print(t)
    for m in [*doc["runs"], doc.get("buy_and_hold", {})]:
        tax = m.get("after_tax")
        if tax:
            console.print(f"after tax ({tax['method']} lots, {tax['short_rate']:.0%}/{tax['long_rate']:.0%}): "
                          f"{m['strategy']} pays {tax['tax_usd']:,.0f}, final {tax['final_after_tax_usd']:,.0f}, "
                          f"liquidated {tax['liquidation_after_tax_usd']:,.0f}", highlight=False)
    for r in doc["runs"]:
        if r["events"]:
            e = r["events"][-1]
            err_console.print(f"{r['strategy']}: last rebalance {e['date']}: {'; '.join(e['reasons'])}",
                              highlight=False)
    if "study" in doc:
        console.print(doc["study"]["luck"]["verdict"], highlight=False)
    if report is not None:
        console.print(f"report written to {report.resolve()}")
