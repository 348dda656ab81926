"""The per-action pipeline: claim → (resume) → simulate → exact approval → send → confirm → check deltas.

``execute_intent(intent, ctx)`` runs one ``TxIntent``. Simulation comes first and covers the whole
sequence: with an approval pending, the approvals and the action are simulated together on one state
(``eth_simulateV1``), so a revert anywhere sends nothing; on nodes without it the approval is simulated
alone and the action is simulated again after the approval is mined. The sender (live or dry-run)
prices, signs, journals, broadcasts and waits. After the receipt, the wallet's balance changes between
the receipt's block and the one before are checked against ``intent.expected_deltas``.

Errors follow the tree: ``ExecutionError`` (``SimulationFailed``, ``PriceMoved``, ``TxRejected``) → the action
is ``failed`` (its disposition tells the cycle whether to drop the plan or retry next cycle); anything else
(``TemporaryError``, a stop) → the action stays ``pending`` if a transaction may be in flight, else
``abandoned`` (the same key may run again later).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from agent.chain.reads import (
    NATIVE,
    Call,
    approve_calldata,
    estimate_gas,
    fetch_allowance,
    fetch_balance,
    replay_revert,
    simulate,
    simulate_bundle,
)
from agent.chain.rpc import ChainRpc
from agent.config.chains import ChainConfig
from agent.errors import ExecutionError, PriceMoved, SimulationFailed
from agent.execution.approvals import needs_zero_first, plan_approval
from agent.execution.intent import ActionResult, TxIntent, TxOutcome, TxRequest
from agent.execution.sender import TxSender
from agent.journal.records import ActionState, AttemptStatus
from agent.journal.store import JournalStore

log = logging.getLogger(__name__)
MAIN = "main"


@dataclass
class ExecutionContext:
    """Everything one chain's actions need. Build one per chain per cycle."""

    chain: ChainConfig
    rpc: ChainRpc
    sender: TxSender
    journal: JournalStore
    gas_margin: float = 1.25
    cycle_id: int | None = None


def execute_intent(intent: TxIntent, ctx: ExecutionContext) -> ActionResult:
    """Execute ``intent`` at most once per idempotency key; returns the journaled result."""
    if intent.chain != ctx.chain.name:
        raise ExecutionError(f"intent {intent.idempotency_key} is for chain {intent.chain}, not {ctx.chain.name}")
    row = ctx.journal.begin_action(key=intent.idempotency_key, chain_id=ctx.chain.chain_id, chain=ctx.chain.name,
                                   plan_id=intent.plan_id, kind=intent.kind, intent=intent.journal_view(),
                                   mode=ctx.sender.mode, cycle_id=ctx.cycle_id)
    action_id = row.id
    if row.state.terminal:
        log.info("chain %s plan %s: action %s already %s; not executing it again", ctx.chain.chain_id,
                 intent.plan_id, intent.idempotency_key, row.state)
        return _result(ctx, action_id, reused=True)
    if row.state != ActionState.PENDING:
        ctx.journal.set_action_state(action_id, ActionState.PENDING)
    try:
        return _run(intent, ctx, action_id)
    except ExecutionError as exc:  # includes SimulationFailed
        if ctx.journal.action(action_id).state == ActionState.PENDING:
            ctx.journal.set_action_state(action_id, ActionState.FAILED, error=str(exc))
        log.warning("chain %s plan %s: action %s failed: %s", ctx.chain.chain_id, intent.plan_id,
                    intent.idempotency_key, exc)
        raise
    except BaseException as exc:
        in_flight = any(a.status == AttemptStatus.PENDING and a.broadcast.in_flight
                        for a in ctx.journal.attempts(action_id=action_id))
        if not in_flight:
            ctx.journal.set_action_state(action_id, ActionState.ABANDONED, error=f"{type(exc).__name__}: {exc}"[:300])
        raise


