"""Official builds: reproducible from the pinned npm packages, self-consistent, and what abis/*.json describes."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from eth_utils import collapse_if_tuple, keccak

from agent.chain.abis import load_abi
from agent.devtools.contracts import load_official
from agent.errors import ConfigError
from tests.paths import REPO_ROOT, load_script

#: abis/<name>.json -> the official artifact it must agree with exactly (names, types, outputs, mutability)
ABI_OF = {
    "ERC20": "SandboxToken",  # OpenZeppelin's ERC20
    "ERC4626": "SandboxVault",  # OpenZeppelin's ERC4626
    "UniswapV2Factory": "UniswapV2Factory",
    "UniswapV2Pair": "UniswapV2Pair",
    "UniswapV2Router02": "UniswapV2Router02",
    "QuoterV2": "QuoterV2",
    "SwapRouter02": "SwapRouter02",
    "WETH9": "WETH9",
}


@pytest.fixture(scope="module")
def official() -> ModuleType:
    return load_script("contracts/official.py", "contracts_official")


@pytest.fixture(scope="module")
def fresh(official: ModuleType) -> dict[str, dict[str, Any]]:
    return dict(official.build_artifacts())


def test_committed_official_artifacts_are_reproducible_from_the_pinned_packages(official, tmp_path) -> None:
    assert official.check_all() == []


def test_check_names_a_tampered_missing_or_orphaned_artifact(official, fresh, tmp_path: Path) -> None:
    for name, artifact in fresh.items():
        (tmp_path / f"{name}.json").write_text(official.render(artifact))
    assert official.check_all(tmp_path) == []
    pair = json.loads((tmp_path / "UniswapV2Pair.json").read_text())
    pair["bytecode"] = pair["bytecode"][:-2] + "00"
    (tmp_path / "UniswapV2Pair.json").write_text(official.render(pair))
    (tmp_path / "WETH9.json").rename(tmp_path / "Gone.json")
    problems = official.check_all(tmp_path)
    assert any("UniswapV2Pair.json" in p and "stale" in p and "@uniswap/v2-core" in p for p in problems)
    assert any("WETH9.json" in p and "missing" in p for p in problems)
    assert any("Gone.json" in p and "orphaned" in p for p in problems)


def test_every_artifact_records_where_it_came_from(fresh) -> None:
    pinned = json.loads((REPO_ROOT / ".tools" / "package.json").read_text())["dependencies"]
    for name, artifact in fresh.items():
        prov = artifact["provenance"]
        if prov["kind"] == "npm":
            assert prov["version"] == pinned[prov["package"]], name
            assert (REPO_ROOT / ".tools" / "node_modules" / prov["package"] / prov["file"]).exists()
        elif prov["kind"] == "solc":
            assert prov["compiler"].startswith(f"solc-js {pinned['solc']}"), name
            assert prov["imports"]["@openzeppelin/contracts"] == pinned["@openzeppelin/contracts"]
        else:
            assert name == "Multicall3" and "mds1/multicall" in prov["published"]


def test_routers_hard_code_the_init_code_hash_of_the_shipped_pair_and_pool(official, fresh) -> None:
    assert official.init_code_hash_problems(fresh) == []
    v2 = keccak(bytes.fromhex(fresh["UniswapV2Pair"]["bytecode"][2:])).hex()
    v3 = keccak(bytes.fromhex(fresh["UniswapV3Pool"]["bytecode"][2:])).hex()
    # the mainnet values: the npm builds are byte-identical to what mainnet runs
    assert v2 == "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
    assert v3 == "e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
    doctored = dict(fresh, UniswapV2Pair=dict(fresh["UniswapV2Pair"], bytecode=fresh["UniswapV2Pair"]["bytecode"]
                                                                                     + "00"))
    (problem, problem2) = official.init_code_hash_problems(doctored)
    assert "UniswapV2Router02" in problem and "SwapRouter02" in problem2


def test_multicall3_presigned_transaction_creates_the_canonical_address(fresh) -> None:
    m = fresh["Multicall3"]["provenance"]
    assert (m["sender"], m["address"]) == ("0x05f32B3cC3888453ff71B01135B34FF8e41263F2",
                                           "0xcA11bde05977b3631167028862bE2a173976CA11")
    assert len(fresh["Multicall3"]["deployed_bytecode"]) // 2 - 1 == 0xEE0


def test_loader_links_libraries_and_names_a_missing_one() -> None:
    descriptor = load_official("NonfungibleTokenPositionDescriptor")
    with pytest.raises(ConfigError, match="NFTDescriptor"):
        descriptor.linked_bytecode({})
    library = "0x" + "ab" * 20
    linked = descriptor.linked_bytecode({"NFTDescriptor": library})
    (spot,) = descriptor.link_references["contracts/libraries/NFTDescriptor.sol"]["NFTDescriptor"]
    assert linked[spot["start"]:spot["start"] + 20] == bytes.fromhex("ab" * 20)
    with pytest.raises(ConfigError, match=r"contracts/official\.py"):
        load_official("NoSuchContract")


def _types(params: list[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(p) for p in params]


def abi_differences(ours: list[dict[str, Any]], real: list[dict[str, Any]]) -> list[str]:
    """Every function/event of `ours` must be in `real` with the same outputs, mutability and indexing."""
    index = {(e["name"], tuple(_types(e["inputs"]))): e for e in real if e["type"] in ("function", "event")}
    problems = []
    for entry in ours:
        if entry["type"] not in ("function", "event"):
            continue
        key = (entry["name"], tuple(_types(entry["inputs"])))
        signature = f"{key[0]}({','.join(key[1])})"
        theirs = index.get(key)
        if theirs is None:
            problems.append(f"{signature} is not in the official build")
        elif entry["type"] == "event":
            if [p["indexed"] for p in entry["inputs"]] != [p["indexed"] for p in theirs["inputs"]]:
                problems.append(f"event {signature} indexes different fields")
        elif _types(entry["outputs"]) != _types(theirs["outputs"]):
            problems.append(f"{signature} returns {_types(entry['outputs'])}, official {_types(theirs['outputs'])}")
        elif entry["stateMutability"] != theirs["stateMutability"]:
            problems.append(f"{signature} is {entry['stateMutability']}, official {theirs['stateMutability']}")
    return problems


@pytest.mark.parametrize(("abi_name", "artifact"), sorted(ABI_OF.items()))
def test_abis_agree_with_the_official_build(abi_name: str, artifact: str) -> None:
    assert abi_differences(load_abi(abi_name), load_official(artifact).abi) == []


def test_abi_check_catches_a_pure_getter_the_real_build_has_as_view() -> None:
    ours = load_abi("UniswapV2Pair")
    name = next(e for e in ours if e.get("name") == "name")
    name["stateMutability"] = "pure"  # what abis/UniswapV2Pair.json said before it was checked
    assert abi_differences(ours, load_official("UniswapV2Pair").abi) == ["name() is pure, official view"]
