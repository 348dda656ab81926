"""The TWAP executor: one large swap as impact-bounded chunks over blocks, each a journaled ``TxIntent``.

``execute_twap(order, ctx, quoter, clock, params)``:

1. **Plan** (first run only): quotes at up to five sizes → ``fit_impact_curve`` on those near the chunk-size
   bound (``local_points``: the whole order's quote can sit far out of a V3 pool's active range) →
   ``choose_chunk_count`` with the gas of one chunk at the current fees. The plan (curve, chunk count, the
   zero-size price at the decision) is journaled as the parent action ``order.key`` (kind ``twap``);
   ``twap_plan`` event.
2. **Chunks**: before each, wait ``spacing_blocks`` (arbitrage pulls the pool back) — with a horizon, until
   the block by which the part sold so far was due on a straight line over the horizon — then a fresh quote at
   a small probe size and at the chunk size; refit; the *price guard* compares the fresh zero-size price
   with the decision's and abandons the remaining chunks (parent ``failed``, ``twap_abandoned`` event) if it
   moved more than ``guard_bps``; a chunk whose fresh impact breaks ``max_impact_bps`` makes the rest be
   re-planned smaller. Each chunk runs through ``execute_intent`` as ``<key>#chunk<i>`` with its own
   min-out from its own quote.
3. **Resume** = run again with the same key: confirmed chunks are counted from the journal, a chunk whose
   transaction may be in flight is resumed from its journaled intent (never re-quoted), and only the
   remaining amount is executed.

The clock is injected: ``PollingBlockClock`` follows a live chain; the sandbox ``MarketSimulator`` mines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from agent.chain.reads import fetch_block_number, fetch_fee_inputs
from agent.chain.rpc import ChainRpc
from agent.errors import ExecutionError, QuoteError, TemporaryError
from agent.execution.intent import NATIVE, Approval, BalanceDelta, TxIntent
from agent.execution.pipeline import ExecutionContext, execute_intent
from agent.execution.splitter import (
    ImpactCurve,
    SplitDecision,
    choose_chunk_count,
    due_offset,
    fit_impact_curve,
    local_points,
)
from agent.execution.twap_models import (
    BlockClock,
    ChunkQuoter,
    ChunkRecord,
    TwapOrder,
    TwapParams,
    TwapResult,
)
from agent.execution.twap_models import horizon_blocks as horizon_blocks  # re-exported: moved there
from agent.execution.twap_models import twap_params as twap_params  # re-exported: moved there
from agent.journal.records import ActionRecord, ActionState, Mode
from agent.quotes.best import ReferenceFn, fetch_best_quote
from agent.quotes.models import Quote, QuoteRequest, QuoteSource, is_native
from agent.quotes.validate import Limits
from agent.units import gas_cost_native, to_units

log = logging.getLogger(__name__)
APPROVE_GAS = 50_000
#: quotes up to this many times the chunk impact bound draw the curve (``local_points``)
LOCAL_FACTOR = 4.0


class BestQuoteChunkQuoter:
    """``ChunkQuoter`` over ``fetch_best_quote`` (every enabled source, validated, best net of gas)."""

    def __init__(self, template: QuoteRequest, *, chain: Any, sources: Sequence[QuoteSource],
                 reference: ReferenceFn | None, limits: Limits, timeout_s: float = 8.0) -> None:
        self.template, self.chain, self.sources = template, chain, list(sources)
        self.reference, self.limits, self.timeout_s = reference, limits, timeout_s
        self._sell_per_native: float | None = None

    def quote(self, sell_amount_raw: int) -> Quote:
        request = self.template.model_copy(update={"sell_amount_raw": sell_amount_raw})
        best = fetch_best_quote(request, chain=self.chain, sources=self.sources, reference=self.reference,
                                limits=self.limits, timeout_s=self.timeout_s)
        ref = best.reference
        if ref is not None and ref.buy_per_native is not None:
            self._sell_per_native = float(ref.buy_per_native / ref.buy_per_sell)
        if best.best is None or best.best.quote is None:
            reasons = "; ".join(f"{r.source}: {r.rejected_because}" for r in best.results)
            raise QuoteError.of("twap", "no_valid_quote",
                                f"no source gave a valid quote for {sell_amount_raw} ({reasons})")
        return best.best.quote

    def sell_per_native(self) -> float | None:
        return self._sell_per_native


class PollingBlockClock:
    """Waits on a live chain by polling its block number."""

    def __init__(self, rpc: ChainRpc, *, poll_s: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 stall_s: float = 180.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.rpc, self.poll_s, self.sleep, self.clock = rpc, poll_s, sleep, clock
        #: a node that produces no block for this long is treated as stalled (TemporaryError), not waited on
        self.stall_s = stall_s

    def wait_blocks(self, n: int) -> None:
        last = fetch_block_number(self.rpc)
        target, seen_at = last + n, self.clock()
        while last < target:
            self.sleep(self.poll_s)
            block = fetch_block_number(self.rpc)
            if block != last:
                last, seen_at = block, self.clock()
            elif self.clock() - seen_at > self.stall_s:
                raise TemporaryError(f"chain {self.rpc.chain.name}: no new block for {self.stall_s:.0f} s while "
                                     "waiting between chunks; the node may be stalled")


# ------------------------------------------------------------------------------------------------ plan
def _units(raw: int, decimals: int) -> float:
    return float(to_units(raw, decimals))


def _points(quotes: Sequence[Quote]) -> list[tuple[float, float]]:
    return [(float(q.sell_amount_raw), float(q.buy_amount_raw)) for q in quotes]


def gas_per_chunk_in(quote: Quote, quoter: ChunkQuoter, gas_price_wei: int, sell_decimals: int) -> float:
    """One chunk's gas (swap plus exact approval) valued in raw sell-token units."""
    gas = quote.gas_estimate + (APPROVE_GAS if quote.spender else 0)
    per_native = quoter.sell_per_native()
    if per_native is None:
        return 0.0
    return float(gas_cost_native(gas, gas_price_wei)) * per_native * 10**sell_decimals


