"""A real local HTTP server (127.0.0.1, port 0) that answers each path with scripted responses.

Used to serve the aggregators' real response shapes — and hostile ones — to the real clients over HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Canned:
    status: int = 200
    body: bytes | dict[str, Any] | list[Any] = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/json"

    def raw(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any


class CannedServer:
    """``server.on("GET", "/path", Canned(...), Canned(...))``: answers in order, repeating the last one."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Canned]] = {}
        self.seen: list[Seen] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _go(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                outer.seen.append(Seen(method, url.path, dict(parse_qsl(url.query)),
                                       {k.lower(): v for k, v in self.headers.items()},
                                       json.loads(raw) if raw else None))
                queue = outer.routes.get((method, url.path))
                answer = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Canned(404, {"error": "nf"})
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                body = answer.raw()
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", answer.content_type)
                    self.send_header("content-length", str(len(body)))
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._go("GET")

            def do_POST(self) -> None:
                self._go("POST")

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (timeout tests) is expected

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def on(self, method: str, path: str, *answers: Canned) -> None:
        self.routes[(method, path)] = list(answers)

    def start(self) -> CannedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def requests_to(self, path: str) -> Iterator[Seen]:
        return (s for s in self.seen if s.path == path)
