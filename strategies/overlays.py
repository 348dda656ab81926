"""Overlays usable with any strategy: a stress pause that holds every rebalancing trade while markets are
disorderly, and stop-loss / take-profit on an asset's cost basis.

Stress pause triggers (each off unless set):
- ``PAUSE_CRASH_PCT`` / ``PAUSE_CRASH_HOURS``: a risky asset fell that much within that many hours;
- ``PAUSE_DEPEG_FLOOR``: a stablecoin's latest (on-chain) price is below this floor (e.g. 0.98);
- ``PAUSE_CORRELATION``: the average pairwise correlation of daily returns over ``PAUSE_CORRELATION_DAYS``
  reached this level (the diversification a rebalance relies on is gone);
- ``PAUSE_FEAR_GREED_BELOW``: the external Fear & Greed index (when a reading is supplied) is below this;
- chain or venue health: any chain named in the ``unhealthy_chains`` signal.
While paused the decision is "no rebalance", naming the trigger, its figure and what ends it.

Stop-loss / take-profit: when an asset's price crosses ``STOP_LOSS_PCT`` below its cost basis (or
``TAKE_PROFIT_PCT`` above) since the last rebalance, sell ``STOP_SELL_PCT`` of the holding into the stable.
It fires on the crossing, once: after the sale it re-arms only when the price crosses back.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from strategies.base import Decision, PauseState, Strategy, StrategyContext
from strategies.correlation import read_correlation
from strategies.signals import closes, fastest_drop

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PauseRules:
    crash_pct: float | None = None
    crash_hours: float = 24.0
    depeg_floor: float | None = None
    correlation: float | None = None
    correlation_days: int = 30
    fear_greed_below: float | None = None
    stables: frozenset[str] = frozenset({"USDC", "USDT", "DAI"})


def stress_triggers(ctx: StrategyContext, rules: PauseRules) -> list[PauseState]:
    """Every pause trigger that holds at ``now`` (pure)."""
    out = []
    risky = [s for s in ctx.targets if s not in rules.stables]
    if rules.crash_pct is not None:
        for s in risky:
            times, prices = closes(ctx.price_history.get(s, ()))
            drop = fastest_drop(list(zip(times, prices, strict=True)), within=timedelta(hours=rules.crash_hours))
            if drop * 100 >= rules.crash_pct:
                out.append(PauseState(trigger="crash", reason=f"{s} fell {drop:.1%} within {rules.crash_hours:g} h "
                                      f"(PAUSE_CRASH_PCT {rules.crash_pct:g})",
                                      resume_when=f"no fall of {rules.crash_pct:g}% within the last "
                                                  f"{rules.crash_hours:g} h"))
    if rules.depeg_floor is not None:
        for s in ctx.targets:
            history = ctx.price_history.get(s, ())
            if s in rules.stables and history and float(history[-1][1]) < rules.depeg_floor:
                out.append(PauseState(trigger="depeg", reason=f"{s} at {float(history[-1][1]):.4f} USD, below the "
                                      f"floor {rules.depeg_floor:g} (PAUSE_DEPEG_FLOOR)",
                                      resume_when=f"{s} back at or above {rules.depeg_floor:g} USD"))
    if rules.correlation is not None and len(risky) >= 2:
        reading = read_correlation(ctx.price_history, list(ctx.targets), ctx.now, window_days=rules.correlation_days,
                                   threshold=rules.correlation, stables=rules.stables)
        if reading is not None and len(reading.pairs) == len(risky) * (len(risky) - 1) // 2:
            corr = reading.average
            if reading.above:
                out.append(PauseState(trigger="correlation", reason=f"average pairwise correlation {corr:.2f} over "
                                      f"{rules.correlation_days} d reached PAUSE_CORRELATION {rules.correlation:g}",
                                      resume_when=f"the average correlation back below {rules.correlation:g}"))
    index = ctx.signals.get("fear_greed")
    if rules.fear_greed_below is not None and index is not None and float(index) < rules.fear_greed_below:
        out.append(PauseState(trigger="sentiment", reason=f"Fear & Greed index {float(index):g} below "
                              f"PAUSE_FEAR_GREED_BELOW {rules.fear_greed_below:g}",
                              resume_when=f"the index at or above {rules.fear_greed_below:g}"))
    unhealthy = list(ctx.signals.get("unhealthy_chains", ()) or ())
    if unhealthy:
        out.append(PauseState(trigger="chain_health", reason=f"chains not healthy: {', '.join(unhealthy)}",
                              resume_when="every configured chain answers and is in sync"))
    return out


@dataclass(frozen=True)
class StressPause:
    inner: Strategy
    rules: PauseRules
    name: str = "stress_pause"

    def decide(self, ctx: StrategyContext) -> Decision:
        triggers = stress_triggers(ctx, self.rules)
        if not triggers:
            return self.inner.decide(ctx)
        first = triggers[0]
        reasons = tuple(f"paused ({t.trigger}): {t.reason}; resumes when {t.resume_when}" for t in triggers)
        return Decision(rebalance=False, reasons=reasons, targets=dict(ctx.targets), rule=self.name, pause=first,
                        inputs={"pause": [{"trigger": t.trigger, "reason": t.reason, "resume_when": t.resume_when}
                                          for t in triggers]})


@dataclass(frozen=True)
class StopRules:
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    sell_pct: float = 50.0
    stable: str = "USDC"


def _crossed(history: list[tuple[datetime, float]], since: datetime | None, level: float, below: bool) -> bool:
    """Did the price cross ``level`` (downwards if ``below``) at a bar after ``since``?"""
    for (_t0, p0), (t1, p1) in itertools.pairwise(history):
        if since is not None and t1 <= since:
            continue
        if (below and p0 > level >= p1) or (not below and p0 < level <= p1):
            return True
    return False


@dataclass(frozen=True)
class StopLossTakeProfit:
    inner: Strategy
    rules: StopRules
    name: str = "stop_loss"

    def fired(self, ctx: StrategyContext) -> list[tuple[str, str, float]]:
        out = []
        for symbol, basis in ctx.cost_basis.items():
            times, prices = closes(ctx.price_history.get(symbol, ()))
            history = list(zip(times, prices, strict=True))
            if not history or basis <= 0:
                continue
            checks = [("stop_loss", self.rules.stop_loss_pct, True), ("take_profit", self.rules.take_profit_pct, False)]
            for kind, pct, below in checks:
                if pct is None:
                    continue
                level = float(basis) * (1 - pct / 100 if below else 1 + pct / 100)
                if _crossed(history, ctx.last_rebalance_at, level, below):
                    out.append((symbol, kind, prices[-1] / float(basis) - 1))
        return out

    def decide(self, ctx: StrategyContext) -> Decision:
        fired = self.fired(ctx)
        if not fired:
            return self.inner.decide(ctx)
        targets = {a.symbol: a.weight_pct for a in ctx.allocation.assets if a.symbol in ctx.targets}
        sold = Decimal(0)
        reasons = []
        for symbol, kind, change in fired:
            cut = targets.get(symbol, Decimal(0)) * Decimal(str(self.rules.sell_pct)) / HUNDRED
            targets[symbol] = targets.get(symbol, Decimal(0)) - cut
            sold += cut
            reasons.append(f"{kind}: {symbol} at {change:+.1%} of its cost basis {ctx.cost_basis[symbol]:.2f} USD: "
                           f"sell {self.rules.sell_pct:g}% of it into {self.rules.stable}")
        targets[self.rules.stable] = targets.get(self.rules.stable, Decimal(0)) + sold
        total = sum(targets.values(), Decimal(0))
        targets = {k: v * HUNDRED / total for k, v in targets.items()} if total > 0 else targets
        return Decision(rebalance=True, reasons=tuple(reasons), targets=targets, rule=self.name,
                        inputs={"stops": [{"asset": s, "kind": k, "vs_basis": round(c, 4)} for s, k, c in fired]})


def with_overlays(strategy: Strategy, settings: Any) -> Strategy:
    """Wrap ``strategy`` in the overlays the settings switch on (stop-loss inside, the pause outermost)."""
    stops = StopRules(stop_loss_pct=_opt(settings, "stop_loss_pct"), take_profit_pct=_opt(settings, "take_profit_pct"),
                      sell_pct=float(getattr(settings, "stop_sell_pct", 50) or 50),
                      stable=str(getattr(settings, "stop_stable", "USDC") or "USDC"))
    if stops.stop_loss_pct is not None or stops.take_profit_pct is not None:
        strategy = StopLossTakeProfit(inner=strategy, rules=stops)
    rules = PauseRules(crash_pct=_opt(settings, "pause_crash_pct"),
                       crash_hours=float(getattr(settings, "pause_crash_hours", 24) or 24),
                       depeg_floor=_opt(settings, "pause_depeg_floor"), correlation=_opt(settings, "pause_correlation"),
                       correlation_days=int(getattr(settings, "pause_correlation_days", 30) or 30),
                       fear_greed_below=_opt(settings, "pause_fear_greed_below"))
    if any(v is not None for v in (rules.crash_pct, rules.depeg_floor, rules.correlation, rules.fear_greed_below)) \
            or bool(getattr(settings, "pause_on_chain_health", False)):
        strategy = StressPause(inner=strategy, rules=rules)
    return strategy


def _opt(settings: Any, name: str) -> float | None:
    value = getattr(settings, name, None)
    return None if value is None else float(value)


__all__ = ["PauseRules", "StopLossTakeProfit", "StopRules", "StressPause", "stress_triggers",
           "with_overlays"]
