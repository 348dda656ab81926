"""``rebalancer backtest``: the strategies replayed on real prices with the live cost model (pure).

Each bar of the range (UTC daily closes of ``data/prices_daily_2014-2025.csv``, or hourly BTC/ETH bars with
``interval="1h"``) the portfolio is valued at the closes (stablecoins at 1 USD unless ``stable_price="market"``), the
strategy's rule (the function in ``strategies/`` its live ``decide`` calls) decides on that close, and a rebalance
trades at the next bar's close (never on the bar that decided; one decided on the last bar is reported, not traded).
Trades go back to target through the hub stable (the first stable in the targets, as the agent does; without one,
sells fund buys pro rata and what they leave is kept as cash), one swap per asset leg, each paying the live cost model:
the LP fee of the asset's route on the configured chain (its Uniswap V3 tier; ``fee_bps`` overrides), price impact on
a per-asset depth (none unless given) and the gas of a swap and an exact approval at that day's Ethereum average gas
price (``data/eth_gas_price_daily_2015-2025.csv``; before August 2015 its first day) times the day's native-token
close. As in the planner, a leg below ``MIN_TRADE_USD`` or whose cost exceeds the value of the drift it removes is
skipped, with the reason. The calendar counts its period from the decision that traded. The engine is
``agent.research.engine``; each reported rebalance is explained by the live strategy's ``decide`` on that bar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from agent.config.chains import load_chain
from agent.errors import ConfigError
from agent.planning.costs import ChainCosts
from agent.planning.lots import LotMethod
from agent.research.aftertax import run_after_tax
from agent.research.data import (
    DAILY_GAS,
    STABLES,
    PriceTable,
    file_closes,
    gas_on,
    load_gas_gwei,
    load_prices,
    price_symbol,
)
from agent.research.engine import Costs, Market, Result, Spec, simulate
from agent.research.live import HISTORY_BARS, decide_on_bar
from agent.research.metrics import run_metrics
from strategies import Strategy
from strategies.calendar import CalendarStrategy
from strategies.hybrid import HybridStrategy
from strategies.threshold import ThresholdStrategy

__all__ = [
    "CostModel",
    "Event",
    "Leg",
    "PriceTable",
    "Run",
    "backtest_document",
    "build_market",
    "engine_costs",
    "load_prices",
    "price_symbol",
    "run_all",
    "run_backtest",
    "spec_for",
]
DAYS_PER_YEAR = 365
DEFAULT_FEE_BPS = 30.0  # a token without a V3 tier on the chain: a V2 pool


@dataclass(frozen=True)
class CostModel:
    #: LP fee (+ slippage allowance) per swap leg on its notional; None: each asset's route fee on ``chain``
    fee_bps: float | None = None
    swap_gas: int = ChainCosts.model_fields["swap_gas"].default
    approve_gas: int = ChainCosts.model_fields["approve_gas"].default
    min_trade_usd: float = 50.0
    #: a fixed gas price (gwei) instead of the day's Ethereum average (for L2s, or what-ifs)
    gas_gwei: float | None = None
    chain: str = "ethereum"
    #: input-side pool depth (USD) per target symbol, for price impact; absent: no impact
    depth_usd: Mapping[str, float] = field(default_factory=dict)
    #: yield on the stables held (APY, %)
    stable_apy_pct: float = 0.0

    def route_fee_bps(self, symbol: str) -> float:
        """The LP fee (bps) of a swap of ``symbol`` against the chain's USD stable."""
        if self.fee_bps is not None:
            return self.fee_bps
        chain = load_chain(self.chain)
        for tok in chain.tokens:
            if symbol.upper() in (tok.symbol.upper(), tok.asset_symbol.upper()):
                return tok.v3_fee / 100 if chain.uniswap_v3 is not None else DEFAULT_FEE_BPS
        return DEFAULT_FEE_BPS


@dataclass
class Leg:
    asset: str
    side: str  # "sell" | "buy"
    usd: float
    cost_usd: float
    gas_usd: float


@dataclass
class Event:
    """A rebalance: decided on one bar's close, traded at the next bar's."""

    day: date
    reasons: tuple[str, ...]
    legs: list[Leg] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    decided: date | None = None
    #: the engine's bar index of the trade (prices the legs for the after-tax book)
    bar: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"date": _iso(self.day), "decided": _iso(self.decided or self.day), "reasons": list(self.reasons),
                "trades": [{"asset": g.asset, "side": g.side, "usd": round(g.usd, 2), "cost_usd": round(g.cost_usd, 2),
                            "gas_usd": round(g.gas_usd, 2)} for g in self.legs],
                "skipped": self.skipped}


