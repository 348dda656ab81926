"""The journal's row decoders: one ``sqlite3.Row`` of each table into its frozen record of
``agent.journal.records`` (or into a plain dict with its JSON columns decoded), and ``JournalSummary``, the
latest rows of every table as records (``JournalStore.summary``, ``journal --json``)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.journal.records import (
    ActionRecord,
    ActionState,
    AttemptRecord,
    AttemptStatus,
    Broadcast,
    CycleRecord,
    CycleStatus,
    DecisionRecord,
    EventRecord,
    JsonObject,
    JsonValue,
    Mode,
    loads_object,
)


@dataclass(frozen=True, slots=True)
class JournalSummary:
    """The latest cycles, decisions, actions (each with its attempts) and events, newest first."""

    path: Path
    schema_version: int
    cycles: list[CycleRecord]
    decisions: list[DecisionRecord]
    actions: list[tuple[ActionRecord, list[AttemptRecord]]]
    events: list[EventRecord]
    open_actions: list[str]

    def to_json(self) -> dict[str, Any]:
        """The ``journal --json`` document (a JSON view for output; code reads the records)."""
        actions: list[JsonValue] = []
        for action, attempts in self.actions:
            row: JsonObject = dict(asdict(action))
            row["attempts"] = [a.to_json() for a in attempts]
            actions.append(row)
        return {"journal": str(self.path), "schema_version": self.schema_version,
                "cycles": [dict(asdict(c)) for c in self.cycles],
                "decisions": [dict(asdict(d)) for d in self.decisions], "actions": actions,
                "events": [dict(asdict(e)) for e in self.events], "open_actions": list(self.open_actions)}


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def cycle_record(r: sqlite3.Row) -> CycleRecord:
    return CycleRecord(id=r["id"], started_at=r["started_at"], finished_at=r["finished_at"], mode=Mode(r["mode"]),
                       status=CycleStatus(r["status"]), note=r["note"])


def decision_record(r: sqlite3.Row) -> DecisionRecord:
    return DecisionRecord(id=r["id"], cycle_id=r["cycle_id"], created_at=r["created_at"], plan_id=r["plan_id"],
                          rebalance=bool(r["rebalance"]), reasons=[str(x) for x in json.loads(r["reasons"])],
                          detail=loads_object(r["detail"]))


def action_record(r: sqlite3.Row) -> ActionRecord:
    return ActionRecord(id=r["id"], idempotency_key=r["idempotency_key"], mode=Mode(r["mode"]), cycle_id=r["cycle_id"],
                        plan_id=r["plan_id"], chain_id=r["chain_id"], chain=r["chain"], kind=r["kind"],
                        intent=loads_object(r["intent"]), state=ActionState(r["state"]), error=r["error"],
                        result=loads_object(r["result"]) if r["result"] else None, created_at=r["created_at"],
                        updated_at=r["updated_at"])


def attempt_record(r: sqlite3.Row) -> AttemptRecord:
    return AttemptRecord(
        id=r["id"], action_id=r["action_id"], purpose=r["purpose"], chain_id=r["chain_id"], sender=r["sender"],
        nonce=r["nonce"], tx_hash=r["tx_hash"], raw_tx=bytes(r["raw_tx"]),
        max_fee_per_gas_wei=int(r["max_fee_per_gas_wei"]),
        max_priority_fee_per_gas_wei=int(r["max_priority_fee_per_gas_wei"]), broadcast=Broadcast(r["broadcast"]),
        status=AttemptStatus(r["status"]), sent_block=r["sent_block"], replaces=r["replaces"],
        block_number=r["block_number"], gas_used=r["gas_used"],
        effective_gas_price_wei=_opt_int(r["effective_gas_price_wei"]), error=r["error"],
        created_at=r["created_at"], updated_at=r["updated_at"])


def event_record(r: sqlite3.Row) -> EventRecord:
    return EventRecord(id=r["id"], created_at=r["created_at"], kind=r["kind"], cycle_id=r["cycle_id"],
                       action_id=r["action_id"], detail=loads_object(r["detail"]))


def decoded_row(row: sqlite3.Row, *json_columns: str) -> dict[str, Any]:
    out = dict(row)
    for col in json_columns:
        if out.get(col):
            out[col] = json.loads(out[col])
    return out
