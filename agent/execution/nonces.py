"""Nonces per (chain, address): never reused, gaps detected (pure).

The next nonce is the larger of what the chain reports (``pending`` count) and one past the highest
nonce the journal may have broadcast, so a transaction that went to a private endpoint (invisible to
the read RPC's mempool) or that a node dropped still holds its nonce. A *gap* is a nonce below the
journal's next one that the chain has not mined and for which the journal holds no attempt that may
still be in flight: later transactions would wait behind it forever, so it must be filled (a 0-value
self-transfer) before anything new is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from agent.errors import SafetyHalt


class NoncePlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    nonce: int
    #: nonces that must be filled before ``nonce`` can be mined
    gaps: tuple[int, ...] = ()
    #: the chain is ahead of the journal: this address sent transactions the journal did not record
    external: bool = False


def plan_nonce(*, chain_latest: int, chain_pending: int, journal_highest: int | None,
               in_flight: Iterable[int] = ()) -> NoncePlan:
    """The nonce for a new transaction.

    ``chain_latest``/``chain_pending``: ``eth_getTransactionCount`` at ``latest``/``pending``;
    ``journal_highest``: highest nonce the journal may have broadcast; ``in_flight``: nonces with an
    attempt still unresolved (maybe broadcast, not yet mined or dropped).
    """
    pending = max(chain_pending, chain_latest)
    journal_next = -1 if journal_highest is None else journal_highest + 1
    nonce = max(pending, journal_next)
    live = set(in_flight)
    gaps = tuple(n for n in range(chain_latest, journal_next) if n not in live)
    external = journal_highest is not None and chain_latest > journal_highest + 1
    return NoncePlan(nonce=nonce, gaps=gaps, external=external)


def check_gap_bound(gaps: tuple[int, ...], *, limit: int, chain_id: int, address: str, chain_nonce: int) -> None:
    """More gaps than ``limit`` (``MAX_NONCE_GAP_FILL``) are not filled: the chain was reset or the journal
    belongs to another chain, and filling would send a stream of self-transfers. Halts naming the fix."""
    if len(gaps) <= limit:
        return
    raise SafetyHalt(
        f"chain {chain_id}: {len(gaps)} nonce gaps for {address} (the journal used nonces up to {max(gaps)}, the "
        f"chain is at {chain_nonce}), more than MAX_NONCE_GAP_FILL={limit}: the chain was reset or this journal "
        "belongs to another chain; use a fresh JOURNAL_PATH for this chain (for the sandbox `rebalancer sandbox "
        "up` starts one), or raise MAX_NONCE_GAP_FILL if these gaps are really yours to fill")


class NonceLocks:
    """One lock per (chain id, address): nonce choice, journaling and broadcast happen under it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[int, str], threading.RLock] = {}

    def get(self, chain_id: int, address: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault((chain_id, address.lower()), threading.RLock())


#: Process-wide: two senders for the same wallet and chain must never pick nonces concurrently.
NONCE_LOCKS = NonceLocks()
