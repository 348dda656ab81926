"""``rebalancer backtest``: the strategies replayed on real daily prices with real daily gas prices (pure).

Each day of the range (UTC closes of ``data/prices_daily_2014-2025.csv``) the portfolio is valued at the day's
closes, the strategy (the same modules the agent loads by ``STRATEGY``) sees the allocation, the clock and the
past 90 days of prices — only what is known at that close — and decides. A rebalance is traded at the next
day's close (never on the bar that decided it; one decided on the last day is reported, not traded), with the
trades planned at that close: every asset back to its target through the hub stable (the first stable in the
targets, as the agent does; without one, sells fund buys pro rata), one swap per asset leg, each paying the LP
fee + slippage (``fee_bps``) on its notional and the gas of a swap and an exact approval at that day's Ethereum
average gas price (``data/eth_gas_price_daily_2015-2025.csv``; before August 2015 its first day) times that
day's ETH close. As in the planner, a leg below ``MIN_TRADE_USD`` or whose cost exceeds the value of the drift
it removes is skipped, with the reason. The baseline is the same starting portfolio never rebalanced (buy and hold).
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.planning.allocation import Allocation, AssetAllocation
from agent.planning.costs import ChainCosts, swap_cost_usd
from agent.planning.planner import drift_benefit_usd
from agent.resources import data_file
from strategies import Strategy, StrategyContext

DAILY_PRICES_CSV = data_file("prices_daily_2014-2025.csv")
DAILY_GAS_CSV = data_file("eth_gas_price_daily_2015-2025.csv")
#: token symbols of the chain configs whose price is the data set's asset
ALIASES = {"WETH": "ETH", "WBTC": "BTC", "CBBTC": "BTC", "USDC.E": "USDC", "USDBC": "USDC", "POL": "MATIC",
           "WMATIC": "MATIC", "WAVAX": "AVAX"}
STABLES = ("USDC", "USDT", "DAI")
#: days of past prices handed to the strategy each day
HISTORY_DAYS = 90
DAYS_PER_YEAR = 365


def price_symbol(symbol: str) -> str:
    return ALIASES.get(symbol.upper(), symbol.upper())


@dataclass(frozen=True)
class PriceTable:
    """Daily closes (USD) of some assets on every day of a range (no gaps)."""

    dates: tuple[date, ...]
    closes: Mapping[str, tuple[float, ...]]


def load_prices(symbols: Sequence[str], start: date | None, end: date | None,
                path: Path = DAILY_PRICES_CSV) -> PriceTable:
    """The closes of ``symbols`` (target symbols; aliases resolved) over [start, end]; None: the widest range all of
    them cover. ``ConfigError`` naming ``--from``/``--to``/``TARGETS`` when the data does not cover it."""
    wanted = {price_symbol(s) for s in symbols}
    rows: dict[str, dict[date, float]] = {a: {} for a in wanted}
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["asset"] in wanted:
                rows[r["asset"]][date.fromisoformat(r["date"])] = float(r["close"])
    missing = sorted(a for a, v in rows.items() if not v)
    if missing:
        with open(path, newline="") as fh:
            have = sorted({r["asset"] for r in csv.DictReader(fh)})
        raise ConfigError(f"TARGETS: no daily prices for {', '.join(missing)}; the data has {', '.join(have)} "
                          "(WETH/WBTC/… map to ETH/BTC/…)")
    first = max(min(v) for v in rows.values())
    last = min(max(v) for v in rows.values())
    spans = ", ".join(f"{a} {min(v)}..{max(v)}" for a, v in sorted(rows.items()))
    lo, hi = start or first, end or last
    if lo < first:
        raise ConfigError(f"--from: {lo} is before every target asset has prices (from {first}: {spans}); "
                          f"use --from {first} or later")
    if hi > last:
        raise ConfigError(f"--to: {hi} is after the last day with prices for every target asset ({last}); "
                          f"use --to {last} or earlier")
    if (hi - lo).days < 1:
        raise ConfigError(f"--from/--to: the range {lo}..{hi} must span at least two days")
    days = tuple(lo + timedelta(days=i) for i in range((hi - lo).days + 1))
    return PriceTable(dates=days, closes={a: tuple(rows[a][d] for d in days) for a in sorted(wanted)})


def load_gas_gwei(path: Path = DAILY_GAS_CSV) -> tuple[list[date], list[float]]:
    days, gwei = [], []
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            days.append(date.fromisoformat(r["date"]))
            gwei.append(int(r["avg_gas_price_wei"]) / 1e9)
    return days, gwei


@dataclass(frozen=True)
class CostModel:
    #: LP fee + slippage per swap leg, on its notional
    fee_bps: float = 30.0
    swap_gas: int = 180_000
    approve_gas: int = 50_000
    min_trade_usd: float = 50.0
    #: a fixed gas price (gwei) instead of the day's Ethereum average (for L2s, or what-ifs)
    gas_gwei: float | None = None


@dataclass
class Leg:
    asset: str
    side: str  # "sell" | "buy"
    usd: float
    cost_usd: float
    gas_usd: float


@dataclass
class Event:
    """A rebalance: decided on one day's close, traded at the next day's."""

    day: date
    reasons: tuple[str, ...]
    legs: list[Leg] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    decided: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "decided": (self.decided or self.day).isoformat(),
                "reasons": list(self.reasons),
                "trades": [{"asset": g.asset, "side": g.side, "usd": round(g.usd, 2), "cost_usd": round(g.cost_usd, 2),
                            "gas_usd": round(g.gas_usd, 2)} for g in self.legs],
                "skipped": self.skipped}


@dataclass
class Run:
    """One strategy (or buy and hold) over the range: the daily value and weights, and what it did."""

    name: str
    values: list[float] = field(default_factory=list)
    weights: dict[str, list[float]] = field(default_factory=dict)
    max_drift_pp: list[float] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    decisions: int = 0
    #: a rebalance decided on the last day (no next close to trade at)
    unexecuted: Event | None = None

    def metrics(self) -> dict[str, Any]:
        v = self.values
        years = (len(v) - 1) / DAYS_PER_YEAR
        rets = [b / a - 1 for a, b in itertools.pairwise(v)]
        sd = statistics.pstdev(rets) if len(rets) > 1 else 0.0
        peak, mdd = v[0], 0.0
        for x in v:
            peak = max(peak, x)
            mdd = max(mdd, 1 - x / peak)
        legs = [g for e in self.events for g in e.legs]
        return {
            "strategy": self.name, "initial_usd": round(v[0], 2), "final_usd": round(v[-1], 2),
            "return_pct": round(100 * (v[-1] / v[0] - 1), 2),
            "cagr_pct": round(100 * ((v[-1] / v[0]) ** (1 / years) - 1), 2) if years > 0 else None,
            "volatility_pct": round(100 * sd * math.sqrt(DAYS_PER_YEAR), 2),
            "max_drawdown_pct": round(100 * mdd, 2),
            "sharpe": round(statistics.fmean(rets) / sd * math.sqrt(DAYS_PER_YEAR), 3) if sd > 0 else None,
            "rebalances": sum(1 for e in self.events if e.legs), "trades": len(legs),
            "skipped_legs": sum(len(e.skipped) for e in self.events),
            "turnover_usd": round(sum(g.usd for g in legs), 2),
            "costs_usd": round(sum(g.cost_usd for g in legs), 2), "gas_usd": round(sum(g.gas_usd for g in legs), 2),
            "mean_max_drift_pp": round(statistics.fmean(self.max_drift_pp), 2) if self.max_drift_pp else 0.0,
            "max_drift_pp": round(max(self.max_drift_pp, default=0.0), 2),
        }


def _allocation(units: Mapping[str, float], prices: Mapping[str, float], targets: Mapping[str, Decimal]
                ) -> Allocation:
    usd = {s: units[s] * prices[s] for s in targets}
    total = sum(usd.values())
    assets = []
    for s, pct in targets.items():
        w = Decimal(repr(100 * usd[s] / total)) if total else Decimal(0)
        assets.append(AssetAllocation(symbol=s, balance=Decimal(repr(units[s])), usd=Decimal(repr(usd[s])),
                                      weight_pct=w, target_pct=pct, drift_pp=w - pct, by_chain={}))
    return Allocation(total_usd=Decimal(repr(total)), assets=tuple(assets), untargeted_usd=Decimal(0))


def _rebalance(units: dict[str, float], prices: Mapping[str, float], goal: Mapping[str, Decimal],
               costs: ChainCosts, model: CostModel, event: Event) -> None:
    """Trade ``units`` toward the decision's targets ``goal`` in place, recording legs and skips in ``event``."""
    targets = {s: goal.get(s, Decimal(0)) for s in units}
    alloc = _allocation(units, prices, targets)
    total = float(alloc.total_usd)
    hub = next((s for s in targets if price_symbol(s) in STABLES), None)
    cash = 0.0  # USD from sells (net of their costs) waiting to fund buys, when there is no hub
    buys: list[tuple[str, float, float, float]] = []
    for a in alloc.assets:
        if a.symbol == hub:
            continue
        delta = float(a.target_pct) / 100 * total - units[a.symbol] * prices[a.symbol]
        usd = abs(delta)
        side = "buy" if delta > 0 else "sell"
        if usd < model.min_trade_usd:
            if usd >= 0.01:
                event.skipped.append(f"{side} {usd:,.2f} USD of {a.symbol}: below MIN_TRADE_USD "
                                     f"{model.min_trade_usd:g}")
            continue
        cost, gas, _ = swap_cost_usd(costs, Decimal(repr(usd)), None)
        cost_f, gas_f = float(cost), float(costs.gas_usd(gas))
        if cost > drift_benefit_usd(Decimal(repr(usd)), a.drift_pp):
            event.skipped.append(f"{side} {usd:,.2f} USD of {a.symbol}: estimated cost {cost_f:,.2f} USD exceeds "
                                 f"the drift benefit ({a.drift_pp:+.2f} pp)")
            continue
        if side == "sell":
            units[a.symbol] -= usd / prices[a.symbol]
            if hub:
                units[hub] += (usd - cost_f) / prices[hub]
            else:
                cash += usd - cost_f
            event.legs.append(Leg(a.symbol, "sell", usd, cost_f, gas_f))
        else:
            buys.append((a.symbol, usd, cost_f, gas_f))
    if not hub and buys:
        scale = min(1.0, cash / sum(u for _, u, _, _ in buys))
        buys = [(s, u * scale, c, g) for s, u, c, g in buys]
    for symbol, usd, cost_f, gas_f in buys:
        if hub:
            units[hub] -= usd / prices[hub]
        units[symbol] += (usd - cost_f) / prices[symbol]
        event.legs.append(Leg(symbol, "buy", usd, cost_f, gas_f))


