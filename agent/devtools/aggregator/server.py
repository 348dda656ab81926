"""The local aggregator HTTP server: one port on 127.0.0.1 answering several real API shapes.

Paths (each API's base URL points at this server):
  GET  /health
  GET  /swap/allowance-holder/{price,quote}                      0x Swap API v2      (ZEROX_API_URL=<url>)
  GET  /swap/v6.0/{chainId}/{quote,swap,approve/spender,approve/allowance}
                                                                 1inch v6.0          (ONEINCH_API_URL=<url>/swap/v6.0)
  GET  /prices, POST /transactions/{network}                     ParaSwap v6.2       (PARASWAP_API_URL=<url>)
  POST /sor/quote/v2, POST /sor/assemble                         Odos v2             (ODOS_API_URL=<url>)
  GET  /{slug}/api/v1/routes, POST /{slug}/api/v1/route/build    KyberSwap           (KYBERSWAP_API_URL=<url>)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from agent.config.settings import safe_error
from agent.devtools.aggregator import api_others, api_zerox_oneinch
from agent.devtools.aggregator.chain_state import SandboxChain
from agent.devtools.aggregator.engine import ApiError, Engine

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000


def dispatch(engine: Engine, method: str, path: str, params: dict[str, str], body: Any) -> dict[str, Any]:
    parts = [p for p in path.split("/") if p]
    if method == "GET" and parts == ["health"]:
        return {"status": "ok", "chains": [v.config.chain_id for v in engine.views]}
    if method == "GET" and parts[:2] == ["swap", "allowance-holder"] and len(parts) == 3 \
            and parts[2] in ("price", "quote"):
        return api_zerox_oneinch.zerox(engine, parts[2], params)
    if method == "GET" and parts[:2] == ["swap", "v6.0"] and len(parts) >= 4:
        return api_zerox_oneinch.oneinch(engine, parts[2], "/".join(parts[3:]), params)
    if method == "GET" and parts == ["prices"]:
        return api_others.paraswap_prices(engine, params)
    if method == "POST" and len(parts) == 2 and parts[0] == "transactions":
        return api_others.paraswap_transactions(engine, parts[1], body)
    if method == "POST" and parts == ["sor", "quote", "v2"]:
        return api_others.odos_quote(engine, body)
    if method == "POST" and parts == ["sor", "assemble"]:
        return api_others.odos_assemble(engine, body)
    if method == "GET" and len(parts) == 4 and parts[1:] == ["api", "v1", "routes"]:
        return api_others.kyber_routes(engine, parts[0], params)
    if method == "POST" and len(parts) == 5 and parts[1:] == ["api", "v1", "route", "build"]:
        return api_others.kyber_build(engine, parts[0], body)
    raise ApiError(404, {"error": "Not Found", "message": f"no endpoint {method} {path}"})


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        body: Any = None
        try:
            if method == "POST":
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY:
                    raise ApiError(413, {"error": "body too large"})
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except json.JSONDecodeError:
                    raise ApiError(400, {"error": "body is not JSON"}) from None
            self._answer(200, dispatch(self.server.engine, method, url.path, params, body))
        except ApiError as exc:
            self._answer(exc.status, exc.body)
        except Exception as exc:  # a bug or an RPC failure: answer 500 like a real API would
            log.warning("aggregator %s %s failed: %s", method, url.path, safe_error(exc))
            self._answer(500, {"error": "Internal Server Error", "message": safe_error(exc)})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    engine: Engine


class AggregatorServer:
    """In-process server: ``AggregatorServer(chains).start()`` → ``.url``; ``.stop()``. Binds 127.0.0.1 only."""

    def __init__(self, chains: Sequence[SandboxChain], *, port: int = 0) -> None:
        self.engine = Engine(chains)
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.engine = self.engine
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The base-URL variables that point every client at this server."""
        return {"ZEROX_API_URL": self.url, "ONEINCH_API_URL": f"{self.url}/swap/v6.0", "PARASWAP_API_URL": self.url,
                "ODOS_API_URL": self.url, "KYBERSWAP_API_URL": self.url}

    def start(self) -> AggregatorServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="aggregator-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> AggregatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
