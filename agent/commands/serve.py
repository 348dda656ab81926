"""``rebalancer serve``: the web dashboard over the journal (127.0.0.1:8787 by default, DASHBOARD_ADDR).

Needs only the journal (JOURNAL_PATH or ``--path``). Any action (approve/reject) needs the token: DASHBOARD_TOKEN,
or one generated at start and printed once to stderr (never logged).
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import typer

from agent.commands.journal import journal_path
from agent.config.settings import read_environment
from agent.errors import ConfigError
from agent.journal.store import JournalStore

DEFAULT_ADDR = "127.0.0.1:8787"


def parse_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"DASHBOARD_ADDR: {addr!r} is not HOST:PORT; write e.g. {DEFAULT_ADDR}")
    return host.strip("[]"), int(port)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(addr: str | None = typer.Option(None, "--addr", help=f"HOST:PORT (default DASHBOARD_ADDR or "
                                                                   f"{DEFAULT_ADDR})"),
              path: Path | None = typer.Option(None, "--path", help="journal file (default JOURNAL_PATH)")) -> None:
        """The web dashboard: allocation, drift, approvals, trades, gas waits and TWAP, the journal."""
        import uvicorn

        from agent.operator.dashboard import build_app

        env = read_environment()
        host, port = parse_addr(addr or env.get("DASHBOARD_ADDR") or DEFAULT_ADDR)
        token = env.get("DASHBOARD_TOKEN") or ""
        if not token:
            token = secrets.token_urlsafe(24)
            print(f"dashboard token (shown once; set DASHBOARD_TOKEN to choose it): {token}", file=sys.stderr,
                  flush=True)
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"warning: the dashboard listens on {host}, not only this machine; put it behind TLS",
                  file=sys.stderr)
        file = journal_path(path)
        with JournalStore.open(file) as journal:
            shown = f"[{host}]" if ":" in host else host
            app_ = build_app(journal, token=token, allowed_hosts=sorted({"127.0.0.1", "localhost", "[::1]", host}))
            print(f"dashboard on http://{shown}:{port}/ (journal {file})", file=sys.stderr, flush=True)
            uvicorn.run(app_, host=host, port=port, log_level="warning", access_log=False)