def _iso(d: date) -> str:
    return d.isoformat().replace("+00:00", "Z")


@dataclass
class Run:
    """One strategy (or a benchmark) over the range: the value and weights per bar, and what it did."""

    name: str
    values: list[float] = field(default_factory=list)
    weights: dict[str, list[float]] = field(default_factory=dict)
    max_drift_pp: list[float] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    decisions: int = 0
    unexecuted: Event | None = None
    counters: dict[str, float] = field(default_factory=dict)
    bars_per_year: float = DAYS_PER_YEAR
    rf_pct: float = 0.0
    dates: tuple[date, ...] = ()
    #: after-tax results through the tax lots (``agent.research.aftertax``), when computed
    after_tax: dict[str, Any] | None = None

    def metrics(self) -> dict[str, Any]:
        legs = [g for e in self.events for g in e.legs]
        c = self.counters or {"rebalances": sum(1 for e in self.events if e.legs), "trades": len(legs),
                              "skipped": sum(len(e.skipped) for e in self.events),
                              "turnover": sum(g.usd for g in legs), "costs": sum(g.cost_usd for g in legs),
                              "gas": sum(g.gas_usd for g in legs)}
        m = run_metrics(np.asarray(self.values), self.bars_per_year, rf_pct=self.rf_pct,
                        turnover_usd=c["turnover"], costs_usd=c["costs"])
        return {"strategy": self.name, **m, "rebalances": int(c["rebalances"]), "trades": int(c["trades"]),
                "skipped_legs": int(c["skipped"]), "turnover_usd": round(float(c["turnover"]), 2),
                "costs_usd": round(float(c["costs"]), 2), "gas_usd": round(float(c["gas"]), 2),
                "mean_max_drift_pp": round(float(np.mean(self.max_drift_pp)), 2) if self.max_drift_pp else 0.0,
                "max_drift_pp": round(max(self.max_drift_pp, default=0.0), 2),
                **({"after_tax": self.after_tax} if self.after_tax is not None else {})}


def spec_for(strategy: Any, targets: Mapping[str, float] | Mapping[str, Decimal], min_trade_usd: float) -> Spec:
    """The engine's run of a live strategy: its rule and settings (a strategy without a rule: its ``decide``)."""
    t = {s: float(p) for s, p in targets.items()}
    if isinstance(strategy, ThresholdStrategy):
        return Spec(strategy.name, "threshold", t, band_pp=float(strategy.band_pp),
                    band_rel_pct=float(strategy.band_rel_pct), emergency_band_pp=float(strategy.emergency_band_pp),
                    asset_bands_pp={k: float(v) for k, v in strategy.asset_bands_pp.items()},
                    min_trade_usd=min_trade_usd, strategy=strategy)
    if isinstance(strategy, CalendarStrategy):
        return Spec(strategy.name, "calendar", t, interval_hours=strategy.interval.total_seconds() / 3600,
                    min_drift_pp=float(strategy.min_drift_pp), min_trade_usd=min_trade_usd, strategy=strategy)
    if isinstance(strategy, HybridStrategy):
        cal = strategy.calendar
        return Spec(strategy.name, "hybrid", t, interval_hours=cal.interval.total_seconds() / 3600,
                    min_drift_pp=float(cal.min_drift_pp), emergency_band_pp=float(strategy.emergency_band_pp),
                    min_trade_usd=min_trade_usd, strategy=strategy)
    return Spec(getattr(strategy, "name", "custom"), "custom", t, min_trade_usd=min_trade_usd, strategy=strategy)


def build_market(table: PriceTable, columns: Sequence[str], model: CostModel,
                 gas: tuple[list[date], list[float]] | None = None, paths: np.ndarray | None = None) -> Market:
    """The engine's market: ``columns`` (target symbols) priced from ``table``; gas in USD per unit each bar."""
    days, gwei = gas if gas is not None else load_gas_gwei()
    native = _native_closes(table, model)
    per_gwei = np.array([model.gas_gwei if model.gas_gwei is not None else gas_on(days, gwei, d) for d in table.dates])
    closes = np.array([[table.closes[price_symbol(c)][i] for c in columns] for i in range(len(table.dates))])
    return Market(assets=tuple(columns), closes=closes[None] if paths is None else paths,
                  gas_usd_per_unit=per_gwei * 1e-9 * native,
                  stables=np.array([price_symbol(c) in STABLES for c in columns]),
                  hours_per_bar=table.hours_per_bar, bars_per_year=table.bars_per_year, times=table.dates)


