"""One agent cycle, top to bottom as the diagram draws it:

    reconcile → read+value → decide → plan → per action: wait for gas → execute (its kind's executor) → park → journal

``run_cycle`` is the unit ``rebalancer run`` repeats, ``plan`` previews (with nothing sent) and ``simulate``
runs on a fork. The clock is passed in. Before planning, the journal is reconciled against the chains: an
action whose transaction may still be in flight blocks planning on that chain, so a restart never repeats a
trade. An error ends the plan according to its disposition (``agent.errors``): ``drop`` journals the plan as
dropped, ``retry`` leaves the rest for the next cycle (which plans afresh), ``halt``/``bad_input`` stop the agent.
Observers (``agent.cycle.events``) hear every step; the cycle owns its quote sources and closes them at its end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from agent.chain.rpc import ChainRpc
from agent.config.settings import AppConfig, safe_error
from agent.cycle.compose import build_rpcs, build_sender, wallet_address
from agent.cycle.events import CycleEventKind, CycleObserver, EventBus
from agent.cycle.executors import ActionJob, Executor, executor_for
from agent.cycle.intents import IntentContext, action_key
from agent.cycle.report import ActionReport, CycleReport, plan_detail
from agent.cycle.resources import CycleResources
from agent.cycle.steps import (
    blocked_chains,
    build_costs,
    decide,
    lots_for,
    make_plan,
    plan_id_for,
    spent_last_day,
    verify_genesis,
)
from agent.cycle.taxlots import JournalLots
from agent.errors import AgentError, Disposition, disposition_of
from agent.execution.gas_wait import GasGate, GasWaitProgress
from agent.execution.guard import GasBudgetSpent, SendPaused, check_pause
from agent.execution.pipeline import ExecutionContext
from agent.journal.records import CycleStatus, Mode
from agent.journal.spending import record_spend
from agent.journal.store import JournalStore
from agent.jsonable import jsonable
from agent.operator.approvals import ApprovalPolicy, gate_plan
from agent.planning.models import Plan
from agent.portfolio.reader import fetch_snapshot
from agent.ports import Signer
from agent.vaults.service import adapt_plan_to_vault_limits, park_idle_stables
from strategies import Decision, Strategy

log = logging.getLogger(__name__)
CORRELATION_EVENT = "correlation_alert"
STOPPED = "stopped by signal before the next action; the rest of the plan is dropped"


@dataclass
class CycleRun:
    """What one cycle works with (built by ``run_cycle``)."""

    config: AppConfig
    cycle_id: int
    now: datetime
    journal: JournalStore
    dry_run: bool
    wallet: str
    rpcs: dict[str, ChainRpc]
    events: EventBus
    resources: CycleResources
    should_stop: Callable[[], bool] = lambda: False
    block_clock: Any = None
    #: how long reconciling waits for the receipts of what is in flight (None: by the chains' block times)
    reconcile_wait_s: float | None = None
    #: per available chain: where its actions execute
    contexts: dict[str, ExecutionContext] = field(default_factory=dict)
    #: the executor of each action kind (``agent.cycle.executors.EXECUTORS`` unless a caller overrides one)
    executors: Mapping[str, Executor] | None = None


def run_cycle(config: AppConfig, *, now: datetime, journal: JournalStore, dry_run: bool = False,
              signer: Signer | None = None, strategy: Strategy | None = None, rpcs: list[ChainRpc] | None = None,
              should_stop: Callable[[], bool] = lambda: False,
              sender_options: Mapping[str, Any] | None = None, block_clock: Any = None,
              observers: Iterable[CycleObserver] = (), reconcile_wait_s: float | None = None) -> CycleReport:
    """Run one full cycle. ``signer=None`` or ``dry_run`` simulates everything and signs nothing.

    ``sender_options`` go to the live sender (e.g. ``sleep``/``clock`` of a market simulator, so every wait
    of the pipeline mines a block of the simulated chain); ``block_clock`` is what split swaps wait on between
    chunks (default: poll the chain); ``observers`` hear the cycle's events."""
    rpcs = rpcs or build_rpcs(config)
    dry_run = dry_run or signer is None
    wallet = signer.address if signer is not None else wallet_address(config)
    cycle_id = journal.start_cycle(mode=Mode.DRY_RUN if dry_run else Mode.LIVE)
    events = EventBus(observers)
    events.emit(CycleEventKind.CYCLE_START, cycle_id, at=now.isoformat(), mode="dry_run" if dry_run else "live")
    try:
        with CycleResources(config.settings.aggregators) as resources:
            run = CycleRun(config=config, cycle_id=cycle_id, now=now, journal=journal, dry_run=dry_run,
                           wallet=wallet, rpcs={r.chain.name: r for r in rpcs}, events=events, resources=resources,
                           should_stop=should_stop, block_clock=block_clock,
                           reconcile_wait_s=reconcile_wait_s)
            report = _cycle(run, signer, strategy, dict(sender_options or {}))
    except BaseException as exc:
        journal.finish_cycle(cycle_id, status=CycleStatus.ERROR, note=safe_error(exc))
        if isinstance(exc, Exception) and disposition_of(exc) == Disposition.HALT:
            events.emit(CycleEventKind.HALT, cycle_id, error=safe_error(exc))
        events.emit(CycleEventKind.CYCLE_END, cycle_id, status="error", error=safe_error(exc))
        raise
    status = CycleStatus.DROPPED if report.dropped_because else CycleStatus.OK
    journal.finish_cycle(cycle_id, status=status, note=report.dropped_because or "")
    events.emit(CycleEventKind.CYCLE_END, cycle_id, status=status, actions=len(report.actions),
                disposition=str(report.disposition) if report.disposition else None)
    return report


