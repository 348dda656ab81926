"""Checks a quote must pass before anything built from it can be signed. Pure: no I/O, no clock.

Each failed check raises ``QuoteRejected(source, check, detail)``; ``check`` is one of ``CHECKS``. The
on-chain reference price is an input (``best.py`` fetches it); without one the price check refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.config.chains import ChainConfig
from agent.errors import QuoteRejected
from agent.quotes.calldata import CalldataError, DecodedSwap, decode_swap
from agent.quotes.models import Quote, QuoteRequest, ReferencePrice, is_native

CHECKS = ("chain", "token", "amount", "executable", "router", "spender", "value", "calldata_unknown", "calldata",
          "recipient", "min_out", "gas", "price_deviation")


#: The calldata shapes (``DecodedSwap.shape`` prefixes) each source's router really has; another router's shape
#: sent to it is refused (a selector decoded as the wrong contract's function would mean something else).
SOURCE_SHAPES = {"0x": ("0x_",), "1inch": ("1inch_",), "paraswap": ("velora_",), "odos": ("odos_",),
                 "kyberswap": ("kyberswap_",), "sandbox": ("sandbox_router",), "onchain": ("uniswap_v2", "uniswap_v3")}


@dataclass(frozen=True)
class Limits:
    max_slippage_bps: int
    max_quote_deviation_bps: int
    max_swap_gas: int


def allow_list(chain: ChainConfig, source: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(routers, spenders, never_approve) for ``source`` on ``chain``; the on-chain source uses the V2 router
    or SwapRouter02."""
    if source == "onchain":
        router: tuple[str, ...] = (chain.uniswap_v2.router,) if chain.uniswap_v2 else ()
        if chain.uniswap_v3 and chain.uniswap_v3.swap_router02:
            router += (chain.uniswap_v3.swap_router02,)
        return router, router, ()
    allowed = chain.aggregators.get(source)
    if allowed is None:
        return (), (), ()
    return allowed.routers, allowed.spenders, allowed.never_approve


def _reject(quote: Quote, check: str, detail: str) -> QuoteRejected:
    return QuoteRejected(quote.source, check, detail)


def _check_identity(request: QuoteRequest, quote: Quote) -> None:
    if quote.chain_id != request.chain_id:
        raise _reject(quote, "chain", f"quote is for chain id {quote.chain_id}, we asked for {request.chain_id}")
    if quote.sell_token != request.sell_token:
        raise _reject(quote, "token", f"sell token {quote.sell_token} is not the requested {request.sell_token}")
    if quote.buy_token != request.buy_token:
        raise _reject(quote, "token", f"buy token {quote.buy_token} is not the requested {request.buy_token}")
    if quote.sell_amount_raw != request.sell_amount_raw:
        raise _reject(quote, "amount", f"sells {quote.sell_amount_raw}, we asked to sell {request.sell_amount_raw}")


def _check_router(chain: ChainConfig, quote: Quote) -> None:
    assert quote.tx is not None
    routers, _spenders, _never = allow_list(chain, quote.source)
    if quote.tx.to not in routers:
        raise _reject(quote, "router", f"transaction goes to {quote.tx.to}, not an allow-listed {quote.source} "
                                       f"router on {chain.name} ({', '.join(routers) or 'none configured'})")


def _check_spender(chain: ChainConfig, request: QuoteRequest, quote: Quote, decoded: DecodedSwap) -> None:
    _routers, spenders, never = allow_list(chain, quote.source)
    if request.sells_native:
        return  # nothing is approved when selling the native coin
    if quote.spender is None:
        raise _reject(quote, "spender", "the quote names no spender for the approval")
    if quote.spender in never or decoded.target == quote.spender:
        raise _reject(quote, "spender", f"{quote.spender} is the 0x Settler (or another never-approve address); "
                                        "it must never receive an approval")
    if quote.spender not in spenders:
        raise _reject(quote, "spender", f"{quote.spender} is not an allow-listed {quote.source} spender "
                                        f"on {chain.name}")


def _check_value(request: QuoteRequest, quote: Quote) -> None:
    assert quote.tx is not None
    want = request.sell_amount_raw if request.sells_native else 0
    if quote.tx.value_wei != want:
        what = "a native sell must send exactly the amount" if request.sells_native else "a token sell sends no ETH"
        raise _reject(quote, "value", f"transaction sends {quote.tx.value_wei} wei; {what} ({want})")


def _decode(quote: Quote) -> DecodedSwap:
    """The decoded calldata; anything that does not decode is refused: there is no trust-the-API path."""
    assert quote.tx is not None
    try:
        decoded = decode_swap(quote.tx.data)
    except CalldataError as exc:
        raise _reject(quote, "calldata_unknown", str(exc)) from None
    if decoded is None:
        raise _reject(quote, "calldata_unknown", f"selector 0x{quote.tx.data[:4].hex()} is not a swap entry point "
                                                 f"this agent can decode (router {quote.tx.to}); its recipient "
                                                 "and min-out cannot be checked")
    if not decoded.shape.startswith(SOURCE_SHAPES.get(quote.source, ("?",))):
        raise _reject(quote, "calldata_unknown", f"calldata is a {decoded.shape} call, not one of the "
                                                 f"{quote.source} router's entry points")
    return decoded


def _same_token(chain: ChainConfig, decoded: DecodedSwap, got: str | None, want: str, *, sell: bool) -> bool:
    if got is None or got == want:
        return True
    # Router02 paths name WETH where the swap moves native ETH; SwapRouter02 wraps msg.value but pays out WETH.
    wraps = decoded.shape == "uniswap_v2" or (decoded.shape == "uniswap_v3" and sell)
    return wraps and is_native(want) and got == chain.token(chain.wrapped_native).address


