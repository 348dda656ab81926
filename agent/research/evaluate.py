"""``rebalancer backtest --evaluate``: one evaluation card per strategy, from the backtest harness.

Each strategy family is run in a few variants on several mixes and yearly start dates beside the benchmarks
(buy and hold, monthly calendar, fixed 5 pp bands, BTC only, equal weight); walk-forward picks a family's variant on
each trailing two years and scores it on the next half year only; the deflated Sharpe of each family's best variant
(its daily returns in excess of buy and hold, on the first mix and the whole range) counts every variant of every
family as a trial. The HMM regime runs in the fast path too (one fit per week of bars, on the past only). Families the
engine runs only bar by bar (the stress pause, stop-loss) are run on the first mix over the whole range only, and their
card says so. Everything is computed, nothing is typed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import numpy as np

from agent.research.backtest import CostModel, build_market, engine_costs, spec_for
from agent.research.data import load_prices
from agent.research.engine import Costs, Market, Spec, simulate
from agent.research.fastpath import prepare
from agent.research.job import btc_column
from agent.research.paths import benchmarks, path_figures, start_indices
from agent.research.stats import deflated_sharpe, expected_max_sharpe, moments
from agent.research.study import SIGNIFICANT, walk_forward
from strategies.calendar import CalendarStrategy
from strategies.dynamic import DynamicTargetsStrategy
from strategies.hybrid import HybridStrategy
from strategies.overlays import PauseRules, StopLossTakeProfit, StopRules, StressPause
from strategies.regime import RegimeStrategy
from strategies.threshold import ThresholdStrategy
from strategies.vol_bands import VolBandsStrategy

MIXES: dict[str, dict[str, Decimal]] = {
    "ETH 40 / WBTC 30 / USDC 30": {"ETH": Decimal(40), "WBTC": Decimal(30), "USDC": Decimal(30)},
    "WBTC 50 / ETH 50": {"WBTC": Decimal(50), "ETH": Decimal(50)},
    "ETH 30 / WBTC 30 / LINK 10 / USDC 30": {"ETH": Decimal(30), "WBTC": Decimal(30), "LINK": Decimal(10),
                                             "USDC": Decimal(30)},
}
FROM = date(2018, 10, 8)  # the first day USDC has prices
WALK_FORWARD = (730, 182)
D = Decimal


def _th(band: float, rel: float = 25) -> ThresholdStrategy:
    return ThresholdStrategy(band_pp=D(str(band)), band_rel_pct=D(str(rel)), emergency_band_pp=D(15))


def _cal(days: int) -> CalendarStrategy:
    return CalendarStrategy(interval=timedelta(days=days))


BASE = _th(5)


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    variants: Sequence[tuple[str, Callable[[], Any]]]
    fast: bool = True


def _hybrid(days: int) -> HybridStrategy:
    return HybridStrategy(calendar=_cal(days), emergency_band_pp=D(15))


FAMILIES = (
    Family("threshold", "threshold (drift bands)", [
        ("5 pp / 25 %", lambda: BASE), ("2.5 pp", lambda: _th(2.5, 0)), ("7.5 pp", lambda: _th(7.5, 0)),
        ("10 pp", lambda: _th(10, 0)), ("15 pp", lambda: _th(15, 0))]),
    Family("calendar", "calendar", [(f"{d} d", partial(_cal, d)) for d in (7, 30, 91, 182)]),
    Family("hybrid", "hybrid (calendar + emergency band)", [
        (f"{d} d + 15 pp", partial(_hybrid, d)) for d in (30, 91)]),
    Family("vol_bands", "vol_bands (volatility-scaled bands)", [
        ("exponent +1", lambda: VolBandsStrategy(base=BASE, exponent=1.0)),
        ("exponent -1", lambda: VolBandsStrategy(base=BASE, exponent=-1.0)),
        ("exponent +1 on 10 pp", lambda: VolBandsStrategy(base=_th(10, 0), exponent=1.0))]),
    Family("regime", "regime, rule (efficiency ratio)", [
        ("trend 10 / range 5", lambda: RegimeStrategy(base=BASE)),
        ("trend 5 / range 10 (reverse)", lambda: RegimeStrategy(base=_th(5, 0), trend_band_pp=D(5),
                                                                 range_band_pp=D(10)))]),
    Family("regime_hmm", "regime, HMM (two-state Gaussian on returns and volatility)", [
        ("trend 10 / range 5", lambda: RegimeStrategy(base=BASE, model="hmm"))]),
    Family("dynamic", "dynamic targets", [
        ("inverse_vol", lambda: DynamicTargetsStrategy(base=BASE, method="inverse_vol")),
        ("vol_target 40 %", lambda: DynamicTargetsStrategy(base=BASE, method="vol_target", vol_target_pct=40))]),
    Family("stress_pause", "stress pause overlay (on threshold 5 pp / 25 %)", [
        ("crash 15 % in 7 d or stable < 0.98", lambda: StressPause(inner=BASE, rules=PauseRules(
            crash_pct=15, crash_hours=168, depeg_floor=0.98)))], fast=False),
    Family("stop_loss", "stop-loss overlay (on threshold 5 pp / 25 %)", [
        ("sell 50 % at 25 % below cost", lambda: StopLossTakeProfit(inner=BASE, rules=StopRules(
            stop_loss_pct=25, sell_pct=50)))], fast=False),
)


#: families not run by this command, and why (the document lists them)
NOT_RUN: dict[str, str] = {}


@dataclass
class MixRun:
    market: Market
    costs: Costs
    bench: list[Spec]
    starts: list[int]


def _mix(targets: Mapping[str, Decimal], model: CostModel, to: date | None) -> MixRun:
    btc = btc_column(targets)
    cols = [*targets, *([btc] if btc not in targets else [])]
    table = load_prices(cols, FROM, to)
    market = build_market(table, cols, model)
    bench = benchmarks({s: float(p) for s, p in targets.items()}, btc)
    return MixRun(market, engine_costs(cols, model, 100_000.0), bench, start_indices(table.dates, "yearly", 365))


def _row(figs: list[dict[str, float]], bench: Mapping[str, list[dict[str, float]]], turnover: list[float],
         costs: list[float]) -> dict[str, Any]:
    hold, cal = bench["buy and hold"], bench["monthly calendar"]

    def beats(key: str, other: list[dict[str, float]]) -> float:
        return float(np.mean([f[key] > b[key] for f, b in zip(figs, other, strict=True)]))
    return {"paths": len(figs), "median_final": float(np.median([f["final"] for f in figs])),
            "median_sharpe": float(np.median([f["sharpe"] for f in figs])),
            "median_mdd": float(np.median([f["mdd"] for f in figs])),
            "beats_hold_final": beats("final", hold), "beats_hold_sharpe": beats("sharpe", hold),
            "beats_calendar_sharpe": beats("sharpe", cal),
            "turnover_per_year": float(np.median(turnover)), "costs_per_year": float(np.median(costs))}


def _paths(specs: Sequence[Spec], mix: MixRun) -> tuple[list[list[dict[str, float]]], list[list[float]],
                                                        list[list[float]]]:
    """Each spec over every start: its path figures, turnover and costs per year (USD)."""
    runs = [s.with_(start=st) for s in specs for st in mix.starts]
    res = simulate(runs, mix.market, mix.costs)
    figs = path_figures(res, runs, mix.market.bars_per_year)
    years = [((mix.market.bars - r.start) / mix.market.bars_per_year) for r in runs]
    n = len(mix.starts)
    turn = [float(res.turnover[i]) / years[i] for i in range(len(runs))]
    cost = [float(res.costs[i]) / years[i] for i in range(len(runs))]
    return ([figs[i * n:(i + 1) * n] for i in range(len(specs))], [turn[i * n:(i + 1) * n] for i in range(len(specs))],
            [cost[i * n:(i + 1) * n] for i in range(len(specs))])


def evaluate(model: CostModel | None = None, to: date | None = None,
             families: Sequence[Family] = FAMILIES, mixes: Mapping[str, Mapping[str, Decimal]] = MIXES,
             progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """The cards' figures: per family its variants' rows, walk-forward per mix, deflated Sharpe and a verdict."""
    model = model or CostModel()
    cards: dict[str, Any] = {f.key: {"title": f.title, "fast": f.fast, "variants": {}, "walk_forward": {}}
                             for f in families}
    excess: dict[str, np.ndarray] = {}  # variant -> daily returns over buy and hold (first mix, whole range)
    for m, (mix_name, targets) in enumerate(mixes.items()):
        progress(f"mix {mix_name}")
        mix = _mix(targets, model, to)
        bfigs, _, _ = _paths(mix.bench, mix)
        bench = {b.name: f for b, f in zip(mix.bench, bfigs, strict=True)}
        for fam in families:
            if not fam.fast and m > 0:
                continue
            specs = [prepare(spec_for(make(), targets, model.min_trade_usd), mix.market).with_(name=f"{fam.key} {lab}")
                     for lab, make in fam.variants]
            one = mix if fam.fast else MixRun(mix.market, mix.costs, mix.bench, [0])
            figs, turn, cost = _paths(specs, one)
            b1 = bench if fam.fast else {k: v[:1] for k, v in bench.items()}
            for (lab, _), f, tu, co in zip(fam.variants, figs, turn, cost, strict=True):
                cards[fam.key]["variants"].setdefault(lab, {})[mix_name] = _row(f, b1, tu, co)
            if fam.fast:
                per_day = 24 / mix.market.hours_per_bar
                wf = walk_forward([s.with_(start=0) for s in specs], mix.bench, mix.market, mix.costs,
                                  int(WALK_FORWARD[0] * per_day), int(WALK_FORWARD[1] * per_day))
                cards[fam.key]["walk_forward"][mix_name] = wf["out_of_sample"]
            if m == 0:
                res = simulate([*specs, mix.bench[0]], mix.market, mix.costs)
                rets = res.values[:, 1:] / res.values[:, :-1] - 1
                for s, r in zip(specs, rets[:-1], strict=True):
                    excess[s.name] = r - rets[-1]
        progress(f"mix {mix_name}: done")
    _deflate(cards, excess, families)
    for fam in families:
        cards[fam.key]["verdict"] = verdict(cards[fam.key])
    return {"from": FROM.isoformat(), "mixes": list(mixes), "trials": len(excess), "cards": cards, "not_run": NOT_RUN,
            "walk_forward_days": list(WALK_FORWARD)}


def _deflate(cards: dict[str, Any], excess: Mapping[str, np.ndarray], families: Sequence[Family]) -> None:
    """Each family's best variant's excess Sharpe deflated against the best of every variant of every family."""
    names = list(excess)
    stats = {n: moments(excess[n]) for n in names}
    srs = np.array([stats[n][0] for n in names])
    sr0 = expected_max_sharpe(float(np.var(srs, ddof=1)), len(srs)) if len(srs) > 1 else 0.0
    year = np.sqrt(365)
    for fam in families:
        mine = [n for n in names if n.startswith(f"{fam.key} ")]
        best = max(mine, key=lambda n: stats[n][0])
        sr, skew, kurt = stats[best]
        cards[fam.key]["deflated"] = {"best": best[len(fam.key) + 1:], "excess_sharpe": round(sr * year, 3),
                                      "luck_sharpe": round(sr0 * year, 3), "trials": len(names),
                                      "deflated_sharpe": round(deflated_sharpe(sr, len(excess[best]), skew, kurt, sr0),
                                                               4)}


def verdict(card: Mapping[str, Any]) -> str:
    d = card["deflated"]
    wf = card["walk_forward"]
    beat = [m for m, o in wf.items() if (o["walk-forward"]["sharpe"] or 0) > max(
        o["monthly calendar"]["sharpe"] or 0, o["fixed 5 pp"]["sharpe"] or 0)]
    significant = d["deflated_sharpe"] >= SIGNIFICANT
    if significant and wf and len(beat) == len(wf):
        return (f"Evidence of an edge: deflated Sharpe {d['deflated_sharpe']:.2f} ≥ {SIGNIFICANT} over {d['trials']} "
                "trials and the walk-forward choice beats the monthly calendar and fixed 5 pp bands out of sample on "
                "every mix.")
    why = f"deflated Sharpe {d['deflated_sharpe']:.2f} < {SIGNIFICANT} over {d['trials']} trials" if not significant \
        else f"deflated Sharpe {d['deflated_sharpe']:.2f}, but out of sample it does not beat the simple baselines"
    oos = (f"; out of sample its walk-forward choice beats both the monthly calendar and fixed 5 pp bands on "
           f"{len(beat)} of {len(wf)} mixes") if wf else "; run bar by bar on one mix and one start only"
    return f"No evidence of an edge ({why}{oos})."
