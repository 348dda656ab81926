"""What the journal hands out: one frozen record per table row, its states as ``StrEnum`` values.

Nothing outside ``agent.journal`` sees a ``sqlite3.Row`` or a column dict: the store decodes each row into
one of these records (wei amounts back to ``int``, JSON columns back to JSON values, states to their enum).
The enums are ``StrEnum`` so a state compares equal to, and is stored as, its plain text.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TypeAlias

#: A decoded JSON value (what a JSON column of the journal holds).
JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
#: A decoded JSON object.
JsonObject: TypeAlias = "dict[str, JsonValue]"


class Mode(StrEnum):
    """Whether a cycle or action may send transactions."""

    LIVE = "live"
    DRY_RUN = "dry_run"

    @classmethod
    def _missing_(cls, value: object) -> Mode | None:
        # journals written before the enum stored dry-run actions as "dry-run"
        return cls.DRY_RUN if value == "dry-run" else None


class CycleStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    #: the plan was dropped (prices moved, a quote failed...): nothing more was tried this cycle
    DROPPED = "dropped"
    ERROR = "error"


class ActionState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    #: interrupted with nothing in flight; the same key may run again
    ABANDONED = "abandoned"
    DRY_RUN = "dry_run"

    @property
    def terminal(self) -> bool:
        return self in ACTION_TERMINAL


ACTION_TERMINAL = frozenset({ActionState.CONFIRMED, ActionState.FAILED, ActionState.DRY_RUN})


class Broadcast(StrEnum):
    """How far a signed attempt got towards a node."""

    #: signed, not handed to any node
    NEVER = "never"
    #: the send was started; the process may have died around it
    MAYBE = "maybe"
    #: a node accepted it
    DEFINITELY = "definitely"

    @property
    def in_flight(self) -> bool:
        return self in IN_FLIGHT


IN_FLIGHT = frozenset({Broadcast.MAYBE, Broadcast.DEFINITELY})


class AttemptStatus(StrEnum):
    PENDING = "pending"
    #: mined with status 1
    MINED = "mined"
    #: mined with status 0
    REVERTED = "reverted"
    #: another attempt at the same nonce was mined
    REPLACED = "replaced"
    #: its nonce was used by a transaction we did not journal
    DROPPED = "dropped"
    #: never broadcast
    ABANDONED = "abandoned"
    #: the node refused it
    REJECTED = "rejected"

    @property
    def settled_on_chain(self) -> bool:
        """Mined, whatever the transaction's status."""
        return self in (AttemptStatus.MINED, AttemptStatus.REVERTED)


@dataclass(frozen=True, slots=True)
class CycleRecord:
    id: int
    started_at: str
    finished_at: str | None
    mode: Mode
    status: CycleStatus
    note: str


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: int
    cycle_id: int | None
    created_at: str
    plan_id: str | None
    rebalance: bool
    reasons: list[str]
    detail: JsonObject


@dataclass(frozen=True, slots=True)
class ActionRecord:
    id: int
    idempotency_key: str
    mode: Mode
    cycle_id: int | None
    plan_id: str
    chain_id: int
    chain: str
    kind: str
    intent: JsonObject
    state: ActionState
    error: str | None
    result: JsonObject | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    id: int
    action_id: int | None
    #: main, approval, cancel, gap-fill...
    purpose: str
    chain_id: int
    sender: str
    nonce: int
    tx_hash: str
    raw_tx: bytes
    max_fee_per_gas_wei: int
    max_priority_fee_per_gas_wei: int
    broadcast: Broadcast
    status: AttemptStatus
    sent_block: int | None
    replaces: int | None
    block_number: int | None
    gas_used: int | None
    effective_gas_price_wei: int | None
    error: str | None
    created_at: str
    updated_at: str

    def to_json(self) -> JsonObject:
        """The attempt without its raw bytes, as shown by ``journal --json`` and kept in action results."""
        out: JsonObject = {k: v for k, v in asdict(self).items() if k != "raw_tx"}
        return out


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    created_at: str
    kind: str
    cycle_id: int | None
    action_id: int | None
    detail: JsonObject


def dumps(value: object) -> str:
    """How the journal stores a JSON column (keys sorted; anything else as its text)."""
    return json.dumps(value, default=str, sort_keys=True)


def loads_object(text: str | None) -> JsonObject:
    """A JSON object column (empty object for NULL/empty)."""
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"journal: expected a JSON object, got {type(value).__name__}")
    return value