def _run(intent: TxIntent, ctx: ExecutionContext, action_id: int) -> ActionResult:
    outcomes = list(ctx.sender.resume(action_id))
    finished = [o for o in outcomes if o.purpose in (MAIN, "cancel")]
    if finished:
        return _finish(intent, ctx, action_id, outcomes, finished[-1])
    main_call = Call(ctx.sender.address, intent.to, intent.data, intent.value_wei)
    approvals = _approval_calls(intent, ctx)
    gas = _simulate_all(intent, ctx, approvals, main_call)
    for (purpose, call), limit in zip(approvals, gas, strict=False):
        outcome = ctx.sender.send(_request(intent, ctx, action_id, purpose, call, limit))
        outcomes.append(outcome)
        if outcome.status in ("reverted", "cancelled"):
            raise ExecutionError(f"chain {ctx.chain.name}: {purpose} transaction {outcome.tx_hash} {outcome.status}")
    main_gas = gas[-1] if len(gas) == len(approvals) + 1 else None
    if approvals and (main_gas is None or ctx.sender.mode == "live"):
        # The approvals are mined now: simulate again on the real state and estimate precisely.
        main_gas = _simulate_after_approval(intent, ctx, main_call)
    if main_gas is None:
        raise ExecutionError(f"chain {ctx.chain.name}: {intent.kind} {intent.idempotency_key}: no gas estimate "
                             "for the main transaction")
    _check_gas(intent, main_gas)
    outcomes.append(ctx.sender.send(_request(intent, ctx, action_id, MAIN, main_call, main_gas)))
    return _finish(intent, ctx, action_id, outcomes, outcomes[-1])


def _approval_calls(intent: TxIntent, ctx: ExecutionContext) -> list[tuple[str, Call]]:
    if intent.approval is None:
        return []
    a = intent.approval
    current = fetch_allowance(ctx.rpc, a.token, ctx.sender.address, a.spender)
    reverts = False
    if needs_zero_first(ctx.chain, a, current_allowance_raw=current) is None:
        try:  # an unflagged token with a stale allowance: does it take a direct non-zero → non-zero approve?
            simulate(ctx.rpc, Call(ctx.sender.address, a.token, approve_calldata(a.spender, a.amount_raw)),
                     what="direct approve")
        except SimulationFailed:
            log.info("chain %s: %s reverts a non-zero to non-zero approve; resetting it to 0 first",
                     ctx.chain.chain_id, a.token)
            reverts = True
    planned = plan_approval(ctx.chain, a, current_allowance_raw=current, direct_approve_reverts=reverts)
    if planned:
        log.info("chain %s plan %s: allowance %s < %s for spender %s; approving the exact amount",
                 ctx.chain.chain_id, intent.plan_id, current, a.amount_raw, a.spender)
    return [(purpose, Call(ctx.sender.address, a.token, data)) for purpose, data in planned]


def _simulate_all(intent: TxIntent, ctx: ExecutionContext, approvals: list[tuple[str, Call]],
                  main_call: Call) -> list[int]:
    """Gas limits (with margin) for each approval and, when it could be simulated now, the main call."""
    label = f"{intent.kind} {intent.idempotency_key}"
    if not approvals:
        simulate(ctx.rpc, main_call, what=label)
        gas = estimate_gas(ctx.rpc, main_call, what=label, margin=ctx.gas_margin)
        _check_gas(intent, gas)
        return [gas]
    named = [(f"{p} for {label}", c) for p, c in approvals] + [(label, main_call)]
    bundle = simulate_bundle(ctx.rpc, named, margin=ctx.gas_margin)
    if bundle is not None:
        _check_gas(intent, bundle[-1])
        return bundle
    log.info("chain %s: node lacks eth_simulateV1; simulating the approval now and the %s after it",
             ctx.chain.chain_id, intent.kind)
    limits = []
    for what, call in named[:-1]:
        simulate(ctx.rpc, call, what=what)
        limits.append(estimate_gas(ctx.rpc, call, what=what, margin=ctx.gas_margin))
    return limits


def _simulate_after_approval(intent: TxIntent, ctx: ExecutionContext, main_call: Call) -> int:
    label = f"{intent.kind} {intent.idempotency_key}"
    if ctx.sender.mode != "live":
        raise SimulationFailed(f"{label}: cannot simulate without the approval on this node (no eth_simulateV1); "
                               "a dry run does not send the approval, so nothing more can be shown")
    simulate(ctx.rpc, main_call, what=label)
    return estimate_gas(ctx.rpc, main_call, what=label, margin=ctx.gas_margin)


def _check_gas(intent: TxIntent, gas: int) -> None:
    if intent.max_gas is not None and gas > intent.max_gas:
        raise ExecutionError(f"{intent.kind} {intent.idempotency_key}: estimated gas {gas} exceeds the bound "
                             f"{intent.max_gas} (MAX_SWAP_GAS); nothing was sent")


