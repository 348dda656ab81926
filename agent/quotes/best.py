"""Ask every enabled source at once, within a time bound, validate each answer and pick the best.

Sources run on threads; the reference price (from the on-chain quoter) is fetched alongside. A source that
fails, times out or is rejected is reported with its reason and never holds up the others. Valid quotes are
ranked by output net of gas cost, the gas valued in the buy token at the current gas price.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from agent.config.chains import ChainConfig
from agent.config.settings import safe_error
from agent.errors import QuoteError, QuoteRejected
from agent.quotes.models import BestQuote, Quote, QuoteRequest, QuoteResult, QuoteSource, ReferencePrice
from agent.quotes.validate import Limits, check_quote, deviation_bps
from agent.quotes.wrap import refuse_wrap_pair

log = logging.getLogger(__name__)
ReferenceFn = Callable[[QuoteRequest], ReferencePrice]


def _timed(fn: Callable[[QuoteRequest], Quote], request: QuoteRequest) -> tuple[Quote, float]:
    start = time.monotonic()
    return fn(request), time.monotonic() - start


def _failed(source: str, check: str, reason: str, elapsed_s: float = 0.0) -> QuoteResult:
    return QuoteResult(source=source, valid=False, check=check, rejected_because=reason, elapsed_s=elapsed_s)


def _outcome(name: str, future: Future[tuple[Quote, float]], timeout_s: float) -> tuple[Quote | None, QuoteResult]:
    if not future.done():
        return None, _failed(name, "timeout", f"timeout: no answer within the {timeout_s:g}s quote deadline",
                             timeout_s)
    exc = future.exception()
    if isinstance(exc, QuoteError):
        return None, _failed(name, exc.kind, exc.reason)
    if exc is not None:
        return None, _failed(name, "error", f"error: {safe_error(exc)}")
    quote, elapsed = future.result()
    return quote, QuoteResult(source=name, quote=quote, elapsed_s=round(elapsed, 3))


def judge(chain: ChainConfig, request: QuoteRequest, quote: Quote, *, limits: Limits,
          reference: ReferencePrice | None, elapsed_s: float = 0.0) -> QuoteResult:
    """Validate one quote (deriving its price impact from the reference when the API gave none)."""
    if quote.price_impact_bps is None and reference is not None:
        quote = quote.model_copy(update={"price_impact_bps": max(0, deviation_bps(request, quote, reference))})
    try:
        check_quote(chain, request, quote, limits=limits, reference=reference)
    except QuoteRejected as exc:
        log.info("quote from %s rejected: %s", quote.source, exc.reason)
        return QuoteResult(source=quote.source, quote=quote, valid=False, check=exc.check,
                           rejected_because=exc.reason, elapsed_s=elapsed_s)
    gas_cost = reference.gas_cost_raw(quote.gas_estimate, request.buy_decimals) if reference else 0
    return QuoteResult(source=quote.source, quote=quote, valid=True, elapsed_s=elapsed_s,
                       net_buy_amount_raw=quote.buy_amount_raw - gas_cost)


def rank(results: Sequence[QuoteResult]) -> list[QuoteResult]:
    """Valid results by net output (best first), then the rest in their original order."""
    valid = sorted((r for r in results if r.valid), key=lambda r: -(r.net_buy_amount_raw or 0))
    return valid + [r for r in results if not r.valid]


#: Called with every BestQuote (observers only: metrics); add with ``LISTENERS.append(fn)``.
LISTENERS: list[Callable[[BestQuote], None]] = []


def fetch_best_quote(request: QuoteRequest, *, chain: ChainConfig, sources: Sequence[QuoteSource],
                     reference: ReferenceFn | None, limits: Limits, timeout_s: float) -> BestQuote:
    """Every source's validated quote and the best one, all within ``timeout_s``. ETH↔WETH is refused
    (``wrap_pair``): it is a wrap or an unwrap, and no source is asked (``agent.quotes.wrap``)."""
    refuse_wrap_pair(chain, request.sell_token, request.buy_token)
    pool = ThreadPoolExecutor(max_workers=len(sources) + 1, thread_name_prefix="quote")
    try:
        futures = {s.name: pool.submit(_timed, s.fetch_quote, request) for s in sources}
        ref_future = pool.submit(reference, request) if reference else None
        pending: list[Future[Any]] = [*futures.values(), *([ref_future] if ref_future else [])]
        wait(pending, timeout=timeout_s)
        ref, ref_error = None, None
        if ref_future is None:
            ref_error = "no reference source"
        elif not ref_future.done():
            ref_error = f"reference timed out after {timeout_s:g}s"
        elif ref_future.exception() is not None:
            exc = ref_future.exception()
            ref_error = exc.reason if isinstance(exc, QuoteError) else safe_error(exc)  # type: ignore[arg-type]
        else:
            ref = ref_future.result()
        results: list[QuoteResult] = []
        for name, future in futures.items():
            quote, result = _outcome(name, future, timeout_s)
            if quote is not None:
                result = judge(chain, request, quote, limits=limits, reference=ref, elapsed_s=result.elapsed_s)
            results.append(result)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    ranked = rank(results)
    best = ranked[0] if ranked and ranked[0].valid else None
    out = BestQuote(request=request, results=tuple(ranked), best=best, reference=ref, reference_error=ref_error)
    for listener in tuple(LISTENERS):  # e.g. the Prometheus metrics (quote failures by source and reason)
        try:
            listener(out)
        except Exception as exc:  # an observer must never break quoting
            log.warning("quote listener failed: %s", safe_error(exc))
    return out
