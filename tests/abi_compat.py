"""ABI compatibility: what a sandbox contract's ABI lacks of the real protocol's ABI (used by unit and chain tests)."""

from __future__ import annotations

from typing import Any

from eth_utils import collapse_if_tuple


def _types(params: list[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(p) for p in params]


def _mutability_ok(real: str, ours: str) -> bool:
    reads = {"view", "pure"}
    return ours == real or (real in reads and ours in reads)


def compat_problems(ours: list[dict[str, Any]], real: list[dict[str, Any]]) -> list[str]:
    """What `ours` lacks of `real`: functions (inputs, outputs, mutability), events (types, indexed), fallback."""
    ours_fns = {(e["name"], tuple(_types(e["inputs"]))): e for e in ours if e["type"] == "function"}
    ours_events = {(e["name"], tuple(_types(e["inputs"]))): e for e in ours if e["type"] == "event"}
    problems = []
    for entry in real:
        kind = entry["type"]
        if kind in ("fallback", "receive"):
            if not any(e["type"] in ("fallback", "receive") and e["stateMutability"] == "payable" for e in ours):
                problems.append(f"no payable {kind}")
            continue
        key = (entry["name"], tuple(_types(entry["inputs"])))
        signature = f"{key[0]}({','.join(key[1])})"
        if kind == "function":
            mine = ours_fns.get(key)
            if mine is None:
                problems.append(f"missing function {signature}")
            elif _types(mine["outputs"]) != _types(entry["outputs"]):
                problems.append(f"{signature} returns {_types(mine['outputs'])}, real {_types(entry['outputs'])}")
            elif not _mutability_ok(entry["stateMutability"], mine["stateMutability"]):
                problems.append(f"{signature} is {mine['stateMutability']}, real {entry['stateMutability']}")
        elif kind == "event":
            mine = ours_events.get(key)
            if mine is None:
                problems.append(f"missing event {signature}")
            elif [p["indexed"] for p in mine["inputs"]] != [p["indexed"] for p in entry["inputs"]]:
                problems.append(f"event {signature} indexes different fields")
    return problems
