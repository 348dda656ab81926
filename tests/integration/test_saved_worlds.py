"""Saved worlds (contracts/build/worlds): fresh against their sources, checked like the artifacts, and a loaded world
is the deployed one (same addresses, chain file, balances and pools)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from web3 import Web3

from agent.config.chains import load_chain
from agent.devtools.contracts import official_at
from agent.devtools.sandbox import states
from agent.devtools.sandbox.spec import WALLET, chain_spec

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_committed_saved_worlds_match_their_sources() -> None:
    assert states.check_states() == []
    assert states.main(["--check"]) == 0


def test_check_names_a_stale_and_a_missing_world(tmp_path: Path) -> None:
    directory = tmp_path / "worlds"
    shutil.copytree(states.STATES_DIR, directory)
    meta_path = directory / "sandbox_b.json"
    meta = json.loads(meta_path.read_text())
    meta["source_sha256"] = "0" * 64  # as if world.py had changed since the state was saved
    meta_path.write_text(json.dumps(meta))
    (directory / "mainnet-replica.state.json.gz").unlink()
    problems = states.check_states(directory)
    assert len(problems) == 2
    assert "sandbox_b: stale" in problems[0] and "python -m agent.devtools.sandbox.states" in problems[0]
    assert "mainnet-replica: missing" in problems[1]
    assert states.fresh_meta("sandbox_b", directory) is None and states.fresh_meta("sandbox_a", directory)


def test_the_source_hash_follows_the_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = states.source_hash("sandbox_a")
    copy = tmp_path / "spec.py"
    copy.write_text(states.module_file("agent.devtools.sandbox.spec").read_text() + "\n# changed\n")
    monkeypatch.setattr(states, "_sources", lambda name: [("agent/devtools/sandbox/spec.py", copy)])
    changed = states.source_hash("sandbox_a")
    copy.write_text(copy.read_text() + "# again\n")
    assert len({before, changed, states.source_hash("sandbox_a")}) == 3


def _balances(w3: Web3, world: object) -> dict[str, int]:
    out = {sym: int(official_at(w3, "SandboxToken", addr).functions.balanceOf(WALLET).call())
           for sym, addr in world.addresses.tokens.items()}  # type: ignore[attr-defined]
    out["ETH"] = int(w3.eth.get_balance(WALLET))
    out["sUSDC"] = int(official_at(w3, "SavingsVault", world.addresses.vault).functions.balanceOf(WALLET).call())  # type: ignore[attr-defined]
    return out


def test_a_loaded_world_is_the_deployed_world(tmp_path: Path) -> None:
    spec = chain_spec("sandbox_a")
    loaded_anvil, loaded, was_loaded = states.start_world(spec)
    deployed_anvil, deployed, was_loaded_too = states.start_world(spec, directory=tmp_path)  # no saved state there
    try:
        assert was_loaded and not was_loaded_too
        assert loaded.addresses == deployed.addresses
        assert loaded.chain == deployed.chain == load_chain("sandbox_a")
        w3_loaded, w3_deployed = Web3(Web3.HTTPProvider(loaded.rpc_url)), Web3(Web3.HTTPProvider(deployed.rpc_url))
        assert _balances(w3_loaded, loaded) == _balances(w3_deployed, deployed)
        assert _balances(w3_loaded, loaded)["WETH"] == 20 * 10**18
        for (a, b, fee), pool in loaded.v3_pools.items():  # every V3 pool, with the same liquidity
            mine = official_at(w3_loaded, "UniswapV3Pool", pool).functions
            theirs = official_at(w3_deployed, "UniswapV3Pool", pool).functions
            assert mine.liquidity().call() == theirs.liquidity().call() > 0, (a, b, fee)
        assert w3_loaded.eth.get_transaction_count(loaded.deployer) == w3_deployed.eth.get_transaction_count(
            deployed.deployer)  # the deployer's nonce too: a later deployment lands where it would have
    finally:
        loaded_anvil.stop()
        deployed_anvil.stop()
