"""Compiled contract artifacts: the project's own Vyper contracts current with their sources and loadable; they
and the official builds the sandbox runs have every function and event of the ABIs the agent ships (abis/)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from agent.chain.abis import available_abis, load_abi
from agent.devtools.contracts import load_artifact, load_official
from agent.errors import ConfigError
from tests.abi_compat import compat_problems
from tests.paths import load_script

#: our Vyper contract -> real-protocol ABIs (abis/*.json) whose every function and event it must have
COMPATIBLE_WITH = {
    "AggregatorRouter": ["AggregatorRouter"],
}
#: official build the sandbox runs (contracts/build/official) -> the ABIs the agent drives it with
OFFICIAL_COMPATIBLE_WITH = {
    "SandboxToken": ["ERC20"],
    "FiatTokenV2_2": ["ERC20"],
    "WETH9": ["WETH9", "ERC20"],
    "SavingsVault": ["ERC4626", "ERC20"],
    "Multicall3": ["Multicall3"],
    "UniswapV2Pair": ["UniswapV2Pair", "ERC20"],
    "UniswapV2Factory": ["UniswapV2Factory"],
    "UniswapV2Router02": ["UniswapV2Router02"],
    "QuoterV2": ["QuoterV2"],
    "SwapRouter02": ["SwapRouter02"],
}


@pytest.fixture(scope="module")
def compile_module() -> ModuleType:
    return load_script("contracts/compile.py", "contracts_compile")


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
def test_committed_artifacts_match_a_fresh_compile(compile_module: ModuleType) -> None:
    assert compile_module.check_artifacts() == []


@pytest.fixture
def one_contract_tree(tmp_path: Path, compile_module: ModuleType) -> tuple[Path, Path]:
    """A copy of ShapeOdos.vy and its artifact, to tamper with."""
    src, build = tmp_path / "src", tmp_path / "build"
    src.mkdir()
    build.mkdir()
    shutil.copy(compile_module.CONTRACTS_DIR / "ShapeOdos.vy", src)
    shutil.copy(compile_module.BUILD_DIR / "ShapeOdos.json", build)
    assert compile_module.check_artifacts(src, build) == []
    return src, build


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
def test_check_names_an_artifact_whose_bytecode_was_edited(compile_module, one_contract_tree) -> None:
    src, build = one_contract_tree
    artifact = json.loads((build / "ShapeOdos.json").read_text())
    artifact["deployed_bytecode"] = artifact["deployed_bytecode"][:-2] + "00"
    (build / "ShapeOdos.json").write_text(compile_module.render(artifact))
    (problem,) = compile_module.check_artifacts(src, build)
    assert "ShapeOdos.json" in problem and "stale" in problem


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
def test_check_names_an_artifact_whose_source_changed(compile_module, one_contract_tree) -> None:
    src, build = one_contract_tree
    source = src / "ShapeOdos.vy"
    text = source.read_text()
    message = "ShapeOdos: a zero input amount (whole balance) is not supported"
    assert message in text
    source.write_text(text.replace(message, "ShapeOdos: no input amount"))
    (problem,) = compile_module.check_artifacts(src, build)
    assert "ShapeOdos.json" in problem and "stale" in problem


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
def test_check_reports_missing_and_orphaned_artifacts(compile_module, one_contract_tree) -> None:
    src, build = one_contract_tree
    (build / "ShapeOdos.json").rename(build / "Gone.json")
    problems = compile_module.check_artifacts(src, build)
    assert any("ShapeOdos.json" in p and "missing" in p for p in problems)
    assert any("Gone.json" in p and "orphaned" in p for p in problems)


def test_wrong_compiler_version_fails_the_check(compile_module, monkeypatch, capsys) -> None:
    monkeypatch.setattr(compile_module, "installed_vyper_version", lambda: "0.4.2")
    assert compile_module.main(["--check"]) == 1
    assert "vyper==0.4.3" in capsys.readouterr().err


def test_artifact_json_is_stable_text(compile_module) -> None:
    for path in sorted(compile_module.BUILD_DIR.glob("*.json")):
        text = path.read_text()
        assert text == compile_module.render(json.loads(text)), path.name


def test_load_artifact_gives_bytes_and_abi() -> None:
    router = load_artifact("AggregatorRouter")
    assert router.bytecode and router.deployed_bytecode and router.blueprint_bytecode is None
    assert router.vyper_version == "0.4.3"
    assert any(e.get("name") == "swap" for e in router.abi)


def test_only_our_own_contracts_are_vyper_and_the_stand_ins_are_gone(compile_module) -> None:
    """The aggregator router and its shapes stay ours (no aggregator router runs offline); protocols are official."""
    ours = sorted(p.stem for p in compile_module.CONTRACTS_DIR.glob("*.vy"))
    assert ours == ["AggregatorRouter", "ShapeKyber", "ShapeOdos", "ShapeOneInch"]
    for name in ("ERC20", "WETH9", "UniswapV2Pair", "QuoterV2", "SwapRouter02", "Vault4626", "Multicall3"):
        assert not (compile_module.BUILD_DIR / f"{name}.json").exists(), name


def test_unknown_artifact_and_abi_name_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"contracts/compile\.py"):
        load_artifact("NoSuchContract")
    with pytest.raises(ConfigError, match="known:"):
        load_abi("NoSuchAbi")


def test_load_abi_returns_a_private_copy() -> None:
    abi = load_abi("ERC20")
    abi.clear()
    assert load_abi("ERC20")


def test_every_real_abi_is_listed() -> None:
    expected = {"ERC20", "ERC4626", "Multicall3", "UniswapV2Router02", "UniswapV2Pair", "UniswapV2Factory"}
    assert expected | {"QuoterV2", "WETH9", "Permit2"} <= set(available_abis())


@pytest.mark.parametrize(("contract", "real_name"), [(c, r) for c, reals in COMPATIBLE_WITH.items() for r in reals])
def test_sandbox_contract_has_every_function_and_event_of_the_real_abi(contract: str, real_name: str) -> None:
    assert compat_problems(load_artifact(contract).abi, load_abi(real_name)) == []


@pytest.mark.parametrize(("contract", "real_name"),
                         [(c, r) for c, reals in OFFICIAL_COMPATIBLE_WITH.items() for r in reals])
def test_official_build_has_every_function_and_event_the_agent_calls(contract: str, real_name: str) -> None:
    assert compat_problems(load_official(contract).abi, load_abi(real_name)) == []


def test_compat_check_catches_differences() -> None:
    ours = load_official("SandboxToken").abi
    real = load_abi("ERC20")
    decimals = next(e for e in real if e.get("name") == "decimals")
    decimals["outputs"][0]["type"] = "uint256"
    real.append({"type": "function", "name": "permit", "inputs": [], "outputs": [], "stateMutability": "nonpayable"})
    real.append({"type": "receive", "stateMutability": "payable"})
    transfer_event = next(e for e in real if e["type"] == "event" and e["name"] == "Transfer")
    transfer_event["inputs"][2]["indexed"] = True
    problems = compat_problems(ours, real)
    assert len(problems) == 4, problems