def run_backtest(strategy: Strategy, table: PriceTable, targets: Mapping[str, Decimal], *,
                 initial_usd: float = 100_000.0, model: CostModel | None = None,
                 gas: tuple[list[date], list[float]] | None = None) -> tuple[Run, Run]:
    """(the strategy's run, buy and hold) over every day of ``table``."""
    model = model or CostModel()
    gas_days, gas_gwei = gas if gas is not None else load_gas_gwei()
    eth = table.closes.get("ETH") or _eth_closes(table)
    sym = {s: price_symbol(s) for s in targets}
    first = {s: table.closes[sym[s]][0] for s in targets}
    units = {s: initial_usd * float(pct) / 100 / first[s] for s, pct in targets.items()}
    hold_units = dict(units)
    run, hold = Run(strategy.name), Run("buy and hold")
    # the portfolio is built at its targets on the first day: that is its last rebalance
    last: datetime | None = datetime.combine(table.dates[0], time(), tzinfo=UTC)
    pending: tuple[date, tuple[str, ...], Mapping[str, Decimal]] | None = None
    for i, day in enumerate(table.dates):
        prices = {s: table.closes[sym[s]][i] for s in targets}
        now = datetime.combine(day, time(), tzinfo=UTC)
        alloc = _allocation(units, prices, targets)
        if pending is not None:  # yesterday's decision trades at today's close: no trade on the bar that decided it
            decided, reasons, goal = pending
            k = max(0, bisect.bisect_right(gas_days, day) - 1)
            gwei = model.gas_gwei if model.gas_gwei is not None else gas_gwei[k]
            costs = ChainCosts(chain="ethereum", gas_price_wei=int(gwei * 1e9), native_usd=Decimal(repr(eth[i])),
                               swap_gas=model.swap_gas, approve_gas=model.approve_gas,
                               lp_fee_bps=Decimal(repr(model.fee_bps)))
            event = Event(day, reasons, decided=decided)
            _rebalance(units, prices, goal, costs, model, event)
            run.events.append(event)
            if event.legs:
                last = now
            alloc, pending = _allocation(units, prices, targets), None
        start = max(0, i - HISTORY_DAYS)
        history = {s: tuple((datetime.combine(table.dates[j], time(), tzinfo=UTC),
                             Decimal(repr(table.closes[sym[s]][j]))) for j in range(start, i + 1)) for s in targets}
        decision = strategy.decide(StrategyContext(allocation=alloc, targets=dict(targets), now=now,
                                                   last_rebalance_at=last, price_history=history))
        run.decisions += 1
        if decision.rebalance:
            pending = (day, decision.reasons, decision.targets or targets)
        for r, a in ((run, alloc), (hold, _allocation(hold_units, prices, targets))):
            r.values.append(float(a.total_usd))
            r.max_drift_pp.append(float(a.max_drift_pp))
            for asset in a.assets:
                r.weights.setdefault(asset.symbol, []).append(float(asset.weight_pct))
    if pending is not None:
        run.unexecuted = Event(pending[0], pending[1], decided=pending[0])
    return run, hold


