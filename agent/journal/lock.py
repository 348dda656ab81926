"""One agent per wallet and journal: exclusive ``flock`` locks held for the life of the process.

``AgentLock(journal_path, wallet)`` locks ``<journal>.lock`` beside the journal and a per-user
``wallet-<address>.lock`` (in ``$XDG_RUNTIME_DIR`` or the temp directory), writing this process's PID into
both. A second agent on either gets ``AgentLocked`` naming the holder's PID; the kernel drops the locks
when the process dies, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from types import TracebackType

from agent.errors import SafetyHalt


class AgentLocked(SafetyHalt):
    """Another agent holds the journal or the wallet."""


def _runtime_dir() -> Path:
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"rebalancer-{os.getuid()}"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    return base


class AgentLock:
    def __init__(self, journal_path: Path, wallet: str) -> None:
        self.paths = (Path(f"{journal_path}.lock"), _runtime_dir() / f"wallet-{wallet.lower()}.lock")
        self._fds: list[int] = []

    def acquire(self) -> AgentLock:
        for path, what in zip(self.paths, ("journal", "wallet"), strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
                os.close(fd)
                self.release()
                raise AgentLocked(f"another agent (PID {holder}) is running on this {what} ({path}); stop it "
                                  "first, or give this one its own JOURNAL_PATH and wallet") from None
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            self._fds.append(fd)
        return self

    def release(self) -> None:
        for fd in self._fds:
            os.close(fd)  # closing drops the flock
        self._fds = []

    def __enter__(self) -> AgentLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
