"""What every calldata decoder shares: the decoded swap, the error, functions named by the ABIs in abis/.

A decoder reads one router entry point and returns a ``DecodedSwap``; it raises ``CalldataError`` when the
arguments do not decode, are not the canonical ABI encoding of themselves (so no two readers can disagree
about them: trailing bytes, overlapping or out-of-order offsets), or use a feature whose effect cannot be
read offline (for example an Odos address taken from the router's storage).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode, encode

from agent.chain.abi import Function, abi
from agent.config.chains import NATIVE_PLACEHOLDER
from agent.models import checksum

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class CalldataError(ValueError):
    """A known selector whose arguments do not decode (or not unambiguously)."""


@dataclass(frozen=True)
class DecodedSwap:
    shape: str
    #: Who receives the output; None when the contract pays ``msg.sender`` implicitly.
    recipient: str | None
    token_in: str | None = None
    #: None when the buy token is not written in the calldata (1inch unoswap: it follows from the pools).
    token_out: str | None = None
    amount_in: int | None = None
    min_out: int | None = None
    #: 0x: the Settler AllowanceHolder forwards to (it must never be approved).
    target: str | None = None
    #: Sandbox router: the pairs of each leg, for display.
    legs: tuple[tuple[int, tuple[str, ...]], ...] = ()
    #: Features of the call that make it unsafe to sign (partial fills, fees taken on top, ...).
    problems: tuple[str, ...] = ()


@cache
def abi_fn(contract: str, name: str) -> Function:
    """The function ``name`` of abis/<contract>.json."""
    return abi(contract).fn(name)


def strict_args(fn: Function, data: bytes, *, trailing_ok: int = 0) -> tuple[Any, ...]:
    """Decode ``data`` (selector included) as ``fn``'s arguments; refuse anything but the canonical encoding,
    followed by at most ``trailing_ok`` bytes the contract never reads (1inch appends a 4-byte source tag)."""
    name = fn.signature.split("(")[0]
    body = bytes(data[4:])
    try:
        values = tuple(decode(list(fn.inputs), body))
    except Exception as exc:  # eth_abi raises several types for short/garbled input
        raise CalldataError(f"{name} calldata does not decode ({type(exc).__name__})") from None
    canonical = encode(list(fn.inputs), list(values))
    if not body.startswith(canonical) or len(body) - len(canonical) > trailing_ok:
        raise CalldataError(f"{name} calldata is not the canonical ABI encoding of its arguments "
                            f"({len(body)} bytes for {len(canonical)}; extra, overlapping or reordered data)")
    return values


def native_or(address: str, *, zero_is_native: bool = False) -> str:
    """Checksum ``address``; 0xEeee… (and, for routers that use it, 0x0) become ``NATIVE_PLACEHOLDER``."""
    if address.lower() == NATIVE_PLACEHOLDER.lower() or (zero_is_native and int(address, 16) == 0):
        return NATIVE_PLACEHOLDER
    return checksum(address)


def recipient_or_sender(address: str) -> str | None:
    """A zero recipient means "pay msg.sender" in the 1inch, ParaSwap and Odos routers."""
    return None if int(address, 16) == 0 else checksum(address)


def word_address(word: int) -> str:
    return checksum("0x" + (word & ((1 << 160) - 1)).to_bytes(20, "big").hex())
