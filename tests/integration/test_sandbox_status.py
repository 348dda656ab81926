"""Sandbox world on anvil → status across chains; an RPC killed mid-run; sandbox up/down process hygiene."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from web3 import Web3

from agent.chain.rpc import ChainRpc
from agent.config.settings import load_config
from agent.devtools.sandbox.anvil import pid_alive, start_anvil
from agent.devtools.sandbox.manager import read_state, sandbox_down, sandbox_up
from agent.devtools.sandbox.spec import CHAINS, WALLET, chain_spec
from agent.devtools.sandbox.world import deploy_world
from agent.errors import SafetyHalt
from agent.planning.allocation import compute_allocation
from agent.portfolio.reader import fetch_snapshot
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.anvil


def _config(env: dict[str, str]):
    return load_config(env, env_file=Path("/nonexistent"))


def test_committed_sandbox_chain_files_match_a_fresh_deployment(world, tmp_path: Path) -> None:
    for spec in CHAINS:
        anvil = start_anvil(chain_id=spec.chain_id)
        try:
            deploy_world(anvil.url, spec=spec, chains_dir=tmp_path)
        finally:
            anvil.stop()
        committed = (REPO_ROOT / "chains" / f"{spec.name}.toml").read_text()
        assert (tmp_path / f"{spec.name}.toml").read_text() == committed, (
            f"chains/{spec.name}.toml is stale: run `python -m agent.devtools.sandbox.world --write-chain-files`")


def test_status_reads_the_world_in_one_multicall(world) -> None:
    cfg = _config({"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": world.rpc_url, "TARGETS": "ETH:40,WBTC:30,USDC:30"})
    chain, cs = cfg.enabled()[0]
    snap = fetch_snapshot([ChainRpc(chain, cs)], WALLET)
    (cs_snap,) = snap.chains
    assert cs_snap.available and cs_snap.block and cs_snap.block > 0
    by_symbol = {h.symbol: h for h in cs_snap.holdings}
    spec = chain_spec("sandbox_a")
    assert by_symbol["ETH"].balance == spec.wallet["ETH"]
    assert by_symbol["WETH"].balance == spec.wallet["WETH"]
    assert by_symbol["WBTC"].balance == spec.wallet["WBTC"]
    assert by_symbol["USDC"].balance == spec.wallet["USDC"]
    # prices come from the pools, near the seeded prices, with the source named
    assert abs(by_symbol["WETH"].price.usd - 3000) < 3
    assert by_symbol["WETH"].price.source.startswith("uniswap_v2 getAmountsOut")
    assert abs(by_symbol["WBTC"].price.usd - 60000) < 60
    # depths from the same batch: the WETH/USDC pool holds $20M a side, the direct WETH/WBTC pool $5M
    assert abs(cs_snap.prices["WETH"].depth_usd - 20_000_000) < 200_000
    assert abs(cs_snap.pair_depths_usd["WETH/WBTC"] - 5_000_000) < 100_000
    # the vault position is valued through convertToAssets
    vault = by_symbol["sUSDC"]
    assert vault.kind == "vault" and vault.underlying_raw is not None
    assert vault.underlying_raw >= 5_000 * 10**6 - 1
    alloc = compute_allocation(snap, cfg.settings.targets)
    eth = alloc.asset("ETH")
    assert eth.weight_pct > 60 and eth.drift_pp > 20  # deliberately off-target
    assert abs(sum(a.weight_pct for a in alloc.assets) - 100) < Decimal("0.0001")


def test_vault_yield_shows_after_time_passes(world, anvil) -> None:
    cfg = _config({"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": world.rpc_url, "TARGETS": "ETH:40,WBTC:30,USDC:30"})
    rpc = ChainRpc(*cfg.enabled()[0])
    before = {h.symbol: h for h in fetch_snapshot([rpc], WALLET).chains[0].holdings}["sUSDC"].underlying_raw
    anvil.rpc("evm_increaseTime", [365 * 24 * 3600])
    anvil.rpc("evm_mine")
    after = {h.symbol: h for h in fetch_snapshot([rpc], WALLET).chains[0].holdings}["sUSDC"].underlying_raw
    assert after > before * 1.04  # ~5% a year


def test_wrong_chain_id_is_refused(world) -> None:
    cfg = _config({"CHAINS": "sandbox_b", "SANDBOX_B_RPC_URL": world.rpc_url, "TARGETS": "ETH:100"})
    with pytest.raises(SafetyHalt, match="chain id 31337"):
        fetch_snapshot([ChainRpc(*cfg.enabled()[0])], WALLET)


def test_missing_contract_code_is_refused(world, anvil) -> None:
    cfg = _config({"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": world.rpc_url, "TARGETS": "ETH:100"})
    anvil.rpc("anvil_setCode", [world.token("LINK"), "0x"])
    with pytest.raises(SafetyHalt, match="token LINK"):
        fetch_snapshot([ChainRpc(*cfg.enabled()[0])], WALLET)


def test_fallback_url_is_used_when_the_first_is_down(world) -> None:
    dead = "http://127.0.0.1:9/"
    cfg = _config({"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": f"{dead},{world.rpc_url}", "TARGETS": "ETH:100",
                   "RPC_ATTEMPTS": "2"})
    snap = fetch_snapshot([ChainRpc(*cfg.enabled()[0], attempts=2, backoff_s=0.01)], WALLET)
    [chain] = snap.chains
    assert chain.available and chain.error is None, chain.error
    live = Web3(Web3.HTTPProvider(world.rpc_url))
    assert chain.chain_id == live.eth.chain_id and chain.block is not None and 0 < chain.block <= live.eth.block_number
    eth = next(h for h in chain.holdings if h.symbol == "ETH")
    assert eth.balance_raw == live.eth.get_balance(WALLET, chain.block)  # read from the second URL

def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # the sandbox's own env file (an ENV_FILE that does not exist is now refused): the same values as ``env``
    full = {**os.environ, **env, "ENV_FILE": str(Path(env["JOURNAL_PATH"]).parent / "sandbox.env")}
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env=full, capture_output=True, text=True,
                          timeout=120, cwd=REPO_ROOT)


def test_sandbox_up_leaves_nothing_running_when_one_chain_fails_to_start(tmp_path: Path, monkeypatch) -> None:
    """The chains start side by side; one that fails must not leave the other's anvil behind, nor a state file."""
    from agent.devtools.sandbox import manager

    started = []

    def start_world(spec, **kw):
        if spec.name == "sandbox_a":  # the first one fails: the later one's start must still be stopped
            raise SafetyHalt("sandbox_a: its world could not be loaded")
        out = real_start_world(spec, **kw)
        started.append(out[0])
        return out

    real_start_world = manager.start_world
    monkeypatch.setattr(manager, "start_world", start_world)
    with pytest.raises(SafetyHalt, match="sandbox_a"):
        sandbox_up(tmp_path, with_aggregator=False)
    assert len(started) == 1 and started[0].popen.wait(timeout=10) is not None
    assert not pid_alive(started[0].pid)
    assert read_state(tmp_path) == [] and not (tmp_path / "sandbox.env").exists()


