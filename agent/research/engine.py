"""The backtest engine: many runs stepped together over the bars of one market, vectorised across runs (numpy).

A run is a rule with its settings (``Spec``), its targets and its window (start/end bar, price path). Every bar each
active run is valued at the closes; its rule (the functions in ``strategies/`` the live strategies call) decides on
that close; a rebalance trades at the next bar's close, every asset back to target through the run's hub stable (the
first stable in its targets), or, without one, sells funding buys pro rata with any unspent proceeds kept as cash.
Each leg pays the live cost model (``agent.planning.costs.leg_cost_usd``: gas of a swap + exact approval at the bar's
gas price, the route's LP fee, impact on the asset's depth) and is skipped below ``min_trade_usd`` or when it costs
more than the drift it removes (``drift_benefit_usd``'s rule). The calendar counts from the decision that traded.
Every operation is elementwise per run, so a run's figures are identical alone or in a batch of a thousand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.planning.costs import leg_cost_usd
from strategies.calendar import due, worth_trading
from strategies.hybrid import emergency
from strategies.threshold import breaches, effective_bands

KINDS = ("hold", "threshold", "calendar", "hybrid", "custom", "signal")


@dataclass(frozen=True)
class Spec:
    """One run: its rule and settings, targets (market column → %), window and price path."""

    name: str
    kind: str
    targets: Mapping[str, float]
    band_pp: float = 5.0
    band_rel_pct: float = 25.0
    emergency_band_pp: float = 15.0
    interval_hours: float = 168.0
    min_drift_pp: float = 0.5
    min_trade_usd: float = 50.0
    asset_bands_pp: Mapping[str, float] = field(default_factory=dict)
    start: int = 0
    end: int = -1
    path: int = 0
    #: a Strategy object deciding bar by bar through ``decide`` (kind "custom": slow, for anything else)
    strategy: Any = None
    #: kind "signal": each bar's effective bands and targets (paths, bars, assets), computed from the closes known
    #: at that bar by the live strategy's own functions (``agent.research.fastpath``)
    bands_by_bar: Any = None
    targets_by_bar: Any = None

    def with_(self, **changes: Any) -> Spec:
        return Spec(**{**self.__dict__, **changes})


@dataclass(frozen=True)
class Market:
    """Closes of ``assets`` on ``n`` bars for one or more price paths, and what a unit of gas costs each bar."""

    assets: tuple[str, ...]
    closes: np.ndarray  # (paths, bars, assets)
    gas_usd_per_unit: np.ndarray  # (bars,)
    stables: np.ndarray  # (assets,) bool
    hours_per_bar: float = 24.0
    bars_per_year: float = 365.0
    times: tuple[Any, ...] | None = None

    @property
    def bars(self) -> int:
        return int(self.closes.shape[1])


@dataclass(frozen=True)
class Costs:
    lp_fee_bps: np.ndarray  # (assets,) the route's LP fee (+ any slippage allowance)
    depth_usd: np.ndarray  # (assets,) input-side depth (inf: no impact)
    gas_per_leg: int = 230_000  # swap + exact approval
    initial_usd: float = 100_000.0
    stable_apy_pct: float = 0.0


@dataclass
class Result:
    """Per run: values (NaN outside its window), counters and, with ``detail``, weights and every event."""

    values: np.ndarray
    rebalances: np.ndarray
    trades: np.ndarray
    skipped: np.ndarray
    turnover: np.ndarray
    costs: np.ndarray
    gas: np.ndarray
    decisions: np.ndarray
    unexecuted: np.ndarray  # bar of a decision on the run's last bar, or -1
    weights: np.ndarray | None = None
    max_drift: np.ndarray | None = None
    events: list[list[dict[str, Any]]] | None = None


def _matrix(specs: Sequence[Spec], market: Market, get: Any) -> np.ndarray:
    return np.array([[float(get(s, a)) for a in market.assets] for s in specs], dtype=float)


def simulate(specs: Sequence[Spec], market: Market, costs: Costs, *, detail: bool = False) -> Result:
    """Run every spec over its window of ``market``; ``detail`` also keeps weights, drift and events."""
    with np.errstate(divide="ignore", invalid="ignore"):  # runs not started yet hold nothing
        return _simulate(specs, market, costs, detail)


def _simulate(specs: Sequence[Spec], market: Market, costs: Costs, detail: bool) -> Result:
    R, A, T = len(specs), len(market.assets), market.bars
    tgt = _matrix(specs, market, lambda s, a: s.targets.get(a, 0.0))
    kind = np.array([KINDS.index(s.kind) for s in specs])
    start = np.array([s.start for s in specs])
    end = np.array([s.end % T for s in specs])
    path = np.array([s.path for s in specs])
    bands = effective_bands(_matrix(specs, market, lambda s, a: s.asset_bands_pp.get(a, s.band_pp)),
                            np.array([[s.band_rel_pct] for s in specs]), tgt)
    emerg = np.array([[s.emergency_band_pp] for s in specs])
    interval = np.array([s.interval_hours for s in specs])
    min_drift = np.array([s.min_drift_pp for s in specs])
    min_trade = np.array([[s.min_trade_usd] for s in specs])
    hub = np.zeros((R, A), dtype=bool)
    for r in range(R):
        cols = [j for j in range(A) if market.stables[j] and tgt[r, j] > 0]
        if cols:
            hub[r, cols[0]] = True
    has_hub = np.asarray(hub.any(axis=1))
    st = _State(units=np.zeros((R, A)), cash=np.zeros(R), last=start.copy(), pending=np.zeros(R, dtype=bool),
                decided=np.full(R, -1), goal=tgt.copy(), basis=np.zeros((R, A)))
    out = Result(values=np.full((R, T), np.nan), rebalances=np.zeros(R, dtype=int), trades=np.zeros(R, dtype=int),
                 skipped=np.zeros(R, dtype=int), turnover=np.zeros(R), costs=np.zeros(R), gas=np.zeros(R),
                 decisions=np.zeros(R, dtype=int), unexecuted=np.full(R, -1))
    if detail:
        out.weights, out.max_drift = np.full((R, T, A), np.nan), np.full((R, T), np.nan)
        out.events = [[] for _ in range(R)]
    one_path = market.closes.shape[0] == 1
    growth = (1 + costs.stable_apy_pct / 100) ** (1 / market.bars_per_year)
    custom = [r for r in range(R) if kind[r] == 4]
    sig = np.flatnonzero(kind == 5)
    if len(sig):
        sig_bands = np.stack([specs[int(r)].bands_by_bar for r in sig])  # (runs, paths, bars, assets)
        sig_tgt = np.stack([specs[int(r)].targets_by_bar for r in sig])
        sig_path = np.minimum(path[sig], sig_bands.shape[1] - 1)
    rules = _Rules(kind, bands, emerg, interval, min_drift, market.hours_per_bar)
    for t in range(int(start.min()), T):
        p = market.closes[0, t] if one_path else market.closes[path, t]
        begin = start == t
        if begin.any():
            st.units[begin] = costs.initial_usd * tgt[begin] / 100 / (p if one_path else p[begin])
            st.basis[begin] = costs.initial_usd * tgt[begin] / 100
        active = (start <= t) & (t <= end)
        if growth != 1:
            st.units[:, market.stables] *= np.where((start < t)[:, None], growth, 1.0)
        trade = st.pending & active
        if trade.any():
            _rebalance(np.flatnonzero(trade), t, p, one_path, st, hub, has_hub, min_trade, market, costs, out)
            st.pending[:] = False
        usd = st.units * p
        value = usd.sum(axis=1) + st.cash
        now_tgt = tgt
        if len(sig):
            now_tgt = tgt.copy()
            now_tgt[sig] = sig_tgt[np.arange(len(sig)), sig_path, t]
        drift = 100 * usd / value[:, None] - now_tgt
        out.values[:, t] = np.where(active, value, np.nan)
        fire = rules.fire(drift, t, st.last) & active
        if len(sig):
            fire[sig] = breaches(drift[sig], sig_bands[np.arange(len(sig)), sig_path, t]).any(axis=1) & active[sig]
            st.goal[sig] = now_tgt[sig]
        for r in custom:
            if active[r]:
                fire[r] = _custom(specs[r], market, t, st, r, tgt[r], p if one_path else p[r], value[r], drift[r])
        out.decisions += active
        last_bar = fire & (t == end)
        out.unexecuted[last_bar] = t
        st.pending = fire & (t < end)
        st.decided[st.pending] = t
        if detail:
            assert out.weights is not None and out.max_drift is not None
            out.weights[active, t] = (100 * usd / value[:, None])[active]
            out.max_drift[active, t] = np.abs(drift[active]).max(axis=1)
    return out


@dataclass
class _State:
    units: np.ndarray
    cash: np.ndarray
    last: np.ndarray
    pending: np.ndarray
    decided: np.ndarray
    goal: np.ndarray
    basis: np.ndarray  # USD paid for the units held (average cost: a sell removes its share)


@dataclass
class _Rules:
    kind: np.ndarray
    bands: np.ndarray
    emerg: np.ndarray
    interval: np.ndarray
    min_drift: np.ndarray
    hours_per_bar: float

    def fire(self, drift: np.ndarray, t: int, last: np.ndarray) -> np.ndarray:
        """Each run's rule on this bar (the strategies' own rule functions)."""
        threshold = breaches(drift, self.bands).any(axis=1)
        calendar = due((t - last) * self.hours_per_bar, self.interval) & worth_trading(
            np.abs(drift).max(axis=1), self.min_drift)
        hybrid = emergency(drift, self.emerg).any(axis=1) | calendar
        return np.select([self.kind == 1, self.kind == 2, self.kind == 3], [threshold, calendar, hybrid], False)


def _custom(spec: Spec, market: Market, t: int, st: _State, r: int, tgt: np.ndarray, p: np.ndarray,
            value: float, drift: np.ndarray) -> bool:
    """A strategy without a rule function: its ``decide`` on the bar's allocation (the targets it names kept)."""
    from agent.research.live import HISTORY_BARS, decide_on_bar

    basis = {a: st.basis[r, j] / st.units[r, j] for j, a in enumerate(market.assets)
             if a in spec.targets and not market.stables[j] and st.units[r, j] > 0}
    decision = decide_on_bar(spec.strategy, market, t, st.units[r], p, tgt, st.last[r], spec.targets,
                             cash=float(st.cash[r]), history_bars=HISTORY_BARS, cost_basis=basis)
    if decision.rebalance:
        st.goal[r] = [float(decision.targets.get(a, 0)) for a in market.assets]
    return bool(decision.rebalance)


