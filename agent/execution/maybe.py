"""Attempts whose broadcast is ambiguous ("maybe"): looked up by hash, re-sent as the same bytes, never guessed.

A broadcast that ended without an answer the node explains (``BroadcastUnknown``: transport error, HTTP 5xx,
timeout, dropped connection, a generic -32000) may have reached the node. Such an attempt keeps its nonce until
one of these proves what happened:

* its receipt (mined) — the caller settles it;
* the chain's ``latest`` nonce moved past it with none of our attempts at that nonce mined: another transaction
  took the nonce (``nonce_taken``);
* the node knows its hash (``eth_getTransactionByHash``) or takes the same signed bytes again (accepted, "already
  known"): it is in flight (``known``);
* the same bytes sent again are refused with a reason that says the node does not have them (insufficient funds,
  underpriced, intrinsic gas…) and its hash is still unknown: it was never broadcast (``unknown``).

Anything else (the node unreachable again, another unexplained error, "nonce too low" or "replacement
underpriced" while no receipt shows yet) leaves it ``unsure``: still in flight, looked up again later.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from agent.chain.reads import fetch_transaction_known
from agent.chain.rpc import ChainRpc
from agent.errors import TemporaryError, TxRefusal, TxRejected
from agent.journal.records import AttemptRecord, AttemptStatus, Broadcast
from agent.journal.store import JournalStore

log = logging.getLogger(__name__)


#: how the journal's error of an attempt given up by ``look_up`` starts (then the refusal, e.g. ``underpriced:``)
UNKNOWN_PREFIX = "unknown to the node after a rebroadcast: "


def refusal_of(attempt: AttemptRecord) -> TxRefusal | None:
    """The node's refusal that made ``look_up`` give ``attempt`` up (from its journaled error), if any."""
    error = attempt.error or ""
    if not error.startswith(UNKNOWN_PREFIX):
        return None
    reason = error[len(UNKNOWN_PREFIX):].split(":", 1)[0]
    return TxRefusal(reason) if reason in TxRefusal.__members__.values() else None


class Lookup(StrEnum):
    """What a look-up of one unmined attempt proved."""

    #: the node has it (pool or chain): it is in flight, broadcast ``definitely``
    KNOWN = "known"
    #: the node refused the same bytes and does not know the hash: never broadcast, given up (``rejected``)
    UNKNOWN = "unknown"
    #: nothing proved either way: it stays in flight ("maybe")
    UNSURE = "unsure"


def look_up(journal: JournalStore, rpc: ChainRpc, attempt: AttemptRecord) -> Lookup:
    """Settle what can be proved about an unmined attempt: by hash, then by re-sending its exact signed bytes.

    The caller has already looked for a receipt and checked that the nonce is not taken. ``UNKNOWN`` marks the
    attempt ``rejected`` (broadcast ``never``) with the node's refusal, kept in ``refusal_of``."""
    tx_hash = attempt.tx_hash
    try:
        if fetch_transaction_known(rpc, tx_hash):
            return _known(journal, attempt)
    except TemporaryError as exc:
        log.warning("chain %s: cannot look up tx %s (%s); it stays in flight", rpc.chain.chain_id, tx_hash,
                    type(exc).__name__)
        return Lookup.UNSURE
    try:
        rpc.send_raw_transaction(attempt.raw_tx, what=f"rebroadcast of {tx_hash}")
    except TxRejected as exc:
        if exc.reason == TxRefusal.ALREADY_KNOWN:
            return _known(journal, attempt)
        if exc.holds_nonce:
            log.info("chain %s: rebroadcast of %s (nonce %s): %s; looked up again", rpc.chain.chain_id, tx_hash,
                     attempt.nonce, exc.reason)
            return Lookup.UNSURE
        return _refused(journal, rpc, attempt, exc)
    except TemporaryError as exc:
        log.warning("chain %s: rebroadcast of %s failed (%s); it stays in flight", rpc.chain.chain_id, tx_hash,
                    type(exc).__name__)
        return Lookup.UNSURE
    return _known(journal, attempt)


def _known(journal: JournalStore, attempt: AttemptRecord) -> Lookup:
    if attempt.broadcast != Broadcast.DEFINITELY:
        journal.mark_broadcast(attempt.id, Broadcast.DEFINITELY)
    return Lookup.KNOWN


def _refused(journal: JournalStore, rpc: ChainRpc, attempt: AttemptRecord, exc: TxRejected) -> Lookup:
    try:
        if fetch_transaction_known(rpc, attempt.tx_hash):  # it arrived meanwhile
            return _known(journal, attempt)
    except TemporaryError:
        return Lookup.UNSURE
    log.warning("chain %s: tx %s (nonce %s) is unknown to the node, which refuses the same bytes (%s); it was "
                "never broadcast", rpc.chain.chain_id, attempt.tx_hash, attempt.nonce, exc.reason)
    journal.mark_broadcast(attempt.id, Broadcast.NEVER)
    journal.mark_attempt(attempt.id, AttemptStatus.REJECTED,
                         error=f"{UNKNOWN_PREFIX}{exc.reason}: {exc}"[:300])
    journal.record_event("broadcast_unknown", {"chain_id": attempt.chain_id, "tx_hash": attempt.tx_hash,
                                               "nonce": attempt.nonce, "reason": str(exc.reason)},
                         action_id=attempt.action_id)
    return Lookup.UNKNOWN
