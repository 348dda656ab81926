"""Decoders for the 0x AllowanceHolder/Settler and the 1inch AggregationRouterV6 entry points (abis/*.json).

0x: ``AllowanceHolder.exec(operator, token, amount, target, data)`` must carry a Settler
``execute((recipient, buyToken, minAmountOut), actions, zid)`` whose ``target`` is the ``operator``;
a direct Settler ``execute`` (native sells) decodes too. 1inch v6: ``swap``, the ``unoswap*``/``unoswapTo*``
and ``ethUnoswap*``/``ethUnoswapTo*`` families (``Address`` words: the low 160 bits are the address, the high
bits flags; a pool word's protocol is bits 253-255, bit 252 unwraps WETH to ETH) and ``clipperSwap``/
``clipperSwapTo``. A unoswap's buy token is not in the calldata (it follows from the pools), so it decodes
with ``token_out=None`` unless the last pool unwraps to ETH.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.config.chains import NATIVE_PLACEHOLDER
from agent.models import checksum
from agent.quotes.calldata_base import (
    CalldataError,
    DecodedSwap,
    abi_fn,
    native_or,
    recipient_or_sender,
    strict_args,
    word_address,
)

ZEROX_EXEC = abi_fn("AllowanceHolder", "exec")
SETTLER_EXECUTE = abi_fn("Settler", "execute")
ONEINCH_SWAP = abi_fn("AggregationRouterV6", "swap")
#: 1inch SwapDescription.flags bits that change what the call may do.
ONEINCH_PARTIAL_FILL = 1 << 0
ONEINCH_REQUIRES_EXTRA_ETH = 1 << 1
UNOSWAP_WETH_UNWRAP = 1 << 252
UNOSWAP_PROTOCOL_OFFSET = 253
#: The 1inch API appends a short source tag after the arguments; the router never reads it.
ONEINCH_TAG_BYTES = 32


def _settler(recipient: str, buy_token: str, min_out: int) -> tuple[str, str, int]:
    return checksum(recipient), native_or(buy_token), int(min_out)


def _zerox_exec(data: bytes) -> DecodedSwap:
    operator, token, amount, target, inner = strict_args(ZEROX_EXEC, data)
    inner = bytes(inner)
    if inner[:4] != SETTLER_EXECUTE.selector:
        raise CalldataError(f"0x exec forwards selector 0x{inner[:4].hex()} to {checksum(target)}, not a Settler "
                            "execute; its recipient and min-out cannot be read")
    (recipient, buy_token, min_out), _actions, _zid = strict_args(SETTLER_EXECUTE, inner)
    problems = () if operator.lower() == target.lower() else (
        f"0x exec lets operator {checksum(operator)} spend the allowance, not the Settler {checksum(target)}",)
    recipient, buy, floor = _settler(recipient, buy_token, min_out)
    return DecodedSwap("0x_allowance_holder", recipient, native_or(token), buy, int(amount), floor,
                       target=checksum(target), problems=problems)


def _settler_execute(data: bytes) -> DecodedSwap:
    (recipient, buy_token, min_out), _actions, _zid = strict_args(SETTLER_EXECUTE, data)
    recipient, buy, floor = _settler(recipient, buy_token, min_out)
    return DecodedSwap("0x_settler", recipient, None, buy, None, floor)


def _oneinch_swap(data: bytes) -> DecodedSwap:
    _executor, desc, _data = strict_args(ONEINCH_SWAP, data, trailing_ok=ONEINCH_TAG_BYTES)
    src, dst, _src_receiver, dst_receiver, amount, min_return, flags = desc
    problems = []
    if flags & ONEINCH_PARTIAL_FILL:
        problems.append("1inch swap allows a partial fill (min-out then scales with what is spent)")
    if flags & ONEINCH_REQUIRES_EXTRA_ETH:
        problems.append("1inch swap asks for extra ETH")
    return DecodedSwap("1inch_swap", recipient_or_sender(dst_receiver), native_or(src), native_or(dst), amount,
                       min_return, problems=tuple(problems))


UNOSWAP_PROTOCOLS = ("uniswap_v2", "uniswap_v3", "curve")


def _pools(words: tuple[int, ...]) -> tuple[str | None, tuple[str, ...]]:
    """(buy token if the calldata fixes it, pool descriptions) for unoswap pool words."""
    for word in words:
        if word >> UNOSWAP_PROTOCOL_OFFSET >= len(UNOSWAP_PROTOCOLS):
            raise CalldataError(f"unoswap pool word with unknown protocol {word >> UNOSWAP_PROTOCOL_OFFSET}")
    described = tuple(f"{UNOSWAP_PROTOCOLS[w >> UNOSWAP_PROTOCOL_OFFSET]}:{word_address(w)}" for w in words)
    return (NATIVE_PLACEHOLDER if words[-1] & UNOSWAP_WETH_UNWRAP else None), described


def _unoswap_name(hops: int, *, to: bool, eth: bool) -> str:
    return ("ethUnoswap" if eth else "unoswap") + ("To" if to else "") + ("" if hops == 1 else str(hops))


def _unoswap(hops: int, *, to: bool, eth: bool) -> Callable[[bytes], DecodedSwap]:
    fn = abi_fn("AggregationRouterV6", _unoswap_name(hops, to=to, eth=eth))

    def decoder(data: bytes) -> DecodedSwap:
        args = list(strict_args(fn, data, trailing_ok=ONEINCH_TAG_BYTES))
        recipient = word_address(args.pop(0)) if to else None
        token_in, amount = (NATIVE_PLACEHOLDER, None) if eth else (native_or(word_address(args.pop(0))), args.pop(0))
        min_return, words = args[0], tuple(args[1:])
        buy, described = _pools(words)
        return DecodedSwap(f"1inch_{fn.signature.split('(')[0]}", recipient, token_in, buy, amount, min_return,
                           legs=((amount or 0, described),))

    return decoder


def _clipper(to: bool) -> Callable[[bytes], DecodedSwap]:
    fn = abi_fn("AggregationRouterV6", "clipperSwapTo" if to else "clipperSwap")

    def decoder(data: bytes) -> DecodedSwap:
        args = list(strict_args(fn, data, trailing_ok=ONEINCH_TAG_BYTES))
        _exchange = args.pop(0)
        recipient = checksum(args.pop(0)) if to else None
        src_word, dst, amount_in, amount_out = args[0], args[1], args[2], args[3]
        token_in = native_or(word_address(src_word), zero_is_native=True)
        return DecodedSwap("1inch_clipper", recipient, token_in, native_or(dst, zero_is_native=True), amount_in,
                           amount_out)

    return decoder


DECODERS: dict[bytes, Callable[[bytes], DecodedSwap]] = {
    ZEROX_EXEC.selector: _zerox_exec,
    SETTLER_EXECUTE.selector: _settler_execute,
    ONEINCH_SWAP.selector: _oneinch_swap,
}
for _hops in (1, 2, 3):
    for _to in (False, True):
        for _eth in (False, True):
            _name = _unoswap_name(_hops, to=_to, eth=_eth)
            DECODERS[abi_fn("AggregationRouterV6", _name).selector] = _unoswap(_hops, to=_to, eth=_eth)
for _to in (False, True):
    DECODERS[abi_fn("AggregationRouterV6", "clipperSwapTo" if _to else "clipperSwap").selector] = _clipper(_to)
