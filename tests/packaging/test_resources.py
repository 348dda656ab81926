"""Run-time files come from the package (importlib.resources), never from the repository root; CHAINS_DIR wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import resources
from agent.chain.abis import available_abis, load_abi
from agent.config.chains import available_chains, default_chains_dir
from agent.config.settings import load_config
from agent.errors import ConfigError
from tests.paths import REPO_ROOT

ENV = {"CHAINS": "ethereum", "ETHEREUM_RPC_URL": "https://eth.example/rpc", "TARGETS": "ETH:50,USDC:50"}


@pytest.mark.parametrize(("name", "directory", "pattern"), [
    ("chains", "chains", "*.toml"), ("abis", "abis", "*.json"), ("data", "data", "*.csv"),
    ("contracts", "contracts/build", "*.json")])
def test_editable_install_maps_each_resource_onto_its_top_level_directory(name: str, directory: str,
                                                                          pattern: str) -> None:
    found = resources.resource_dir(name)
    assert found == REPO_ROOT / directory  # the checkout's own files: an edit shows at once
    assert sorted(p.name for p in found.glob(pattern)) == sorted(p.name for p in (REPO_ROOT / directory).glob(pattern))
    assert list(found.glob(pattern))


def test_loaders_read_the_packaged_files() -> None:
    assert default_chains_dir() == resources.chains_dir()
    assert {"ethereum", "sandbox_a", "sandbox_b"} <= set(available_chains())
    assert "ERC20" in available_abis()
    assert any(item.get("name") == "transfer" for item in load_abi("ERC20"))
    assert resources.data_file("prices_daily_2014-2025.csv").is_file()


def test_unknown_resource_is_one_clear_line() -> None:
    with pytest.raises(ConfigError, match=r"no packaged resource 'nope' \(known: chains, abis, data, contracts\)"):
        resources.resource_dir("nope")


def test_default_chains_dir_is_the_packaged_one() -> None:
    cfg = load_config(ENV, env_file=Path("/nonexistent"))
    assert cfg.settings.chains_dir == resources.chains_dir()
    assert cfg.chains["ethereum"].chain_id == 1


def test_chains_dir_override_still_wins(tmp_path: Path) -> None:
    text = (resources.chains_dir() / "ethereum.toml").read_text()
    assert "block_time_s = 12\n" in text
    (tmp_path / "ethereum.toml").write_text(text.replace("block_time_s = 12\n", "block_time_s = 7\n", 1))
    cfg = load_config({**ENV, "CHAINS_DIR": str(tmp_path)}, env_file=Path("/nonexistent"))
    assert cfg.settings.chains_dir == tmp_path
    assert cfg.chains["ethereum"].block_time_s == 7
    assert load_config(ENV, env_file=Path("/nonexistent")).chains["ethereum"].block_time_s == 12
    with pytest.raises(ConfigError, match=r"unknown chain .base. \(no .*base.toml\); known chains: ethereum"):
        load_config({**ENV, "CHAINS": "base", "BASE_RPC_URL": "https://b.example", "CHAINS_DIR": str(tmp_path)},
                    env_file=Path("/nonexistent"))


def test_nothing_in_the_agent_resolves_the_repository_root() -> None:
    # the one allowed look beside the package: anvil in the .tools/ of a source checkout (devtools only)
    allowed = {"agent/devtools/sandbox/anvil.py"}
    offenders = [str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "agent").rglob("*.py")
                 if ("REPO_ROOT" in p.read_text() or "Path(__file__)" in p.read_text())
                 and str(p.relative_to(REPO_ROOT)) not in allowed]
    assert offenders == []
