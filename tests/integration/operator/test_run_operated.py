"""`rebalancer run` as a service on the sandbox: the trade's webhook message arrives at a local HTTP server (with
the full transaction hash), /metrics is scraped while the loop runs, /healthz answers, SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.devtools.sandbox.manager import sandbox_down, sandbox_up
from tests.integration.operator.test_dashboard_browser import free_port
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = sandbox_up(tmp_path)
    try:
        yield {**env, "ENV_FILE": str(tmp_path / "sandbox.env")}
    finally:
        sandbox_down(tmp_path)


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict[str, Any]], int]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield got, server.server_address[1]
    server.shutdown()


def wait_for(pred: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.5)
    return False


def test_run_notifies_exposes_metrics_and_stops_on_sigterm(sandbox: dict[str, str], webhook: Any,
                                                           tmp_path: Path) -> None:
    got, port = webhook
    metrics = f"127.0.0.1:{free_port()}"
    env = {**os.environ, **sandbox, "NOTIFY_URLS": f"json://127.0.0.1:{port}/hook", "METRICS_ADDR": metrics,
           "RUN_INTERVAL_S": "3600", "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    log_file = (tmp_path / "stderr.log").open("w+")  # INFO logs would fill a pipe and block the agent
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--json"], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=log_file, text=True)
    try:
        assert wait_for(lambda: any("trade(s) confirmed" in m["title"] for m in got) or proc.poll() is not None,
                        400), got
        assert proc.poll() is None, (tmp_path / "stderr.log").read_text()[-2000:]
        trade = next(m for m in got if "trade(s) confirmed" in m["title"])
        hashes = [w for w in trade["message"].split() if w.startswith("0x")]
        assert hashes and all(len(h) == 66 for h in hashes)
        assert any("daily summary" in m["title"] for m in got)

        text = httpx.get(f"http://{metrics}/metrics", timeout=5).text
        assert 'rebalancer_cycles_total{outcome="rebalanced"} 1.0' in text
        assert 'rebalancer_chain_up{chain="sandbox_a"} 1.0' in text
        assert "rebalancer_portfolio_value_usd " in text
        assert 'rebalancer_trades_total{chain="sandbox_a",kind="swap",state="confirmed"}' in text
        assert httpx.get(f"http://{metrics}/healthz", timeout=5).json()["ok"] is True

        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    log_file.seek(0)
    err = log_file.read()
    assert proc.returncode == 143, err[-2000:]  # 128 + SIGTERM: a clean stop (docs/exit-codes.md)
    assert json.loads(out)["actions"]  # the cycle's document was printed before the stop
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert logs and all({"ts", "level", "logger", "msg"} <= set(d) for d in logs)
    assert f"127.0.0.1:{port}" not in err  # the notification URL is never logged