def _rebalance(idx: np.ndarray, t: int, p_all: np.ndarray, one_path: bool, st: _State, hub: np.ndarray,
               has_hub: np.ndarray, min_trade: np.ndarray, market: Market, costs: Costs, out: Result) -> None:
    """Trade the runs ``idx`` at bar ``t``'s closes toward their goals (in place), counting legs, skips and costs."""
    p = p_all if one_path else p_all[idx]
    units, cash, goal, hb, withhub = st.units[idx], st.cash[idx], st.goal[idx], hub[idx], has_hub[idx]
    usd = units * p
    total = usd.sum(axis=1) + cash
    drift = 100 * usd / total[:, None] - goal
    delta = goal / 100 * total[:, None] - usd
    size = np.abs(delta)
    gas_usd = costs.gas_per_leg * market.gas_usd_per_unit[t]
    cost = leg_cost_usd(size, gas_usd, costs.lp_fee_bps, costs.depth_usd)
    big = ~hb & (size >= min_trade[idx])
    worth = cost <= size * np.abs(drift) / 100  # the planner's drift_benefit_usd rule
    do = big & worth
    skipped = ~hb & ((~big & (size >= 0.01)) | (big & ~worth))
    sells, buys = do & (delta < 0), do & (delta > 0)
    proceeds = np.where(sells, size - cost, 0.0).sum(axis=1)
    basis = st.basis[idx] * np.where(sells & (units > 0), 1 - size / p / np.where(units > 0, units, 1), 1.0)
    units = units - np.where(sells, size / p, 0.0)
    # with a hub: sells pay into it and buys are paid from it
    need = np.where(buys, size, 0.0).sum(axis=1)
    p_hub = np.where(withhub, np.where(hb, p, 0.0).sum(axis=1), 1.0)
    units = units + np.where(hb & withhub[:, None], ((proceeds - need) / p_hub)[:, None], 0.0)
    # without one: sells fund the buys pro rata, what they leave stays as cash
    pot = cash + proceeds
    scale = np.where(withhub | (need <= 0), 1.0, np.minimum(1.0, pot / np.where(need > 0, need, 1.0)))
    bsize = size * scale[:, None]
    bcost = np.where(withhub[:, None], cost, leg_cost_usd(bsize, gas_usd, costs.lp_fee_bps, costs.depth_usd))
    units = units + np.where(buys, np.maximum(bsize - bcost, 0.0) / p, 0.0)
    st.basis[idx] = basis + np.where(buys, bsize, 0.0)
    spent = np.where(buys, bsize, 0.0).sum(axis=1)
    st.cash[idx] = np.where(withhub, cash, pot - spent)
    st.units[idx] = units
    leg_usd = np.where(sells, size, np.where(buys, bsize, 0.0))
    leg_cost = np.where(sells, cost, np.where(buys, bcost, 0.0))
    traded = do.any(axis=1)
    st.last[idx] = np.where(traded, st.decided[idx], st.last[idx])
    out.rebalances[idx] += traded
    out.trades[idx] += do.sum(axis=1)
    out.skipped[idx] += skipped.sum(axis=1)
    out.turnover[idx] += leg_usd.sum(axis=1)
    out.costs[idx] += leg_cost.sum(axis=1)
    out.gas[idx] += do.sum(axis=1) * gas_usd
    if out.events is not None:
        for k, r in enumerate(idx):
            out.events[r].append(_event(market, t, int(st.decided[r]), do[k], delta[k], leg_usd[k], leg_cost[k],
                                        gas_usd, big[k], worth[k], skipped[k], size[k], cost[k], drift[k],
                                        float(min_trade[r, 0])))


def _event(market: Market, t: int, decided: int, do: np.ndarray, delta: np.ndarray, usd: np.ndarray,
           cost: np.ndarray, gas_usd: float, big: np.ndarray, worth: np.ndarray, skipped: np.ndarray,
           size: np.ndarray, full_cost: np.ndarray, drift: np.ndarray, min_trade: float) -> dict[str, Any]:
    legs, skips = [], []
    for j, a in enumerate(market.assets):
        side = "buy" if delta[j] > 0 else "sell"
        if do[j]:
            legs.append({"asset": a, "side": side, "usd": float(usd[j]), "cost_usd": float(cost[j]),
                         "gas_usd": float(gas_usd)})
        elif skipped[j] and not big[j]:
            skips.append(f"{side} {size[j]:,.2f} USD of {a}: below MIN_TRADE_USD {min_trade:g}")
        elif skipped[j]:
            skips.append(f"{side} {size[j]:,.2f} USD of {a}: estimated cost {full_cost[j]:,.2f} USD exceeds "
                         f"the drift benefit ({drift[j]:+.2f} pp)")
    return {"bar": t, "decided": decided, "legs": legs, "skipped": skips}