def _native_closes(table: PriceTable, model: CostModel) -> np.ndarray:
    """The closes of the chain's native token over the table's bars (gas is paid in it even when not a target)."""
    native = price_symbol(load_chain(model.chain).native_symbol)
    if model.chain != "ethereum" and model.gas_gwei is None:
        raise ConfigError(f"--chain {model.chain}: the gas history is Ethereum mainnet's; give --gas-gwei for "
                          f"{model.chain}")
    if native in table.closes:
        return np.asarray(table.closes[native])
    if model.gas_gwei == 0:  # no gas: its token's price does not matter
        return np.ones(len(table.dates))
    if table.path is not None:  # the user's file, when it has the native token's closes
        from agent.research.userprices import AssetsMissing

        try:
            return np.asarray(file_closes(table, native, f"gas is paid in {native}"))
        except AssetsMissing:
            pass  # the bundled closes below
    try:
        extra = load_prices([native], table.dates[0], table.dates[-1], interval=table.interval)
    except ConfigError as exc:
        if table.path is not None:
            raise ConfigError(f"--prices: gas is paid in {native}, which {table.source} has no closes for, and the "
                              f"bundled {native} prices do not cover {_iso(table.dates[0])}..{_iso(table.dates[-1])}; "
                              f"add {native} closes to the file, or give --gas-gwei 0 to leave gas out") from None
        raise ConfigError(f"--from: gas is paid in {native} and is priced with its close ({exc}); "
                          f"choose a range {native}'s prices cover") from None
    return np.asarray(extra.closes[native])


def engine_costs(columns: Sequence[str], model: CostModel, initial_usd: float) -> Costs:
    return Costs(lp_fee_bps=np.array([model.route_fee_bps(c) for c in columns]),
                 depth_usd=np.array([float(model.depth_usd.get(c, np.inf)) for c in columns]),
                 gas_per_leg=model.swap_gas + model.approve_gas, initial_usd=initial_usd,
                 stable_apy_pct=model.stable_apy_pct)


def run_backtest(strategy: Strategy, table: PriceTable, targets: Mapping[str, Decimal], *,
                 initial_usd: float = 100_000.0, model: CostModel | None = None,
                 gas: tuple[list[date], list[float]] | None = None, rf_pct: float = 0.0) -> tuple[Run, Run]:
    """(the strategy's run, buy and hold) over every bar of ``table``."""
    runs, hold = run_all([strategy], table, targets, initial_usd=initial_usd, model=model or CostModel(), gas=gas,
                         rf_pct=rf_pct)
    return runs[0], hold


def run_all(strategies: Sequence[Strategy], table: PriceTable, targets: Mapping[str, Decimal], *,
            initial_usd: float, model: CostModel, gas: tuple[list[date], list[float]] | None = None,
            rf_pct: float = 0.0, benchmarks: Sequence[Spec] = (),
            tax_method: LotMethod | None = LotMethod.FIFO) -> tuple[list[Run], Run]:
    """Every strategy and buy and hold (and any benchmark specs) in one engine batch, with events explained and,
    unless ``tax_method`` is None, their after-tax results through the tax lots."""
    columns = list(targets)
    extra = sorted({c for b in benchmarks for c in b.targets if c not in columns})
    columns += extra
    market = build_market(table, columns, model, gas)
    from agent.research.fastpath import prepare

    specs = [prepare(spec_for(s, targets, model.min_trade_usd), market) for s in strategies]
    specs += [Spec("buy and hold", "hold", {s: float(p) for s, p in targets.items()}), *benchmarks]
    res = simulate(specs, market, engine_costs(columns, model, initial_usd), detail=True)
    out = [to_run(res, r, s, table, market, rf_pct) for r, s in enumerate(specs)]
    if tax_method is not None:
        for run, spec in zip(out, specs, strict=True):
            run.after_tax = run_after_tax(run, market, spec, tax_method)
    return out[:len(strategies)], out[len(strategies)]


