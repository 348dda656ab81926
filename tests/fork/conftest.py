"""Fork-tier fixtures: one mainnet replica (chain id 1, the official builds at the real Ethereum addresses) per
session; tests fork it with a second anvil or change it only between evm_snapshot/evm_revert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.devtools.sandbox.anvil import AnvilProcess
from agent.devtools.sandbox.replica import Replica
from agent.devtools.sandbox.states import start_replica


@pytest.fixture(scope="session")
def replica_session() -> Iterator[tuple[AnvilProcess, Replica]]:
    anvil, replica, _loaded = start_replica()  # its saved state (built when stale)
    try:
        yield anvil, replica
    finally:
        anvil.stop()


@pytest.fixture
def replica(replica_session: tuple[AnvilProcess, Replica]) -> Iterator[Replica]:
    """The replica; whatever a test changes on it directly is reverted afterwards."""
    anvil, rep = replica_session
    snap = anvil.rpc("evm_snapshot")
    try:
        yield rep
    finally:
        anvil.rpc("evm_revert", [snap])
