"""The one Multicall3 ``aggregate3`` codec: many view calls in one eth_call, read at one block.

``encode_aggregate3`` builds the calldata (every sub-call with ``allowFailure`` set), ``decode_aggregate3``
turns the return into one decoded tuple per sub-call, or ``None`` for a sub-call that reverted or returned
data its function does not decode (an EOA, a non-conforming contract). ``aggregate`` does both around one
eth_call through ``ChainRpc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.chain.abi import AbiDecodeError, Function, abi
from agent.chain.rpc import ChainRpc

Result = tuple[Any, ...] | None


@dataclass(frozen=True)
class Call:
    """One sub-call: ``fn(*args)`` on ``target``."""

    target: str
    fn: Function
    args: tuple[Any, ...] = ()


def _aggregate3() -> Function:
    return abi("Multicall3").fn("aggregate3")


def encode_aggregate3(calls: Sequence[Call]) -> bytes:
    """Calldata of ``aggregate3`` over ``calls`` (each may fail without failing the batch)."""
    return _aggregate3().encode([(c.target, True, c.fn.encode(*c.args)) for c in calls])


def decode_aggregate3(calls: Sequence[Call], data: bytes) -> list[Result]:
    """One result per call, in order: the decoded return, or None when it reverted or does not decode.

    Raises ``AbiDecodeError`` when ``data`` is not an aggregate3 return of ``len(calls)`` results.
    """
    (results,) = _aggregate3().decode_output(bytes(data))
    if len(results) != len(calls):
        raise AbiDecodeError(f"aggregate3 returned {len(results)} results for {len(calls)} calls")
    out: list[Result] = []
    for call, (ok, returned) in zip(calls, results, strict=True):
        try:
            out.append(call.fn.decode_output(bytes(returned)) if ok else None)
        except AbiDecodeError:
            out.append(None)
    return out


def aggregate(rpc: ChainRpc, calls: Sequence[Call], *, block: int | str = "latest",
              what: str = "aggregate3") -> list[Result]:
    """One ``aggregate3`` eth_call to the chain's Multicall3; see ``decode_aggregate3``."""
    payload = encode_aggregate3(calls)
    target = rpc.chain.multicall3
    raw = rpc.read(lambda w3: w3.eth.call({"to": target, "data": payload}, block), what=what)  # type: ignore[arg-type]
    return decode_aggregate3(calls, bytes(raw))