def _cycle(run: CycleRun, signer: Signer | None, strategy: Strategy | None,
           sender_options: dict[str, Any]) -> CycleReport:
    verify_genesis(run.journal, run.rpcs.values())                                      # the journal's chains
    blocked = blocked_chains(run.journal, run.rpcs, run.dry_run, wait_s=run.reconcile_wait_s)  # reconcile
    snapshot = fetch_snapshot(list(run.rpcs.values()), run.wallet)                      # read + value
    lots = lots_for(run.config, run.journal)
    decision = decide(run.config, snapshot, run.journal, run.now, strategy, lots=lots)  # decide
    explained = jsonable(decision.explain())
    run.events.emit(CycleEventKind.DECISION, run.cycle_id, rebalance=decision.rebalance,
                    reasons=list(decision.reasons), urgent=decision.urgent, decision=explained)
    _correlation_alert(run, decision)
    report = CycleReport(cycle_id=run.cycle_id, now=run.now, decision=decision, plan=None, snapshot_before=snapshot,
                         blocked_chains=blocked)
    unavailable = {c.chain for c in snapshot.chains if not c.available}
    if not run.dry_run:
        sender_options = {"should_stop": run.should_stop, **sender_options}
    run.contexts = {
        name: ExecutionContext(chain=rpc.chain, rpc=rpc, journal=run.journal, cycle_id=run.cycle_id,
                               sender=build_sender(run.config, rpc, run.journal, signer, run.dry_run, run.wallet,
                                                   sender_options))
        for name, rpc in run.rpcs.items() if name not in unavailable}
    if snapshot.partial:  # never trade blind: an unread chain or balance makes every total wrong (#14)
        report.dropped_because, report.disposition = snapshot.partial_reason(), Disposition.RETRY
        run.journal.record_decision(run.cycle_id, rebalance=False, reasons=[report.dropped_because],
                                    detail={"decision": explained})
    elif decision.rebalance:
        excluded = blocked | dict.fromkeys(unavailable, "unavailable")
        plan = _plan(run, report, excluded, lots)                                        # plan
        plan_id = plan_id_for(run.cycle_id, run.now, plan)
        if _approved(run, report, plan, plan_id):                                        # approve
            execute_plan(run, report, plan, plan_id)                                     # gas → execute
    else:
        run.journal.record_decision(run.cycle_id, rebalance=False, reasons=list(decision.reasons),
                                    detail={"decision": explained})
    waiting = report.approval is not None and not report.approval.proceed  # its funds stay where they are
    pause = run.config.settings.execution.pause_file
    paused = not run.dry_run and pause is not None and pause.exists()  # PAUSE_FILE: no parking either
    # while a chain is blocked the global allocation is unsettled: nothing is parked either (#14)
    if run.config.settings.vaults.vault_parking and not report.dropped_because and not waiting \
            and not run.should_stop() and not paused and not blocked:
        usable = dict(run.contexts)                                                      # park
        try:
            report.parking = park_idle_stables(run.config, snapshot, run.journal, usable, run.now,
                                               cycle_id=run.cycle_id, costs=build_costs(snapshot, run.config.chains))
        except (SendPaused, GasBudgetSpent) as exc:  # paused (or out of gas budget) while parking: park later
            log.warning("vault parking stopped: %s", safe_error(exc))
        if report.parking:
            run.events.emit(CycleEventKind.PARKING, run.cycle_id,
                            actions=[{"key": r.idempotency_key, "state": r.state} for r in report.parking])
    changed = report.actions or report.parking
    report.snapshot_after = fetch_snapshot(list(run.rpcs.values()), run.wallet) if changed else snapshot
    return report


