"""Real router calldata (tests/unit/quotes/fixtures/real_calldata.json, provenance in each entry) and the
mutations a hostile aggregator could make to it: re-encoded argument changes for the ABI shapes, byte-level
changes for Odos swapCompact, and structural damage (truncation, padding, selector, offsets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode

from agent.chain.abi import Function as Fn
from agent.quotes.calldata_0x_1inch import ONEINCH_SWAP, SETTLER_EXECUTE, ZEROX_EXEC
from agent.quotes.calldata_velora_odos_kyber import AUGUSTUS_SWAP, KYBER_SWAP, ODOS_SWAP

FIXTURES: dict[str, Any] = {k: v for k, v in json.loads(
    (Path(__file__).parent / "fixtures" / "real_calldata.json").read_text()).items() if not k.startswith("_")}
ATTACKER = "0x000000000000000000000000000000000000bEEF"
OTHER_TOKEN = "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"  # WBTC on Ethereum (in no fixture)


def data_of(name: str) -> bytes:
    return bytes.fromhex(FIXTURES[name]["hex"])


def _lists(value: Any) -> Any:
    return [_lists(v) for v in value] if isinstance(value, (tuple, list)) else value


def _set(args: list[Any], path: tuple[int, ...], value: Any) -> None:
    for i in path[:-1]:
        args = args[i]
    args[path[-1]] = value(args[path[-1]]) if callable(value) else value


def reencode(fn: Fn, data: bytes, changes: dict[tuple[int, ...], Any]) -> bytes:
    """``data`` with the arguments at ``changes``' paths replaced (a value or a function of the old one);
    trailing bytes after the canonical encoding (1inch's tag) are kept."""
    from eth_abi import decode
    args = _lists(decode(list(fn.inputs), data[4:]))
    tail = data[4 + len(encode(list(fn.inputs), decode(list(fn.inputs), data[4:]))):]
    for path, value in changes.items():
        _set(args, path, value)
    return fn.encode(*args) + tail


def zerox_inner(data: bytes, changes: dict[tuple[int, ...], Any]) -> bytes:
    from eth_abi import decode
    outer = _lists(decode(list(ZEROX_EXEC.inputs), data[4:]))
    outer[4] = reencode(SETTLER_EXECUTE, bytes(outer[4]), changes)
    return ZEROX_EXEC.encode(*outer)


@dataclass(frozen=True)
class Shape:
    """Where one fixture keeps each checked field: argument paths for ``reencode``."""

    fixture: str
    fn: Fn
    recipient: tuple[int, ...]
    token_in: tuple[int, ...]
    token_out: tuple[int, ...]
    amount: tuple[int, ...]
    min_out: tuple[int, ...]

    def change(self, data: bytes, field: str, value: Any) -> bytes:
        path = getattr(self, field)
        if self.fn is ZEROX_EXEC and field in ("recipient", "token_out", "min_out"):
            return zerox_inner(data, {path: value})
        return reencode(self.fn, data, {path: value})


SHAPES = {
    "0x": Shape("zerox_exec_base", ZEROX_EXEC, (0, 0), (1,), (0, 1), (2,), (0, 2)),
    "1inch": Shape("oneinch_swap_mainnet", ONEINCH_SWAP, (1, 3), (1, 0), (1, 1), (1, 4), (1, 5)),
    "paraswap": Shape("velora_swap_exact_amount_in_arbitrum", AUGUSTUS_SWAP, (1, 6), (1, 0), (1, 1), (1, 2), (1, 3)),
    "odos": Shape("odos_swap_mainnet", ODOS_SWAP, (0, 6), (0, 0), (0, 3), (0, 1), (0, 5)),
    "kyberswap": Shape("kyberswap_swap", KYBER_SWAP, (0, 3, 6), (0, 3, 0), (0, 3, 1), (0, 3, 7), (0, 3, 8)),
}


def lower(v: int) -> int:
    return v * 9 // 10


def abi_mutations(shape: Shape) -> dict[str, Callable[[bytes], bytes]]:
    """Mutation kind -> function of the fixture's calldata, for an ABI-encoded shape."""
    c = shape.change
    out: dict[str, Callable[[bytes], bytes]] = {
        "recipient_swapped": lambda d: c(d, "recipient", ATTACKER),
        "min_out_lowered": lambda d: c(d, "min_out", lower),
        "min_out_zero": lambda d: c(d, "min_out", 0),
        "buy_token_swapped": lambda d: c(d, "token_out", OTHER_TOKEN),
        "sell_token_swapped": lambda d: c(d, "token_in", OTHER_TOKEN),
        "amount_raised": lambda d: c(d, "amount", lambda v: v * 2),
        "amount_lowered": lambda d: c(d, "amount", lambda v: v // 2),
        "truncated_into_the_arguments": lambda d: d[:-33],  # past any 1inch tag
        "truncated_half": lambda d: d[: len(d) // 2],
        "selector_only": lambda d: d[:4],
        "unknown_selector": lambda d: bytes([d[0] ^ 0xFF]) + d[1:],
        "trailing_word": lambda d: d + b"\x00" * 32 + b"\x01" * 32,
        "first_offset_moved": lambda d: _move_first_offset(d),
        "empty": lambda d: b"",
    }
    return out


def _move_first_offset(data: bytes) -> bytes:
    """Point the first head word that looks like an offset 32 bytes further (non-canonical, overlapping)."""
    body = bytearray(data[4:])
    for i in range(0, min(len(body), 32 * 12), 32):
        word = int.from_bytes(body[i:i + 32], "big")
        if 32 <= word < len(body) and word % 32 == 0:
            body[i:i + 32] = (word + 32).to_bytes(32, "big")
            return data[:4] + bytes(body)
    raise AssertionError("no offset word found")


def compact_mutations(data: bytes, recipient: str) -> dict[str, Callable[[bytes], bytes]]:
    """Byte-level mutations of Odos swapCompact calldata (the packed layout has no ABI to re-encode)."""
    who = bytes.fromhex(recipient[2:].lower())
    at = data.find(who)
    assert at > 0
    sl = 49 + data[48] + 1 + data[49 + data[48]]  # the slippage follows the tokens and both amounts
    return {
        "compact_recipient_swapped": lambda d: d.replace(who, bytes.fromhex(ATTACKER[2:].lower())),
        "compact_recipient_from_storage": lambda d: d[:at - 2] + b"\x00\x05" + d[at + 20:],
        "compact_slippage_raised": lambda d: d[:sl] + (0x100000).to_bytes(3, "big") + d[sl + 3:],
        "compact_buy_token_swapped": lambda d: d[:28] + bytes.fromhex(OTHER_TOKEN[2:]) + d[48:],
        "compact_amount_raised": lambda d: d[:49] + b"\xff" + d[50:],
        "compact_trailing_byte": lambda d: d + b"\x00",
        "compact_path_longer": lambda d: d[:at + 24] + bytes([d[at + 24] + 1]) + d[at + 25:],
        "compact_path_shorter": lambda d: d[:at + 24] + bytes([d[at + 24] - 1]) + d[at + 25:],
        "compact_truncated": lambda d: d[:-5],
        "compact_quote_length_33": lambda d: d[:49 + d[48]] + b"\x21" + d[50 + d[48]:],
    }

