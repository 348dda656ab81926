"""Rebalancing strategies: one module each behind one small interface, loaded by name (``STRATEGY``).

A strategy sees the current allocation, the clock (passed in, never read), when the portfolio was last
rebalanced and a price history, and answers: rebalance or not, why, how urgent, and to which targets.
"""

from __future__ import annotations

import importlib
from typing import Any

from agent.errors import ConfigError
from strategies.base import FROZEN, KNOWN, Decision, PauseState, Strategy, StrategyContext, drift_line
from strategies.overlays import with_overlays

__all__ = ["FROZEN", "KNOWN", "Decision", "PauseState", "Strategy", "StrategyContext", "drift_line", "load_strategy"]


def load_strategy(name: str, settings: Any) -> Strategy:
    """Import ``strategies.<name>`` and build its strategy from the settings."""
    if name not in KNOWN:
        raise ConfigError(f"STRATEGY: unknown strategy {name!r}; choose one of {', '.join(KNOWN)}")
    module = importlib.import_module(f"strategies.{name}")
    return with_overlays(module.from_settings(settings), settings)