def _correlation_alert(run: CycleRun, decision: Decision) -> None:
    """Journal and announce a crossing of the correlation monitor's threshold (``strategies.correlation``)."""
    reading = decision.inputs.get("correlation")
    if not isinstance(reading, dict) or reading.get("threshold") is None:
        return
    last = run.journal.last_event(CORRELATION_EVENT)
    last_state = last.detail.get("state") if last else None
    state = "above" if reading.get("above") else "below"
    if state == (last_state or "below"):
        return
    detail = {"state": state, "average": reading["average"], "threshold": reading["threshold"],
              "window_days": reading["window_days"], "pairs": reading.get("pairs", {}), "at": run.now.isoformat()}
    run.journal.record_event(CORRELATION_EVENT, detail, cycle_id=run.cycle_id)
    run.events.emit(CycleEventKind.CORRELATION_ALERT, run.cycle_id, **detail)
    log.warning("correlation monitor: average pairwise correlation %.2f is %s CORRELATION_ALERT %.2f",
                reading["average"], "at or above" if state == "above" else "back below", reading["threshold"])


def _plan(run: CycleRun, report: CycleReport, excluded: dict[str, str], lots: JournalLots | None = None) -> Plan:
    decision = report.decision
    plan = make_plan(run.config, report.snapshot_before, decision, run.now, exclude_chains=set(excluded),
                     spent=spent_last_day(run.journal, run.now), held=excluded, lots=lots)
    plan = adapt_plan_to_vault_limits(run.config, plan, run.contexts, run.journal, cycle_id=run.cycle_id)
    report.plan = plan
    plan_id = plan_id_for(run.cycle_id, run.now, plan)
    run.journal.record_decision(run.cycle_id, rebalance=plan.rebalance, plan_id=plan_id,
                                reasons=[*decision.reasons, *(f"chain {c}: {why}" for c, why in excluded.items())],
                                detail={**plan_detail(plan), "decision": jsonable(decision.explain())})
    run.events.emit(CycleEventKind.PLAN, run.cycle_id, plan_id=plan_id,
                    actions=[a.as_json() for a in plan.actions])
    return plan


def _approved(run: CycleRun, report: CycleReport, plan: Plan, plan_id: str) -> bool:
    """A live plan that needs a person's approval (``APPROVAL``) waits for it (``agent/operator/approvals.py``)."""
    if run.dry_run:
        return True
    report.approval = gate_plan(ApprovalPolicy.from_settings(run.config.settings), run.journal, plan,
                                plan_id=plan_id, cycle_id=run.cycle_id, now=run.now)
    return report.approval.proceed


def execute_plan(run: CycleRun, report: CycleReport, plan: Plan, plan_id: str) -> None:
    """Each action in order: wait for gas on its chain, then its kind's executor; an error ends the plan by
    its disposition (``_dispatch``)."""
    costs = build_costs(report.snapshot_before, run.config.chains)
    for index, action in enumerate(plan.actions):
        if run.should_stop():
            _end_plan(run, report, plan_id, Disposition.RETRY, STOPPED)
            break
        if not run.dry_run:
            try:  # the pause file is checked before each action (and again before each of its transactions)
                check_pause(run.config.settings.execution.pause_file)
            except SendPaused as exc:
                _end_plan(run, report, plan_id, Disposition.RETRY, f"{exc}; the rest of the plan waits")
                break
        job = _job(run, report, plan_id, index)
        gate = _gas_gate(job)
        try:
            if gate is not None:
                _wait_for_gas(run, job, gate)                                          # wait for gas
            done = (run.executors or {}).get(action.kind) or executor_for(action.kind)
            action_report = done(job)                                                   # execute
        except AgentError as exc:
            _dispatch(run, report, job, exc)
            break
        finally:
            if gate is not None:
                gate.clear()
        report.actions.append(action_report)
        if not run.dry_run and action_report.state == "confirmed":
            _record_spend(run, action_report, costs)
        run.events.emit(CycleEventKind.TRADE, run.cycle_id, plan_id=plan_id, key=action_report.key,
                        kind=action.kind, chain=action.chain, state=action_report.state,
                        source=action_report.quote_source, gas_paid_wei=action_report.gas_paid_wei)
    if not run.dry_run and any(a.state == "confirmed" for a in report.actions):
        run.journal.record_event("rebalanced", {"at": run.now.isoformat(), "plan_id": plan_id},
                                 cycle_id=run.cycle_id)


