"""The cycle's observer interface: events for what happens in a cycle, for notifications, metrics, dashboards.

``run_cycle(..., observers=[...])`` emits, in order: ``cycle_start``; ``decision`` (with ``decision: {rule,
inputs, pause}``); ``correlation_alert`` (when the monitor's average crossed its threshold); ``plan`` (when it
rebalances); per action ``gas_wait`` (live only, when the base fee made it wait), then ``trade`` (an action
finished: its state), or ``drop`` / ``retry`` (it failed: the rest of the plan is dropped, or waits for the next
cycle); ``parking``; ``halt`` (the cycle stops the agent: a ``SafetyHalt`` or a bug); ``cycle_end``. An
observer is anything with ``on_event(event)``; one that raises is logged and never breaks the cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger(__name__)


class CycleEventKind(StrEnum):
    CYCLE_START = "cycle_start"
    DECISION = "decision"
    PLAN = "plan"
    GAS_WAIT = "gas_wait"
    TRADE = "trade"
    DROP = "drop"
    RETRY = "retry"
    PARKING = "parking"
    HALT = "halt"
    CYCLE_END = "cycle_end"
    #: the correlation monitor's average crossed CORRELATION_ALERT (state ``above``, or back ``below``)
    CORRELATION_ALERT = "correlation_alert"


@dataclass(frozen=True)
class CycleEvent:
    kind: CycleEventKind
    cycle_id: int
    #: JSON-ready facts of the event (plan id, chain, action key, state, reason…); never a secret
    detail: Mapping[str, Any] = field(default_factory=dict)


class CycleObserver(Protocol):
    def on_event(self, event: CycleEvent) -> None: ...


class EventBus:
    """Fans events out to the observers; an observer's failure is logged, never raised into the cycle."""

    def __init__(self, observers: Iterable[CycleObserver] = ()) -> None:
        self.observers = list(observers)

    def emit(self, kind: CycleEventKind, cycle_id: int, /, **detail: Any) -> None:
        event = CycleEvent(kind=kind, cycle_id=cycle_id, detail=detail)
        for observer in self.observers:
            try:
                observer.on_event(event)
            except Exception:  # an observer must not break a cycle (funds may be mid-plan)
                log.exception("cycle observer %s failed on %s", type(observer).__name__, kind)
