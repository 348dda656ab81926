"""Fork-tier fixtures: one mainnet replica (chain id 1, sandbox contracts at the real Ethereum addresses) per
session; tests fork it with a second anvil or change it only between evm_snapshot/evm_revert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil
from agent.devtools.sandbox.replica import REPLICA_CHAIN_ID, Replica, build_replica


@pytest.fixture(scope="session")
def replica_session() -> Iterator[tuple[AnvilProcess, Replica]]:
    anvil = start_anvil(chain_id=REPLICA_CHAIN_ID)
    try:
        yield anvil, build_replica(anvil.url)
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
