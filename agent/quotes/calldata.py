"""Read who gets the output (and the min-out) out of a quoted transaction's calldata, or refuse it.

Known shapes, by selector:
- the sandbox ``AggregatorRouter.swap(token_in, token_out, amount_in, min_amount_out, recipient, legs)``;
- Uniswap V2 Router02 ``swapExactTokensForTokens`` / ``swapExactETHForTokens`` / ``swapExactTokensForETH``;
- Uniswap SwapRouter02 ``exactInputSingle((tokenIn, tokenOut, fee, recipient, amountIn, amountOutMinimum,
  sqrtPriceLimitX96))`` and ``exactInput((path, recipient, amountIn, amountOutMinimum))`` (no deadline field,
  unlike the original SwapRouter); recipient ``address(1)`` means ``msg.sender``;
- the five aggregators' routers (``calldata_0x_1inch``, ``calldata_velora_odos_kyber``): 0x AllowanceHolder
  and Settler, 1inch AggregationRouterV6, ParaSwap/Velora Augustus v6.2, Odos Router V2, KyberSwap
  MetaAggregationRouterV2.

``decode_swap`` returns None for an unknown selector and raises ``CalldataError`` when a known selector's
arguments do not decode, or not as their canonical encoding (a truncated, padded or forged payload).
"""

from __future__ import annotations

from collections.abc import Callable

from agent.chain.abi import abi
from agent.models import checksum
from agent.quotes import calldata_0x_1inch, calldata_velora_odos_kyber
from agent.quotes.calldata_0x_1inch import ONEINCH_SWAP, SETTLER_EXECUTE, ZEROX_EXEC
from agent.quotes.calldata_base import CalldataError, DecodedSwap, strict_args

__all__ = ["ONEINCH_SWAP", "SETTLER_EXECUTE", "ZEROX_EXEC", "CalldataError", "DecodedSwap", "decode_swap",
           "encode_sandbox_swap"]

AGG_SWAP = abi("AggregatorRouter").fn("swap")
V2_SWAP_EXACT_TOKENS = abi("UniswapV2Router02").fn("swapExactTokensForTokens")
V2_SWAP_EXACT_ETH = abi("UniswapV2Router02").fn("swapExactETHForTokens")
V2_SWAP_EXACT_TOKENS_FOR_ETH = abi("UniswapV2Router02").fn("swapExactTokensForETH")
V3_EXACT_INPUT_SINGLE = abi("SwapRouter02").fn("exactInputSingle")
V3_EXACT_INPUT = abi("SwapRouter02").fn("exactInput")
#: SwapRouter02's recipient placeholder for "the caller".
V3_MSG_SENDER = 1


def _agg(data: bytes) -> DecodedSwap:
    token_in, token_out, amount_in, min_out, recipient, legs = strict_args(AGG_SWAP, data)
    return DecodedSwap("sandbox_router", checksum(recipient), checksum(token_in), checksum(token_out), amount_in,
                       min_out, legs=tuple((a, tuple(checksum(p) for p in pairs)) for a, pairs in legs))


def _v2_tokens(data: bytes) -> DecodedSwap:
    amount_in, min_out, path, to, _deadline = strict_args(V2_SWAP_EXACT_TOKENS, data)
    return DecodedSwap("uniswap_v2", checksum(to), checksum(path[0]), checksum(path[-1]), amount_in, min_out)


def _v2_eth_in(data: bytes) -> DecodedSwap:
    min_out, path, to, _deadline = strict_args(V2_SWAP_EXACT_ETH, data)
    return DecodedSwap("uniswap_v2", checksum(to), checksum(path[0]), checksum(path[-1]), None, min_out)


def _v2_eth_out(data: bytes) -> DecodedSwap:
    amount_in, min_out, path, to, _deadline = strict_args(V2_SWAP_EXACT_TOKENS_FOR_ETH, data)
    return DecodedSwap("uniswap_v2", checksum(to), checksum(path[0]), checksum(path[-1]), amount_in, min_out)


def _v3_recipient(recipient: str) -> str | None:
    return None if int(recipient, 16) == V3_MSG_SENDER else checksum(recipient)


def _v3_single(data: bytes) -> DecodedSwap:
    ((token_in, token_out, _fee, recipient, amount_in, min_out, _limit),) = strict_args(V3_EXACT_INPUT_SINGLE, data)
    return DecodedSwap("uniswap_v3", _v3_recipient(recipient), checksum(token_in), checksum(token_out), amount_in,
                       min_out)


def _v3_path(data: bytes) -> DecodedSwap:
    ((path, recipient, amount_in, min_out),) = strict_args(V3_EXACT_INPUT, data)
    path = bytes(path)
    if len(path) < 43 or (len(path) - 20) % 23:
        raise CalldataError(f"exactInput path of {len(path)} bytes is not token(20) + n * (fee(3) + token(20))")
    return DecodedSwap("uniswap_v3", _v3_recipient(recipient), checksum("0x" + path[:20].hex()),
                       checksum("0x" + path[-20:].hex()), amount_in, min_out)


DECODERS: dict[bytes, Callable[[bytes], DecodedSwap]] = {
    AGG_SWAP.selector: _agg,
    V2_SWAP_EXACT_TOKENS.selector: _v2_tokens,
    V2_SWAP_EXACT_ETH.selector: _v2_eth_in,
    V2_SWAP_EXACT_TOKENS_FOR_ETH.selector: _v2_eth_out,
    V3_EXACT_INPUT_SINGLE.selector: _v3_single,
    V3_EXACT_INPUT.selector: _v3_path,
    **calldata_0x_1inch.DECODERS,
    **calldata_velora_odos_kyber.DECODERS,
}


def decode_swap(data: bytes) -> DecodedSwap | None:
    """The swap's recipient/min-out if ``data`` has a known selector; None if unknown."""
    decoder = DECODERS.get(bytes(data[:4]))
    return decoder(bytes(data)) if decoder else None


def encode_sandbox_swap(*, token_in: str, token_out: str, amount_in: int, min_out: int, recipient: str,
                        legs: list[tuple[int, list[str]]]) -> bytes:
    """Calldata for ``AggregatorRouter.swap`` (used by the sandbox server and tests)."""
    return AGG_SWAP.encode(token_in, token_out, amount_in, min_out, recipient, [(a, list(p)) for a, p in legs])
