"""``LiveSender``: prices each transaction through the chain's ``GasGate`` (the cycle has already waited on it),
assigns the nonce, signs, journals, broadcasts, waits, replaces.

Order per transaction, under the (chain, address) nonce lock: sign → store the raw bytes (``never``) →
mark ``maybe`` → ``eth_sendRawTransaction`` (through ``<CHAIN>_TX_RPC_URL`` when set) → mark
``definitely``. A transaction not mined after ``replace_after_blocks`` is re-signed at the same nonce
with both fees raised ≥ 12.5% (within the hard cap), or cancelled by a 0-value self-transfer once the
request's ``valid_until`` has passed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from eth_account import Account

from agent.chain.reads import (
    decode_raw,
    fetch_block_number,
    fetch_fee_inputs,
    fetch_nonces,
    fetch_receipt,
    tx_hash_of,
)
from agent.chain.rpc import ChainRpc
from agent.errors import ExecutionError, SafetyHalt, TemporaryError, TxRefusal, TxRejected
from agent.execution.fee_model import GasTimingConfig
from agent.execution.fees import FeeDecision, plan_fees, plan_replacement
from agent.execution.gas_wait import GasGate, GasWaitProgress, base_fee_history
from agent.execution.intent import TxOutcome, TxRequest
from agent.execution.maybe import Lookup, look_up, refusal_of
from agent.execution.nonces import NONCE_LOCKS, check_gap_bound, plan_nonce
from agent.execution.sender import SendPolicy, TerminalProgress, crash_point
from agent.journal.records import AttemptRecord, AttemptStatus, Broadcast, Mode
from agent.journal.store import JournalStore
from agent.models import UnsignedTx
from agent.ports import Signer

log = logging.getLogger(__name__)


class LiveSender:
    mode = Mode.LIVE

    def __init__(self, rpc: ChainRpc, signer: Signer, journal: JournalStore, policy: SendPolicy, *,
                 progress: Callable[[GasWaitProgress], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 should_stop: Callable[[], bool] | None = None, gas_timing: GasTimingConfig | None = None,
                 gas_gate: GasGate | None = None) -> None:
        self.rpc = rpc
        #: ``<CHAIN>_GAS_TIMING``: ``limit`` (None) or ``optimal`` (see ``agent.execution.gas_wait``)
        self.gas_timing = gas_timing
        #: checked while waiting for gas: a stop then abandons the action before anything is signed
        self.should_stop = should_stop
        self.signer = signer
        self.journal = journal
        self.policy = policy
        self.chain_id = rpc.chain.chain_id
        self.progress = progress or TerminalProgress()
        self.clock, self.wall_clock, self.sleep = clock, wall_clock, sleep
        #: the chain's gas gate; the cycle waits on it before each action, ``send`` asks it for fees
        self.gas_gate = gas_gate or gas_gate_for(rpc, policy, timing=gas_timing, clock=clock, sleep=sleep,
                                                 should_stop=should_stop)

    @property
    def address(self) -> str:
        return self.signer.address

    # ------------------------------------------------------------------------------------ sending
    def send(self, req: TxRequest) -> TxOutcome:
        fees = self._wait_for_gas(req)
        with NONCE_LOCKS.get(self.chain_id, self.address):
            nonce = self._claim_nonce(req.plan_id)
            tx = UnsignedTx(chain_id=self.chain_id, nonce=nonce, to=req.to, value_wei=req.value_wei, data=req.data,
                            gas=req.gas, max_fee_per_gas_wei=fees.max_fee_per_gas_wei,
                            max_priority_fee_per_gas_wei=fees.max_priority_fee_per_gas_wei)
            self._sign_record_broadcast(tx, purpose=req.purpose, action_id=req.action_id, plan_id=req.plan_id)
        return self._await(nonce, plan_id=req.plan_id, valid_until=req.valid_until)

    def resume(self, action_id: int) -> list[TxOutcome]:
        attempts = self.journal.attempts(action_id=action_id)
        for a in attempts:
            if a.status == AttemptStatus.PENDING and a.broadcast == Broadcast.NEVER:
                self.journal.mark_attempt(a.id, AttemptStatus.ABANDONED, error="never broadcast (interrupted)")
        outcomes: list[TxOutcome] = []
        for nonce in sorted({a.nonce for a in attempts}):
            at_nonce = self.journal.attempts(chain_id=self.chain_id, sender=self.address, nonce=nonce)
            done = [a for a in at_nonce if a.status.settled_on_chain]
            if done:
                outcomes.append(_outcome(done[-1]))
                continue
            live = [a for a in at_nonce if a.status == AttemptStatus.PENDING and a.broadcast.in_flight]
            if live:
                self.rebroadcast(live[-1])
                outcomes.append(self._await(nonce, plan_id="", valid_until=None, since_block=live[-1].sent_block))
        return outcomes

    def cancel(self, nonce: int, *, plan_id: str = "") -> TxOutcome:
        """Replace whatever is pending at ``nonce`` by a 0-value self-transfer and wait for it."""
        with NONCE_LOCKS.get(self.chain_id, self.address):
            prior = self.journal.attempts(chain_id=self.chain_id, sender=self.address, nonce=nonce)
            action_id = prior[-1].action_id if prior else None
            self._send_filler(nonce, purpose="cancel", action_id=action_id, plan_id=plan_id, prior=prior)
        return self._await(nonce, plan_id=plan_id, valid_until=None)

    def rebroadcast(self, attempt: AttemptRecord) -> None:
        """Send the journaled raw bytes again (harmless if the node already has or mined them)."""
        try:
            self.rpc.send_raw_transaction(attempt.raw_tx, what=f"rebroadcast of {attempt.tx_hash}")
        except TxRejected as exc:
            log.info("chain %s: rebroadcast of %s: %s", self.chain_id, attempt.tx_hash, exc.reason)
            return
        except TemporaryError as exc:
            log.warning("chain %s: rebroadcast of %s failed (%s)", self.chain_id, attempt.tx_hash,
                        type(exc).__name__)
            return
        self.journal.mark_broadcast(attempt.id, Broadcast.DEFINITELY)

    # ---------------------------------------------------------------------------------- internals
    def _wait_for_gas(self, req: TxRequest) -> FeeDecision:
        waiting: list[GasWaitProgress] = []

        def on_progress(p: GasWaitProgress) -> None:
            self.progress(p)
            if p.state == "waiting" and not waiting:
                self.journal.record_event("gas_wait", _progress_detail(p, req), action_id=req.action_id)
            if p.state != "waiting":
                self.journal.record_event("gas_wait", _progress_detail(p, req), action_id=req.action_id)
            waiting.append(p)

        return self.gas_gate.fees(urgent=req.urgent, on_progress=on_progress)

    def _claim_nonce(self, plan_id: str) -> int:
        latest, pending = fetch_nonces(self.rpc, self.address)
        mine = self.journal.attempts(chain_id=self.chain_id, sender=self.address, status=AttemptStatus.PENDING)
        for a in mine:
            if a.broadcast == Broadcast.NEVER:
                self.journal.mark_attempt(a.id, AttemptStatus.ABANDONED, error="never broadcast (interrupted)")
        in_flight = {a.nonce for a in mine if a.broadcast.in_flight}
        plan = plan_nonce(chain_latest=latest, chain_pending=pending, in_flight=in_flight,
                          journal_highest=self.journal.highest_used_nonce(self.chain_id, self.address))
        if plan.external:
            log.warning("chain %s: %s sent transactions this journal does not know (chain nonce %s); "
                        "continuing at nonce %s", self.chain_id, self.address, latest, plan.nonce)
            self.journal.record_event("nonce_external", {"chain_id": self.chain_id, "chain_nonce": latest})
        check_gap_bound(plan.gaps, limit=self.policy.max_nonce_gap_fill, chain_id=self.chain_id,
                        address=self.address, chain_nonce=latest)
        for gap in plan.gaps:
            why = (f"the journal used nonce {gap} (an attempt it may have broadcast) but the chain's nonce is "
                   f"{latest}: later transactions would wait behind it forever")
            log.warning("chain %s: nonce gap at %s (%s); filling it with a 0-value self-transfer (%d of at most %d)",
                        self.chain_id, gap, why, plan.gaps.index(gap) + 1, self.policy.max_nonce_gap_fill)
            self.journal.record_event("nonce_gap", {"chain_id": self.chain_id, "nonce": gap, "why": why,
                                                    "fill": "0-value self-transfer"})
            prior = self.journal.attempts(chain_id=self.chain_id, sender=self.address, nonce=gap)
            self._send_filler(gap, purpose="gap-fill", action_id=None, plan_id=plan_id, prior=prior)
        return plan.nonce

    def _send_filler(self, nonce: int, *, purpose: str, action_id: int | None, plan_id: str,
                     prior: list[AttemptRecord]) -> None:
        inputs = fetch_fee_inputs(self.rpc, percentile=self.policy.priority_fee_percentile)
        fees: FeeDecision | None
        if prior:
            top = max(prior, key=lambda a: a.max_fee_per_gas_wei)
            fees = plan_replacement(old_max_fee_wei=top.max_fee_per_gas_wei,
                                    old_tip_wei=top.max_priority_fee_per_gas_wei, base_fee_wei=inputs.base_fee_wei,
                                    priority_fee_wei=inputs.priority_fee_wei, hard_cap_wei=self.policy.hard_cap_wei)
        else:
            fees = plan_fees(base_fee_wei=inputs.base_fee_wei, priority_fee_wei=inputs.priority_fee_wei,
                             limit_wei=None, hard_cap_wei=self.policy.hard_cap_wei, urgent=True)
        if fees is None or not fees.send:
            raise TemporaryError(f"chain {self.chain_id}: cannot {purpose} nonce {nonce} within the hard cap now")
        tx = UnsignedTx(chain_id=self.chain_id, nonce=nonce, to=self.address, gas=21_000,
                        max_fee_per_gas_wei=fees.max_fee_per_gas_wei,
                        max_priority_fee_per_gas_wei=fees.max_priority_fee_per_gas_wei)
        self._sign_record_broadcast(tx, purpose=purpose, action_id=action_id, plan_id=plan_id,
                                    replaces=prior[-1].id if prior else None)

    def _sign_record_broadcast(self, tx: UnsignedTx, *, purpose: str, action_id: int | None, plan_id: str,
                               replaces: int | None = None) -> int:
        raw = bytes(self.signer.sign_transaction(tx))
        if Account.recover_transaction(raw) != self.address:
            raise SafetyHalt(f"chain {self.chain_id}: the signer returned a transaction signed by another address "
                             f"than {self.address}; refusing to broadcast")
        tx_hash = tx_hash_of(raw)
        attempt_id = self.journal.record_attempt(
            action_id=action_id, purpose=purpose, chain_id=self.chain_id, sender=self.address, nonce=tx.nonce,
            tx_hash=tx_hash, raw_tx=raw, max_fee_per_gas_wei=tx.max_fee_per_gas_wei,
            max_priority_fee_per_gas_wei=tx.max_priority_fee_per_gas_wei,
            sent_block=fetch_block_number(self.rpc), replaces=replaces)
        self.journal.mark_broadcast(attempt_id, Broadcast.MAYBE)
        crash_point("before_broadcast", purpose)
        try:
            self.rpc.send_raw_transaction(raw, what=f"{purpose} transaction of plan {plan_id or '-'} "
                                                    f"(nonce {tx.nonce})")
        except TxRejected as exc:
            if not exc.holds_nonce:  # a refusal the node explains: these bytes are not in its pool
                self.journal.mark_broadcast(attempt_id, Broadcast.NEVER)
                self.journal.mark_attempt(attempt_id, AttemptStatus.REJECTED, error=str(exc)[:300])
                raise
            if exc.reason != TxRefusal.ALREADY_KNOWN:  # something holds the nonce: looked up by hash and nonce
                log.warning("chain %s: broadcast of %s: %s; it stays \"maybe\" and is looked up", self.chain_id,
                            tx_hash, exc.reason)
                return attempt_id
        except TemporaryError as exc:  # BroadcastUnknown: the node may have it
            log.warning("chain %s: broadcast of %s outcome unknown (%s); it stays \"maybe\" and is looked up by "
                        "hash and nonce", self.chain_id, tx_hash, type(exc).__name__)
            self.journal.record_event("broadcast_maybe", {"chain_id": self.chain_id, "tx_hash": tx_hash,
                                                          "nonce": tx.nonce, "error": type(exc).__name__},
                                      action_id=action_id)
            return attempt_id
        crash_point("after_broadcast", purpose)
        self.journal.mark_broadcast(attempt_id, Broadcast.DEFINITELY)
        log.info("broadcast: chain %s plan %s %s nonce %s tx %s (max fee %s wei, tip %s wei)", self.chain_id,
                 plan_id or "-", purpose, tx.nonce, tx_hash, tx.max_fee_per_gas_wei, tx.max_priority_fee_per_gas_wei)
        return attempt_id

    def _await(self, nonce: int, *, plan_id: str, valid_until: int | None, since_block: int | None = None) -> TxOutcome:
        first = fetch_block_number(self.rpc)
        last_sent = since_block if since_block is not None else first
        started = self.clock()
        while True:
            chain_latest, _ = fetch_nonces(self.rpc, self.address)
            at_nonce = self.journal.attempts(chain_id=self.chain_id, sender=self.address, nonce=nonce)
            live = [a for a in at_nonce if a.status == AttemptStatus.PENDING and a.broadcast.in_flight]
            reorged = False
            for attempt in reversed(live):
                receipt = fetch_receipt(self.rpc, attempt.tx_hash)
                if receipt is not None:
                    confirmed = self._confirmed(attempt, receipt)
                    if confirmed is not None:
                        return self._settle(attempt, confirmed, at_nonce)
                    reorged = True  # a reorg removed it and the same bytes went out again: wait for them afresh
                    break
            if reorged:
                last_sent = fetch_block_number(self.rpc)
                self.sleep(self.policy.poll_s)
                continue
            if chain_latest > nonce or not live:
                for a in live:
                    self.journal.mark_attempt(a.id, AttemptStatus.DROPPED, error="nonce used by another transaction")
                raise ExecutionError(f"chain {self.chain_id}: nonce {nonce} of {self.address} was used by a "
                                     "transaction this agent did not send; nothing of this action was mined")
            live = self._look_up_maybes(live, nonce)
            block = fetch_block_number(self.rpc)
            if block - last_sent >= self.policy.replace_after_blocks:
                cancel = valid_until is not None and self.wall_clock() > valid_until
                self._replace(live[-1], cancel=cancel, plan_id=plan_id)
                last_sent = block
            waited_s = self.clock() - started
            if block - first >= self.policy.receipt_timeout_blocks or waited_s > self.policy.receipt_timeout_s:
                raise TemporaryError(f"chain {self.chain_id}: nonce {nonce} not mined after {block - first} blocks "
                                     f"({waited_s:.0f} s); it stays journaled as in flight and is reconciled later")
            self.sleep(self.policy.poll_s)

    def _look_up_maybes(self, live: list[AttemptRecord], nonce: int) -> list[AttemptRecord]:
        """Attempts at ``nonce`` still in flight after looking up the "maybe" ones by hash and same-bytes
        rebroadcast (``agent.execution.maybe``); none left means nothing of them ever reached the node."""
        still = [a for a in live
                 if a.broadcast != Broadcast.MAYBE or look_up(self.journal, self.rpc, a) != Lookup.UNKNOWN]
        if not still:
            rows = self.journal.attempts(chain_id=self.chain_id, sender=self.address, nonce=nonce)
            reasons = [r for r in (refusal_of(a) for a in rows) if r is not None]
            raise TxRejected(f"chain {self.chain_id}: nonce {nonce}: the node does not know the transaction and "
                             "refuses its signed bytes again; it was never broadcast",
                             reason=reasons[-1] if reasons else TxRefusal.UNDERPRICED)
        return still

    def _confirmed(self, attempt: AttemptRecord, receipt: dict[str, Any]) -> dict[str, Any] | None:
        """The receipt once ``policy.confirmations`` blocks are on top of its block and the node still has it;
        None when a reorg removed it — the journaled signed bytes are then rebroadcast (same nonce, so the trade
        can land once at most). A receipt that moved to another block restarts the count."""
        need = self.policy.confirmations
        if need <= 0:
            return receipt
        started, announced = self.clock(), False
        where = {"chain_id": self.chain_id, "tx_hash": attempt.tx_hash, "nonce": attempt.nonce}
        while True:
            current = fetch_receipt(self.rpc, attempt.tx_hash)
            if current is None:
                log.warning("chain %s: reorg: tx %s (nonce %s) was in block %s and is no longer on the chain; "
                            "rebroadcasting the same signed transaction", self.chain_id, attempt.tx_hash,
                            attempt.nonce, receipt["blockNumber"])
                self.journal.record_event("reorg", {**where, "was_in_block": int(receipt["blockNumber"]),
                                                    "action": "rebroadcast"}, action_id=attempt.action_id)
                self.rebroadcast(attempt)
                return None
            if current["blockHash"] != receipt["blockHash"]:
                self.journal.record_event("reorg", {**where, "was_in_block": int(receipt["blockNumber"]),
                                                    "now_in_block": int(current["blockNumber"]), "action": "recount"},
                                          action_id=attempt.action_id)
                receipt = current
            depth = fetch_block_number(self.rpc) - int(receipt["blockNumber"])
            if depth >= need:
                return receipt
            if not announced:
                self.journal.record_event("confirming", {**where, "block": int(receipt["blockNumber"]),
                                                         "confirmations": need}, action_id=attempt.action_id)
                announced = True
            if self.clock() - started > self.policy.confirm_timeout_s:
                raise TemporaryError(f"chain {self.chain_id}: tx {attempt.tx_hash} is {depth} of {need} blocks "
                                     f"deep after {self.policy.confirm_timeout_s:.0f} s (is the chain producing "
                                     "blocks?); it stays journaled and is reconciled later")
            self.sleep(self.policy.poll_s)

    def _replace(self, attempt: AttemptRecord, *, cancel: bool, plan_id: str) -> None:
        """Replace (or cancel) a stuck attempt at its nonce. A replacement the node refuses changes nothing: the
        attempts already at that nonce stay in flight and are waited for (the action is not failed over it)."""
        try:
            self._replace_at_nonce(attempt, cancel=cancel, plan_id=plan_id)
        except TxRejected as exc:
            log.warning("chain %s: the replacement at nonce %s was refused (%s); waiting for the attempts already "
                        "sent", self.chain_id, attempt.nonce, exc.reason)

    def _replace_at_nonce(self, attempt: AttemptRecord, *, cancel: bool, plan_id: str) -> None:
        with NONCE_LOCKS.get(self.chain_id, self.address):
            if cancel and attempt.purpose != "cancel":
                log.warning("chain %s: nonce %s past its deadline; cancelling", self.chain_id, attempt.nonce)
                prior = self.journal.attempts(chain_id=self.chain_id, sender=self.address, nonce=attempt.nonce)
                self._send_filler(attempt.nonce, purpose="cancel", action_id=attempt.action_id,
                                  plan_id=plan_id, prior=prior)
                return
            inputs = fetch_fee_inputs(self.rpc, percentile=self.policy.priority_fee_percentile)
            fees = plan_replacement(old_max_fee_wei=attempt.max_fee_per_gas_wei,
                                    old_tip_wei=attempt.max_priority_fee_per_gas_wei,
                                    base_fee_wei=inputs.base_fee_wei, priority_fee_wei=inputs.priority_fee_wei,
                                    hard_cap_wei=self.policy.hard_cap_wei)
            if fees is None:
                log.warning("chain %s: nonce %s is stuck and the hard cap leaves no room to bump its fees; "
                            "rebroadcasting and waiting", self.chain_id, attempt.nonce)
                self.rebroadcast(attempt)
                return
            tx = decode_raw(attempt.raw_tx).model_copy(update={
                "max_fee_per_gas_wei": fees.max_fee_per_gas_wei,
                "max_priority_fee_per_gas_wei": fees.max_priority_fee_per_gas_wei})
            self.journal.record_event("replace", {"chain_id": self.chain_id, "nonce": attempt.nonce,
                                                  "replaces": attempt.tx_hash, "reason": fees.reason},
                                      action_id=attempt.action_id)
            self._sign_record_broadcast(tx, purpose=attempt.purpose, action_id=attempt.action_id,
                                        plan_id=plan_id, replaces=attempt.id)

    def _settle(self, attempt: AttemptRecord, receipt: dict[str, Any], at_nonce: list[AttemptRecord]) -> TxOutcome:
        status = AttemptStatus.MINED if int(receipt["status"]) == 1 else AttemptStatus.REVERTED
        self.journal.mark_attempt(attempt.id, status, block_number=int(receipt["blockNumber"]),
                                  gas_used=int(receipt["gasUsed"]),
                                  effective_gas_price_wei=int(receipt.get("effectiveGasPrice") or 0))
        for other in at_nonce:
            if other.id != attempt.id and other.status == AttemptStatus.PENDING:
                self.journal.mark_attempt(other.id, AttemptStatus.REPLACED if other.broadcast.in_flight
                                          else AttemptStatus.ABANDONED)
        log.info("mined: chain %s nonce %s tx %s %s in block %s", self.chain_id, attempt.nonce,
                 attempt.tx_hash, status, receipt["blockNumber"])
        return _outcome(replace(attempt, status=status, block_number=int(receipt["blockNumber"]),
                                gas_used=int(receipt["gasUsed"]),
                                effective_gas_price_wei=int(receipt.get("effectiveGasPrice") or 0)))


def gas_gate_for(rpc: ChainRpc, policy: SendPolicy, *, timing: GasTimingConfig | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 should_stop: Callable[[], bool] | None = None) -> GasGate:
    """The gas gate of one chain from its send policy (limit, hard cap, deadline, poll) and timing."""
    return GasGate(lambda: fetch_fee_inputs(rpc, percentile=policy.priority_fee_percentile),
                   limit_wei=policy.max_base_fee_wei, hard_cap_wei=policy.hard_cap_wei,
                   deadline_s=policy.gas_wait_deadline_s, poll_s=policy.poll_s, timing=timing, clock=clock, sleep=sleep,
                   should_stop=should_stop,
                   history=lambda n: rpc.read(lambda w3: base_fee_history(w3.eth.fee_history, n),
                                              what="eth_feeHistory"))


def _outcome(row: AttemptRecord) -> TxOutcome:
    status = "cancelled" if row.purpose in ("cancel", "gap-fill") and row.status == AttemptStatus.MINED else row.status
    tx = decode_raw(row.raw_tx)
    return TxOutcome(purpose=row.purpose, status=status, tx_hash=row.tx_hash, nonce=row.nonce,
                     block_number=row.block_number, gas_used=row.gas_used,
                     effective_gas_price_wei=row.effective_gas_price_wei, to=tx.to,
                     max_fee_per_gas_wei=row.max_fee_per_gas_wei,
                     max_priority_fee_per_gas_wei=row.max_priority_fee_per_gas_wei)


def _progress_detail(p: GasWaitProgress, req: TxRequest) -> dict[str, Any]:
    return {"state": p.state, "chain_id": req.chain_id, "plan_id": req.plan_id, "purpose": req.purpose,
            "block": p.block_number, "base_fee_wei": p.base_fee_wei, "limit_wei": p.limit_wei,
            "threshold_wei": p.threshold_wei, "waited_s": round(p.waited_s, 3), "blocks_waited": p.blocks_waited}
