"""A counting HTTP proxy on 127.0.0.1: forwards JSON-RPC POSTs upstream and counts requests on the wire."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class CountingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests = 0
        self.rpc_calls = 0
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with proxy._lock:
                    proxy.requests += 1
                    proxy.rpc_calls += max(1, body.count(b'"method"'))
                r = proxy._client.post(proxy.upstream, content=body, headers={"Content-Type": "application/json"})
                self.send_response(r.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> CountingProxy:
        self._thread.start()
        return self

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.rpc_calls = 0

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
