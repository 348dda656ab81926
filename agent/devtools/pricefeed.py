"""A local HTTP server speaking the CoinGecko ``market_chart`` shape, for tests and the sandbox (127.0.0.1).

``PriceFeedServer(series).start()`` serves ``/coins/{id}/market_chart?vs_currency=usd&days=N`` from
``series`` (coin id -> [(datetime, price)]), the last N days before the newest point; ``bodies`` overrides
the answer for a coin id with raw bytes (hostile or malformed answers); every request's headers are kept in
``seen`` so a test can check where an API key travelled.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class PriceFeedServer:
    def __init__(self, series: Mapping[str, Sequence[tuple[datetime, float]]],
                 bodies: Mapping[str, bytes] | None = None, status: int = 200) -> None:
        self.series = dict(series)
        self.bodies = dict(bodies or {})
        self.status = status
        self.seen: list[dict[str, Any]] = []
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/api/v3"

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes]:
        parts = [p for p in path.split("/") if p]
        if len(parts) != 5 or parts[:3] != ["api", "v3", "coins"] or parts[4] != "market_chart":
            return 404, b'{"error":"not found"}'
        coin = parts[3]
        if coin in self.bodies:
            return self.status, self.bodies[coin]
        if coin not in self.series:
            return 404, b'{"error":"coin not found"}'
        points = self.series[coin]
        days = int(query.get("days", "1"))
        start = points[-1][0] - timedelta(days=days) if points else None
        rows = [[int(t.timestamp() * 1000), p] for t, p in points if start is None or t >= start]
        return self.status, json.dumps({"prices": rows, "market_caps": [], "total_volumes": []}).encode()

    def start(self) -> PriceFeedServer:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                split = urlsplit(self.path)
                query = dict(parse_qsl(split.query))
                feed.seen.append({"path": split.path, "query": query, "headers": dict(self.headers)})
                status, body = feed.answer(split.path, query)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> PriceFeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
