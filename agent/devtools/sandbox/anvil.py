"""Start and stop anvil processes on free loopback ports (the pinned npm build in ``.tools/``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from agent.errors import ConfigError, TemporaryError
from agent.signers.dev import DEV_MNEMONIC

#: The pinned npm build `make tools` installs beside a source checkout.
ANVIL_VERSION = "1.7.1"
INSTALL_HINT = (f"install it with `npm install --prefix .tools @foundry-rs/anvil@{ANVIL_VERSION}` "
                "(or `make tools` in a checkout), or set ANVIL_BIN to the anvil binary")
#: account 0 of DEV_MNEMONIC is the sandbox wallet. Public test keys only.


def _checkout_tools() -> Path | None:
    """``.tools/`` of the source checkout the package runs from (editable install), if it is one."""
    root = Path(__file__).resolve().parents[3]
    return root / ".tools" if (root / "pyproject.toml").is_file() and (root / ".tools").is_dir() else None


def _native(node_modules: Path) -> Path | None:
    """The platform binary inside an npm install of @foundry-rs/anvil (its ``.bin`` entry is a node shim)."""
    found = sorted((node_modules / "@foundry-rs").glob("anvil-*/bin/anvil"))
    return found[0] if found else None


def anvil_path() -> Path:
    """The anvil binary: ``ANVIL_BIN``, else ``.tools`` of the checkout or of the working directory, else PATH.

    The npm ``.bin`` entry is a node shim that spawns the platform binary as a child; we run the binary
    directly so the PID we record is anvil's own (``down`` must stop it)."""
    if os.environ.get("ANVIL_BIN"):
        path = Path(os.environ["ANVIL_BIN"])
        if not path.is_file():
            raise ConfigError(f"ANVIL_BIN: no anvil binary at {path}; {INSTALL_HINT}")
        return path
    for tools in (_checkout_tools(), Path.cwd() / ".tools"):  # the checkout's, then the hint's `--prefix .tools`
        if tools and (native := _native(tools / "node_modules")):
            return native
    on_path = shutil.which("anvil")
    if on_path:
        real = Path(on_path).resolve()
        # an npm shim on PATH (.../node_modules/@foundry-rs/anvil/bin.mjs): use the binary it would spawn
        shim_modules = real.parents[2] if real.suffix == ".mjs" and len(real.parents) > 2 else None
        return (_native(shim_modules) if shim_modules else None) or Path(on_path)
    raise ConfigError(f"ANVIL_BIN: anvil not found (not set, not in .tools, not on PATH); {INSTALL_HINT}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AnvilProcess:
    """One running anvil. ``stop()`` ends exactly this process (and waits for it)."""

    pid: int
    port: int
    chain_id: int
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rpc(self, method: str, params: list[object] | None = None) -> object:
        payload: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
        r = requests.post(self.url, json=payload, timeout=30)
        body = r.json()
        if "error" in body:
            raise TemporaryError(f"anvil {method}: {body['error'].get('message')}")
        return body["result"]

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_alive(self.pid)

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.popen is not None:
            if self.popen.poll() is None:
                self.popen.terminate()
                try:
                    self.popen.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    self.popen.kill()
                    self.popen.wait(timeout_s)
            return
        stop_pid(self.pid, timeout_s)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def stop_pid(pid: int, timeout_s: float = 10.0) -> None:
    if not pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def start_anvil(*, chain_id: int, port: int | None = None, block_time_s: float | None = None,
                fork_url: str | None = None, fork_block: int | None = None, detach: bool = False,
                log_path: Path | None = None, extra_args: list[str] | None = None) -> AnvilProcess:
    """Start anvil on 127.0.0.1 and wait until it answers. ``detach`` leaves it running after we exit."""
    port = port or free_port()
    args = [str(anvil_path()), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id),
            "--mnemonic", DEV_MNEMONIC, "--accounts", "10", "--balance", "1000000", "--silent"]
    if block_time_s:
        args += ["--block-time", str(block_time_s)]
    if fork_url:
        args += ["--fork-url", fork_url]
        if fork_block is not None:
            args += ["--fork-block-number", str(fork_block)]
    args += extra_args or []
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    popen = subprocess.Popen(args, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                             start_new_session=detach)
    proc = AnvilProcess(pid=popen.pid, port=port, chain_id=chain_id, popen=popen)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise TemporaryError(f"anvil exited at start (code {popen.returncode}); port {port} may be taken")
        try:
            if int(str(proc.rpc("eth_chainId")), 16) == chain_id:
                return proc
        except (requests.RequestException, TemporaryError, ValueError):
            time.sleep(0.05)
    proc.stop()
    raise TemporaryError(f"anvil did not answer on port {port} within 30 s")
