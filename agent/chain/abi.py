"""One way to speak ABI: a shipped ABI (abis/*.json) loaded by name, calls encoded and decoded by function name.

    erc20 = abi("ERC20")
    data = erc20.encode("approve", spender, amount_raw)
    name, args = erc20.decode_input(data)          # ("approve", (spender, amount_raw))
    (balance,) = erc20.decode_output("balanceOf", returned)
    balance_of = erc20.fn("balanceOf")               # a Function: .selector, .encode(), .decode_output()

An overloaded name (Permit2 ``permit``) is chosen by its full signature, e.g. ``fn("permit(address,...)")``.
Decoding raises ``AbiDecodeError`` (a ``ValueError``) for an unknown selector or arguments that do not decode
(short, garbled or forged data); nothing here reads the chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from eth_abi import decode, encode
from eth_utils import collapse_if_tuple, keccak

from agent.chain.abis import load_abi

#: Solidity's built-in revert payloads (abis/SolidityErrors.json): ``Error(string)`` and ``Panic(uint256)``.
SOLIDITY_ERRORS = "SolidityErrors"


class AbiDecodeError(ValueError):
    """Data that is not a call (or return, or error) of the ABI it was decoded with."""


def _types(params: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(collapse_if_tuple(p) for p in params)


@dataclass(frozen=True)
class Function:
    """One function (or error, for ``decode_input``) of an ABI, by canonical types."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    input_names: tuple[str, ...] = field(default=(), compare=False)

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @cached_property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    def encode(self, *args: Any) -> bytes:
        """Calldata: selector + the arguments (structs as tuples, in ABI order)."""
        return self.selector + encode(list(self.inputs), list(args))

    def decode_input(self, data: bytes) -> tuple[Any, ...]:
        """The arguments of calldata ``data`` (its selector must be this function's)."""
        data = bytes(data)
        if data[:4] != self.selector:
            raise AbiDecodeError(f"{self.name}: selector 0x{data[:4].hex()} is not 0x{self.selector.hex()}")
        return self._decode(self.inputs, data[4:], "calldata")

    def decode_output(self, data: bytes) -> tuple[Any, ...]:
        return self._decode(self.outputs, bytes(data), "return data")

    def _decode(self, types: tuple[str, ...], data: bytes, what: str) -> tuple[Any, ...]:
        try:
            return tuple(decode(list(types), data))
        except Exception as exc:  # eth_abi raises several types for short or garbled input
            raise AbiDecodeError(f"{self.name} {what} does not decode ({type(exc).__name__})") from None


def _function(entry: dict[str, Any]) -> Function:
    return Function(entry["name"], _types(entry.get("inputs", [])), _types(entry.get("outputs", [])),
                    tuple(p.get("name", "") for p in entry.get("inputs", [])))


class Abi:
    """The functions, errors and events of one shipped ABI."""

    def __init__(self, name: str, entries: list[dict[str, Any]]) -> None:
        self.name = name
        self._functions = [_function(e) for e in entries if e.get("type") == "function"]
        self._errors = [_function(e) for e in entries if e.get("type") == "error"]
        self._events = {e["name"]: _types(e.get("inputs", [])) for e in entries if e.get("type") == "event"}
        self._by_selector = {f.selector: f for f in self._functions}

    def __repr__(self) -> str:
        return f"abi({self.name!r})"

    @property
    def functions(self) -> tuple[Function, ...]:
        return tuple(self._functions)

    def fn(self, name: str) -> Function:
        """The function ``name``, or its full signature when the name is overloaded."""
        found = [f for f in self._functions if name in (f.name, f.signature)]
        if len(found) == 1:
            return found[0]
        if not found:
            known = ", ".join(sorted({f.name for f in self._functions}))
            raise KeyError(f"{self.name} has no function {name!r} (abis/{self.name}.json has: {known})")
        raise KeyError(f"{self.name}.{name} is overloaded: name one of {[f.signature for f in found]}")

    def selector(self, name: str) -> bytes:
        return self.fn(name).selector

    def encode(self, name: str, *args: Any) -> bytes:
        return self.fn(name).encode(*args)

    def find(self, data: bytes) -> Function | None:
        """The function whose selector starts ``data``; None when it is not one of this ABI's."""
        return self._by_selector.get(bytes(data[:4]))

    def decode_input(self, data: bytes) -> tuple[str, tuple[Any, ...]]:
        """(function name, arguments) of calldata ``data``."""
        fn = self.find(data)
        if fn is None:
            raise AbiDecodeError(f"selector 0x{bytes(data[:4]).hex()} is not a function of {self.name}")
        return fn.name, fn.decode_input(data)

    def decode_output(self, name: str, data: bytes) -> tuple[Any, ...]:
        return self.fn(name).decode_output(data)

    def decode_error(self, data: bytes) -> tuple[str, tuple[Any, ...]] | None:
        """(error name, arguments) of revert data of one of this ABI's errors; None when it is none of them."""
        data = bytes(data)
        for err in self._errors:
            if data[:4] == err.selector:
                return err.name, err.decode_input(data)
        return None

    def event_topic(self, name: str) -> bytes:
        """topic0 of event ``name``."""
        try:
            types = self._events[name]
        except KeyError:
            raise KeyError(f"{self.name} has no event {name!r}") from None
        return keccak(text=f"{name}({','.join(types)})")


@cache
def abi(name: str) -> Abi:
    """The shipped ABI ``name`` (a file stem of abis/, e.g. "ERC20"); unknown names raise ``ConfigError``."""
    return Abi(name, load_abi(name))
