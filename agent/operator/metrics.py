"""Prometheus metrics (prometheus-client) and a health endpoint, served on ``METRICS_ADDR``.

``/metrics`` is the Prometheus text format; ``/healthz`` is JSON, 200 while the loop is healthy (a cycle finished
within three run intervals and no halt), 503 otherwise. Fed from the cycle documents the run loop produces,
from every quote round (``agent.quotes.best.LISTENERS``) and from the journal (in-flight transactions).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

log = logging.getLogger(__name__)


class Metrics:
    """The agent's metrics in their own registry (so tests and several agents in one process do not collide)."""

    def __init__(self, *, interval_s: float = 300.0) -> None:
        r = self.registry = CollectorRegistry()
        self.interval_s = interval_s
        self.value = Gauge("rebalancer_portfolio_value_usd", "Portfolio value in USD", registry=r)
        self.weight = Gauge("rebalancer_weight_pct", "Asset weight in % of the portfolio", ["asset"], registry=r)
        self.target = Gauge("rebalancer_target_pct", "Asset target in %", ["asset"], registry=r)
        self.drift = Gauge("rebalancer_drift_pp", "Asset drift from target in percentage points", ["asset"],
                           registry=r)
        self.cycles = Counter("rebalancer_cycles", "Cycles by outcome", ["outcome"], registry=r)
        self.trades = Counter("rebalancer_trades", "Executed actions by chain, kind and state",
                              ["chain", "kind", "state"], registry=r)
        self.gas = Counter("rebalancer_gas_spent_wei", "Gas paid in wei of the chain's native coin", ["chain"],
                           registry=r)
        self.quote_failures = Counter("rebalancer_quote_failures", "Quotes that failed or were rejected",
                                      ["source", "reason"], registry=r)
        self.chain_up = Gauge("rebalancer_chain_up", "1 when the chain was readable in the last cycle", ["chain"],
                              registry=r)
        self.chain_block = Gauge("rebalancer_chain_block", "Block of the last snapshot", ["chain"], registry=r)
        self.in_flight = Gauge("rebalancer_in_flight_transactions", "Signed transactions whose outcome is unknown",
                               registry=r)
        self.pending_approvals = Gauge("rebalancer_pending_approvals", "Plans waiting for approval", registry=r)
        self.last_cycle = Gauge("rebalancer_last_cycle_timestamp_seconds", "Unix time the last cycle ended",
                                registry=r)
        self.halted = Gauge("rebalancer_halted", "1 after a safety halt", registry=r)
        self._last_cycle_at: float | None = None
        self._halt: str | None = None

    # ------------------------------------------------------------------------------------ feeding
    def on_cycle(self, doc: dict[str, Any], *, in_flight: int = 0, pending_approvals: int = 0) -> None:
        self.value.set(float(doc["total_usd_after"]))
        for a in doc["allocation_after"]:
            self.weight.labels(a["symbol"]).set(float(a["weight_pct"]))
            self.target.labels(a["symbol"]).set(float(a.get("target_pct", 0)))
            self.drift.labels(a["symbol"]).set(float(a["drift_pp"]))
        self.cycles.labels(cycle_outcome(doc)).inc()
        for a in doc["actions"]:
            self.trades.labels(a["chain"], a["kind"], a["state"]).inc()
            self.gas.labels(a["chain"]).inc(int(a.get("gas_paid_wei") or 0))
        for c in doc.get("chains", []):
            self.chain_up.labels(c["chain"]).set(1 if c["available"] else 0)
            if c.get("block") is not None:
                self.chain_block.labels(c["chain"]).set(int(c["block"]))
        self.in_flight.set(in_flight)
        self.pending_approvals.set(pending_approvals)
        self._last_cycle_at = time.time()
        self.last_cycle.set(self._last_cycle_at)

    def on_quotes(self, best: Any) -> None:
        for r in best.results:
            if not r.valid:
                self.quote_failures.labels(r.source, r.check or "unknown").inc()

    def on_halt(self, why: str) -> None:
        self.halted.set(1)
        self._halt = why
        self.cycles.labels("halted").inc()

    # ------------------------------------------------------------------------------------ reading
    def health(self) -> dict[str, Any]:
        age = None if self._last_cycle_at is None else time.time() - self._last_cycle_at
        stale = age is not None and age > 3 * self.interval_s
        ok = self._halt is None and not stale
        return {"ok": ok, "halted": self._halt, "last_cycle_age_s": None if age is None else round(age, 1),
                "max_age_s": 3 * self.interval_s}

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


def cycle_outcome(doc: dict[str, Any]) -> str:
    if doc.get("dropped_because"):
        return "dropped"
    approval = doc.get("approval")
    if approval and approval.get("status") in ("requested", "pending", "rejected"):
        return "awaiting_approval"
    return "rebalanced" if doc["actions"] else "held"


class _Handler(BaseHTTPRequestHandler):
    metrics: Metrics

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/metrics":
            self._send(200, CONTENT_TYPE_LATEST, self.metrics.render())
        elif self.path.split("?")[0] == "/healthz":
            doc = self.metrics.health()
            self._send(200 if doc["ok"] else 503, "application/json", json.dumps(doc).encode())
        else:
            self._send(404, "text/plain", b"not found: try /metrics or /healthz\n")

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("metrics: " + fmt, *args)


def serve_metrics(metrics: Metrics, addr: str) -> ThreadingHTTPServer:
    """Start ``/metrics`` and ``/healthz`` on ``HOST:PORT`` in a daemon thread; returns the server (shutdown())."""
    host, _, port = addr.rpartition(":")
    handler = type("MetricsHandler", (_Handler,), {"metrics": metrics})
    try:
        server = ThreadingHTTPServer((host.strip("[]"), int(port)), handler)
    except OSError as exc:
        from agent.errors import ConfigError

        raise ConfigError(f"METRICS_ADDR: cannot listen on {addr} ({exc.strerror}); pick a free HOST:PORT") from exc
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics on http://%s/metrics", addr)
    return server
