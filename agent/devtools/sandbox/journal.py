"""``sandbox up`` starts a fresh sandbox journal (#14 item 5): the old one is kept aside, never reused.

A new sandbox is a new chain history under the same chain ids; the old journal's nonces, attempts and open
actions belong to the chains that ``sandbox down`` stopped (reusing it once made the agent "fill" 20+ nonce
gaps with self-transfers). The journal and its companions (WAL, shared memory, the price history) are renamed
with a UTC timestamp: ``journal.sqlite`` → ``journal.20261201T231500Z.sqlite``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

JOURNAL_NAME = "journal.sqlite"
#: the files that belong to one journal (``agent.journal.prices.history_path_for`` names the price history)
COMPANIONS = ("", "-wal", "-shm")
PRICES_NAME = "journal.prices.sqlite"


def retire_journal(directory: Path, now: datetime | None = None) -> Path | None:
    """Move the sandbox journal in ``directory`` aside; returns where it went (None: there was none)."""
    journal = directory / JOURNAL_NAME
    if not journal.exists():
        return None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = directory / f"journal.{stamp}.sqlite"
    for suffix in COMPANIONS:
        source = directory / f"{JOURNAL_NAME}{suffix}"
        if source.exists():
            source.rename(directory / f"{target.name}{suffix}")
    for suffix in COMPANIONS:
        prices = directory / f"{PRICES_NAME}{suffix}"
        if prices.exists():
            prices.rename(directory / f"journal.{stamp}.prices.sqlite{suffix}")
    return target
