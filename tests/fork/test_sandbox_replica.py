"""`sandbox up --mainnet-replica`: a detached replica anvil, in sandbox.env as ETHEREUM_RPC_URL, stopped by down."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from agent.chain.rpc import make_web3
from agent.config.chains import load_chain
from agent.devtools.sandbox.anvil import pid_alive
from agent.devtools.sandbox.manager import read_env, read_state, sandbox_down, sandbox_up
from agent.devtools.sandbox.spec import chain_spec

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_sandbox_up_with_mainnet_replica_and_down(tmp_path: Path) -> None:
    try:
        env = sandbox_up(tmp_path, specs=(chain_spec("sandbox_b"),), with_aggregator=False, mainnet_replica=True)
        assert env["CHAINS"] == "sandbox_b"  # ethereum is not a sandbox chain
        assert read_env(tmp_path)["ETHEREUM_RPC_URL"] == env["ETHEREUM_RPC_URL"]
        w3 = make_web3(env["ETHEREUM_RPC_URL"], timeout_s=30)
        assert w3.eth.chain_id == 1
        usdc = load_chain("ethereum").token("USDC").address
        assert w3.eth.get_code(Web3.to_checksum_address(usdc))
        procs = {p.role: p for p in read_state(tmp_path)}
        assert "anvil:mainnet-replica" in procs and pid_alive(procs["anvil:mainnet-replica"].pid)
    finally:
        stopped = sandbox_down(tmp_path)
    assert {p.role for p in stopped} == {"anvil:sandbox_b", "anvil:mainnet-replica"}
    assert not any(pid_alive(p.pid) for p in stopped)