def plan_twap(order: TwapOrder, quoter: ChunkQuoter, *, gas_price_wei: int, sell_decimals: int,
              params: TwapParams) -> tuple[ImpactCurve, SplitDecision, float]:
    """Quotes at up to five sizes → curve → chunk count. Returns (curve, decision, gas per chunk in raw units)."""
    total = order.total_sell_raw
    quotes: list[Quote] = []
    for size in sorted({max(total // d, 1) for d in (256, 64, 16, 4, 1)}):
        try:  # a large size may fail validation (its impact): the smaller ones still draw the curve
            quotes.append(quoter.quote(size))
        except QuoteError as exc:
            log.info("TWAP %s: no quote for %s to fit the curve (%s)", order.key, size, exc.reason)
    if len(quotes) < 2:
        raise QuoteError.of("twap", "no_curve", f"fewer than two sizes of {order.key} could be quoted")
    curve = fit_impact_curve(local_points(_points(quotes), params.split.max_impact_bps, LOCAL_FACTOR))
    gas_in = gas_per_chunk_in(quotes[-1], quoter, gas_price_wei, sell_decimals)
    split = params.split if params.chunks is None else params.split.model_copy(
        update={"max_impact_bps": 10_000 - 1e-9, "max_chunks": params.chunks})
    decision = choose_chunk_count(float(total), curve, gas_per_chunk_in=gas_in, params=split)
    if params.chunks is not None:
        decision = decision.model_copy(update={"n": params.chunks, "chunk_in": total / params.chunks,
                                               "reason": f"forced: {params.chunks} chunks"})
    return curve, decision, gas_in


# --------------------------------------------------------------------------------------------- execute
def execute_twap(order: TwapOrder, ctx: ExecutionContext, quoter: ChunkQuoter, clock: BlockClock,
                 params: TwapParams, *, sell_decimals: int,
                 on_chunk: Callable[[ChunkRecord], None] | None = None) -> TwapResult:
    """Execute (or resume) ``order`` as chunks; see the module docstring."""
    if ctx.sender.mode != "live":
        return _dry_run(order, ctx, quoter, params, sell_decimals)
    parent, plan = _load_or_plan(order, ctx, quoter, params, sell_decimals)
    if parent.state in (ActionState.CONFIRMED, ActionState.FAILED):
        chunks = _journal_chunks(order, ctx)
        return _result(order, plan, chunks, status=str((parent.result or {}).get("status", parent.state)),
                       reason=parent.error or "already finished")
    if not plan["feasible"]:
        reason = plan["reason"]
        ctx.journal.set_action_state(parent.id, ActionState.FAILED, error=reason, result={"status": "infeasible"})
        return _result(order, plan, [], status="infeasible", reason=reason)
    if parent.state != ActionState.PENDING:
        ctx.journal.set_action_state(parent.id, ActionState.PENDING)
    return _run_chunks(order, ctx, quoter, clock, params, plan, parent_id=parent.id,
                      sell_decimals=sell_decimals, on_chunk=on_chunk)


def _load_or_plan(order: TwapOrder, ctx: ExecutionContext, quoter: ChunkQuoter, params: TwapParams,
                  sell_decimals: int) -> tuple[ActionRecord, dict[str, Any]]:
    row = ctx.journal.action_by_key(order.key)
    if row is not None:
        return row, row.intent
    fees = fetch_fee_inputs(ctx.rpc, percentile=params.percentile)
    curve, decision, gas_in = plan_twap(order, quoter, gas_price_wei=fees.base_fee_wei + fees.priority_fee_wei,
                                        sell_decimals=sell_decimals, params=params)
    plan = {"order": order.model_dump(mode="json"), "n": decision.n, "chunk_raw": order.total_sell_raw // decision.n,
            "feasible": decision.feasible, "reason": decision.reason, "curve": curve.model_dump(mode="json"),
            "price0": curve.price0, "decision": decision.model_dump(mode="json"), "gas_per_chunk_raw": gas_in,
            "base_fee_wei": fees.base_fee_wei, "block": fees.block_number, "forced": params.chunks is not None}
    row = ctx.journal.begin_action(key=order.key, chain_id=ctx.chain.chain_id, chain=ctx.chain.name,
                                   plan_id=order.plan_id, kind="twap", intent=plan, mode=Mode.LIVE,
                                   cycle_id=ctx.cycle_id)
    ctx.journal.record_event("twap_plan", {"key": order.key, "n": decision.n, "reason": decision.reason,
                                           "depth_in_raw": curve.depth_in, "price0": curve.price0},
                             action_id=row.id)
    log.info("chain %s plan %s: TWAP %s: %s", ctx.chain.chain_id, order.plan_id, order.key, decision.reason)
    return row, plan


def chunk_key(order: TwapOrder, index: int) -> str:
    return f"{order.key}#chunk{index}"


def chunk_intent(order: TwapOrder, quote: Quote, index: int, params: TwapParams, note: str = "") -> TxIntent:
    """A chunk as a ``TxIntent``: the quote's call, an exact approval, the sell delta and the quote's min-out."""
    if quote.tx is None:
        raise QuoteError.of(quote.source, "no_tx", "the quote carries no transaction to execute")
    amount = quote.sell_amount_raw
    sell = NATIVE if is_native(order.sell_token) else order.sell_token
    buy = NATIVE if is_native(order.buy_token) else order.buy_token
    approval = Approval(token=order.sell_token, spender=quote.spender, amount_raw=amount) if quote.spender else None
    return TxIntent(chain=order.chain, plan_id=order.plan_id, idempotency_key=chunk_key(order, index), kind="swap",
                    to=quote.tx.to, data=quote.tx.data, value_wei=quote.tx.value_wei, approval=approval,
                    expected_deltas=(BalanceDelta(token=sell, min_raw=-amount, max_raw=-amount),
                                     BalanceDelta(token=buy, min_raw=quote.min_buy_amount_raw)),
                    urgent=order.urgent, max_gas=params.max_gas,
                    description=f"TWAP {order.key} chunk {index} via {quote.source} {quote.route} {note}".strip())


def _journal_chunks(order: TwapOrder, ctx: ExecutionContext) -> list[ChunkRecord]:
    out: list[ChunkRecord] = []
    i = 0
    while (row := ctx.journal.action_by_key(chunk_key(order, i))) is not None:
        out.append(record_from_row(order, ctx, row, i))
        i += 1
    return out


def record_from_row(order: TwapOrder, ctx: ExecutionContext, row: ActionRecord, index: int,
                    reused: bool = True) -> ChunkRecord:
    deltas = TxIntent.from_journal_view(row.intent).expected_deltas
    sell = next((-d.min_raw for d in deltas if d.max_raw is not None and d.max_raw < 0), 0)
    buy_key = NATIVE if is_native(order.buy_token) else order.buy_token
    min_out = next((d.min_raw for d in deltas if d.token == buy_key), 0)
    observed = (row.result or {}).get("observed_deltas")
    bought = observed.get(buy_key, 0) if isinstance(observed, dict) else 0
    attempts = [a for a in ctx.journal.attempts(action_id=row.id) if a.status.settled_on_chain]
    gas = sum(int(a.gas_used or 0) * int(a.effective_gas_price_wei or 0) for a in attempts)
    block = max((int(a.block_number) for a in attempts if a.block_number), default=None)
    return ChunkRecord(index=index, key=row.idempotency_key, state=row.state, sell_raw=sell,
                       bought_raw=int(str(bought)), min_out_raw=min_out, gas_paid_wei=gas, block=block,
                       reused=reused, error=row.error, tx_hashes=tuple(a.tx_hash for a in attempts if a.tx_hash))


def _result(order: TwapOrder, plan: dict[str, Any], chunks: Sequence[ChunkRecord], *, status: str,
            reason: str = "") -> TwapResult:
    done = [c for c in chunks if c.state == "confirmed"]
    sold = sum(c.sell_raw for c in done)
    return TwapResult(key=order.key, status=status, planned_chunks=int(plan.get("n", 0)), plan=plan,
                      chunks=tuple(chunks), sold_raw=sold, bought_raw=sum(c.bought_raw for c in done),
                      remaining_raw=order.total_sell_raw - sold, gas_paid_wei=sum(c.gas_paid_wei for c in chunks),
                      reason=reason)


def _dry_run(order: TwapOrder, ctx: ExecutionContext, quoter: ChunkQuoter, params: TwapParams,
             sell_decimals: int) -> TwapResult:
    """What a live run would do now: the plan and its first chunk (sent to the dry-run sender)."""
    fees = fetch_fee_inputs(ctx.rpc, percentile=params.percentile)
    curve, decision, _ = plan_twap(order, quoter, gas_price_wei=fees.base_fee_wei + fees.priority_fee_wei,
                                   sell_decimals=sell_decimals, params=params)
    plan = {"n": decision.n, "reason": decision.reason, "curve": curve.model_dump(mode="json")}
    quote = quoter.quote(order.total_sell_raw // decision.n)
    result = execute_intent(chunk_intent(order, quote, 0, params, "(dry run)"), ctx)
    first = ChunkRecord(index=0, key=result.idempotency_key, state=result.state, sell_raw=quote.sell_amount_raw,
                        quoted_out_raw=quote.buy_amount_raw, min_out_raw=quote.min_buy_amount_raw, source=quote.source)
    return _result(order, plan, [first], status="dry_run", reason=decision.reason)


# ------------------------------------------------------------------------------------------ chunk loop
def _run_chunks(order: TwapOrder, ctx: ExecutionContext, quoter: ChunkQuoter, clock: BlockClock,
                params: TwapParams, plan: dict[str, Any], *, parent_id: int, sell_decimals: int,
                on_chunk: Callable[[ChunkRecord], None] | None) -> TwapResult:
    chunks = _settle_existing(order, ctx, plan)
    chunk_raw = int(plan["chunk_raw"])
    failures = sum(1 for c in chunks if c.state == "failed")
    while (remaining := order.total_sell_raw - sum(c.sell_raw for c in chunks if c.state == "confirmed")) > 0:
        if chunks:
            clock.wait_blocks(_blocks_to_wait(order, ctx, params, plan, remaining))
        size = remaining // max(1, round(remaining / chunk_raw))
        probe, quote = quoter.quote(max(size // 32, 1)), quoter.quote(size)
        curve = fit_impact_curve(_points([probe, quote]))
        move_bps = (_zero_size_price(probe, quote, curve, params) / float(plan["price0"]) - 1) * 10_000
        if abs(move_bps) > params.guard_bps:
            reason = (f"price moved {move_bps:+.0f} bps since the decision (guard ±{params.guard_bps:g} bps); "
                      f"abandoned the remaining {remaining} raw units ({len(chunks)} chunks done)")
            return _stop(order, ctx, plan, chunks, parent_id, status="abandoned", reason=reason)
        impact = curve.impact_bps(size)
        if params.chunks is None and impact > params.split.max_impact_bps * 1.02 and size > 1:
            redo = choose_chunk_count(float(remaining), curve, gas_per_chunk_in=float(plan["gas_per_chunk_raw"]),
                                      params=params.split)
            chunk_raw = max(1, min(chunk_raw * 3 // 4, remaining // redo.n))
            detail = {"key": order.key, "impact_bps": impact, "remaining": remaining, "chunk_raw": chunk_raw,
                      "reason": redo.reason}
            ctx.journal.record_event("twap_replan", detail, action_id=parent_id)
            continue
        record = _execute_chunk(order, ctx, quote, len(chunks), params, impact)
        chunks.append(record)
        ctx.journal.record_event("twap_chunk", record.model_dump(mode="json"), action_id=parent_id)
        if on_chunk is not None:
            on_chunk(record)
        failures += record.state == "failed"
        if failures > params.max_failed_chunks:
            return _stop(order, ctx, plan, chunks, parent_id, status="failed",
                         reason=f"{failures} chunks failed (last: {record.error}); the rest was not executed")
    result = _result(order, plan, chunks, status="completed", reason=f"{len(chunks)} chunks executed")
    ctx.journal.set_action_state(parent_id, ActionState.CONFIRMED, result=_summary(result))
    ctx.journal.record_event("twap_done", _summary(result), action_id=parent_id)
    return result


def _zero_size_price(probe: Quote, quote: Quote, curve: ImpactCurve, params: TwapParams) -> float:
    """The price the guard compares with the decision's: the two-quote fit's zero-size price, or — when the chunk
    reaches far beyond the impact bound (a forced chunk count on concentrated liquidity, where the line through
    the probe and the chunk is no longer the curve) — the probe's own price."""
    if curve.impact_bps(float(quote.sell_amount_raw)) <= LOCAL_FACTOR * params.split.max_impact_bps:
        return curve.price0
    return probe.buy_amount_raw / probe.sell_amount_raw


def _blocks_to_wait(order: TwapOrder, ctx: ExecutionContext, params: TwapParams, plan: dict[str, Any],
                    remaining: int) -> int:
    """At least ``spacing_blocks``; with a horizon, until the block by which the part sold so far was due
    (the schedule is anchored at the decision block, so a resumed order catches up instead of starting over)."""
    if params.split.horizon_blocks <= 0:
        return params.spacing_blocks
    sold = 1 - remaining / order.total_sell_raw
    due = int(plan["block"]) + due_offset(sold, params.split)
    return max(params.spacing_blocks, due - fetch_block_number(ctx.rpc))


def _settle_existing(order: TwapOrder, ctx: ExecutionContext, plan: dict[str, Any]) -> list[ChunkRecord]:
    """Chunks already journaled; one that may be in flight is finished from its journaled intent."""
    out: list[ChunkRecord] = []
    for record in _journal_chunks(order, ctx):
        if record.state == "pending":
            row = ctx.journal.action_by_key(record.key)
            assert row is not None
            intent = TxIntent.from_journal_view(row.intent)
            log.info("TWAP %s: resuming chunk %s from its journaled intent", order.key, record.index)
            try:
                execute_intent(intent, ctx)
            except ExecutionError as exc:
                log.warning("TWAP %s: resumed chunk %s failed: %s", order.key, record.index, exc)
            record = record_from_row(order, ctx, ctx.journal.action_by_key(record.key) or row, record.index, False)
        out.append(record)
    return out


def _execute_chunk(order: TwapOrder, ctx: ExecutionContext, quote: Quote, index: int, params: TwapParams,
                   impact: float) -> ChunkRecord:
    intent = chunk_intent(order, quote, index, params, f"(impact {impact:.1f} bps)")
    try:
        execute_intent(intent, ctx)
    except ExecutionError as exc:
        log.warning("TWAP %s: chunk %s failed: %s", order.key, index, exc)
    row = ctx.journal.action_by_key(intent.idempotency_key)
    assert row is not None
    rec = record_from_row(order, ctx, row, index, reused=False)
    return rec.model_copy(update={"quoted_out_raw": quote.buy_amount_raw, "impact_bps": round(impact, 2),
                                  "source": quote.source})


def _stop(order: TwapOrder, ctx: ExecutionContext, plan: dict[str, Any], chunks: list[ChunkRecord], parent_id: int,
          *, status: str, reason: str) -> TwapResult:
    result = _result(order, plan, chunks, status=status, reason=reason)
    ctx.journal.set_action_state(parent_id, ActionState.FAILED, error=reason, result=_summary(result))
    ctx.journal.record_event(f"twap_{status}", _summary(result), action_id=parent_id)
    log.warning("chain %s plan %s: TWAP %s %s: %s", ctx.chain.chain_id, order.plan_id, order.key, status, reason)
    return result


def _summary(result: TwapResult) -> dict[str, Any]:
    return {"status": result.status, "reason": result.reason, "chunks": len(result.chunks),
            "sold_raw": str(result.sold_raw), "bought_raw": str(result.bought_raw),
            "remaining_raw": str(result.remaining_raw), "gas_paid_wei": str(result.gas_paid_wei)}
