"""``sandbox up|down|env``: the local world as detached processes, remembered in a state directory.

``up`` starts two anvil chains (and the local aggregator server when it is available), loads each one's
saved world (``states.py``; deployed instead when its saved state is stale), and writes ``sandbox.env`` (what
``env`` prints) and ``state.json`` (what ``down`` stops).
``down`` stops exactly the processes ``up`` started: each PID is checked against its recorded command line
so a recycled PID is never killed.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.devtools.sandbox.anvil import AnvilProcess, free_port, pid_alive, stop_pid
from agent.devtools.sandbox.journal import retire_journal
from agent.devtools.sandbox.spec import CHAINS, SANDBOX_TARGETS, WALLET, ChainSpec
from agent.devtools.sandbox.states import start_replica, start_world
from agent.devtools.sandbox.world import World
from agent.errors import ConfigError, TemporaryError

log = logging.getLogger(__name__)


SANDBOX_BLOCK_INTERVAL_S = 1


def sandbox_dir() -> Path:
    return Path(os.environ.get("SANDBOX_DIR", ".sandbox")).resolve()


@dataclass(frozen=True)
class ManagedProcess:
    role: str
    pid: int
    cmdline: str
    url: str


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def read_state(directory: Path) -> list[ManagedProcess]:
    path = directory / "state.json"
    if not path.exists():
        return []
    return [ManagedProcess(**p) for p in json.loads(path.read_text())["processes"]]


def _write_state(directory: Path, procs: list[ManagedProcess]) -> None:
    (directory / "state.json").write_text(json.dumps({"processes": [asdict(p) for p in procs]}, indent=2))


def sandbox_env(worlds: list[World], aggregator_url: str | None, directory: Path) -> dict[str, str]:
    env = {
        "CHAINS": ",".join(w.spec.name for w in worlds),
        "TARGETS": SANDBOX_TARGETS,
        "WALLET_ADDRESS": WALLET,
        # anvil's public dev account 0, derived from its well-known mnemonic (sandbox only; never a real key)
        "SIGNER": "anvil:0",
        "SIGNER_EXPECTED_ADDRESS": WALLET,
        "JOURNAL_PATH": str(directory / "journal.sqlite"),
        "QUOTE_SOURCES": "onchain",
        # the sandbox vault is small (a few thousand USD): no minimum TVL for parking in it
        "VAULT_MIN_TVL_USD": "0",
        # the sandbox mines every second and the demo's replay packs minutes of market into a block: a split swap
        # goes as fast as its spacing allows (the default horizon, TWAP_MAX_CHUNKS x 3 blocks, would stretch it)
        "TWAP_HORIZON_S": "0",
    }
    for w in worlds:
        env[f"{w.chain.rpc_env}_RPC_URL"] = w.rpc_url
        env[f"{w.chain.rpc_env}_MAX_BASE_FEE_GWEI"] = "30"
        env[f"{w.chain.rpc_env}_HARD_CAP_GWEI"] = "150"
    if aggregator_url:
        # the local server speaks all five aggregator shapes for the sandbox chains
        env["QUOTE_SOURCES"] = "onchain,0x,1inch,paraswap,odos,kyberswap"
        env["ZEROX_API_URL"] = aggregator_url
        env["ONEINCH_API_URL"] = aggregator_url + "/swap/v6.0"
        env["PARASWAP_API_URL"] = aggregator_url
        env["ODOS_API_URL"] = aggregator_url
        env["KYBERSWAP_API_URL"] = aggregator_url
    return env


def _start_aggregator(worlds: list[World], directory: Path) -> ManagedProcess | None:
    if importlib.util.find_spec("agent.devtools.aggregator") is None:
        return None
    port = free_port()
    args = [sys.executable, "-m", "agent.devtools.aggregator", "--port", str(port)]
    for w in worlds:
        args += ["--chain", f"{w.spec.name}={w.rpc_url}"]
        args += ["--factory", f"{w.spec.name}={w.addresses.sushi_factory}"]
    with open(directory / "aggregator.log", "ab") as out:
        popen = subprocess.Popen(args, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    _wait_http(url, popen)
    return ManagedProcess("aggregator", popen.pid, _cmdline(popen.pid), url)


def _wait_http(url: str, popen: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise TemporaryError(f"the sandbox aggregator server exited at start (code {popen.returncode})")
        try:
            httpx.get(url + "/health", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TemporaryError("the sandbox aggregator server did not answer within 20 s")


def sandbox_up(directory: Path | None = None, specs: tuple[ChainSpec, ...] = CHAINS,
               with_aggregator: bool = True, mainnet_replica: bool = False,
               note: Callable[[str], None] = log.info) -> dict[str, str]:
    directory = directory or sandbox_dir()
    if any(pid_alive(p.pid) and _cmdline(p.pid) == p.cmdline for p in read_state(directory)):
        raise ConfigError(f"SANDBOX_DIR: a sandbox is already up in {directory}; run `rebalancer sandbox down` first")
    directory.mkdir(parents=True, exist_ok=True)
    moved = retire_journal(directory)  # a new sandbox is a new chain history: a fresh journal (#14)
    if moved is not None:
        note(f"sandbox up: a fresh journal; the previous sandbox's journal is kept as {moved}")
    procs: list[ManagedProcess] = []
    try:
        # the chains (and the replica) start side by side: each is mostly waiting on its own anvil
        with ThreadPoolExecutor(max_workers=len(specs) + 1) as pool:
            starting = [pool.submit(start_world, spec, detach=True, log_path=directory / f"{spec.name}.log")
                        for spec in specs]
            replica_start = (pool.submit(start_replica, detach=True, log_path=directory / "mainnet-replica.log")
                             if mainnet_replica else None)
        # every start has finished here: record each one that succeeded before raising one that failed,
        # so the cleanup below stops them all
        named = [(spec.name, f) for spec, f in zip(specs, starting, strict=True)]
        _record_started(named + ([("mainnet-replica", replica_start)] if replica_start else []), procs)
        _write_state(directory, procs)
        worlds = [_started_world(spec, future) for spec, future in zip(specs, starting, strict=True)]
        replica = _started_replica(replica_start) if replica_start else None
        agg = _start_aggregator(worlds, directory) if with_aggregator else None
        if agg:
            procs.append(agg)
            _write_state(directory, procs)
    except BaseException:
        for p in procs:
            stop_pid(p.pid)
        (directory / "state.json").unlink(missing_ok=True)
        raise
    env = sandbox_env(worlds, agg.url if agg else None, directory)
    if replica:
        env.update(replica_env(replica.url))
    (directory / "sandbox.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return env


def _record_started(named: list[tuple[str, Future[tuple[AnvilProcess, Any, bool]]]],
                    procs: list[ManagedProcess]) -> None:
    failed: BaseException | None = None
    for name, future in named:
        if (error := future.exception()) is not None:
            failed = failed or error
            continue
        anvil = future.result()[0]
        procs.append(ManagedProcess(f"anvil:{name}", anvil.pid, _cmdline(anvil.pid), anvil.url))
    if failed is not None:
        raise failed


def _started_world(spec: ChainSpec, future: Future[tuple[AnvilProcess, World, bool]]) -> World:
    """A chain whose start succeeded, set mining a block every second like a live chain."""
    anvil, world, loaded = future.result()
    if not loaded:
        log.warning("sandbox %s: its saved state is stale, deployed instead (slower); rebuild it with "
                    "`python -m agent.devtools.sandbox.states`", spec.name)
    # deployed with automine; from now on a block every second (gas waits and split swaps follow new blocks)
    anvil.rpc("evm_setIntervalMining", [SANDBOX_BLOCK_INTERVAL_S])
    return world


def _started_replica(future: Future[tuple[AnvilProcess, Any, bool]]) -> ManagedProcess:
    """The mainnet replica: a chain-id-1 anvil with the official builds at the real Ethereum addresses."""
    anvil, _replica, loaded = future.result()
    if not loaded:
        log.warning("mainnet replica: its saved state is stale, built instead (slower); rebuild it with "
                    "`python -m agent.devtools.sandbox.states`")
    return ManagedProcess("anvil:mainnet-replica", anvil.pid, _cmdline(anvil.pid), anvil.url)


def replica_env(url: str) -> dict[str, str]:
    """What `simulate --fork ethereum` needs; ethereum stays out of CHAINS (the sandbox runs without it)."""
    return {"ETHEREUM_RPC_URL": url, "ETHEREUM_MAX_BASE_FEE_GWEI": "30", "ETHEREUM_HARD_CAP_GWEI": "150"}


def sandbox_down(directory: Path | None = None) -> list[ManagedProcess]:
    directory = directory or sandbox_dir()
    stopped = []
    for p in read_state(directory):
        if pid_alive(p.pid) and _cmdline(p.pid) == p.cmdline:
            stop_pid(p.pid)
            stopped.append(p)
    (directory / "state.json").unlink(missing_ok=True)
    (directory / "sandbox.env").unlink(missing_ok=True)
    return stopped


def read_env(directory: Path | None = None) -> dict[str, str]:
    directory = directory or sandbox_dir()
    path = directory / "sandbox.env"
    if not path.exists():
        raise ConfigError(f"SANDBOX_DIR: no sandbox in {directory}; run `rebalancer sandbox up` first")
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