def _eth_closes(table: PriceTable) -> tuple[float, ...]:
    """ETH closes over the table's days (gas is paid in ETH even when ETH is not a target)."""
    try:
        return load_prices(["ETH"], table.dates[0], table.dates[-1]).closes["ETH"]
    except ConfigError as exc:
        raise ConfigError(f"--from: gas is paid in ETH and is priced with ETH's daily close ({exc}); "
                          "choose a range ETH's prices cover") from None


def run_all(strategies: Sequence[Strategy], table: PriceTable, targets: Mapping[str, Decimal], *,
            initial_usd: float, model: CostModel) -> tuple[list[Run], Run]:
    gas = load_gas_gwei()
    runs, hold = [], None
    for strategy in strategies:
        run, hold = run_backtest(strategy, table, targets, initial_usd=initial_usd, model=model, gas=gas)
        runs.append(run)
    assert hold is not None
    return runs, hold


def backtest_document(runs: Sequence[Run], hold: Run, table: PriceTable, targets: Mapping[str, Decimal],
                      model: CostModel) -> dict[str, Any]:
    """The ``--json`` document: the range and cost model, each strategy's metrics and explained events, the
    baseline; with one strategy its metrics are also at the top level."""
    doc: dict[str, Any] = {
        "from": table.dates[0].isoformat(), "to": table.dates[-1].isoformat(), "days": len(table.dates),
        "targets": {s: float(p) for s, p in targets.items()},
        "prices": {"source": DAILY_PRICES_CSV.name, "symbols": {s: price_symbol(s) for s in targets}},
        "costs": {"fee_bps": model.fee_bps, "swap_gas": model.swap_gas, "approve_gas": model.approve_gas,
                  "min_trade_usd": model.min_trade_usd,
                  "gas_gwei": model.gas_gwei if model.gas_gwei is not None
                  else f"daily average ({DAILY_GAS_CSV.name})"},
        "runs": [r.metrics() | {"decisions": r.decisions, "events": [e.as_dict() for e in r.events],
                                "unexecuted_at_end": r.unexecuted.as_dict() if r.unexecuted else None} for r in runs],
        "buy_and_hold": hold.metrics(),
    }
    if len(runs) == 1:
        doc |= {k: v for k, v in doc["runs"][0].items() if k != "events"}
    return doc
