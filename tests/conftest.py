"""Shared fixtures: a sandbox world on a real anvil chain, reset between tests with evm_snapshot/evm_revert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil
from agent.devtools.sandbox.spec import chain_spec


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[tuple[AnvilProcess, object]]:
    from agent.devtools.sandbox.world import deploy_world

    spec = chain_spec("sandbox_a")
    anvil = start_anvil(chain_id=spec.chain_id)
    try:
        world = deploy_world(anvil.url, spec=spec)
        yield anvil, world
    finally:
        anvil.stop()


@pytest.fixture
def world(sandbox_session: tuple[AnvilProcess, object]) -> Iterator[object]:
    """The deployed sandbox_a world; every change a test makes is reverted afterwards."""
    anvil, world = sandbox_session
    snap = anvil.rpc("evm_snapshot")
    try:
        yield world
    finally:
        anvil.rpc("evm_revert", [snap])
        # anvil keeps a pushed-up next base fee across evm_revert: calm it for the next test
        anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(10**9)])


@pytest.fixture
def anvil(sandbox_session: tuple[AnvilProcess, object]) -> AnvilProcess:
    return sandbox_session[0]
