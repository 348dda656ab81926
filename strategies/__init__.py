"""Rebalancing strategies: one module each behind one small interface, loaded by name (``STRATEGY``).

A strategy sees the current allocation, the clock (passed in, never read), when the portfolio was last
rebalanced and a price history, and answers: rebalance or not, why, how urgent, and to which targets.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from agent.errors import ConfigError
from agent.planning.allocation import Allocation

FROZEN = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
KNOWN = ("threshold", "calendar", "hybrid")


class StrategyContext(BaseModel):
    model_config = FROZEN

    allocation: Allocation
    targets: dict[str, Decimal]
    now: datetime
    last_rebalance_at: datetime | None = None
    #: asset -> [(time, USD price)], oldest first (only data available at ``now``).
    price_history: Mapping[str, Sequence[tuple[datetime, Decimal]]] = {}


class Decision(BaseModel):
    model_config = FROZEN

    rebalance: bool
    reasons: tuple[str, ...]
    targets: dict[str, Decimal]
    #: drift beyond the emergency band: the gas policy may pay up to its hard cap
    urgent: bool = False


class Strategy(Protocol):
    name: str

    def decide(self, ctx: StrategyContext) -> Decision: ...


def load_strategy(name: str, settings: Any) -> Strategy:
    """Import ``strategies.<name>`` and build its strategy from the settings."""
    if name not in KNOWN:
        raise ConfigError(f"STRATEGY: unknown strategy {name!r}; choose one of {', '.join(KNOWN)}")
    module = importlib.import_module(f"strategies.{name}")
    return module.from_settings(settings)


def drift_line(symbol: str, weight: Decimal, target: Decimal) -> str:
    return f"{symbol} at {weight:.2f}% vs target {target:.2f}% ({weight - target:+.2f} pp)"
