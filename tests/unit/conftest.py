"""tests/unit holds pure unit tests: no sockets, no processes (those belong in tests/integration or tests/chain).

The guard below makes that stay true: a test here that connects or binds a socket, or starts a process, fails
with one line naming what it did and where such a test belongs. ``make test-fast`` runs this directory.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator

import pytest

WHERE = "tests/unit must not {what}; move the test to tests/integration (sockets, processes) or tests/chain (EVM)"


class UnitTestBoundary(AssertionError):
    """A unit test reached outside the process."""


def _refuse(what: str):  # type: ignore[no-untyped-def]
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise UnitTestBoundary(WHERE.format(what=what))

    return refuse


@pytest.fixture(autouse=True)
def no_sockets_or_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("connect", "connect_ex", "bind", "listen", "sendto"):
        monkeypatch.setattr(socket.socket, name, _refuse(f"open a socket (socket.{name})"))
    monkeypatch.setattr(socket, "create_connection", _refuse("open a socket (socket.create_connection)"))
    monkeypatch.setattr(subprocess.Popen, "_execute_child", _refuse("start a process (subprocess)"))
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "execv", "execve"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _refuse(f"start a process (os.{name})"))
    yield
