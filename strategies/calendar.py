"""Calendar rebalancing: back to target every ``CALENDAR_INTERVAL_HOURS``, whatever the drift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from strategies import Decision, StrategyContext


def due(elapsed_hours: Any, interval_hours: Any) -> np.ndarray:
    """The decision rule's clock: a period has elapsed since the last rebalance (counted from its decision)."""
    return np.asarray(elapsed_hours, dtype=float) >= interval_hours


def worth_trading(max_drift_pp: Any, min_drift_pp: Any) -> np.ndarray:
    """A due calendar still skips a portfolio whose largest drift is negligible."""
    return np.asarray(max_drift_pp, dtype=float) >= min_drift_pp


@dataclass(frozen=True)
class CalendarStrategy:
    interval: timedelta
    min_drift_pp: Decimal = Decimal("0.5")
    name: str = "calendar"

    def due(self, ctx: StrategyContext) -> bool:
        if ctx.last_rebalance_at is None:
            return True
        elapsed = (ctx.now - ctx.last_rebalance_at).total_seconds() / 3600
        return bool(due(elapsed, self.interval.total_seconds() / 3600))

    def decide(self, ctx: StrategyContext) -> Decision:
        hours = self.interval.total_seconds() / 3600
        last = ctx.last_rebalance_at.isoformat() if ctx.last_rebalance_at else None
        inputs = {"interval_hours": hours, "last_rebalance_at": last,
                  "max_drift_pp": round(float(ctx.allocation.max_drift_pp), 4)}
        if not self.due(ctx):
            assert ctx.last_rebalance_at is not None
            nxt = ctx.last_rebalance_at + self.interval
            return Decision(rebalance=False, targets=ctx.targets, rule=self.name, inputs=inputs,
                            reasons=(f"calendar: next rebalance due {nxt.isoformat()} (every {hours:g} h)",))
        if ctx.allocation.total_usd <= 0 or not worth_trading(ctx.allocation.max_drift_pp, float(self.min_drift_pp)):
            return Decision(rebalance=False, targets=ctx.targets, rule=self.name, inputs=inputs, reasons=(
                f"calendar: due, but the largest drift {ctx.allocation.max_drift_pp:.2f} pp is negligible",))
        return Decision(rebalance=True, targets=ctx.targets, rule=self.name, inputs=inputs,
                        reasons=(f"calendar: {hours:g} h period elapsed (last rebalance: {last or 'never'})",))


def from_settings(settings: Any) -> CalendarStrategy:
    return CalendarStrategy(interval=timedelta(hours=float(settings.calendar_interval_hours)))
