"""The journal: one SQLite file (WAL) holding cycles, decisions, actions and every transaction attempt.

Crash safety rests on three rules kept here and in the sender:

* an action is claimed by its idempotency key before anything is signed (``begin_action``);
* every signed transaction is stored with its raw bytes *before* it is broadcast
  (``record_attempt`` → ``mark_broadcast("maybe")`` → send → ``mark_broadcast("definitely")``);
* on start, attempts that may be in flight are looked up or rebroadcast (``agent.execution.reconcile``)
  and an action that may be pending is never planned again (``open_actions`` / ``is_blocked``).

Every read returns a frozen record of ``agent.journal.records`` (``ActionRecord``, ``AttemptRecord``...);
states are the ``StrEnum`` values defined there (``Broadcast``, ``AttemptStatus``, ``ActionState``,
``CycleStatus``, ``Mode``). All SQL of the agent lives in this package.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.errors import ConfigError, SafetyHalt
from agent.journal.records import (
    IN_FLIGHT,
    ActionRecord,
    ActionState,
    AttemptRecord,
    AttemptStatus,
    Broadcast,
    CycleStatus,
    EventRecord,
    Mode,
    dumps,
)
from agent.journal.rows import (
    JournalSummary,
    action_record,
    attempt_record,
    cycle_record,
    decision_record,
    decoded_row,
    event_record,
)
from agent.journal.schema import MIGRATIONS


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JournalStore:
    """Thread-safe access to the journal database. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path

    # ----------------------------------------------------------------------------------- lifecycle
    @classmethod
    def open(cls, path: Path | str) -> JournalStore:
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"JOURNAL_PATH: cannot open the journal at {path} ({exc}); pick a writable path") from exc
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a journaled attempt must survive a power cut
            conn.execute("PRAGMA foreign_keys=ON")
            store = cls(conn, path)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ConfigError(f"JOURNAL_PATH: {path} is not a usable SQLite journal ({exc}); move it away or "
                              "point JOURNAL_PATH at another file") from None
        return store

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> JournalStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _rows(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _migrate(self) -> None:
        with self._tx() as c:
            c.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = c.execute("SELECT version FROM schema_version").fetchone()
            version = row["version"] if row else 0
            if version > len(MIGRATIONS):
                raise ConfigError(f"JOURNAL_PATH: {self.path} has schema version {version}, newer than this "
                                  f"agent ({len(MIGRATIONS)}); upgrade the agent or use another journal")
            for script in MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        c.execute(statement)
            if row is None:
                c.execute("INSERT INTO schema_version (version) VALUES (?)", (len(MIGRATIONS),))
            else:
                c.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS),))

    @property
    def schema_version(self) -> int:
        return int(self._rows("SELECT version FROM schema_version")[0][0])

    # -------------------------------------------------------------------------- cycles, decisions
    def start_cycle(self, *, mode: Mode = Mode.LIVE) -> int:
        with self._tx() as c:
            cur = c.execute("INSERT INTO cycles (started_at, mode, status) VALUES (?, ?, ?)",
                            (_now(), Mode(mode), CycleStatus.RUNNING))
            return int(cur.lastrowid or 0)

    def finish_cycle(self, cycle_id: int, *, status: CycleStatus = CycleStatus.OK, note: str = "") -> None:
        with self._tx() as c:
            c.execute("UPDATE cycles SET finished_at = ?, status = ?, note = ? WHERE id = ?",
                      (_now(), CycleStatus(status), note, cycle_id))

    def record_decision(self, cycle_id: int | None, *, rebalance: bool, reasons: list[str],
                        detail: Mapping[str, object] | None = None, plan_id: str | None = None) -> int:
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO decisions (cycle_id, created_at, plan_id, rebalance, reasons, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (cycle_id, _now(), plan_id, int(rebalance), dumps(reasons), dumps(detail or {})))
            return int(cur.lastrowid or 0)

    def record_event(self, kind: str, detail: Mapping[str, object], *, cycle_id: int | None = None,
                     action_id: int | None = None) -> int:
        with self._tx() as c:
            cur = c.execute("INSERT INTO events (created_at, kind, cycle_id, action_id, detail) VALUES (?, ?, ?, ?, ?)",
                            (_now(), kind, cycle_id, action_id, dumps(detail)))
            return int(cur.lastrowid or 0)

    # ------------------------------------------------------------------------------------ actions
    def begin_action(self, *, key: str, chain_id: int, chain: str, plan_id: str, kind: str,
                     intent: Mapping[str, object], mode: Mode = Mode.LIVE, cycle_id: int | None = None) -> ActionRecord:
        """Claim ``key`` (live mode) and return the action; an existing live action is returned as is.

        The caller decides what an existing row means (terminal → return its result; pending → resume).
        Dry-run actions never claim a key.
        """
        with self._tx() as c:
            if mode == Mode.LIVE:
                row = c.execute("SELECT * FROM actions WHERE idempotency_key = ? AND mode = 'live'", (key,)).fetchone()
                if row is not None:
                    return action_record(row)
            now = _now()
            cur = c.execute(
                "INSERT INTO actions (idempotency_key, mode, cycle_id, plan_id, chain_id, chain, kind, intent, "
                "state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, Mode(mode), cycle_id, plan_id, chain_id, chain, kind, dumps(intent), ActionState.PENDING,
                 now, now))
            return action_record(c.execute("SELECT * FROM actions WHERE id = ?", (cur.lastrowid,)).fetchone())

    def set_action_state(self, action_id: int, state: ActionState, *, error: str | None = None,
                         result: Mapping[str, object] | None = None) -> None:
        with self._tx() as c:
            c.execute("UPDATE actions SET state = ?, error = ?, result = COALESCE(?, result), updated_at = ? "
                      "WHERE id = ?", (ActionState(state), error, None if result is None else dumps(result), _now(),
                                       action_id))

    def action(self, action_id: int) -> ActionRecord:
        rows = self._rows("SELECT * FROM actions WHERE id = ?", (action_id,))
        if not rows:
            raise KeyError(f"journal: no action {action_id}")
        return action_record(rows[0])

    def action_by_key(self, key: str) -> ActionRecord | None:
        rows = self._rows("SELECT * FROM actions WHERE idempotency_key = ? AND mode = 'live'", (key,))
        return action_record(rows[0]) if rows else None

    def open_actions(self, chain_id: int | None = None) -> list[ActionRecord]:
        """Live actions that may still be in flight: the planner must not plan them (or their funds) again."""
        sql = "SELECT * FROM actions WHERE mode = 'live' AND state = 'pending'"
        args: tuple[object, ...] = ()
        if chain_id is not None:
            sql += " AND chain_id = ?"
            args = (chain_id,)
        return [action_record(r) for r in self._rows(sql + " ORDER BY id", args)]

    def is_blocked(self, key: str) -> bool:
        """True when ``key`` is pending or already confirmed/failed: planning it again would repeat it."""
        action = self.action_by_key(key)
        return action is not None and action.state != ActionState.ABANDONED

    # ----------------------------------------------------------------------------------- attempts
    def record_attempt(self, *, action_id: int | None, purpose: str, chain_id: int, sender: str, nonce: int,
                       tx_hash: str, raw_tx: bytes, max_fee_per_gas_wei: int, max_priority_fee_per_gas_wei: int,
                       sent_block: int | None = None, replaces: int | None = None) -> int:
        """Store a signed transaction (broadcast ``never``). Must happen before any broadcast.

        Signing is deterministic: a re-made action can produce the very bytes of an attempt that was signed and then
        given up unsent (``abandoned``/``rejected``, e.g. the process died before broadcasting it). That row is
        taken over by the new attempt (its action, purpose and states reset); bytes already in flight or mined
        are a bug upstream and halt."""
        with self._tx() as c:
            old = c.execute("SELECT id, status FROM tx_attempts WHERE tx_hash = ?", (tx_hash,)).fetchone()
            if old is not None:
                if old["status"] not in (AttemptStatus.ABANDONED, AttemptStatus.REJECTED):
                    raise SafetyHalt(f"chain {chain_id}: tx {tx_hash} (nonce {nonce}) is already journaled as "
                                     f"{old['status']}; refusing to record it as a new attempt")
                c.execute("UPDATE tx_attempts SET action_id = ?, purpose = ?, broadcast = ?, status = ?, "
                          "sent_block = ?, replaces = ?, error = NULL, updated_at = ? WHERE id = ?",
                          (action_id, purpose, Broadcast.NEVER, AttemptStatus.PENDING, sent_block, replaces, _now(),
                           old["id"]))
                return int(old["id"])
            cur = c.execute(
                "INSERT INTO tx_attempts (action_id, purpose, chain_id, sender, nonce, tx_hash, raw_tx, "
                "max_fee_per_gas_wei, max_priority_fee_per_gas_wei, broadcast, status, sent_block, replaces, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (action_id, purpose, chain_id, sender, nonce, tx_hash, raw_tx, str(max_fee_per_gas_wei),
                 str(max_priority_fee_per_gas_wei), Broadcast.NEVER, AttemptStatus.PENDING, sent_block, replaces,
                 _now(), _now()))
            return int(cur.lastrowid or 0)

    def mark_broadcast(self, attempt_id: int, broadcast: Broadcast) -> None:
        with self._tx() as c:
            c.execute("UPDATE tx_attempts SET broadcast = ?, updated_at = ? WHERE id = ?",
                      (Broadcast(broadcast), _now(), attempt_id))

    def mark_attempt(self, attempt_id: int, status: AttemptStatus, *, block_number: int | None = None,
                     gas_used: int | None = None, effective_gas_price_wei: int | None = None,
                     error: str | None = None) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE tx_attempts SET status = ?, block_number = COALESCE(?, block_number), "
                "gas_used = COALESCE(?, gas_used), effective_gas_price_wei = COALESCE(?, effective_gas_price_wei), "
                "error = COALESCE(?, error), updated_at = ? WHERE id = ?",
                (AttemptStatus(status), block_number, gas_used, None if effective_gas_price_wei is None else
                 str(effective_gas_price_wei), error, _now(), attempt_id))

    def attempts(self, *, action_id: int | None = None, chain_id: int | None = None, sender: str | None = None,
                 nonce: int | None = None, status: AttemptStatus | None = None) -> list[AttemptRecord]:
        clauses: list[str] = []
        args: list[object] = []
        for column, value in (("action_id", action_id), ("chain_id", chain_id), ("sender", sender),
                              ("nonce", nonce), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return [attempt_record(r) for r in self._rows(f"SELECT * FROM tx_attempts {where} ORDER BY id", tuple(args))]

    def unresolved_attempts(self) -> list[AttemptRecord]:
        """Attempts still ``pending``: signed, maybe sent, outcome unknown."""
        return self.attempts(status=AttemptStatus.PENDING)

    def highest_used_nonce(self, chain_id: int, sender: str) -> int | None:
        """The highest nonce of an attempt that may have reached a node (``maybe``/``definitely``)."""
        row = self._rows("SELECT MAX(nonce) FROM tx_attempts WHERE chain_id = ? AND sender = ? AND broadcast IN (?, ?) "
                         "AND status NOT IN ('rejected')", (chain_id, sender, *sorted(IN_FLIGHT)))[0]
        return None if row[0] is None else int(row[0])

    # -------------------------------------------------------------------------------------- reads
    def last_event(self, kind: str) -> EventRecord | None:
        """The newest event of ``kind`` (e.g. ``rebalanced``), or None."""
        rows = self._rows("SELECT * FROM events WHERE kind = ? ORDER BY id DESC LIMIT 1", (kind,))
        return event_record(rows[0]) if rows else None

    def events(self, kind: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """The newest events of ``kind``, oldest first, decoded."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM events WHERE kind = ? ORDER BY id DESC LIMIT ?",
                                      (kind, limit)).fetchall()
        return [decoded_row(r, "detail") for r in reversed(rows)]

    def events_after(self, event_id: int, kinds: tuple[str, ...], *, limit: int = 500) -> list[dict[str, Any]]:
        """Events of ``kinds`` with an id above ``event_id``, oldest first (a tail of the journal)."""
        marks = ",".join("?" * len(kinds))
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM events WHERE id > ? AND kind IN ({marks}) ORDER BY id LIMIT ?",
                                      (event_id, *kinds, limit)).fetchall()
        return [decoded_row(r, "detail") for r in rows]

    # ---------------------------------------------------------------------------------- approvals
    def create_approval(self, *, approval_id: str, cycle_id: int | None, plan_id: str, fingerprint: str,
                        total_usd: str, detail: dict[str, Any], expires_at: str) -> dict[str, Any]:
        with self._tx() as c:
            c.execute("INSERT INTO approvals (id, cycle_id, plan_id, fingerprint, status, total_usd, detail, "
                      "created_at, expires_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                      (approval_id, cycle_id, plan_id, fingerprint, total_usd, _json(detail), _now(), expires_at))
            return decoded_row(c.execute("SELECT * FROM approvals WHERE id = ?", (approval_id,)).fetchone(), "detail")

    def approval(self, approval_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM approvals WHERE id = ?", (approval_id,)).fetchone()
        return decoded_row(row, "detail") if row else None

    def approvals(self, *, status: str | None = None, fingerprint: str | None = None,
                  limit: int = 100) -> list[dict[str, Any]]:
        """Approvals, newest first, optionally of one status and/or plan fingerprint."""
        clauses, args = [], []
        for column, value in (("status", status), ("fingerprint", fingerprint)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._conn.execute(f"SELECT * FROM approvals {where} ORDER BY created_at DESC, rowid DESC "
                                      "LIMIT ?", (*args, limit)).fetchall()
        return [decoded_row(r, "detail") for r in rows]

    def transition_approval(self, approval_id: str, *, from_status: str, to_status: str, by: str,
                            note: str = "") -> bool:
        """Move an approval ``from_status`` → ``to_status`` atomically; False when it was not in ``from_status``."""
        with self._tx() as c:
            cur = c.execute("UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, note = ? "
                            "WHERE id = ? AND status = ?", (to_status, _now(), by, note, approval_id, from_status))
            return cur.rowcount == 1

    def events_where(self, *kinds: str, detail_equals: Mapping[str, str | int] | None = None,
               detail_at_least: Mapping[str, int] | None = None) -> list[EventRecord]:
        """Events of any of ``kinds``, oldest first, whose JSON detail has the given field values
        (``detail_equals``) and numeric fields at least the given bounds (``detail_at_least``)."""
        if not kinds:
            return []
        sql = f"SELECT * FROM events WHERE kind IN ({', '.join('?' * len(kinds))})"
        args: list[object] = list(kinds)
        for field, value, op in [*((f, v, "=") for f, v in (detail_equals or {}).items()),
                                 *((f, v, ">=") for f, v in (detail_at_least or {}).items())]:
            if not field.isidentifier():
                raise ValueError(f"journal: {field!r} is not a detail field name")
            sql += f" AND json_extract(detail, '$.{field}') {op} ?"
            args.append(value)
        return [event_record(r) for r in self._rows(sql + " ORDER BY id", tuple(args))]

    def summary(self, *, limit: int = 20) -> JournalSummary:
        """The latest cycles, decisions, actions (with attempts) and events."""
        q = self._rows
        cycles = [cycle_record(r) for r in q("SELECT * FROM cycles ORDER BY id DESC LIMIT ?", (limit,))]
        decisions = [decision_record(r) for r in q("SELECT * FROM decisions ORDER BY id DESC LIMIT ?", (limit,))]
        actions = [action_record(r) for r in q("SELECT * FROM actions ORDER BY id DESC LIMIT ?", (limit,))]
        events = [event_record(r) for r in q("SELECT * FROM events ORDER BY id DESC LIMIT ?", (limit,))]
        return JournalSummary(path=self.path, schema_version=self.schema_version, cycles=cycles,
                              decisions=decisions, actions=[(a, self.attempts(action_id=a.id)) for a in actions],
                              events=events, open_actions=[a.idempotency_key for a in self.open_actions()])


def _json(value: object) -> str:
    return dumps(value)