def _record_spend(run: CycleRun, done: ActionReport, costs: Mapping[str, Any]) -> None:
    """The journal's record of what an executed action spent (MAX_DAILY_USD / MAX_DAILY_GAS_USD read it)."""
    action = done.action
    native = costs[action.chain].native_usd if action.chain in costs else Decimal(0)
    gas_usd = Decimal(done.gas_paid_wei) / Decimal(10**18) * native
    record_spend(run.journal, key=done.key, chain=action.chain, kind=action.kind, cycle_id=run.cycle_id,
                 trade_usd=action.amount_usd if action.kind == "swap" else Decimal(0), gas_usd=gas_usd)


def _job(run: CycleRun, report: CycleReport, plan_id: str, index: int) -> ActionJob:
    assert report.plan is not None
    action = report.plan.actions[index]
    ectx = run.contexts[action.chain]
    s = run.config.settings
    ictx = IntentContext(chain=ectx.chain, rpc=ectx.rpc, execution=s.execution, aggregators=s.aggregators,
                         wallet=run.wallet,
                         plan_id=plan_id, urgent=report.decision.urgent, block_clock=run.block_clock,
                         sources=run.resources.sources(ectx.rpc) if action.kind == "swap" else None)
    return ActionJob(index=index, action=action, key=action_key(plan_id, index, action), intents=ictx,
                     execution=ectx, dry_run=run.dry_run, vaults=s.vaults)


def _gas_gate(job: ActionJob) -> GasGate | None:
    """The chain's gas gate: live senders have one; a dry run only reports whether it would wait."""
    gate = getattr(job.execution.sender, "gas_gate", None)
    return gate if isinstance(gate, GasGate) else None


def _wait_for_gas(run: CycleRun, job: ActionJob, gate: GasGate) -> None:
    """Wait until the chain's base fee allows sending (``<CHAIN>_MAX_BASE_FEE_GWEI``, the timing mode, the
    deadline); journaled and observed as ``gas_wait``. A timeout or a stop raises (retry next cycle)."""
    where = {"plan_id": job.intents.plan_id, "key": job.key, "chain": job.action.chain,
             "chain_id": job.execution.chain.chain_id}
    announced: list[str] = []

    def progress(p: GasWaitProgress) -> None:
        if p.state == "waiting" and announced:
            return  # one journal line when the wait starts, one when it ends
        detail = {**where, "state": p.state, "block": p.block_number, "base_fee_wei": p.base_fee_wei,
                  "limit_wei": p.limit_wei, "threshold_wei": p.threshold_wei, "waited_s": round(p.waited_s, 3),
                  "blocks_waited": p.blocks_waited}
        run.journal.record_event("gas_wait", detail, cycle_id=run.cycle_id)
        run.events.emit(CycleEventKind.GAS_WAIT, run.cycle_id, **detail)
        announced.append(p.state)

    printer = getattr(job.execution.sender, "progress", None)

    def on_progress(p: GasWaitProgress) -> None:
        if callable(printer):
            printer(p)
        progress(p)

    gate.wait(urgent=job.intents.urgent, on_progress=on_progress)


def _dispatch(run: CycleRun, report: CycleReport, job: ActionJob, exc: AgentError) -> None:
    """What an action's error does to the plan: by its disposition, never by its text."""
    disposition = exc.disposition
    if disposition in (Disposition.HALT, Disposition.BAD_INPUT):
        raise exc
    action = job.action
    report.actions.append(ActionReport(action=action, key=job.key, state="failed", error=safe_error(exc)))
    then = "the rest of the plan is dropped" if disposition == Disposition.DROP else \
        "the rest of the plan waits for the next cycle, which plans afresh"
    reason = (f"action {job.index} ({action.kind} {action.sell}>{action.buy} on {action.chain}) failed: "
              f"{safe_error(exc)}; {then}")
    _end_plan(run, report, job.intents.plan_id, disposition, reason)


def _end_plan(run: CycleRun, report: CycleReport, plan_id: str, disposition: Disposition, reason: str) -> None:
    report.dropped_because, report.disposition = reason, disposition
    run.journal.record_event("plan_dropped", {"plan_id": plan_id, "reason": reason, "disposition": str(disposition)},
                             cycle_id=run.cycle_id)
    kind = CycleEventKind.DROP if disposition == Disposition.DROP else CycleEventKind.RETRY
    run.events.emit(kind, run.cycle_id, plan_id=plan_id, reason=reason)
    log.error("plan %s %s: %s", plan_id, "dropped" if disposition == Disposition.DROP else "deferred", reason)


__all__ = ["ActionReport", "CycleReport", "CycleRun", "build_costs", "decide", "execute_plan", "make_plan",
           "run_cycle"]
