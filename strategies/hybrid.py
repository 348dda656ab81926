"""Hybrid: the calendar, plus a wide emergency band that triggers between calendar dates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from strategies import Decision, StrategyContext, drift_line
from strategies.calendar import CalendarStrategy
from strategies.calendar import from_settings as calendar_from_settings


def emergency(drift_pp: Any, emergency_band_pp: Any) -> np.ndarray:
    """The decision rule's override: which assets are beyond the emergency band (any one rebalances at once)."""
    return np.abs(np.asarray(drift_pp, dtype=float)) > emergency_band_pp


@dataclass(frozen=True)
class HybridStrategy:
    calendar: CalendarStrategy
    emergency_band_pp: Decimal
    name: str = "hybrid"

    def decide(self, ctx: StrategyContext) -> Decision:
        alloc = ctx.allocation
        beyond = emergency([a.drift_pp for a in alloc.assets], float(self.emergency_band_pp))
        breaches = [drift_line(a.symbol, a.weight_pct, a.target_pct)
                    for a, out in zip(alloc.assets, beyond, strict=True) if out]
        if breaches:
            return Decision(rebalance=True, targets=ctx.targets, urgent=True, rule=f"{self.name}:emergency",
                            inputs={"emergency_band_pp": float(self.emergency_band_pp),
                                    "max_drift_pp": round(float(alloc.max_drift_pp), 4)},
                            reasons=tuple(f"{b} is beyond the ±{self.emergency_band_pp} pp emergency band"
                                          for b in breaches))
        inner = self.calendar.decide(ctx)
        return inner.model_copy(update={"rule": f"{self.name}:{inner.rule}"})


def from_settings(settings: Any) -> HybridStrategy:
    return HybridStrategy(calendar=calendar_from_settings(settings), emergency_band_pp=settings.emergency_band_pp)
