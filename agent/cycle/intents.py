"""Turn a planned action into a ``TxIntent``: wrap (WETH deposit) or a swap from the best validated quote
(vault actions are built by ``agent.vaults.service``). Protocol adapters only build unsigned calls; the
pipeline signs, sends and checks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from agent.chain.abi import abi
from agent.chain.rpc import ChainRpc
from agent.config.chains import ChainConfig
from agent.config.settings import Settings
from agent.errors import ExecutionError
from agent.execution.intent import NATIVE, Approval, BalanceDelta, TxIntent
from agent.planning.models import Action
from agent.quotes.models import BestQuote, QuoteRequest
from agent.quotes.service import build_sources, limits_from

log = logging.getLogger(__name__)

WETH_DEPOSIT = abi("WETH9").fn("deposit")


@dataclass(frozen=True)
class IntentContext:
    chain: ChainConfig
    rpc: ChainRpc
    settings: Settings
    wallet: str
    plan_id: str
    urgent: bool = False
    #: how the TWAP executor waits for blocks (None: poll the chain; the demo passes its market simulator)
    block_clock: Any = None


def action_key(plan_id: str, index: int, action: Action) -> str:
    return f"{plan_id}:{index}:{action.kind}:{action.chain}:{action.sell}>{action.buy}"


def build_wrap(action: Action, ctx: IntentContext, key: str) -> TxIntent:
    weth = ctx.chain.token(action.buy)
    return TxIntent(chain=ctx.chain.name, plan_id=ctx.plan_id, idempotency_key=key, kind="wrap", to=weth.address,
                    data=WETH_DEPOSIT.encode(), value_wei=action.amount_raw, urgent=ctx.urgent,
                    expected_deltas=(BalanceDelta(token=weth.address, min_raw=action.amount_raw,
                                                  max_raw=action.amount_raw),
                                     BalanceDelta(token=NATIVE, min_raw=-action.amount_raw,
                                                  max_raw=-action.amount_raw)),
                    description=action.reason)


def swap_request(action: Action, ctx: IntentContext, amount_raw: int) -> QuoteRequest:
    sell, buy = ctx.chain.token(action.sell), ctx.chain.token(action.buy)
    return QuoteRequest(chain_id=ctx.chain.chain_id, sell_token=sell.address, buy_token=buy.address,
                        sell_decimals=sell.decimals, buy_decimals=buy.decimals, sell_amount_raw=amount_raw,
                        taker=ctx.wallet, slippage_bps=ctx.settings.max_slippage_bps, sell_symbol=sell.symbol,
                        buy_symbol=buy.symbol)


def fetch_swap_quote(action: Action, ctx: IntentContext, amount_raw: int) -> BestQuote:
    from agent.quotes.best import fetch_best_quote
    from agent.quotes.onchain import OnchainQuoter

    request = swap_request(action, ctx, amount_raw)
    sources = build_sources(ctx.settings, ctx.chain, ctx.rpc)
    try:
        return fetch_best_quote(request, chain=ctx.chain, sources=sources,
                                reference=OnchainQuoter(ctx.chain, ctx.rpc).fetch_reference,
                                limits=limits_from(ctx.settings), timeout_s=ctx.settings.quote_timeout_s)
    finally:
        for src in sources:
            close = getattr(src, "close", None)
            if close is not None:
                close()


def build_swap(action: Action, ctx: IntentContext, key: str, amount_raw: int,
               spender: str | None = None) -> tuple[TxIntent, BestQuote, str]:
    """The best valid quote for selling ``amount_raw`` becomes the intent (returned with all quotes and the
    winning source); no valid quote → ExecutionError.

    With ``spender`` (a retry after an approval was already granted), only quotes using that spender qualify,
    so a retry never leaves a second approval behind."""
    best = fetch_swap_quote(action, ctx, amount_raw)
    usable = [r for r in best.results if r.valid and r.quote is not None and r.quote.tx is not None
              and (spender is None or r.quote.spender == spender)]
    if not usable:
        why = "; ".join(f"{r.source}: {r.rejected_because}" for r in best.results) or "no sources enabled"
        if spender is not None:
            why = f"none using the already-approved spender {spender}; {why}"
        raise ExecutionError(f"no valid quote for {action.sell}>{action.buy} on {ctx.chain.name}: {why}")
    chosen = usable[0]  # results are ranked best first
    q = chosen.quote
    assert q is not None
    assert q.tx is not None
    sell, buy = ctx.chain.token(action.sell), ctx.chain.token(action.buy)
    approval = Approval(token=sell.address, spender=q.spender, amount_raw=amount_raw) if q.spender else None
    intent = TxIntent(
        chain=ctx.chain.name, plan_id=ctx.plan_id, idempotency_key=key, kind="swap", to=q.tx.to, data=q.tx.data,
        value_wei=q.tx.value_wei, approval=approval, urgent=ctx.urgent, max_gas=ctx.settings.max_swap_gas,
        description=f"{action.reason} via {q.source}",
        expected_deltas=(BalanceDelta(token=sell.address, min_raw=-amount_raw, max_raw=-amount_raw),
                         BalanceDelta(token=buy.address, min_raw=q.min_buy_amount_raw)))
    return intent, best, chosen.source
