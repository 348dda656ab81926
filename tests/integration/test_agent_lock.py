"""One agent per wallet and journal: a second holder is refused with the first one's PID; death frees it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.journal.lock import AgentLock, AgentLocked

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER = "0x70997970C51812dc3A010C7d01b50e0d4dc79C8"


def _holder(journal: Path, wallet: str) -> subprocess.Popen[str]:
    code = ("import sys, time; from pathlib import Path; from agent.journal.lock import AgentLock; "
            f"AgentLock(Path({str(journal)!r}), {wallet!r}).acquire(); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_second_agent_on_the_same_journal_is_refused_naming_the_pid(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    journal = tmp_path / "journal.sqlite"
    proc = _holder(journal, WALLET)
    try:
        with pytest.raises(AgentLocked, match=rf"PID {proc.pid}\b.*journal"):
            AgentLock(journal, OTHER).acquire()
        with pytest.raises(AgentLocked, match=rf"PID {proc.pid}\b.*wallet"):
            AgentLock(tmp_path / "other.sqlite", WALLET.lower()).acquire()
        with AgentLock(tmp_path / "other.sqlite", OTHER):  # another journal and wallet: fine
            pass
    finally:
        proc.kill()
        proc.wait()
    time.sleep(0.05)
    with AgentLock(journal, WALLET):  # the kernel released the dead holder's locks
        pass


def test_release_frees_the_lock_in_process(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    first = AgentLock(tmp_path / "j.sqlite", WALLET).acquire()
    with pytest.raises(AgentLocked):
        AgentLock(tmp_path / "j.sqlite", WALLET).acquire()
    first.release()
    AgentLock(tmp_path / "j.sqlite", WALLET).acquire().release()


def test_the_wallet_lock_is_per_wallet_on_the_same_nodes(tmp_path: Path) -> None:
    """Two sandboxes (own anvils, same dev wallet) run side by side; the same wallet on the same nodes does not."""
    node_a, node_b = ["sandbox_a=http://127.0.0.1:8545"], ["sandbox_a=http://127.0.0.1:9545"]
    with AgentLock(tmp_path / "a.sqlite", WALLET, node_a), AgentLock(tmp_path / "b.sqlite", WALLET, node_b), \
            pytest.raises(AgentLocked, match="wallet"):
        AgentLock(tmp_path / "c.sqlite", WALLET.lower(), list(node_a)).acquire()
    lock = AgentLock(tmp_path / "d.sqlite", WALLET, ["x=https://k.example/SECRET123"])
    assert all("SECRET123" not in str(p) for p in lock.paths)  # only a hash of the nodes names the file
