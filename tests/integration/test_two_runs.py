"""Two real `rebalancer run` processes on one wallet (#14 item 5): the second exits at once with one line naming
the first one's PID (exit 3), on the same journal and on another journal with the same wallet and nodes.

The first run holds its locks while it waits on a node that accepts connections and never answers (a loopback
socket that is never accepted), so it is alive and busy the whole time; nothing is signed (dry run)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture
def silent_node() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections complete in the kernel's backlog; no request is ever read or answered
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def _env(tmp: Path, node: str, journal: str) -> dict[str, str]:
    return {**os.environ, "ENV_FILE": str(tmp / "none.env"), "CHAINS": "ethereum", "TARGETS": "ETH:50,USDC:50",
            "ETHEREUM_RPC_URL": node, "WALLET_ADDRESS": WALLET, "JOURNAL_PATH": str(tmp / journal),
            "XDG_RUNTIME_DIR": str(tmp / "run"), "RPC_TIMEOUT_S": "60", "RPC_ATTEMPTS": "1", "LOG_LEVEL": "ERROR"}


def _wait_for_lock(lock: Path, pid: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip() == str(pid):
            return
        time.sleep(0.1)
    raise AssertionError(f"the first run never took {lock}")


def test_a_second_run_exits_naming_the_first_ones_pid(tmp_path: Path, silent_node: str) -> None:
    (tmp_path / "none.env").write_text("")
    first = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--dry-run"],
                             env=_env(tmp_path, silent_node, "journal.sqlite"), cwd=REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_lock(tmp_path / "journal.sqlite.lock", first.pid)
        for journal, what in (("journal.sqlite", "journal"), ("other.sqlite", "wallet")):
            second = subprocess.run([sys.executable, "-m", "agent.cli", "run", "--once", "--dry-run"],
                                    env=_env(tmp_path, silent_node, journal), cwd=REPO_ROOT,
                                    capture_output=True, text=True, timeout=120)
            lines = second.stderr.strip().splitlines()
            assert second.returncode == 3, second.stderr
            assert len(lines) == 1 and f"another agent (PID {first.pid}) is running on this {what}" in lines[0]
            assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one is still running, untouched
    finally:
        first.kill()
        first.wait()
