"""The live strategies' ``decide`` on a backtest bar: for strategies without a rule function, and to explain events.

The engine decides with the strategies' rule functions; each rebalance it reports is then explained by the live
strategy's own ``decide`` on that bar's allocation (the reasons the agent would log), which must agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from agent.planning.allocation import Allocation, AssetAllocation
from strategies import Decision, StrategyContext
from strategies.base import HISTORY_DAYS


def allocation(units: Mapping[str, float], prices: Mapping[str, float], targets: Mapping[str, Decimal],
               cash: float = 0.0) -> Allocation:
    usd = {s: units[s] * prices[s] for s in targets}
    total = sum(usd.values()) + cash
    assets = []
    for s, pct in sorted(targets.items()):  # in symbol order, as the live allocation lists them
        w = Decimal(repr(100 * usd[s] / total)) if total else Decimal(0)
        assets.append(AssetAllocation(symbol=s, balance=Decimal(repr(units[s])), usd=Decimal(repr(usd[s])),
                                      weight_pct=w, target_pct=pct, drift_pp=w - pct, by_chain={}))
    return Allocation(total_usd=Decimal(repr(total)), assets=tuple(assets), untargeted_usd=Decimal(repr(cash)))


def bar_time(times: tuple[date, ...] | None, t: int, hours_per_bar: float) -> datetime:
    if times is not None:
        d = times[t]
        return d if isinstance(d, datetime) else datetime.combine(d, time(), tzinfo=UTC)
    return datetime(2000, 1, 1, tzinfo=UTC) + timedelta(hours=hours_per_bar * t)


#: bars of past closes handed to a strategy without a rule function (vol_bands reads a year): the live span of
#: ``HISTORY_DAYS`` days at daily bars, the bar of ``now`` included
HISTORY_BARS = HISTORY_DAYS + 1


def history(market: Any, t: int, cols: list[str], bars: int) -> dict[str, tuple[tuple[datetime, Decimal], ...]]:
    """The closes of ``cols`` over the ``bars`` bars up to and including ``t`` (only what is known at ``t``)."""
    times = getattr(market, "times", None)
    lo = max(0, t - bars + 1)
    stamps = [bar_time(times, j, market.hours_per_bar) for j in range(lo, t + 1)]
    out = {}
    for a in cols:
        j = market.assets.index(a)
        out[a] = tuple((s, Decimal(repr(float(p)))) for s, p in zip(stamps, market.closes[0, lo:t + 1, j],
                                                                      strict=True))
    return out


def decide_on_bar(strategy: Any, market: Any, t: int, units: np.ndarray, prices: np.ndarray, tgt: np.ndarray,
                  last: int, targets: Mapping[str, float], *, cash: float = 0.0, history_bars: int = 0,
                  cost_basis: Mapping[str, float] | None = None) -> Decision:
    """``strategy.decide`` on bar ``t``: the allocation of ``units`` at ``prices``, the last rebalance's bar and,
    with ``history_bars``, that many bars of past closes, and the average cost per unit held (``cost_basis``)."""
    times = getattr(market, "times", None)
    cols = [a for a in market.assets if a in targets]
    index = {a: j for j, a in enumerate(market.assets)}
    alloc = allocation({a: float(units[index[a]]) for a in cols}, {a: float(prices[index[a]]) for a in cols},
                       {a: Decimal(repr(float(tgt[index[a]]))) for a in cols}, cash)
    return strategy.decide(StrategyContext(
        allocation=alloc, targets={a: Decimal(repr(float(targets[a]))) for a in cols},
        now=bar_time(times, t, market.hours_per_bar), last_rebalance_at=bar_time(times, last, market.hours_per_bar),
        price_history=history(market, t, cols, history_bars) if history_bars else {},
        cost_basis={a: Decimal(repr(float(v))) for a, v in (cost_basis or {}).items()}))
