"""Saved worlds: each sandbox chain and the mainnet replica built once and kept as anvil state.

Deploying a world (official Uniswap V2/V3 with positions, USDC behind its proxy, vaults …) takes seconds of
transactions; loading it into a fresh anvil (``anvil_loadState``, the RPC form of ``--load-state``) takes a
tenth of one. The states are committed in ``contracts/build/worlds``: ``<name>.state.json.gz`` (what
``anvil_dumpState`` gives, without the transaction bodies) and ``<name>.json`` (chain id, the deployed
addresses, the anvil version and the sha256 of the sources that define the world). A state whose sources
changed is stale: ``python -m agent.devtools.sandbox.states --check`` names it (``make test`` runs it) and
``python -m agent.devtools.sandbox.states`` rebuilds every world. Callers (``sandbox up``, the demo, the test
fixtures) load a fresh state and deploy when it is stale, so a stale state is never wrong, only slower.

The sources of a world: every artifact in contracts/build and contracts/build/official, the modules that
deploy and seed it (spec, world, pools, toml_render, replica, protocols, contracts), chains/ethereum.toml for
the replica, and the pinned anvil version. Block timestamps in a state are those of its build: after a load
the chain goes on at wall-clock time (a savings vault shows the interest of the days in between).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from agent.config.chains import load_chain
from agent.devtools.sandbox.anvil import ANVIL_VERSION, AnvilProcess, start_anvil
from agent.devtools.sandbox.spec import CHAINS, TOKENS, ChainSpec, DeployedAddresses, chain_spec
from agent.errors import SandboxError
from agent.resources import chains_dir, contracts_dir

REPLICA = "mainnet-replica"
#: the base fee a started world's next block gets: a deployment of ~165 one-transaction blocks leaves it at a few
#: wei, far below any chain's (a sandbox must be able to make the agent wait for gas, as a real chain does)
START_BASE_FEE_WEI = 10**9
STATES_DIR = contracts_dir() / "worlds"
_MODULES = ("agent.devtools.sandbox.spec", "agent.devtools.sandbox.world", "agent.devtools.sandbox.pools",
            "agent.devtools.sandbox.toml_render", "agent.devtools.protocols", "agent.devtools.contracts")


def module_file(module: str) -> Path:
    """The source file of ``module`` (found by the import system, so a wheel's copy as well as a checkout's)."""
    found = importlib.util.find_spec(module)
    if found is None or found.origin is None:
        raise SandboxError(f"saved worlds: no source for {module}")
    return Path(found.origin)


def _label(module: str) -> str:
    return module.replace(".", "/") + ".py"


def _sources(name: str) -> list[tuple[str, Path]]:
    build = contracts_dir()
    files = [(f"contracts/build/{p.name}", p) for p in sorted(build.glob("*.json"))]
    files += [(f"contracts/build/official/{p.name}", p) for p in sorted((build / "official").glob("*.json"))]
    files += [(_label(m), module_file(m)) for m in _MODULES]
    if name == REPLICA:
        replica = "agent.devtools.sandbox.replica"
        files += [(_label(replica), module_file(replica)), ("chains/ethereum.toml", chains_dir() / "ethereum.toml")]
    return files


def source_hash(name: str) -> str:
    """sha256 over the labelled contents of every source of world ``name`` (a sandbox chain or the replica)."""
    h = hashlib.sha256(f"anvil {ANVIL_VERSION}\n".encode())
    for label, path in _sources(name):
        h.update(f"{label}\n".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _meta_path(name: str, directory: Path) -> Path:
    return directory / f"{name}.json"


def _state_path(name: str, directory: Path) -> Path:
    return directory / f"{name}.state.json.gz"


def read_meta(name: str, directory: Path = STATES_DIR) -> dict[str, Any] | None:
    path = _meta_path(name, directory)
    if not path.is_file() or not _state_path(name, directory).is_file():
        return None
    meta: dict[str, Any] = json.loads(path.read_text())
    return meta


def fresh_meta(name: str, directory: Path = STATES_DIR) -> dict[str, Any] | None:
    """The saved world's metadata when its state matches today's sources, else None."""
    meta = read_meta(name, directory)
    return meta if meta is not None and meta.get("source_sha256") == source_hash(name) else None


def addresses_to_json(out: DeployedAddresses) -> dict[str, Any]:
    data = asdict(out)
    data["pairs"] = [[*key, pair] for key, pair in out.pairs.items()]
    data["v3_pools"] = [[*key, pool] for key, pool in out.v3_pools.items()]
    return data


def addresses_from_json(data: dict[str, Any]) -> DeployedAddresses:
    fields = dict(data)
    fields["pairs"] = {(v, a, b): pair for v, a, b, pair in data["pairs"]}
    fields["v3_pools"] = {(a, b, int(fee)): pool for a, b, fee, pool in data["v3_pools"]}
    return DeployedAddresses(**fields)


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    body = w3.provider.make_request(RPCEndpoint(method), params)
    if "error" in body:
        raise SandboxError(f"{method}: {body['error'].get('message', body['error'])}")
    return body.get("result")


def save_state(w3: Web3, name: str, meta: dict[str, Any], directory: Path = STATES_DIR) -> Path:
    """Dump the chain at ``w3`` (transaction bodies dropped: blocks, accounts and storage stay) as world ``name``."""
    state = json.loads(gzip.decompress(bytes.fromhex(str(_rpc(w3, "anvil_dumpState", []))[2:])))
    state["transactions"] = []
    directory.mkdir(parents=True, exist_ok=True)
    path = _state_path(name, directory)
    path.write_bytes(gzip.compress(json.dumps(state, sort_keys=True).encode(), mtime=0))
    full = {"name": name, "anvil": ANVIL_VERSION, "source_sha256": source_hash(name), **meta}
    _meta_path(name, directory).write_text(json.dumps(full, indent=2, sort_keys=True) + "\n")
    return path


def load_state(w3: Web3, name: str, directory: Path = STATES_DIR) -> None:
    """Load saved world ``name`` into the (fresh) anvil at ``w3``."""
    blob = _state_path(name, directory).read_bytes()
    if _rpc(w3, "anvil_loadState", ["0x" + blob.hex()]) is not True:
        raise SandboxError(f"anvil_loadState refused the saved world {name}")


def build_world_state(spec: ChainSpec, directory: Path = STATES_DIR) -> Path:
    from agent.devtools.sandbox.world import deploy_world

    anvil = start_anvil(chain_id=spec.chain_id)
    try:
        world = deploy_world(anvil.url, spec=spec)
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        return save_state(w3, spec.name, {"chain_id": spec.chain_id,
                                          "addresses": addresses_to_json(world.addresses)}, directory)
    finally:
        anvil.stop()


def build_replica_state(directory: Path = STATES_DIR) -> Path:
    from agent.devtools.sandbox.replica import REPLICA_CHAIN_ID, build_replica

    anvil = start_anvil(chain_id=REPLICA_CHAIN_ID)
    try:
        replica = build_replica(anvil.url)
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        return save_state(w3, REPLICA, {"chain_id": REPLICA_CHAIN_ID, "factory": replica.factory,
                                        "factory_v2": replica.factory_v2}, directory)
    finally:
        anvil.stop()


def all_names() -> list[str]:
    return [s.name for s in CHAINS] + [REPLICA]


def write_states(directory: Path = STATES_DIR, names: Sequence[str] | None = None) -> list[Path]:
    out = []
    for name in names or all_names():
        out.append(build_replica_state(directory) if name == REPLICA else build_world_state(chain_spec(name),
                                                                                             directory))
    return out


def check_states(directory: Path = STATES_DIR) -> list[str]:
    """One line per saved world that is missing or stale, naming the fix."""
    problems = []
    fix = "run `python -m agent.devtools.sandbox.states`"
    for name in all_names():
        meta = read_meta(name, directory)
        if meta is None:
            problems.append(f"{directory.name}/{name}: missing; {fix}")
        elif meta.get("source_sha256") != source_hash(name):
            problems.append(f"{directory.name}/{name}: stale (its sources changed); {fix}")
    return problems


def start_world(spec: ChainSpec, *, detach: bool = False, log_path: Path | None = None,
                directory: Path = STATES_DIR) -> tuple[AnvilProcess, Any, bool]:
    """A fresh anvil holding the world of ``spec``: loaded from its saved state when fresh, else deployed.

    Returns ``(anvil, world, loaded)``."""
    from agent.devtools.sandbox.world import World, deploy_world, world_chain

    anvil = start_anvil(chain_id=spec.chain_id, detach=detach, log_path=log_path)
    try:
        meta = fresh_meta(spec.name, directory) if spec.extra_tokens == 0 else None
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        if meta is None:
            world = deploy_world(anvil.url, spec=spec)
        else:
            load_state(w3, spec.name, directory)
            out = addresses_from_json(meta["addresses"])
            world = World(chain=world_chain(spec, list(TOKENS), out), rpc_url=anvil.url, spec=spec, addresses=out)
        _rpc(w3, "anvil_setNextBlockBaseFeePerGas", [hex(START_BASE_FEE_WEI)])
        return anvil, world, meta is not None
    except BaseException:
        anvil.stop()
        raise


def start_replica(*, detach: bool = False, log_path: Path | None = None,
                  directory: Path = STATES_DIR) -> tuple[AnvilProcess, Any, bool]:
    """A fresh chain-id-1 anvil holding the mainnet replica (loaded when its state is fresh, else built)."""
    from agent.devtools.sandbox.replica import REPLICA_CHAIN, REPLICA_CHAIN_ID, Replica, build_replica

    anvil = start_anvil(chain_id=REPLICA_CHAIN_ID, detach=detach, log_path=log_path)
    try:
        meta = fresh_meta(REPLICA, directory)
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        if meta is None:
            replica = build_replica(anvil.url)
            _rpc(w3, "anvil_setNextBlockBaseFeePerGas", [hex(START_BASE_FEE_WEI)])
            _rpc(w3, "evm_mine", [])
            return anvil, replica, False
        load_state(w3, REPLICA, directory)
        # one block on top of the loaded one, so a fork at head - 1 finds its state (anvil keeps the states of the
        # blocks it mines, not of those it loaded); at a mainnet-like base fee, not the few wei the build left, so a
        # fork simulation pays (and reports) gas
        _rpc(w3, "anvil_setNextBlockBaseFeePerGas", [hex(START_BASE_FEE_WEI)])
        _rpc(w3, "evm_mine", [])
        chain = load_chain(REPLICA_CHAIN)
        return anvil, Replica(rpc_url=anvil.url, chain=chain, factory=meta["factory"],
                              placed=chain.contract_addresses(), factory_v2=meta["factory_v2"]), True
    except BaseException:
        anvil.stop()
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.devtools.sandbox.states", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 naming every missing or stale saved world")
    parser.add_argument("names", nargs="*", help=f"worlds to rebuild (default all: {', '.join(all_names())})")
    args = parser.parse_args(argv)
    if args.check:
        problems = check_states()
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print(f"{len(all_names())} saved worlds match their sources")
        return 1 if problems else 0
    for path in write_states(names=args.names or None):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