@pytest.mark.slow
def test_sandbox_up_status_kill_one_chain_down(tmp_path: Path) -> None:
    env = sandbox_up(tmp_path, with_aggregator=False)
    procs = read_state(tmp_path)
    try:
        assert {p.role for p in procs} == {"anvil:sandbox_a", "anvil:sandbox_b"}
        out = _cli({**env, "SANDBOX_DIR": str(tmp_path)}, "status", "--json")
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        assert [c["chain_id"] for c in doc["chains"]] == [31337, 31338]
        assert all(c["available"] for c in doc["chains"])
        assert doc["total_usd"] > 100_000
        # kill chain B's RPC mid-run: B is reported unavailable, A is still read
        b = next(p for p in procs if p.role == "anvil:sandbox_b")
        os.kill(b.pid, 9)
        out = _cli({**env, "RPC_ATTEMPTS": "1", "RPC_TIMEOUT_S": "2"}, "status", "--json")
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        chains = {c["chain"]: c for c in doc["chains"]}
        assert chains["sandbox_a"]["available"] and not chains["sandbox_b"]["available"]
        assert "no RPC endpoint answered" in chains["sandbox_b"]["error"]
        assert doc["total_usd"] > 0
        # never trade blind: plan and run refuse the partial view, name the chain and exit non-zero
        down_env = {**env, "RPC_ATTEMPTS": "1", "RPC_TIMEOUT_S": "2", "JOURNAL_PATH": str(tmp_path / "j.sqlite")}
        out = _cli(down_env, "plan")
        assert out.returncode == 1 and "sandbox_b" in out.stderr and "partial" in out.stderr
        assert len([ln for ln in out.stderr.splitlines() if ln.startswith("error:")]) == 1
        out = _cli(down_env, "plan", "--json")
        doc = json.loads(out.stdout)
        assert out.returncode == 1 and doc["partial"] is True and doc["unread"] == ["sandbox_b"]
        assert doc["actions"] == [] and doc["nothing_read"] is False
        out = _cli(down_env, "run", "--once", "--dry-run", "--json")
        assert out.returncode == 1 and "sandbox_b" in out.stderr and out.stdout, out.stderr[-2000:]
        doc = json.loads(out.stdout)
        assert doc["partial"] is True and doc["actions"] == [] and "partial" in doc["dropped_because"]
        # nothing readable at all: non-zero too
        a = next(p for p in procs if p.role == "anvil:sandbox_a")
        os.kill(a.pid, 9)
        out = _cli(down_env, "plan", "--json")
        assert out.returncode == 1 and json.loads(out.stdout)["nothing_read"] is True
        out = _cli(down_env, "run", "--once", "--dry-run")
        assert out.returncode == 1
    finally:
        sandbox_down(tmp_path)
    assert not any(pid_alive(p.pid) for p in procs)
    assert not (tmp_path / "state.json").exists()
