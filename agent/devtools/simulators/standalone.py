"""The standalone entry point both simulators share (``python -m agent.devtools.simulators.ledger_sim`` /
``trezor_sim``): ``--host`` / ``--port``, start the server, say where it listens, serve until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Sequence
from typing import Protocol


class Server(Protocol):
    def banner(self) -> list[str]: ...

    def close(self) -> None: ...


def serve_until_interrupted(argv: Sequence[str] | None, *, description: str, default_port: int,
                            start: Callable[[str, int], Server]) -> None:
    """``start(host, port)`` returns the running server; its ``banner()`` says how to reach it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args(argv)
    server = start(args.host, args.port)
    for line in server.banner():
        print(line, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.close()
