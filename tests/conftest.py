"""Shared fixtures: a sandbox world on a real anvil chain (reset between tests with evm_snapshot/evm_revert) and
the device simulators (Ledger, Trezor), each defined once here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from eth_account.signers.local import LocalAccount

from agent.devtools.sandbox.anvil import AnvilProcess
from agent.devtools.sandbox.spec import chain_spec

pytest_plugins = ["tests.backtest_paths"]  # the `real` closes fixture, shared by unit and integration

if TYPE_CHECKING:
    from agent.devtools.simulators.ledger_sim import LedgerSimulator, LedgerTcpServer
    from agent.devtools.simulators.trezor_sim import TrezorSimulator, TrezorUdpServer


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[tuple[AnvilProcess, object]]:
    from agent.devtools.sandbox.states import start_world

    anvil, world, _loaded = start_world(chain_spec("sandbox_a"))  # its saved state (deployed when stale)
    try:
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


# ------------------------------------------------------------------ device simulators (one definition each)
@pytest.fixture(scope="session")
def anvil_account() -> LocalAccount:
    """anvil's account 0: the key the Ledger and Trezor simulators hold (the test mnemonic)."""
    from agent.devtools.simulators.testkit import anvil_account_0

    return anvil_account_0()


@pytest.fixture
def ledger_sim() -> LedgerSimulator:
    """A fresh Ledger APDU simulator (Ethereum app open, unlocked) to plug in at the transport seam."""
    from agent.devtools.simulators.ledger_sim import LedgerSimulator

    return LedgerSimulator()


@pytest.fixture
def ledger_server(ledger_sim: LedgerSimulator) -> Iterator[LedgerTcpServer]:
    """``ledger_sim`` behind Speculos' TCP APDU framing on 127.0.0.1 (port 0); ``.env`` points a signer at it."""
    server = ledger_sim.serve_tcp()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def trezor_sim() -> TrezorSimulator:
    """A fresh Trezor wire-protocol-v1 simulator (needs trezorlib)."""
    pytest.importorskip("trezorlib")
    from agent.devtools.simulators.trezor_sim import TrezorSimulator

    return TrezorSimulator()


@pytest.fixture
def trezor_udp(trezor_sim: TrezorSimulator) -> Iterator[TrezorUdpServer]:
    """``trezor_sim`` over UDP like the Trezor emulator; ``.path`` is the TREZOR_PATH."""
    server = trezor_sim.serve_udp()
    try:
        yield server
    finally:
        server.close()
