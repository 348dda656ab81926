"""Read who gets the output (and the min-out) out of a quoted transaction's calldata, as far as it can be read.

Known shapes, by selector:
- the sandbox ``AggregatorRouter.swap(token_in, token_out, amount_in, min_amount_out, recipient, legs)``;
- Uniswap V2 Router02 ``swapExactTokensForTokens`` / ``swapExactETHForTokens`` / ``swapExactTokensForETH``;
- Uniswap SwapRouter02 ``exactInputSingle((tokenIn, tokenOut, fee, recipient, amountIn, amountOutMinimum,
  sqrtPriceLimitX96))`` and ``exactInput((path, recipient, amountIn, amountOutMinimum))`` (no deadline field,
  unlike the original SwapRouter); recipient ``address(1)`` means ``msg.sender``;
- 0x AllowanceHolder ``exec(operator, token, amount, target, data)`` whose ``data`` is the Settler's
  ``execute((recipient, buyToken, minAmountOut), actions, zid)``; ``target`` is the Settler itself;
- 1inch v6 ``swap(executor, (srcToken, dstToken, srcReceiver, dstReceiver, amount, minReturnAmount, flags), data)``.

``decode_swap`` returns None for an unknown selector and raises ``CalldataError`` when a known selector's
arguments do not decode (a truncated or forged payload).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.chain.abi import AbiDecodeError, Function, abi
from agent.models import checksum

AGG_SWAP = abi("AggregatorRouter").fn("swap")
V2_SWAP_EXACT_TOKENS = abi("UniswapV2Router02").fn("swapExactTokensForTokens")
V2_SWAP_EXACT_ETH = abi("UniswapV2Router02").fn("swapExactETHForTokens")
V2_SWAP_EXACT_TOKENS_FOR_ETH = abi("UniswapV2Router02").fn("swapExactTokensForETH")
V3_EXACT_INPUT_SINGLE = abi("SwapRouter02").fn("exactInputSingle")
V3_EXACT_INPUT = abi("SwapRouter02").fn("exactInput")
#: SwapRouter02's recipient placeholder for "the caller".
V3_MSG_SENDER = 1
ZEROX_EXEC = abi("AllowanceHolder").fn("exec")
SETTLER_EXECUTE = abi("Settler").fn("execute")
ONEINCH_SWAP = abi("AggregationRouterV6").fn("swap")


class CalldataError(ValueError):
    """A known selector whose arguments do not decode."""


@dataclass(frozen=True)
class DecodedSwap:
    shape: str
    #: Who receives the output; None when the contract pays ``msg.sender`` implicitly.
    recipient: str | None
    token_in: str | None = None
    token_out: str | None = None
    amount_in: int | None = None
    min_out: int | None = None
    #: 0x: the Settler AllowanceHolder forwards to (it must never be approved).
    target: str | None = None
    #: Sandbox router: the pairs of each leg, for display.
    legs: tuple[tuple[int, tuple[str, ...]], ...] = ()


def _args(fn: Function, data: bytes) -> tuple[Any, ...]:
    try:
        return fn.decode_input(data)
    except AbiDecodeError as exc:
        raise CalldataError(str(exc)) from None


def _agg(data: bytes) -> DecodedSwap:
    token_in, token_out, amount_in, min_out, recipient, legs = _args(AGG_SWAP, data)
    return DecodedSwap("sandbox_router", checksum(recipient), checksum(token_in), checksum(token_out), amount_in,
                       min_out, legs=tuple((a, tuple(checksum(p) for p in pairs)) for a, pairs in legs))


def _v2_tokens(data: bytes) -> DecodedSwap:
    amount_in, min_out, path, to, _deadline = _args(V2_SWAP_EXACT_TOKENS, data)
    return DecodedSwap("uniswap_v2", checksum(to), checksum(path[0]), checksum(path[-1]), amount_in, min_out)


def _v2_eth_in(data: bytes) -> DecodedSwap:
    min_out, path, to, _deadline = _args(V2_SWAP_EXACT_ETH, data)
    return DecodedSwap("uniswap_v2", checksum(to), checksum(path[0]), checksum(path[-1]), None, min_out)


def _v2_eth_out(data: bytes) -> DecodedSwap:
    amount_in, min_out, path, to, _deadline = _args(V2_SWAP_EXACT_TOKENS_FOR_ETH, data)
    return DecodedSwap("uniswap_v2", checksum(to), checksum(path[0]), checksum(path[-1]), amount_in, min_out)


def _v3_recipient(recipient: str) -> str | None:
    return None if int(recipient, 16) == V3_MSG_SENDER else checksum(recipient)


def _v3_single(data: bytes) -> DecodedSwap:
    ((token_in, token_out, _fee, recipient, amount_in, min_out, _limit),) = _args(V3_EXACT_INPUT_SINGLE, data)
    return DecodedSwap("uniswap_v3", _v3_recipient(recipient), checksum(token_in), checksum(token_out), amount_in,
                       min_out)


def _v3_path(data: bytes) -> DecodedSwap:
    ((path, recipient, amount_in, min_out),) = _args(V3_EXACT_INPUT, data)
    path = bytes(path)
    if len(path) < 43 or (len(path) - 20) % 23:
        raise CalldataError(f"exactInput path of {len(path)} bytes is not token(20) + n * (fee(3) + token(20))")
    return DecodedSwap("uniswap_v3", _v3_recipient(recipient), checksum("0x" + path[:20].hex()),
                       checksum("0x" + path[-20:].hex()), amount_in, min_out)


def _zerox(data: bytes) -> DecodedSwap:
    _operator, token, amount, target, inner = _args(ZEROX_EXEC, data)
    if bytes(inner[:4]) != SETTLER_EXECUTE.selector:
        return DecodedSwap("0x_allowance_holder", None, checksum(token), None, amount, None, target=checksum(target))
    (recipient, buy_token, min_out), _actions, _zid = _args(SETTLER_EXECUTE, bytes(inner))
    return DecodedSwap("0x_allowance_holder", checksum(recipient), checksum(token), checksum(buy_token), amount,
                       min_out, target=checksum(target))


def _oneinch(data: bytes) -> DecodedSwap:
    _executor, desc, _data = _args(ONEINCH_SWAP, data)
    src, dst, _src_receiver, dst_receiver, amount, min_return, _flags = desc
    # A zero dstReceiver means "pay msg.sender" in the 1inch router.
    recipient = None if int(dst_receiver, 16) == 0 else checksum(dst_receiver)
    return DecodedSwap("1inch_swap", recipient, checksum(src), checksum(dst), amount, min_return)


DECODERS: dict[bytes, Callable[[bytes], DecodedSwap]] = {
    AGG_SWAP.selector: _agg,
    V2_SWAP_EXACT_TOKENS.selector: _v2_tokens,
    V2_SWAP_EXACT_ETH.selector: _v2_eth_in,
    V2_SWAP_EXACT_TOKENS_FOR_ETH.selector: _v2_eth_out,
    V3_EXACT_INPUT_SINGLE.selector: _v3_single,
    V3_EXACT_INPUT.selector: _v3_path,
    ZEROX_EXEC.selector: _zerox,
    ONEINCH_SWAP.selector: _oneinch,
}


def decode_swap(data: bytes) -> DecodedSwap | None:
    """The swap's recipient/min-out if ``data`` has a known selector; None if unknown."""
    decoder = DECODERS.get(bytes(data[:4]))
    return decoder(bytes(data)) if decoder else None


def encode_sandbox_swap(*, token_in: str, token_out: str, amount_in: int, min_out: int, recipient: str,
                        legs: list[tuple[int, list[str]]]) -> bytes:
    """Calldata for ``AggregatorRouter.swap`` (used by the sandbox server and tests)."""
    return AGG_SWAP.encode(token_in, token_out, amount_in, min_out, recipient, [(a, list(p)) for a, p in legs])