def _check_calldata(chain: ChainConfig, request: QuoteRequest, quote: Quote, decoded: DecodedSwap) -> None:
    if decoded.problems:
        raise _reject(quote, "calldata", f"calldata ({decoded.shape}): {'; '.join(decoded.problems)}")
    if decoded.recipient is not None and decoded.recipient != request.taker:
        raise _reject(quote, "recipient", f"calldata ({decoded.shape}) pays {decoded.recipient}, not our wallet "
                                          f"{request.taker}")
    if decoded.token_out is None:
        raise _reject(quote, "calldata_unknown", f"calldata ({decoded.shape}) does not name the token it buys "
                                                 "(it follows from the pools); the buy token cannot be checked")
    if decoded.min_out is None:
        raise _reject(quote, "calldata_unknown", f"calldata ({decoded.shape}) carries no min-out")
    if decoded.amount_in is None and not request.sells_native:
        raise _reject(quote, "calldata_unknown", f"calldata ({decoded.shape}) does not name the amount it sells")
    if not _same_token(chain, decoded, decoded.token_in, request.sell_token, sell=True):
        raise _reject(quote, "calldata", f"calldata sells {decoded.token_in}, not {request.sell_token}")
    if not _same_token(chain, decoded, decoded.token_out, request.buy_token, sell=False):
        raise _reject(quote, "calldata", f"calldata buys {decoded.token_out}, not {request.buy_token}")
    if decoded.amount_in is not None and decoded.amount_in != request.sell_amount_raw:
        raise _reject(quote, "calldata", f"calldata sells {decoded.amount_in}, not {request.sell_amount_raw}")


def effective_min_out(quote: Quote) -> int:
    """The min-out the contract enforces: the calldata's (the quote's own figure only if it does not decode)."""
    decoded = None
    if quote.tx is not None:
        try:
            decoded = decode_swap(quote.tx.data)
        except CalldataError:
            decoded = None
    if decoded is not None and decoded.min_out is not None:
        return decoded.min_out
    return quote.min_buy_amount_raw


def _check_amounts(quote: Quote, decoded: DecodedSwap, limits: Limits) -> None:
    """The calldata's min-out against quote x (1 - MAX_SLIPPAGE_BPS), from our own setting, not the API's."""
    floor = quote.buy_amount_raw * (10_000 - limits.max_slippage_bps) // 10_000
    assert decoded.min_out is not None
    min_out = decoded.min_out
    if quote.buy_amount_raw <= 0:
        raise _reject(quote, "min_out", "the quote buys nothing")
    if min_out < floor - 1:  # one raw unit of rounding slack between the API and us
        slip = (quote.buy_amount_raw - min_out) * 10_000 // quote.buy_amount_raw
        raise _reject(quote, "min_out", f"min-out {min_out} allows {slip} bps slippage, above MAX_SLIPPAGE_BPS="
                                        f"{limits.max_slippage_bps} (floor {floor})")
    if quote.gas_estimate > limits.max_swap_gas:
        raise _reject(quote, "gas", f"gas estimate {quote.gas_estimate} is above MAX_SWAP_GAS={limits.max_swap_gas}")


def deviation_bps(request: QuoteRequest, quote: Quote, reference: ReferencePrice) -> int:
    """How far below (positive) or above (negative) the on-chain marginal price the quote buys, in bps."""
    expected = reference.expected_out_raw(request)
    if expected <= 0:
        return 0
    return (expected - quote.buy_amount_raw) * 10_000 // expected


def _check_price(request: QuoteRequest, quote: Quote, reference: ReferencePrice | None, limits: Limits) -> None:
    if reference is None:
        raise _reject(quote, "price_deviation", "no on-chain reference price to compare with; refusing")
    dev = deviation_bps(request, quote, reference)
    expected = reference.expected_out_raw(request)
    if dev > limits.max_quote_deviation_bps:
        raise _reject(quote, "price_deviation", f"buys {quote.buy_amount_raw}, {dev} bps below the on-chain "
                                                f"reference {expected} (MAX_QUOTE_DEVIATION_BPS="
                                                f"{limits.max_quote_deviation_bps})")
    if -dev > limits.max_quote_deviation_bps:
        raise _reject(quote, "price_deviation", f"buys {quote.buy_amount_raw}, {-dev} bps above the on-chain "
                                                f"reference {expected}: implausible (MAX_QUOTE_DEVIATION_BPS="
                                                f"{limits.max_quote_deviation_bps})")


def check_quote(chain: ChainConfig, request: QuoteRequest, quote: Quote, *, limits: Limits,
                reference: ReferencePrice | None) -> None:
    """Raise ``QuoteRejected`` naming the first failed check; return None when the quote may be signed."""
    if request.chain_id != chain.chain_id:
        raise _reject(quote, "chain", f"request is for chain id {request.chain_id}, config is {chain.name} "
                                      f"({chain.chain_id})")
    _check_identity(request, quote)
    if quote.tx is None:
        raise _reject(quote, "executable", "quote-only source: no transaction to execute on this chain")
    _check_router(chain, quote)
    decoded = _decode(quote)
    _check_spender(chain, request, quote, decoded)
    _check_value(request, quote)
    _check_calldata(chain, request, quote, decoded)
    _check_amounts(quote, decoded, limits)
    _check_price(request, quote, reference, limits)
