"""One executor per action kind, registered in ``EXECUTORS``: wrap, swap (split into a TWAP when its impact is
too large), deposit and withdraw (ERC-4626 parking). An executor takes an ``ActionJob`` and returns its
``ActionReport``, or raises an error of the tree whose disposition the cycle dispatches on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal

from agent.chain.reads import fetch_balance
from agent.config.settings import VaultSettings, safe_error
from agent.cycle.intents import IntentContext, build_swap, build_wrap, swap_request
from agent.cycle.report import ActionReport
from agent.errors import ExecutionError, PriceMoved, QuoteError
from agent.execution.pipeline import ExecutionContext, execute_intent
from agent.planning.models import Action
from agent.vaults.service import execute_vault_action

log = logging.getLogger(__name__)
#: how often a swap refused by its own price guard is re-quoted within the cycle before it waits for the next
PRICE_RETRIES = 2
TWAP_STATE = {"completed": "confirmed", "dry_run": "dry_run", "abandoned": "abandoned"}


@dataclass(frozen=True)
class ActionJob:
    """One action of the plan, with what its executor needs."""

    index: int
    action: Action
    key: str
    intents: IntentContext
    execution: ExecutionContext
    dry_run: bool
    vaults: VaultSettings


Executor = Callable[[ActionJob], ActionReport]


def execute_wrap(job: ActionJob) -> ActionReport:
    result = execute_intent(build_wrap(job.action, job.intents, job.key), job.execution)
    return ActionReport(action=job.action, key=job.key, state=result.state, result=result)


def execute_vault(job: ActionJob) -> ActionReport:
    result = execute_vault_action(job.action, job.execution, plan_id=job.intents.plan_id, key=job.key,
                                  tolerance_bps=job.vaults.vault_preview_tolerance_bps)
    return ActionReport(action=job.action, key=job.key, state=result.state, result=result)


def execute_swap(job: ActionJob) -> ActionReport:
    action, ictx = job.action, job.intents
    held = fetch_balance(ictx.rpc, ictx.chain.token(action.sell).address, ictx.wallet)
    if job.dry_run and held < action.amount_raw:
        # Nothing earlier was executed, so this leg cannot be simulated yet: quote it and say so.
        _, _, source = build_swap(action, ictx, job.key, action.amount_raw)
        return ActionReport(action=action, key=job.key, state="quoted", quote_source=source,
                            error="not simulated: it spends the output of earlier actions")
    # sell what is really there: earlier legs may have returned a little less than estimated
    amount = min(action.amount_raw, held)
    if amount <= 0:
        return ActionReport(action=action, key=job.key, state="skipped", error=f"no {action.sell} left to sell")
    if trade_impact_bps(action, ictx, amount) > ictx.execution.max_impact_bps:
        return _execute_twap(job, amount)
    return _swap_with_requotes(job, amount)


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


def _swap_with_requotes(job: ActionJob, amount: int, retries: int = PRICE_RETRIES) -> ActionReport:
    """Quote, execute; when the swap's price guard refused it (``PriceMoved``, e.g. the price moved while the
    approval was mined), re-quote fresh — with the spender already approved — at most ``retries`` times; then the
    ``PriceMoved`` goes up and the plan waits for the next cycle."""
    action, ictx = job.action, job.intents
    spender: str | None = None
    for attempt in range(retries + 1):
        attempt_key = job.key if attempt == 0 else f"{job.key}#retry{attempt}"
        intent, _, source = build_swap(action, ictx, attempt_key, amount, spender=spender)
        try:
            result = execute_intent(intent, job.execution)
        except PriceMoved as exc:
            if attempt == retries:
                raise
            log.warning("chain %s plan %s: %s; re-quoting (attempt %d)", ictx.chain.chain_id, ictx.plan_id,
                        safe_error(exc), attempt + 1)
            spender = intent.approval.spender if intent.approval else None
            amount = min(amount, fetch_balance(ictx.rpc, ictx.chain.token(action.sell).address, ictx.wallet))
            continue
        return ActionReport(action=action, key=attempt_key, state=result.state, result=result, quote_source=source)
    raise AssertionError("unreachable")


def _execute_twap(job: ActionJob, amount: int) -> ActionReport:
    """A swap whose estimated impact exceeds MAX_IMPACT_BPS: impact-bounded chunks over blocks, fresh quotes."""
    from agent.execution.twap import BestQuoteChunkQuoter, PollingBlockClock, TwapOrder, execute_twap, twap_params
    from agent.quotes.onchain import OnchainQuoter
    from agent.quotes.service import limits_from, open_sources

    action, ictx, key = job.action, job.intents, job.key
    sell = ictx.chain.token(action.sell)
    order = TwapOrder(chain=ictx.chain.name, plan_id=ictx.plan_id, key=key, sell_token=sell.address,
                      buy_token=ictx.chain.token(action.buy).address, total_sell_raw=amount, urgent=ictx.urgent)
    clock = ictx.block_clock or PollingBlockClock(ictx.rpc)
    with ExitStack() as stack:  # the cycle's sources when it lends them, else opened (and closed) here
        sources = ictx.sources if ictx.sources is not None else stack.enter_context(
            open_sources(ictx.aggregators, ictx.chain, ictx.rpc))
        quoter = BestQuoteChunkQuoter(swap_request(action, ictx, amount), chain=ictx.chain, sources=sources,
                                      reference=OnchainQuoter(ictx.chain, ictx.rpc).fetch_reference,
                                      limits=limits_from(ictx.execution, ictx.aggregators),
                                      timeout_s=ictx.aggregators.quote_timeout_s)
        result = execute_twap(order, job.execution, quoter, clock,
                              twap_params(ictx.execution, block_time_s=ictx.chain.block_time_s),
                              sell_decimals=sell.decimals)
    if result.status not in TWAP_STATE:
        raise ExecutionError(f"split swap {key} {result.status}: {result.reason}")
    note = f"{len(result.chunks)}/{result.planned_chunks} chunk(s): {result.reason}"
    if result.status == "abandoned":
        note = f"remaining {result.remaining_raw} raw abandoned by the price guard — {note}"
    sources_used = sorted({c.source for c in result.chunks if c.source})
    return ActionReport(action=action, key=key, state=TWAP_STATE[result.status], twap=result,
                        quote_source=",".join(sources_used) or None, error=note)


#: the executor of each action kind; a kind without one cannot be planned into a cycle
EXECUTORS: dict[str, Executor] = {
    "wrap": execute_wrap,
    "swap": execute_swap,
    "deposit": execute_vault,
    "withdraw": execute_vault,
}


def executor_for(kind: str) -> Executor:
    try:
        return EXECUTORS[kind]
    except KeyError:
        raise ExecutionError(f"action kind {kind!r} has no executor (known: {', '.join(EXECUTORS)})") from None
