"""Helpers shared by the fork-tier tests."""

from __future__ import annotations

import tempfile
from pathlib import Path

#: an empty .env (ENV_FILE must name a file that exists: a missing one is an error since #14 item 9)
NO_ENV_FILE = Path(tempfile.gettempdir()) / "rebalancer-tests-empty.env"


def fork_env(url: str, **extra: str) -> dict[str, str]:
    """A minimal environment whose ETHEREUM_RPC_URL is ``url`` (an empty .env file is read)."""
    NO_ENV_FILE.touch()
    return {"CHAINS": "ethereum", "TARGETS": "ETH:40,WBTC:30,USDC:30", "ETHEREUM_RPC_URL": url,
            "ETHEREUM_MAX_BASE_FEE_GWEI": "30", "ENV_FILE": str(NO_ENV_FILE), **extra}


def solidity_balance_token(slot: int) -> bytes:
    """Runtime code answering any call with ``sload(keccak(pad(arg0) ‖ pad(slot)))``: a token whose balances
    sit in a Solidity mapping at ``slot`` (hand-assembled; enough for ``balanceOf(address)``)."""
    assert 0 <= slot < 256
    return bytes([
        0x60, 0x04, 0x35,              # PUSH1 4, CALLDATALOAD         -> holder word
        0x60, 0x00, 0x52,              # PUSH1 0, MSTORE               mem[0:32] = holder
        0x60, slot, 0x60, 0x20, 0x52,  # PUSH1 slot, PUSH1 32, MSTORE  mem[32:64] = slot
        0x60, 0x40, 0x60, 0x00, 0x20,  # PUSH1 64, PUSH1 0, SHA3       keccak(mem[0:64])
        0x54,                          # SLOAD
        0x60, 0x00, 0x52,              # PUSH1 0, MSTORE
        0x60, 0x20, 0x60, 0x00, 0xF3,  # PUSH1 32, PUSH1 0, RETURN
    ])


def vyper_balance_token(slot: int) -> bytes:
    """As ``solidity_balance_token`` with Vyper's mapping layout: ``sload(keccak(pad(slot) ‖ pad(arg0)))``."""
    assert 0 <= slot < 256
    return bytes([
        0x60, 0x04, 0x35,              # PUSH1 4, CALLDATALOAD         -> holder word
        0x60, 0x20, 0x52,              # PUSH1 32, MSTORE              mem[32:64] = holder
        0x60, slot, 0x60, 0x00, 0x52,  # PUSH1 slot, PUSH1 0, MSTORE   mem[0:32] = slot
        0x60, 0x40, 0x60, 0x00, 0x20,  # PUSH1 64, PUSH1 0, SHA3       keccak(mem[0:64])
        0x54,                          # SLOAD
        0x60, 0x00, 0x52,              # PUSH1 0, MSTORE
        0x60, 0x20, 0x60, 0x00, 0xF3,  # PUSH1 32, PUSH1 0, RETURN
    ])


def child_anvils() -> list[int]:
    """PIDs of anvil processes this test process started and that are still running."""
    import os

    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            comm = fields[0].split("(", 1)[1]
            state, ppid = fields[1].split()[:2]
        except (OSError, IndexError, ValueError):
            continue
        if comm == "anvil" and int(ppid) == os.getpid() and state != "Z":
            out.append(int(stat.parent.name))
    return out
