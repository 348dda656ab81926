"""A real local HTTP server that speaks JSON-RPC from a script: each request takes the next scripted answer.

An answer is ``(http_status, json_body_or_None, delay_s)``; ``result(...)``/``error(...)``/``http(...)`` build
them. The ``id`` of the request is echoed. Answers past the script repeat the last one. Every request is kept
(``requests``) so tests can count attempts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, Any] | None, float]


def result(value: Any) -> Answer:
    return 200, {"jsonrpc": "2.0", "result": value}, 0.0


def error(code: int, message: str, data: str | None = None, *, status: int = 200) -> Answer:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return status, {"jsonrpc": "2.0", "error": err}, 0.0


def http(status: int, body: dict[str, Any] | None = None) -> Answer:
    return status, body, 0.0


def slow(answer: Answer, delay_s: float) -> Answer:
    return answer[0], answer[1], delay_s


@dataclass
class Script:
    answers: list[Answer]
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, request: dict[str, Any]) -> Answer:
        with self.lock:
            self.requests.append(request)
            index = min(len(self.requests) - 1, len(self.answers) - 1)
            return self.answers[index]

    def methods(self) -> list[str]:
        return [r.get("method", "") for r in self.requests]


@contextmanager
def jsonrpc_server(*answers: Answer) -> Iterator[tuple[str, Script]]:
    """``(url, script)`` of a server on 127.0.0.1 answering with ``answers`` in order."""
    script = Script(list(answers))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            status, body, delay = script.next(request if isinstance(request, dict) else {"batch": request})
            if delay:
                time.sleep(delay)
            if body is not None and isinstance(request, dict):
                body = {**body, "id": request.get("id")}
            payload = json.dumps(body).encode() if body is not None else b"error"
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json" if body is not None else "text/plain")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                pass

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()
