"""Decoders for ParaSwap/Velora Augustus v6.2, Odos Router V2 and KyberSwap MetaAggregationRouterV2 (abis/*.json).

Augustus v6.2: the ``swapExactAmountIn`` family (generic executor, Uniswap V2/V3, Curve V1/V2, Balancer V2,
whose tokens are read from the Balancer Vault ``swap``/``batchSwap`` call it carries); ``toAmount`` is the
min-out the contract enforces and a zero beneficiary is the caller. Odos: ``swap`` (ABI) and ``swapCompact``
(packed: 2-byte address codes, 0x0000 = zero, 0x0001 = 20 address bytes follow, others index the router's
storage and cannot be read offline; length-prefixed amounts; a 3-byte slippage scaled by 0xFFFFFF; a 4-byte
referral code; a path of 32-byte words whose count is one byte). KyberSwap: ``swap(SwapExecutionParams)``
and ``swapSimpleMode``, whose ``desc`` carries the tokens, amount, receiver, min-out and any fees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.models import checksum
from agent.quotes.calldata_base import (
    ZERO_ADDRESS,
    CalldataError,
    DecodedSwap,
    abi_fn,
    native_or,
    recipient_or_sender,
    strict_args,
    word_address,
)

AUGUSTUS_SWAP = abi_fn("AugustusV6", "swapExactAmountIn")
AUGUSTUS_UNI_V2 = abi_fn("AugustusV6", "swapExactAmountInOnUniswapV2")
AUGUSTUS_UNI_V3 = abi_fn("AugustusV6", "swapExactAmountInOnUniswapV3")
AUGUSTUS_CURVE_V1 = abi_fn("AugustusV6", "swapExactAmountInOnCurveV1")
AUGUSTUS_CURVE_V2 = abi_fn("AugustusV6", "swapExactAmountInOnCurveV2")
AUGUSTUS_BALANCER_V2 = abi_fn("AugustusV6", "swapExactAmountInOnBalancerV2")
BALANCER_SWAP = abi_fn("BalancerV2Vault", "swap")
BALANCER_BATCH_SWAP = abi_fn("BalancerV2Vault", "batchSwap")
ODOS_SWAP = abi_fn("OdosRouterV2", "swap")
ODOS_SWAP_COMPACT = abi_fn("OdosRouterV2", "swapCompact")
KYBER_SWAP = abi_fn("MetaAggregationRouterV2", "swap")
KYBER_SWAP_SIMPLE = abi_fn("MetaAggregationRouterV2", "swapSimpleMode")
KYBER_PARTIAL_FILL = 0x01
ODOS_SLIPPAGE_DENOMINATOR = 0xFFFFFF


def _velora(shape: str, src: str, dest: str, from_amount: int, to_amount: int, beneficiary: str) -> DecodedSwap:
    return DecodedSwap(shape, recipient_or_sender(beneficiary), native_or(src), native_or(dest), from_amount,
                       to_amount)


def _augustus_generic(data: bytes) -> DecodedSwap:
    _executor, swap, _partner_fee, _permit, _executor_data = strict_args(AUGUSTUS_SWAP, data)
    src, dest, from_amount, to_amount, _quoted, _metadata, beneficiary = swap
    return _velora("velora_generic", src, dest, from_amount, to_amount, beneficiary)


def _augustus_uni(fn: Any, shape: str) -> Callable[[bytes], DecodedSwap]:
    def decoder(data: bytes) -> DecodedSwap:
        uni, _partner_fee, _permit = strict_args(fn, data)
        src, dest, from_amount, to_amount, _quoted, _metadata, beneficiary, _pools = uni
        return _velora(shape, src, dest, from_amount, to_amount, beneficiary)
    return decoder


def _augustus_curve_v1(data: bytes) -> DecodedSwap:
    curve, _partner_fee, _permit = strict_args(AUGUSTUS_CURVE_V1, data)
    _curve_data, _assets, src, dest, from_amount, to_amount, _quoted, _metadata, beneficiary = curve
    return _velora("velora_curve_v1", src, dest, from_amount, to_amount, beneficiary)


def _augustus_curve_v2(data: bytes) -> DecodedSwap:
    curve, _partner_fee, _permit = strict_args(AUGUSTUS_CURVE_V2, data)
    _curve_data, _i, _j, _pool, src, dest, from_amount, to_amount, _quoted, _metadata, beneficiary = curve
    return _velora("velora_curve_v2", src, dest, from_amount, to_amount, beneficiary)


def _balancer_tokens(call: bytes) -> tuple[str, str]:
    selector = call[:4]
    if selector == BALANCER_SWAP.selector:
        (_pool, _kind, asset_in, asset_out, _amount, _user), _funds, _limit, _deadline = strict_args(BALANCER_SWAP,
                                                                                                     call)
        return native_or(asset_in, zero_is_native=True), native_or(asset_out, zero_is_native=True)
    if selector == BALANCER_BATCH_SWAP.selector:
        _kind, swaps, assets, _funds, _limits, _deadline = strict_args(BALANCER_BATCH_SWAP, call)
        try:
            first, last = assets[swaps[0][1]], assets[swaps[-1][2]]
        except IndexError:
            raise CalldataError("Balancer batchSwap names an asset index outside its assets") from None
        return native_or(first, zero_is_native=True), native_or(last, zero_is_native=True)
    raise CalldataError(f"Augustus Balancer V2 call carries selector 0x{selector.hex()}, not swap/batchSwap")


def _augustus_balancer(data: bytes) -> DecodedSwap:
    balancer, _partner_fee, _permit, call = strict_args(AUGUSTUS_BALANCER_V2, data)
    from_amount, to_amount, _quoted, _metadata, beneficiary_and_flag = balancer
    src, dest = _balancer_tokens(bytes(call))
    beneficiary = word_address(beneficiary_and_flag)
    return DecodedSwap("velora_balancer_v2", recipient_or_sender(beneficiary), src, dest, from_amount, to_amount)


def _odos_swap(data: bytes) -> DecodedSwap:
    info, _path, _executor, _referral = strict_args(ODOS_SWAP, data)
    token_in, amount_in, _input_receiver, token_out, _quote, output_min, output_receiver = info
    problems = ("Odos swap sells the whole balance (inputAmount 0)",) if amount_in == 0 else ()
    # The non-compact swap pays outputReceiver as written (a zero receiver is not the caller).
    return DecodedSwap("odos_swap", checksum(output_receiver), native_or(token_in, zero_is_native=True),
                       native_or(token_out, zero_is_native=True), amount_in, output_min, problems=problems)


class _Packed:
    """A cursor over swapCompact calldata that refuses to read past the end."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 4

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise CalldataError(f"Odos swapCompact is truncated at {what} (byte {self.pos} of {len(self.data)})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def address(self, what: str, *, cached_ok: bool = False) -> str | None:
        code = int.from_bytes(self.take(2, what), "big")
        if code == 0:
            return ZERO_ADDRESS
        if code == 1:
            return checksum("0x" + self.take(20, what).hex())
        if cached_ok:
            return None
        raise CalldataError(f"Odos swapCompact takes {what} from the router's address list (slot {code - 2}); "
                            "it cannot be checked offline")

    def amount(self, what: str) -> int:
        length = self.take(1, what)[0]
        if length > 32:
            raise CalldataError(f"Odos swapCompact {what} is {length} bytes long (at most 32)")
        return int.from_bytes(self.take(length, what), "big") if length else 0


def _odos_compact(data: bytes) -> DecodedSwap:
    cur = _Packed(data)
    token_in = cur.address("the input token")
    token_out = cur.address("the output token")
    amount_in = cur.amount("the input amount")
    quote = cur.amount("the output quote")
    slippage = int.from_bytes(cur.take(3, "the slippage"), "big")
    cur.address("the executor", cached_ok=True)
    cur.address("the input receiver", cached_ok=True)
    receiver = cur.address("the output receiver")
    cur.take(4, "the referral code")
    words = cur.take(1, "the path length")[0]
    cur.take(32 * words, "the path definition")
    if cur.pos != len(data):
        raise CalldataError(f"Odos swapCompact has {len(data) - cur.pos} bytes after its path definition")
    assert token_in is not None and token_out is not None and receiver is not None
    problems = ("Odos swapCompact sells the whole balance (no input amount)",) if amount_in == 0 else ()
    min_out = quote * (ODOS_SLIPPAGE_DENOMINATOR - slippage) // ODOS_SLIPPAGE_DENOMINATOR
    return DecodedSwap("odos_swap_compact", recipient_or_sender(receiver), native_or(token_in, zero_is_native=True),
                       native_or(token_out, zero_is_native=True), amount_in, min_out, problems=problems)


def _kyber_desc(shape: str, desc: tuple[Any, ...]) -> DecodedSwap:
    src, dst, _receivers, src_amounts, fee_receivers, fee_amounts, dst_receiver, amount, min_return, flags, _p = desc
    problems = []
    if flags & KYBER_PARTIAL_FILL:
        problems.append("KyberSwap desc allows a partial fill")
    if fee_receivers or any(fee_amounts):
        problems.append(f"KyberSwap desc pays fees to {', '.join(checksum(a) for a in fee_receivers) or '?'}")
    if sum(src_amounts) > amount:
        problems.append(f"KyberSwap desc moves {sum(src_amounts)} of the sell token, more than amount {amount}")
    return DecodedSwap(shape, recipient_or_sender(dst_receiver), native_or(src), native_or(dst), amount, min_return,
                       problems=tuple(problems))


def _kyber_swap(data: bytes) -> DecodedSwap:
    ((_call_target, _approve_target, _target_data, desc, _client),) = strict_args(KYBER_SWAP, data)
    return _kyber_desc("kyberswap_swap", desc)


def _kyber_simple(data: bytes) -> DecodedSwap:
    _caller, desc, _executor_data, _client = strict_args(KYBER_SWAP_SIMPLE, data)
    return _kyber_desc("kyberswap_simple", desc)


DECODERS: dict[bytes, Callable[[bytes], DecodedSwap]] = {
    AUGUSTUS_SWAP.selector: _augustus_generic,
    AUGUSTUS_UNI_V2.selector: _augustus_uni(AUGUSTUS_UNI_V2, "velora_uniswap_v2"),
    AUGUSTUS_UNI_V3.selector: _augustus_uni(AUGUSTUS_UNI_V3, "velora_uniswap_v3"),
    AUGUSTUS_CURVE_V1.selector: _augustus_curve_v1,
    AUGUSTUS_CURVE_V2.selector: _augustus_curve_v2,
    AUGUSTUS_BALANCER_V2.selector: _augustus_balancer,
    ODOS_SWAP.selector: _odos_swap,
    ODOS_SWAP_COMPACT.selector: _odos_compact,
    KYBER_SWAP.selector: _kyber_swap,
    KYBER_SWAP_SIMPLE.selector: _kyber_simple,
}
