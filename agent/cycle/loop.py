"""One agent cycle: read → value → decide → plan → quote → wait for gas → execute → journal.

``run_cycle`` is the unit ``rebalancer run`` repeats, ``plan`` previews (with nothing sent) and ``simulate``
runs on a fork. The clock is passed in. Before planning, the journal is reconciled against the chains: an
action whose transaction may still be in flight blocks planning on that chain, so a restart never repeats a
trade. A failed action drops the rest of the plan (and says so); the next cycle plans afresh.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from agent.chain.reads import fetch_balance
from agent.chain.rpc import ChainRpc
from agent.config.settings import AppConfig, safe_error
from agent.cycle.compose import build_rpcs, wallet_address
from agent.cycle.intents import IntentContext, action_key, build_swap, build_wrap, swap_request
from agent.errors import AgentError, ExecutionError, QuoteError, SafetyHalt
from agent.execution.intent import ActionResult
from agent.execution.pipeline import ExecutionContext, execute_intent
from agent.execution.reconcile import reconcile
from agent.execution.sender import DryRunSender, SendPolicy, TxSender
from agent.execution.twap import TwapResult
from agent.journal.records import CycleStatus, Mode
from agent.journal.store import JournalStore
from agent.operator.approvals import ApprovalPolicy, Gate, gate_plan
from agent.planning.allocation import compute_allocation
from agent.planning.costs import ChainCosts
from agent.planning.models import Action, Plan
from agent.planning.planner import PlanParams, plan_rebalance
from agent.portfolio.models import Snapshot
from agent.portfolio.reader import fetch_snapshot
from agent.ports import Signer
from agent.vaults.policy import effective_buffer_usd
from agent.vaults.service import adapt_plan_to_vault_limits, execute_vault_action, park_idle_stables
from strategies import Decision, Strategy, StrategyContext, load_strategy

log = logging.getLogger(__name__)
DEFAULT_TIP_WEI = 10**9


@dataclass
class ActionReport:
    action: Action
    key: str
    state: str
    result: ActionResult | None = None
    quote_source: str | None = None
    error: str | None = None
    #: a swap split into impact-bounded chunks over blocks
    twap: TwapResult | None = None

    @property
    def gas_paid_wei(self) -> int:
        if self.twap is not None:
            return self.twap.gas_paid_wei
        return sum(o.fee_paid_wei for o in self.result.outcomes) if self.result else 0


@dataclass
class CycleReport:
    cycle_id: int
    now: datetime
    decision: Decision
    plan: Plan | None
    snapshot_before: Snapshot
    snapshot_after: Snapshot | None = None
    actions: list[ActionReport] = field(default_factory=list)
    blocked_chains: dict[str, str] = field(default_factory=dict)
    dropped_because: str | None = None
    #: vault parking after the trades (deposits of idle stables, exits of flagged vaults)
    parking: list[ActionResult] = field(default_factory=list)
    #: the approval step's word on the plan (APPROVAL=manual|above:USD); None when it was not asked
    approval: Gate | None = None


def build_costs(snapshot: Snapshot, chains: dict[str, Any], tip_wei: int = DEFAULT_TIP_WEI) -> dict[str, ChainCosts]:
    out = {}
    for cs in snapshot.chains:
        if not cs.available or cs.base_fee_wei is None:
            continue
        native = cs.prices.get(chains[cs.chain].wrapped_native)
        if native is None:
            continue
        out[cs.chain] = ChainCosts(chain=cs.chain, gas_price_wei=cs.base_fee_wei + tip_wei, native_usd=native.usd)
    return out


def plan_id_for(cycle_id: int, now: datetime, plan: Plan) -> str:
    digest = hashlib.sha256(f"{now.isoformat()}|{[a.as_json() for a in plan.actions]}".encode()).hexdigest()
    return f"c{cycle_id}-{digest[:10]}"


def decide(config: AppConfig, snapshot: Snapshot, journal: JournalStore, now: datetime,
           strategy: Strategy | None = None) -> Decision:
    s = config.settings
    alloc = compute_allocation(snapshot, s.targets)
    last = journal.last_event("rebalanced")
    last_at = datetime.fromisoformat(str(last.detail["at"])) if last else None
    strategy = strategy or load_strategy(s.strategy, s)
    return strategy.decide(StrategyContext(allocation=alloc, targets=dict(s.targets), now=now,
                                           last_rebalance_at=last_at))


def make_plan(config: AppConfig, snapshot: Snapshot, decision: Decision, now: datetime,
              exclude_chains: frozenset[str] | set[str] = frozenset()) -> Plan:
    s = config.settings
    costs = {c: v for c, v in build_costs(snapshot, config.chains).items() if c not in exclude_chains}
    buffer = effective_buffer_usd(buffer_usd=s.stable_buffer_usd, buffer_pct=s.stable_buffer_pct,
                                  total_usd=compute_allocation(snapshot, s.targets).total_usd)
    direct = {(cs.chain, key.partition("/")[0], key.partition("/")[2]): depth
              for cs in snapshot.chains for key, depth in cs.pair_depths_usd.items()}
    params = PlanParams(min_trade_usd=s.min_trade_usd, stable_buffer_usd=buffer, direct_pairs=direct)
    return plan_rebalance(snapshot=snapshot, chains=config.chains, targets=decision.targets, costs=costs,
                          params=params, now=now, reasons=decision.reasons)


def make_sender(config: AppConfig, rpc: ChainRpc, journal: JournalStore, signer: Signer | None, dry_run: bool,
            wallet: str, sender_options: Mapping[str, Any]) -> TxSender:
    chain = rpc.chain
    policy = SendPolicy.from_config(config.settings, config.chain_settings[chain.name], chain)
    if dry_run or signer is None:
        return DryRunSender(rpc, policy, wallet)
    from agent.execution.gas import GasTimingConfig
    from agent.execution.live import LiveSender

    timing = GasTimingConfig.from_settings(config.chain_settings[chain.name], chain.block_time_s)
    return LiveSender(rpc, signer, journal, policy, gas_timing=timing, **sender_options)


def _execute_action(index: int, action: Action, plan_id: str, ictx: IntentContext, ectx: ExecutionContext,
                    dry_run: bool) -> ActionReport:
    key = action_key(plan_id, index, action)
    if action.kind == "wrap":
        intent = build_wrap(action, ictx, key)
        source = None
    elif action.kind in ("withdraw", "deposit"):
        result = execute_vault_action(action, ectx, plan_id=ictx.plan_id, key=key,
                                      tolerance_bps=ictx.settings.vault_preview_tolerance_bps)
        return ActionReport(action=action, key=key, state=result.state, result=result)
    elif action.kind == "swap":
        held = fetch_balance(ictx.rpc, ictx.chain.token(action.sell).address, ictx.wallet)
        if dry_run and held < action.amount_raw:
            # Nothing earlier was executed, so this leg cannot be simulated yet: quote it and say so.
            _, _, source = build_swap(action, ictx, key, action.amount_raw)
            return ActionReport(action=action, key=key, state="quoted", quote_source=source,
                                error="not simulated: it spends the output of earlier actions")
        # sell what is really there: earlier legs may have returned a little less than estimated
        amount = min(action.amount_raw, held)
        if amount <= 0:
            return ActionReport(action=action, key=key, state="skipped", error=f"no {action.sell} left to sell")
        if trade_impact_bps(action, ictx, amount) > ictx.settings.max_impact_bps:
            return _execute_twap(action, key, amount, ictx, ectx)
        return _execute_swap(action, key, amount, ictx, ectx)
    else:
        raise ExecutionError(f"action kind {action.kind!r} is not executable by the loop")
    result = execute_intent(intent, ectx)
    return ActionReport(action=action, key=key, state=result.state, result=result, quote_source=source)


def trade_impact_bps(action: Action, ictx: IntentContext, amount: int) -> Decimal:
    """The plan's impact estimate or, on a chain whose on-chain source is V3 (no V2 router), the impact QuoterV2
    gives at the trade's own size when that is worse: the plan's two-size depth fit reads concentrated liquidity
    as far deeper than it is for trades that leave the active range."""
    if ictx.chain.uniswap_v2 is not None or ictx.chain.uniswap_v3 is None:
        return action.est_impact_bps
    from agent.quotes.onchain import OnchainQuoter

    try:
        quoted = OnchainQuoter(ictx.chain, ictx.rpc).v3_impact_bps(swap_request(action, ictx, amount))
    except QuoteError as exc:
        log.info("chain %s: no trade-size V3 impact for %s→%s (%s); using the plan's estimate", ictx.chain.name,
                 action.sell, action.buy, exc)
        return action.est_impact_bps
    return action.est_impact_bps if quoted is None else max(action.est_impact_bps, quoted)


TWAP_STATE = {"completed": "confirmed", "dry_run": "dry_run", "abandoned": "abandoned"}


def _execute_twap(action: Action, key: str, amount: int, ictx: IntentContext, ectx: ExecutionContext) -> ActionReport:
    """A swap whose estimated impact exceeds MAX_IMPACT_BPS: impact-bounded chunks over blocks, fresh quotes."""
    from agent.execution.twap import BestQuoteChunkQuoter, PollingBlockClock, TwapOrder, execute_twap, twap_params
    from agent.quotes.onchain import OnchainQuoter
    from agent.quotes.service import build_sources, limits_from

    s = ictx.settings
    sell = ictx.chain.token(action.sell)
    order = TwapOrder(chain=ictx.chain.name, plan_id=ictx.plan_id, key=key, sell_token=sell.address,
                      buy_token=ictx.chain.token(action.buy).address, total_sell_raw=amount, urgent=ictx.urgent)
    sources = build_sources(s, ictx.chain, ictx.rpc)
    quoter = BestQuoteChunkQuoter(swap_request(action, ictx, amount), chain=ictx.chain, sources=sources,
                                  reference=OnchainQuoter(ictx.chain, ictx.rpc).fetch_reference,
                                  limits=limits_from(s), timeout_s=s.quote_timeout_s)
    clock = ictx.block_clock or PollingBlockClock(ictx.rpc)
    try:
        result = execute_twap(order, ectx, quoter, clock, twap_params(s, block_time_s=ictx.chain.block_time_s),
                              sell_decimals=sell.decimals)
    finally:
        for src in sources:
            close = getattr(src, "close", None)
            if close is not None:
                close()
    if result.status not in TWAP_STATE:
        raise ExecutionError(f"split swap {key} {result.status}: {result.reason}")
    note = f"{len(result.chunks)}/{result.planned_chunks} chunk(s): {result.reason}"
    if result.status == "abandoned":
        note = f"remaining {result.remaining_raw} raw abandoned by the price guard — {note}"
    sources_used = sorted({c.source for c in result.chunks if c.source})
    return ActionReport(action=action, key=key, state=TWAP_STATE[result.status], twap=result,
                        quote_source=",".join(sources_used) or None, error=note)


def _moved_price(exc: ExecutionError) -> bool:
    """A swap refused by its own min-out or deadline (in simulation or on chain): the quote went stale."""
    text = str(exc).lower()
    return any(s in text for s in ("min_amount_out", "insufficient_output_amount", "min out", "minreturn",
                                   "return amount is not enough", "too little received", "slippage", "expired",
                                   "deadline"))


def _execute_swap(action: Action, key: str, amount: int, ictx: IntentContext, ectx: ExecutionContext,
                  retries: int = 2) -> ActionReport:
    """Quote, execute; when the price moved past the min-out (e.g. while the approval was being mined),
    re-quote fresh — with the spender already approved — and try again, at most ``retries`` times."""
    spender: str | None = None
    for attempt in range(retries + 1):
        attempt_key = key if attempt == 0 else f"{key}#retry{attempt}"
        intent, _, source = build_swap(action, ictx, attempt_key, amount, spender=spender)
        try:
            result = execute_intent(intent, ectx)
        except ExecutionError as exc:
            if attempt == retries or not _moved_price(exc):
                raise
            log.warning("chain %s plan %s: %s; re-quoting (attempt %d)", ictx.chain.chain_id, ictx.plan_id,
                        safe_error(exc), attempt + 1)
            spender = intent.approval.spender if intent.approval else None
            amount = min(amount, fetch_balance(ictx.rpc, ictx.chain.token(action.sell).address, ictx.wallet))
            continue
        return ActionReport(action=action, key=attempt_key, state=result.state, result=result, quote_source=source)
    raise AssertionError("unreachable")


def run_cycle(config: AppConfig, *, now: datetime, journal: JournalStore, dry_run: bool = False,
              signer: Signer | None = None, strategy: Strategy | None = None, rpcs: list[ChainRpc] | None = None,
              should_stop: Callable[[], bool] = lambda: False,
              sender_options: Mapping[str, Any] | None = None, block_clock: Any = None) -> CycleReport:
    """Run one full cycle. ``signer=None`` or ``dry_run`` simulates everything and signs nothing.

    ``sender_options`` go to the live sender (e.g. ``sleep``/``clock`` of a market simulator, so every wait
    of the pipeline mines a block of the simulated chain); ``block_clock`` is what split swaps wait on between
    chunks (default: poll the chain)."""
    rpcs = rpcs or build_rpcs(config)
    by_name = {r.chain.name: r for r in rpcs}
    wallet = signer.address if signer is not None else wallet_address(config)
    cycle_id = journal.start_cycle(mode=Mode.DRY_RUN if dry_run or signer is None else Mode.LIVE)
    try:
        report = _cycle(config, cycle_id, now, journal, dry_run or signer is None, signer, strategy, by_name,
                        wallet, should_stop, dict(sender_options or {}), block_clock)
    except BaseException as exc:
        journal.finish_cycle(cycle_id, status=CycleStatus.ERROR, note=safe_error(exc))
        raise
    journal.finish_cycle(cycle_id, status=CycleStatus.DROPPED if report.dropped_because else CycleStatus.OK,
                         note=report.dropped_because or "")
    return report


def _blocked_chains(journal: JournalStore, rpcs: dict[str, ChainRpc], dry_run: bool) -> dict[str, str]:
    if dry_run:
        return {}
    rep = reconcile(journal, {r.chain.chain_id: r for r in rpcs.values()})
    blocked = {}
    for row in journal.open_actions():
        blocked[row.chain] = f"action {row.idempotency_key} may still be in flight; not planning on this chain"
    for chain_id in rep.unreachable_chains:
        name = next((n for n, r in rpcs.items() if r.chain.chain_id == chain_id), str(chain_id))
        blocked[name] = "unresolved transactions on an unreachable chain"
    return blocked


def _cycle(config: AppConfig, cycle_id: int, now: datetime, journal: JournalStore, dry_run: bool,
           signer: Signer | None, strategy: Strategy | None, rpcs: dict[str, ChainRpc], wallet: str,
           should_stop: Callable[[], bool], sender_options: dict[str, Any], block_clock: Any) -> CycleReport:
    blocked = _blocked_chains(journal, rpcs, dry_run)
    snapshot = fetch_snapshot(list(rpcs.values()), wallet)
    decision = decide(config, snapshot, journal, now, strategy)
    report = CycleReport(cycle_id=cycle_id, now=now, decision=decision, plan=None, snapshot_before=snapshot,
                         blocked_chains=blocked)
    unavailable = {c.chain for c in snapshot.chains if not c.available}
    if not dry_run:
        sender_options = {"should_stop": should_stop, **sender_options}
    contexts = {name: ExecutionContext(chain=rpc.chain, rpc=rpc, journal=journal, cycle_id=cycle_id,
                                       sender=make_sender(config, rpc, journal, signer, dry_run, wallet,
                                                          sender_options))
                for name, rpc in rpcs.items() if name not in unavailable}
    if snapshot.partial:  # never trade blind: an unread chain or balance makes every total wrong (#14)
        report.dropped_because = snapshot.partial_reason()
        journal.record_decision(cycle_id, rebalance=False, reasons=[report.dropped_because])
    elif decision.rebalance:
        _rebalance(config, report, journal, contexts, blocked | dict.fromkeys(unavailable, "unavailable"),
                   dry_run, wallet, should_stop, block_clock)
    else:
        journal.record_decision(cycle_id, rebalance=False, reasons=list(decision.reasons))
    waiting = report.approval is not None and not report.approval.proceed  # its funds stay where they are
    if config.settings.vault_parking and not report.dropped_because and not waiting and not should_stop():
        usable = {n: c for n, c in contexts.items() if n not in blocked}
        report.parking = park_idle_stables(config, snapshot, journal, usable, now, cycle_id=cycle_id,
                                           costs=build_costs(snapshot, config.chains))
    if report.actions or report.parking:
        report.snapshot_after = fetch_snapshot(list(rpcs.values()), wallet)
    else:
        report.snapshot_after = snapshot
    return report


def _rebalance(config: AppConfig, report: CycleReport, journal: JournalStore, contexts: dict[str, ExecutionContext],
               excluded: dict[str, str], dry_run: bool, wallet: str, should_stop: Callable[[], bool],
               block_clock: Any = None) -> None:
    cycle_id, now, decision = report.cycle_id, report.now, report.decision
    plan = make_plan(config, report.snapshot_before, decision, now, exclude_chains=set(excluded))
    plan = adapt_plan_to_vault_limits(config, plan, contexts, journal, cycle_id=cycle_id)
    report.plan = plan
    plan_id = plan_id_for(cycle_id, now, plan)
    journal.record_decision(cycle_id, rebalance=plan.rebalance, plan_id=plan_id,
                            reasons=[*decision.reasons, *(f"chain {c}: {why}" for c, why in excluded.items())],
                            detail=plan_detail(plan))
    if not dry_run:  # a plan that needs a person's approval waits for it (agent/operator/approvals.py)
        report.approval = gate_plan(ApprovalPolicy.from_settings(config.settings), journal, plan, plan_id=plan_id,
                                    cycle_id=cycle_id, now=now)
        if not report.approval.proceed:
            return
    for index, action in enumerate(plan.actions):
        if should_stop():
            report.dropped_because = "stopped by signal before the next action; the rest of the plan is dropped"
            break
        ectx = contexts[action.chain]
        ictx = IntentContext(chain=ectx.chain, rpc=ectx.rpc, settings=config.settings, wallet=wallet,
                             plan_id=plan_id, urgent=decision.urgent, block_clock=block_clock)
        try:
            report.actions.append(_execute_action(index, action, plan_id, ictx, ectx, dry_run))
        except SafetyHalt:
            raise
        except AgentError as exc:
            report.actions.append(ActionReport(action=action, key=action_key(plan_id, index, action),
                                               state="failed", error=safe_error(exc)))
            report.dropped_because = (f"action {index} ({action.kind} {action.sell}>{action.buy} on {action.chain}) "
                                      f"failed: {safe_error(exc)}; the rest of the plan is dropped")
            journal.record_event("plan_dropped", {"plan_id": plan_id, "reason": report.dropped_because},
                                 cycle_id=cycle_id)
            log.error("plan %s dropped: %s", plan_id, report.dropped_because)
            break
    if not dry_run and any(a.state == "confirmed" for a in report.actions):
        journal.record_event("rebalanced", {"at": now.isoformat(), "plan_id": plan_id}, cycle_id=cycle_id)


def plan_detail(plan: Plan) -> dict[str, Any]:
    return {"actions": [a.as_json() for a in plan.actions],
            "skipped": [s.as_json() for s in plan.skipped], "total_usd": str(plan.total_usd)}


__all__ = ["ActionReport", "CycleReport", "build_costs", "decide", "make_plan", "run_cycle"]
