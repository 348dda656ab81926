"""Price history for live decisions: the USD prices the agent read each cycle, and backfilled history, in one
SQLite table beside the journal (its own file, so a large history never slows the journal's writes).

Strategies see only rows at or before ``now`` (:meth:`PriceHistory.history` takes ``until``), live exactly as
in the backtest. A row is unique per (symbol, time, source): recording the same reading twice is harmless.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from agent.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS prices (
    symbol TEXT NOT NULL,
    at TEXT NOT NULL,
    usd TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (symbol, at, source)
);
CREATE INDEX IF NOT EXISTS prices_by_time ON prices (symbol, at);
"""


@dataclass(frozen=True)
class PricePoint:
    symbol: str
    at: datetime
    usd: Decimal
    source: str


def history_path_for(journal_path: Path) -> Path:
    """The price history file beside a journal: ``journal.sqlite`` -> ``journal.prices.sqlite``."""
    return journal_path.with_name(journal_path.stem + ".prices.sqlite")


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("price times must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="seconds")


class PriceHistory:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def open(cls, path: Path | str) -> PriceHistory:
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"price history {path}: cannot open it as SQLite ({exc}); point JOURNAL_PATH at a "
                              "writable directory") from None
        return cls(conn, path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> PriceHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, points: Iterable[PricePoint]) -> int:
        rows = [(p.symbol, _iso(p.at), str(p.usd), p.source) for p in points if p.usd > 0]
        with self._lock:
            before = self._conn.total_changes
            self._conn.executemany("INSERT OR IGNORE INTO prices (symbol, at, usd, source) VALUES (?, ?, ?, ?)", rows)
            return self._conn.total_changes - before

    def record_cycle(self, at: datetime, prices: Mapping[str, Decimal], *, source: str = "cycle") -> int:
        return self.record(PricePoint(symbol=s, at=at, usd=p, source=source) for s, p in prices.items())

    def history(self, symbols: Sequence[str], *, until: datetime, since: datetime | None = None,
                ) -> dict[str, list[tuple[datetime, Decimal]]]:
        """Per symbol, ``[(time, USD)]`` oldest first, at or before ``until`` (one row per time: a reading the
        agent took wins over a backfilled one at the same second)."""
        out: dict[str, list[tuple[datetime, Decimal]]] = {}
        low = _iso(since) if since else ""
        with self._lock:
            for symbol in symbols:
                rows = self._conn.execute(
                    "SELECT at, usd, source FROM prices WHERE symbol = ? AND at <= ? AND at >= ? "
                    "ORDER BY at, source = 'cycle'", (symbol, _iso(until), low)).fetchall()
                by_time = {at: Decimal(usd) for at, usd, _ in rows}
                out[symbol] = [(datetime.fromisoformat(at), usd) for at, usd in by_time.items()]
        return out

    def coverage(self, symbol: str) -> dict[str, int | str | None]:
        """How many rows the store holds for ``symbol`` and the first and last time."""
        with self._lock:
            n, first, last = self._conn.execute("SELECT COUNT(*), MIN(at), MAX(at) FROM prices WHERE symbol = ?",
                                                (symbol,)).fetchone()
        return {"rows": int(n), "first": first, "last": last}

    def latest_time(self, symbol: str) -> datetime | None:
        with self._lock:
            row = self._conn.execute("SELECT MAX(at) FROM prices WHERE symbol = ?", (symbol,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None
