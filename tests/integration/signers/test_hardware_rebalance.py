"""End to end: the agent rebalances the sandbox signing through the Ledger simulator over TCP (Speculos
framing) and through the Trezor wire-protocol simulator over UDP — the production signer code, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.config.settings import load_config
from agent.cycle.loop import run_cycle
from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil
from agent.devtools.sandbox.spec import WALLET, chain_spec
from agent.devtools.sandbox.world import deploy_world
from agent.devtools.simulators.ledger_sim import LedgerSimulator
from agent.devtools.simulators.trezor_sim import TrezorSimulator
from agent.journal.store import JournalStore
from agent.planning.allocation import compute_allocation
from agent.signers.factory import open_signer

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture
def fresh_world() -> Iterator[tuple[AnvilProcess, dict[str, str]]]:
    spec = chain_spec("sandbox_a")
    anvil = start_anvil(chain_id=spec.chain_id)
    try:
        deploy_world(anvil.url, spec=spec)
        anvil.rpc("evm_setIntervalMining", [1])  # blocks keep coming, as on a live chain (split swaps wait on them)
        yield anvil, {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": anvil.url, "TARGETS": "ETH:40,WBTC:30,USDC:30",
                      "QUOTE_SOURCES": "onchain", "VAULT_PARKING": "false", "SIGNER_EXPECTED_ADDRESS": WALLET,
                      # this test is about signing: one-shot swaps (splitting is tested elsewhere)
                      "MAX_IMPACT_BPS": "400", "MAX_QUOTE_DEVIATION_BPS": "400"}
    finally:
        anvil.stop()


def _rebalance(env: dict[str, str], signer_spec: str, tmp_path: Path) -> None:
    config = load_config(env, env_file=tmp_path / "none.env")
    signer = open_signer(signer_spec, expected_address=WALLET, env=env)
    try:
        assert signer.address == WALLET
        with JournalStore.open(tmp_path / "journal.sqlite") as journal:
            report = run_cycle(config, now=datetime.now(UTC), journal=journal, signer=signer)
    finally:
        close = getattr(signer, "close", None)
        if close:
            close()
    assert report.dropped_because is None, report.dropped_because
    assert report.actions and all(a.state == "confirmed" for a in report.actions)
    before = compute_allocation(report.snapshot_before, config.settings.targets)
    after = compute_allocation(report.snapshot_after, config.settings.targets)
    assert before.max_drift_pp > 20 and after.max_drift_pp < 5


def test_rebalance_signed_by_the_ledger_simulator_over_tcp(fresh_world, tmp_path: Path) -> None:
    _, env = fresh_world
    sim = LedgerSimulator()
    server = sim.serve_tcp()
    try:
        _rebalance({**env, **server.env}, "ledger:44'/60'/0'/0/0", tmp_path)
    finally:
        server.close()


def test_rebalance_signed_by_the_trezor_simulator(fresh_world, tmp_path: Path) -> None:
    _, env = fresh_world
    sim = TrezorSimulator()
    server = sim.serve_udp()
    try:
        _rebalance({**env, "TREZOR_PATH": server.path}, "trezor:m/44h/60h/0h/0/0", tmp_path)
    finally:
        server.close()
