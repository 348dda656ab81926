"""A loopback JSON-RPC proxy in front of a real node (anvil) that injects faults on the wire.

Every POST is forwarded upstream unless an armed fault says otherwise; requests and JSON-RPC calls are counted
(the bench's ``CountingProxy`` is this proxy with nothing armed). Faults:

* before forwarding (the node never sees the request): ``http_5xx`` (HTTP 503), ``timeout`` (hang past the client's
  timeout, then close), ``malformed`` (HTTP 200 with a body that is not JSON);
* rewriting the node's answer: ``stale_head`` (``eth_blockNumber`` answers the block number the proxy saw when the
  fault was armed), ``wrong_chain_id`` (``eth_chainId`` answers another chain's id);
* after forwarding — the lost replies of ``eth_sendRawTransaction``: the node has the transaction, the client does
  not learn it: ``send_error`` (a generic JSON-RPC -32000 error), ``send_502`` (HTTP 502), ``send_drop`` (the
  connection is closed without a reply), ``send_hang`` (no reply until the client gives up).

A fault is armed for requests whose method matches (``method=None``: any), skipping the first ``skip`` matches,
then hitting ``times`` of them (or every ``every``-th match). ``hits`` lists what was hit.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class Fault(StrEnum):
    HTTP_5XX = "http_5xx"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"
    STALE_HEAD = "stale_head"
    WRONG_CHAIN_ID = "wrong_chain_id"
    SEND_ERROR = "send_error"
    SEND_502 = "send_502"
    SEND_DROP = "send_drop"
    SEND_HANG = "send_hang"

    @property
    def forwards(self) -> bool:
        """The node sees the request (its answer is rewritten or lost)."""
        return self not in (Fault.HTTP_5XX, Fault.TIMEOUT, Fault.MALFORMED)


#: the modes that lose the reply of a forwarded ``eth_sendRawTransaction``
LOST_REPLIES = (Fault.SEND_ERROR, Fault.SEND_502, Fault.SEND_DROP, Fault.SEND_HANG)
#: the modes that hit any request
WIRE_FAULTS = (Fault.HTTP_5XX, Fault.TIMEOUT, Fault.MALFORMED, Fault.STALE_HEAD, Fault.WRONG_CHAIN_ID)
#: the methods whose answers ``stale_head`` and ``wrong_chain_id`` rewrite
REWRITES = {Fault.STALE_HEAD: "eth_blockNumber", Fault.WRONG_CHAIN_ID: "eth_chainId"}


@dataclass
class Arm:
    fault: Fault
    method: str | None = None
    skip: int = 0
    times: int = 1
    every: int = 0
    hang_s: float = 5.0
    seen: int = 0
    #: stale_head: the block number to keep answering
    frozen: int | None = None

    def matches(self, methods: list[str]) -> bool:
        wanted = self.method or REWRITES.get(self.fault)
        return wanted is None or wanted in methods

    def take(self) -> bool:
        """Count one matching request; True when the fault hits it."""
        self.seen += 1
        n = self.seen - self.skip
        if n <= 0:
            return False
        if self.every:
            return n % self.every == 0
        return n <= self.times


@dataclass
class _Stats:
    requests: int = 0
    rpc_calls: int = 0
    hits: list[tuple[str, str]] = field(default_factory=list)


class FaultProxy:
    """``FaultProxy(upstream).start()``; point the agent at ``proxy.url``; ``arm(...)`` / ``disarm()``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._stats = _Stats()
        self._arms: list[Arm] = []
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------------------------ control
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> int:
        return self._stats.requests

    @property
    def rpc_calls(self) -> int:
        return self._stats.rpc_calls

    @property
    def hits(self) -> list[tuple[str, str]]:
        """``(fault, method)`` of every request a fault hit."""
        with self._lock:
            return list(self._stats.hits)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def arm(self, fault: Fault | str, *, method: str | None = None, skip: int = 0, times: int = 1, every: int = 0,
            hang_s: float = 5.0) -> Arm:
        fault = Fault(fault)
        if fault in LOST_REPLIES and method is None:
            method = "eth_sendRawTransaction"
        arm = Arm(fault=fault, method=method, skip=skip, times=times, every=every, hang_s=hang_s)
        if fault == Fault.STALE_HEAD:
            arm.frozen = int(self._forward_one("eth_blockNumber", []), 16)
        with self._lock:
            self._arms.append(arm)
        return arm

    def disarm(self) -> None:
        with self._lock:
            self._arms.clear()

    def reset(self) -> None:
        with self._lock:
            self._stats = _Stats()
            self._arms.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    # ---------------------------------------------------------------------------- internals
    def _forward_one(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return self._client.post(self.upstream, json=body).json()["result"]

    def _pick(self, methods: list[str]) -> Arm | None:
        with self._lock:
            self._stats.requests += 1
            self._stats.rpc_calls += max(1, len(methods))
            for arm in self._arms:
                if arm.matches(methods) and arm.take():
                    self._stats.hits.append((str(arm.fault), ",".join(methods)))
                    return arm
        return None

    def forward(self, body: bytes) -> httpx.Response:
        return self._client.post(self.upstream, content=body, headers={"Content-Type": "application/json"})


def _methods(body: bytes) -> list[str]:
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    calls = doc if isinstance(doc, list) else [doc]
    return [str(c.get("method", "")) for c in calls if isinstance(c, dict)]


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            methods = _methods(body)
            arm = proxy._pick(methods)
            if arm is None:
                self._reply(proxy.forward(body))
                return
            fault = arm.fault
            if fault == Fault.HTTP_5XX:
                self._send(503, b'{"error": "service unavailable"}')
            elif fault == Fault.MALFORMED:
                self._send(200, b'{"jsonrpc": "2.0", "id": 1, "result": ')
            elif fault in (Fault.TIMEOUT, Fault.SEND_HANG):
                if fault == Fault.SEND_HANG:
                    proxy.forward(body)
                time.sleep(arm.hang_s)
                self._drop()
            elif fault in REWRITES:
                self._reply(proxy.forward(body), rewrite=arm, body=body)
            else:
                proxy.forward(body)  # the node has it; the reply is lost
                if fault == Fault.SEND_ERROR:
                    request_id = _first_id(body)
                    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32000, "message": "request failed"}}
                    self._send(200, json.dumps(error).encode())
                elif fault == Fault.SEND_502:
                    self._send(502, b"<html>502 Bad Gateway</html>", content_type="text/html")
                else:
                    self._drop()

        def _reply(self, r: httpx.Response, *, rewrite: Arm | None = None, body: bytes = b"") -> None:
            content = r.content
            if rewrite is not None and r.status_code == 200:
                content = _rewritten(rewrite, body, content)
            self._send(r.status_code, content)

        def _send(self, status: int, content: bytes, *, content_type: str = "application/json") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _drop(self) -> None:
            """Close the connection with no reply at all."""
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _first_id(body: bytes) -> Any:
    try:
        doc = json.loads(body)
    except ValueError:
        return 1
    return (doc[0] if isinstance(doc, list) and doc else doc).get("id", 1)


def _rewritten(arm: Arm, request: bytes, content: bytes) -> bytes:
    """The node's answer with ``eth_blockNumber`` (stale head) or ``eth_chainId`` (wrong chain) rewritten."""
    method = REWRITES[arm.fault]
    calls = json.loads(request)
    answers = json.loads(content)
    ids = {c.get("id") for c in (calls if isinstance(calls, list) else [calls])
           if isinstance(c, dict) and c.get("method") == method}
    for answer in answers if isinstance(answers, list) else [answers]:
        if isinstance(answer, dict) and answer.get("id") in ids and "result" in answer:
            if arm.fault == Fault.STALE_HEAD:
                answer["result"] = hex(arm.frozen or 0)
            else:
                answer["result"] = hex(int(answer["result"], 16) + 1)
    return json.dumps(answers).encode()