def to_run(res: Result, r: int, spec: Spec, table: PriceTable, market: Market, rf_pct: float) -> Run:
    """One engine row as a ``Run``: its series, counters and events explained by the live ``decide``."""
    assert res.weights is not None and res.max_drift is not None and res.events is not None
    lo, hi = spec.start, spec.end % market.bars
    cols = [j for j, a in enumerate(market.assets) if a in spec.targets]
    run = Run(spec.name, values=res.values[r, lo:hi + 1].tolist(),
              weights={market.assets[j]: res.weights[r, lo:hi + 1, j].tolist() for j in cols},
              max_drift_pp=res.max_drift[r, lo:hi + 1].tolist(), decisions=int(res.decisions[r]),
              counters={k: float(getattr(res, k)[r]) for k in ("rebalances", "trades", "skipped", "turnover",
                                                                "costs", "gas")},
              bars_per_year=market.bars_per_year, rf_pct=rf_pct, dates=table.dates[lo:hi + 1])
    last = lo
    for e in res.events[r]:
        reasons = _explain(spec, res, r, e["decided"], last, market)
        run.events.append(Event(table.dates[e["bar"]], reasons, [Leg(**g) for g in e["legs"]], e["skipped"],
                                decided=table.dates[e["decided"]], bar=int(e["bar"])))
        if e["legs"]:
            last = e["decided"]
    if res.unexecuted[r] >= 0:
        u = int(res.unexecuted[r])
        run.unexecuted = Event(table.dates[u], _explain(spec, res, r, u, last, market), decided=table.dates[u])
    return run


def _explain(spec: Spec, res: Result, r: int, t: int, last: int, market: Market) -> tuple[str, ...]:
    """The live strategy's reasons on the bar that decided (its ``decide`` must agree with the rule)."""
    if spec.strategy is None:
        return (f"{spec.kind} rule",)
    assert res.weights is not None
    p = market.closes[spec.path if market.closes.shape[0] > 1 else 0, t]
    usd = np.nan_to_num(res.weights[r, t]) / 100 * res.values[r, t]
    tgt = np.array([spec.targets.get(a, 0.0) for a in market.assets])
    cash = res.values[r, t] - usd.sum()
    d = decide_on_bar(spec.strategy, market, t, usd / p, p, tgt, last, spec.targets, cash=max(float(cash), 0.0),
                      history_bars=HISTORY_BARS if spec.kind in ("custom", "signal") else 0)
    if not d.rebalance and spec.kind != "custom":
        raise AssertionError(f"{spec.name}: the rule fired on bar {t} but decide() says {d.reasons}")
    return d.reasons


def _gas_outside(table: PriceTable, model: CostModel) -> list[str]:
    """A user file's bars outside the daily gas history are priced with its first or last day: say so."""
    if table.path is None or model.gas_gwei is not None:
        return []
    days, _ = load_gas_gwei()
    lo, hi = (d.date() if isinstance(d, datetime) else d for d in (table.dates[0], table.dates[-1]))
    out = []
    if lo < days[0]:
        out.append(f"gas: the daily Ethereum average starts {days[0]}; bars before it pay that day's "
                   "(or give --gas-gwei)")
    if hi > days[-1]:
        out.append(f"gas: the daily Ethereum average ends {days[-1]}; bars after it pay that day's "
                   "(or give --gas-gwei)")
    return out


def backtest_document(runs: Sequence[Run], hold: Run, table: PriceTable, targets: Mapping[str, Decimal],
                      model: CostModel, *, stable_price: str = "peg") -> dict[str, Any]:
    """The ``--json`` document: the range and cost model, each strategy's metrics and explained events, the
    baseline; with one strategy its metrics are also at the top level."""
    doc: dict[str, Any] = {
        "from": _iso(table.dates[0]), "to": _iso(table.dates[-1]), "days": len(table.dates),
        "interval": table.interval, "bars": len(table.dates),
        "targets": {s: float(p) for s, p in targets.items()},
        "prices": {"source": table.source, "symbols": {s: price_symbol(s) for s in targets},
                   "stable_price": stable_price,
                   **({"file": table.path, "rows_read": table.rows_read, "fill_gaps": table.fill_gaps}
                      if table.path is not None else {})},
        "warnings": [*table.warnings, *_gas_outside(table, model)],
        "costs": {"fee_bps": model.fee_bps if model.fee_bps is not None else "route LP fee on " + model.chain,
                  "route_fee_bps": {s: model.route_fee_bps(s) for s in targets},
                  "depth_usd": dict(model.depth_usd), "chain": model.chain,
                  "swap_gas": model.swap_gas, "approve_gas": model.approve_gas,
                  "min_trade_usd": model.min_trade_usd, "stable_apy_pct": model.stable_apy_pct,
                  "gas_gwei": model.gas_gwei if model.gas_gwei is not None else f"daily average ({DAILY_GAS})"},
        "runs": [r.metrics() | {"decisions": r.decisions, "events": [e.as_dict() for e in r.events],
                                "unexecuted_at_end": r.unexecuted.as_dict() if r.unexecuted else None} for r in runs],
        "buy_and_hold": hold.metrics(),
    }
    if len(runs) == 1:
        doc |= {k: v for k, v in doc["runs"][0].items() if k != "events"}
    return doc
