"""JSON ABIs of the real protocols the agent talks to (abis/*.json).

Written from the protocols' published interfaces: ERC20, ERC4626, WETH9, Multicall3,
UniswapV2Router02, UniswapV2Pair, UniswapV2Factory, QuoterV2 and SwapRouter02 (Uniswap V3), Permit2
(core functions), the aggregator entry points the agent decodes (AllowanceHolder ``exec``, Settler
``execute``, AggregationRouterV6 ``swap``), the sandbox AggregatorRouter, and Solidity's built-in
``Error(string)``/``Panic(uint256)`` (SolidityErrors). ``agent.chain.abi.abi(name)`` speaks them.
The sandbox contracts are checked to contain every function and event of these ABIs
(tests/unit/test_artifacts.py), so code written against them works on the sandbox too.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from agent import REPO_ROOT
from agent.errors import ConfigError

ABI_DIR = REPO_ROOT / "abis"


@cache
def _read(name: str) -> tuple[dict[str, Any], ...]:
    path = ABI_DIR / f"{name}.json"
    try:
        return tuple(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        known = ", ".join(available_abis()) or "none"
        raise ConfigError(f"no ABI {name!r} at {path} (known: {known})") from None


def load_abi(name: str) -> list[dict[str, Any]]:
    """The ABI `name` (file stem in abis/, e.g. "ERC20"); a fresh copy the caller may modify."""
    return copy.deepcopy(list(_read(name)))


def available_abis() -> list[str]:
    return sorted(p.stem for p in ABI_DIR.glob("*.json"))
