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
#: how far back a decision sees the price history, live and in the backtest (the longest look-back any rule reads:
#: a year of volatility); the bar of ``now`` itself is included
HISTORY_DAYS = 365


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

    def explain(self) -> dict[str, Any]:
        """``{rule, inputs, pause}``: which rule decided and what it read (the ``decision`` key of plan/run/journal
        JSON; plain JSON types once through ``agent.jsonable``)."""
        return {"rule": self.rule, "inputs": dict(self.inputs),
                "pause": None if self.pause is None else self.pause.model_dump()}


class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    def decide(self, ctx: StrategyContext) -> Decision: ...


def drift_line(symbol: str, weight: Decimal, target: Decimal) -> str:
    return f"{symbol} at {weight:.2f}% vs target {target:.2f}% ({weight - target:+.2f} pp)"