def _request(intent: TxIntent, ctx: ExecutionContext, action_id: int, purpose: str, call: Call,
             gas: int) -> TxRequest:
    return TxRequest(chain_id=ctx.chain.chain_id, purpose=purpose, to=call.to, data=call.data,
                     value_wei=call.value_wei, gas=gas, action_id=action_id, plan_id=intent.plan_id,
                     urgent=intent.urgent, valid_until=intent.valid_until)


def _finish(intent: TxIntent, ctx: ExecutionContext, action_id: int, outcomes: list[TxOutcome],
            main: TxOutcome) -> ActionResult:
    txs = [o.model_dump(mode="json") for o in outcomes]
    if main.status == "dry_run":
        ctx.journal.set_action_state(action_id, ActionState.DRY_RUN, result={"would_send": txs})
        return _result(ctx, action_id, outcomes=outcomes)
    if main.status != "mined" or main.purpose != MAIN:
        price_moved = False
        if main.status == "cancelled":
            what = "was cancelled"
        else:
            call = Call(ctx.sender.address, intent.to, intent.data, intent.value_wei)
            reason, price_moved = replay_revert(ctx.rpc, call, int(main.block_number or 0))
            what = f"reverted on chain (tx {main.tx_hash}): {reason}"
        error = f"chain {ctx.chain.name}: {intent.kind} {intent.idempotency_key} {what}"
        ctx.journal.set_action_state(action_id, ActionState.FAILED, error=error, result={"transactions": txs})
        raise PriceMoved(error, sent=True) if price_moved else ExecutionError(error)
    observed = _observe_deltas(intent, ctx, main, outcomes)
    bad = [f"{d.token}: {observed[d.token]} not in [{d.min_raw}, {d.max_raw if d.max_raw is not None else '∞'}]"
           for d in intent.expected_deltas if not d.accepts(observed[d.token])]
    result: dict[str, Any] = {"transactions": txs, "observed_deltas": {k: str(v) for k, v in observed.items()}}
    off_plan = f"balance deltas off plan: {'; '.join(bad)}" if bad else None
    ctx.journal.set_action_state(action_id, ActionState.CONFIRMED, error=off_plan, result=result)
    log.info("confirmed: chain %s plan %s %s tx %s in block %s", ctx.chain.chain_id, intent.plan_id, intent.kind,
             main.tx_hash, main.block_number)
    if off_plan:
        raise ExecutionError(f"chain {ctx.chain.name}: {intent.kind} {intent.idempotency_key} mined but {off_plan}")
    return _result(ctx, action_id, outcomes=outcomes, observed=observed)


def _observe_deltas(intent: TxIntent, ctx: ExecutionContext, main: TxOutcome,
                    outcomes: list[TxOutcome]) -> dict[str, int]:
    """Balance changes across the main transaction's block; native net of this action's gas in that block."""
    block = int(main.block_number or 0)
    owner = ctx.sender.address
    out: dict[str, int] = {}
    for d in intent.expected_deltas:
        delta = fetch_balance(ctx.rpc, d.token, owner, block) - fetch_balance(ctx.rpc, d.token, owner, block - 1)
        if d.token == NATIVE:
            delta += sum(o.fee_paid_wei for o in outcomes if o.block_number == block and o.tx_hash)
        out[d.token] = delta
    return out


def _result(ctx: ExecutionContext, action_id: int, *, outcomes: list[TxOutcome] | None = None,
            observed: dict[str, int] | None = None, reused: bool = False) -> ActionResult:
    row = ctx.journal.action(action_id)
    if outcomes is None:
        stored = ctx.journal.attempts(action_id=action_id)
        outcomes = [TxOutcome(purpose=a.purpose, status=a.status, tx_hash=a.tx_hash, nonce=a.nonce,
                              block_number=a.block_number, gas_used=a.gas_used,
                              effective_gas_price_wei=a.effective_gas_price_wei)
                    for a in stored if a.status.settled_on_chain]
    return ActionResult(action_id=action_id, idempotency_key=row.idempotency_key, mode=row.mode,
                        state=row.state, outcomes=tuple(outcomes), observed_deltas=observed or {},
                        reused=reused, error=row.error)
