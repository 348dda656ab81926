"""One ``rebalancer backtest`` invocation: load, run the strategies beside the benchmarks, and any multi-path study."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.planning.lots import LotMethod
from agent.research.backtest import CostModel, Run, backtest_document, build_market, engine_costs, run_all, spec_for
from agent.research.data import ClosesShort, PriceTable, file_closes, load_prices, price_symbol
from agent.research.paths import benchmarks
from agent.research.study import StudyOptions, study
from agent.research.userprices import AssetsMissing


@dataclass(frozen=True)
class Job:
    strategies: Sequence[Any]
    targets: Mapping[str, Decimal]
    start: date | None
    end: date | None
    initial_usd: float
    model: CostModel
    interval: str | None = "1d"
    stable_price: str = "peg"
    rf_pct: float = 0.0
    study: StudyOptions = field(default_factory=StudyOptions)
    #: the tax lots' method for the after-tax figures (TAX_LOT_METHOD)
    tax_method: str = "fifo"
    #: the user's closes (``--prices``) instead of the bundled file; with it, ``interval`` None is the file's
    prices: Path | None = None
    #: ``--fill-gaps forward``: carry the last close over the file's missing bars
    fill_gaps: str | None = None


def parse_depths(text: str | None) -> dict[str, float]:
    """``SYMBOL:USD,…`` → {symbol: depth}; ``ConfigError`` naming ``--depth-usd``."""
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        try:
            sym, usd = part.split(":")
            out[sym.strip()] = float(usd)
            if out[sym.strip()] <= 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"--depth-usd: {part!r} is not SYMBOL:USD with USD > 0; write e.g. "
                              "--depth-usd WETH:20000000,WBTC:10000000") from None
    return out


def check_outputs(report: Path | None, csv_dir: Path | None) -> None:
    """Fail before computing when an output cannot be written."""
    if report is not None and not report.parent.resolve().is_dir():
        raise ConfigError(f"--report: directory {report.parent} does not exist; create it or choose another path")
    if csv_dir is not None and csv_dir.exists() and not csv_dir.is_dir():
        raise ConfigError(f"--csv: {csv_dir} is a file; give a directory")


def btc_column(targets: Mapping[str, Any]) -> str:
    return next((s for s in targets if price_symbol(s) == "BTC"), "BTC")


def _load(job: Job) -> tuple[PriceTable, str | None]:
    """(the closes of the targets and BTC, the BTC column). On the user's file BTC, when not a target, does not
    narrow the range; without BTC closes on every bar the BTC only benchmark is left out (None), with a warning."""
    btc = btc_column(job.targets)
    if job.prices is None or btc in job.targets:
        symbols = [*job.targets, *([btc] if btc not in job.targets else [])]
        return load_prices(symbols, job.start, job.end, interval=job.interval, stable_price=job.stable_price,
                           prices=job.prices, fill_gaps=job.fill_gaps), btc
    table = load_prices(list(job.targets), job.start, job.end, interval=job.interval, stable_price=job.stable_price,
                        prices=job.prices, fill_gaps=job.fill_gaps)
    try:
        closes = file_closes(table, "BTC", "the BTC only benchmark holds BTC")
    except (AssetsMissing, ClosesShort) as exc:
        why = exc.short if isinstance(exc, ClosesShort) else f"{table.source} has no BTC closes"
        return replace(table, warnings=(*table.warnings, f"the BTC only benchmark is left out: {why}")), None
    return replace(table, closes={**table.closes, "BTC": closes}), btc


def _columns(job: Job, btc: str | None) -> list[str]:
    return [*job.targets, *([btc] if btc is not None and btc not in job.targets else [])]


def run_job(job: Job) -> tuple[dict[str, Any], list[Run], Run, list[Run]]:
    """(the JSON document, the strategies' runs, buy and hold, the benchmarks' runs)."""
    table, btc = _load(job)
    t = {s: float(p) for s, p in job.targets.items()}
    bench = [b for b in benchmarks(t, btc) if b.name != "buy and hold"]
    runs, hold = run_all(job.strategies, table, job.targets, initial_usd=job.initial_usd, model=job.model,
                         rf_pct=job.rf_pct, tax_method=LotMethod(job.tax_method))
    bench_runs = _bench_runs(table, job, bench, _columns(job, btc))
    doc = backtest_document(runs, hold, table, job.targets, job.model, stable_price=job.stable_price)
    doc["risk_free_pct"] = job.rf_pct
    doc["benchmarks"] = [hold.metrics(), *(r.metrics() for r in bench_runs)]
    if job.study.multi:
        cols = _columns(job, btc)
        market = build_market(table, cols, job.model)
        from agent.research.fastpath import prepare

        base = [prepare(spec_for(s, job.targets, job.model.min_trade_usd), market).with_(strategy=None)
                for s in job.strategies]
        slow = [b.name for b in base if b.kind == "custom"]
        if slow:
            raise ConfigError(f"--starts/--sweep/--bootstrap/--walk-forward: {', '.join(slow)} has no rule function "
                              "for the engine (the overlays decide bar by bar); run many paths "
                              "with threshold, calendar, hybrid, vol_bands, regime or dynamic")
        doc["study"] = study(base, t, btc, market, engine_costs(cols, job.model, job.initial_usd), job.study)
    return doc, runs, hold, bench_runs


def _bench_runs(table: Any, job: Job, bench: Sequence[Any], cols: list[str]) -> list[Run]:
    from agent.research.backtest import to_run
    from agent.research.engine import simulate

    market = build_market(table, cols, job.model)
    res = simulate(bench, market, engine_costs(cols, job.model, job.initial_usd), detail=True)
    return [to_run(res, r, s, table, market, job.rf_pct) for r, s in enumerate(bench)]
