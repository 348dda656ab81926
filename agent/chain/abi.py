"""Minimal ABI call encoding by signature, for the handful of view calls batched through Multicall3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak


@dataclass(frozen=True)
class Fn:
    """A contract function known by its signature, e.g. ``Fn("balanceOf(address)", ("uint256",))``."""

    signature: str
    returns: tuple[str, ...]

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    @property
    def arg_types(self) -> list[str]:
        inner = self.signature[self.signature.index("(") + 1 : -1]
        return _split_types(inner)

    def encode(self, *args: Any) -> bytes:
        return self.selector + encode(self.arg_types, list(args))

    def decode(self, data: bytes) -> tuple[Any, ...]:
        return tuple(decode(list(self.returns), data))


def _split_types(inner: str) -> list[str]:
    """Split a signature's argument list at top-level commas (tuples stay whole)."""
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        out.append(cur)
    return out


BALANCE_OF = Fn("balanceOf(address)", ("uint256",))
CONVERT_TO_ASSETS = Fn("convertToAssets(uint256)", ("uint256",))
GET_AMOUNTS_OUT = Fn("getAmountsOut(uint256,address[])", ("uint256[]",))
QUOTE_EXACT_INPUT_SINGLE = Fn(
    "quoteExactInputSingle((address,address,uint256,uint24,uint160))", ("uint256", "uint160", "uint32", "uint256")
)
GET_BLOCK_NUMBER = Fn("getBlockNumber()", ("uint256",))
GET_BASEFEE = Fn("getBasefee()", ("uint256",))
GET_ETH_BALANCE = Fn("getEthBalance(address)", ("uint256",))
AGGREGATE3 = Fn("aggregate3((address,bool,bytes)[])", ("(bool,bytes)[]",))
