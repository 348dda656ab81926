"""The strategy interface: what a rule sees (``StrategyContext``) and what it answers (``Decision``).

Kept apart from the package's loader so the overlays the loader wraps around every strategy can import the
interface without importing the loader back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from agent.planning.allocation import Allocation

FROZEN = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
KNOWN = ("threshold", "calendar", "hybrid", "vol_bands", "regime", "dynamic")


class StrategyContext(BaseModel):
    model_config = FROZEN

    allocation: Allocation
    targets: dict[str, Decimal]
    now: datetime
    last_rebalance_at: datetime | None = None
    #: asset -> [(time, USD price)], oldest first (only data available at ``now``).
    price_history: Mapping[str, Sequence[tuple[datetime, Decimal]]] = {}
    #: asset -> average USD cost per unit of the open lots (stop-loss / take-profit read it)
    cost_basis: Mapping[str, Decimal] = {}
    #: outside readings known at ``now``: e.g. ``fear_greed`` (0-100), ``unhealthy_chains`` (names)
    signals: Mapping[str, Any] = {}


class PauseState(BaseModel):
    model_config = FROZEN

    trigger: str
    reason: str
    resume_when: str


class Decision(BaseModel):
    model_config = FROZEN

    rebalance: bool
    reasons: tuple[str, ...]
    targets: dict[str, Decimal]
    #: drift beyond the emergency band: the gas policy may pay up to its hard cap
    urgent: bool = False
    #: which rule decided (the strategy's name, or the overlay that overrode it, e.g. "stress_pause")
    rule: str = ""
    #: the figures the rule read (volatility, regime, correlation, pause trigger), for plan/run/journal JSON
    inputs: dict[str, Any] = {}
    #: set while a stress pause holds: why, and what ends it
    pause: PauseState | None = None


class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    def decide(self, ctx: StrategyContext) -> Decision: ...


def drift_line(symbol: str, weight: Decimal, target: Decimal) -> str:
    return f"{symbol} at {weight:.2f}% vs target {target:.2f}% ({weight - target:+.2f} pp)"
