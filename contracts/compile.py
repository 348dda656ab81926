"""Compile the project's own Vyper contracts into committed JSON artifacts, or check that they are current.

The only ones left are the local aggregator router and its shape adapters (no aggregator router can run
offline); every protocol the sandbox runs is an official build (contracts/official.py).

    python contracts/compile.py           # (re)write contracts/build/<Name>.json for every contracts/*.vy
    python contracts/compile.py --check   # exit 1 naming every stale, missing or orphaned artifact

Each artifact holds ``contract, abi, bytecode, deployed_bytecode`` (runtime code, without the
immutables the constructor appends), ``blueprint_bytecode`` (ERC-5202 blueprint deploy code; only for
contracts deployed from a blueprint, otherwise null), ``storage_layout``, ``source_sha256``,
``vyper_version``, ``evm_version`` and ``optimize``. The JSON is indented with sorted keys so diffs
stay readable. The compiler is pinned: a different vyper version is an error in both modes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.devtools.artifact_scripts import write_or_check

VYPER_VERSION = "0.4.3"
EVM_VERSION = "cancun"
OPTIMIZE = "gas"
#: Contracts that are also emitted as ERC-5202 blueprints (none since the V2 stand-ins went: the sandbox runs the
#: official Uniswap builds of contracts/build/official).
BLUEPRINTS: frozenset[str] = frozenset()

CONTRACTS_DIR = Path(__file__).resolve().parent
BUILD_DIR = CONTRACTS_DIR / "build"


class CompilerVersionError(RuntimeError):
    """The installed vyper is not the pinned version."""


def installed_vyper_version() -> str:
    try:
        import vyper
    except ImportError:
        return "none"
    return str(vyper.__version__).split("+")[0]


def require_pinned_vyper() -> None:
    found = installed_vyper_version()
    if found != VYPER_VERSION:
        raise CompilerVersionError(
            f"vyper {found} is installed but the artifacts are pinned to vyper=={VYPER_VERSION}; "
            f"install it with `pip install vyper=={VYPER_VERSION}` (or `make install`)"
        )


def compile_source(path: Path) -> dict[str, Any]:
    """Compile one .vy file into the artifact dict written to build/<Name>.json."""
    import vyper
    from vyper.compiler.settings import OptimizationLevel, Settings

    source = path.read_text(encoding="utf-8")
    name = path.stem
    formats = ["abi", "bytecode", "bytecode_runtime", "layout"]
    if name in BLUEPRINTS:
        formats.append("blueprint_bytecode")
    settings = Settings(evm_version=EVM_VERSION, optimize=OptimizationLevel.from_string(OPTIMIZE))
    out = vyper.compile_code(source, contract_path=path.name, output_formats=formats, settings=settings)
    return {
        "contract": name,
        "abi": out["abi"],
        "bytecode": out["bytecode"],
        "deployed_bytecode": out["bytecode_runtime"],
        "blueprint_bytecode": out.get("blueprint_bytecode"),
        "storage_layout": out["layout"],
        "source_sha256": hashlib.sha256(source.encode("utf-8")).hexdigest(),
        "vyper_version": VYPER_VERSION,
        "evm_version": EVM_VERSION,
        "optimize": OPTIMIZE,
    }


def render(artifact: dict[str, Any]) -> str:
    """The exact text written to disk (stable: sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def sources(contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    return sorted(contracts_dir.glob("*.vy"))


def build_all(contracts_dir: Path = CONTRACTS_DIR, build_dir: Path = BUILD_DIR) -> list[Path]:
    """Compile every source and write its artifact; returns the files written."""
    require_pinned_vyper()
    build_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources(contracts_dir):
        target = build_dir / f"{source.stem}.json"
        text = render(compile_source(source))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def check_artifacts(contracts_dir: Path = CONTRACTS_DIR, build_dir: Path = BUILD_DIR) -> list[str]:
    """Compare committed artifacts with a fresh compile; returns one problem line per bad artifact."""
    require_pinned_vyper()
    problems = []
    expected = set()
    for source in sources(contracts_dir):
        target = build_dir / f"{source.stem}.json"
        expected.add(target.name)
        if not target.exists():
            problems.append(f"{target}: missing (source {source.name})")
        elif target.read_text(encoding="utf-8") != render(compile_source(source)):
            problems.append(f"{target}: stale, does not match a fresh compile of {source.name}")
    for orphan in sorted(build_dir.glob("*.json")):
        if orphan.name not in expected:
            problems.append(f"{orphan}: orphaned, no contracts/{orphan.stem}.vy")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    return write_or_check(argv, description=__doc__.splitlines()[0], write=build_all, check=check_artifacts,
                          root=CONTRACTS_DIR.parent,
                          stale="artifacts are out of date: run `python contracts/compile.py`",
                          current=lambda: f"{len(sources())} artifacts match their sources (vyper {VYPER_VERSION})",
                          tool_error=CompilerVersionError)


if __name__ == "__main__":
    sys.exit(main())
