"""The Prometheus endpoint scraped over real HTTP; /healthz turns 503 after a halt."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.errors import ConfigError
from agent.operator.metrics import Metrics, serve_metrics
from agent.quotes.models import QuoteResult

DOC = {"cycle_id": 1, "at": "2026-06-01T12:00:00+00:00", "total_usd_after": 237000.5, "dropped_because": None,
       "approval": None,
       "actions": [{"kind": "swap", "chain": "sandbox_a", "sell": "WETH", "buy": "USDC", "amount_raw": "5",
                    "state": "confirmed", "tx_hashes": ["0x" + "11" * 32], "gas_paid_wei": "4200000000000"}],
       "allocation_after": [{"symbol": "ETH", "weight_pct": 41.0, "drift_pp": 1.0, "target_pct": 40, "usd": 1}],
       "chains": [{"chain": "sandbox_a", "chain_id": 31337, "available": True, "block": 120, "error": None},
                  {"chain": "sandbox_b", "chain_id": 31338, "available": False, "block": None, "error": "down"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(addr: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://{addr}/metrics", timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_scrape_has_the_portfolio_trades_gas_quotes_and_chains() -> None:
    m = Metrics(interval_s=60)
    addr = f"127.0.0.1:{free_port()}"
    server = serve_metrics(m, addr)
    try:
        m.on_cycle(DOC, in_flight=2, pending_approvals=1)
        m.on_quotes(SimpleNamespace(results=[QuoteResult(source="0x", valid=False, check="timeout"),
                                             QuoteResult(source="0x", valid=False, check="timeout"),
                                             QuoteResult(source="onchain", valid=True)]))
        got = scrape(addr)
        assert got[("rebalancer_portfolio_value_usd", ())] == 237000.5
        assert got[("rebalancer_weight_pct", (("asset", "ETH"),))] == 41.0
        assert got[("rebalancer_drift_pp", (("asset", "ETH"),))] == 1.0
        assert got[("rebalancer_cycles_total", (("outcome", "rebalanced"),))] == 1
        assert got[("rebalancer_trades_total", (("chain", "sandbox_a"), ("kind", "swap"),
                                                ("state", "confirmed")))] == 1
        assert got[("rebalancer_gas_spent_wei_total", (("chain", "sandbox_a"),))] == 4.2e12
        assert got[("rebalancer_quote_failures_total", (("reason", "timeout"), ("source", "0x")))] == 2
        assert ("rebalancer_quote_failures_total", (("reason", "timeout"), ("source", "onchain"))) not in got
        assert got[("rebalancer_chain_up", (("chain", "sandbox_b"),))] == 0
        assert got[("rebalancer_chain_block", (("chain", "sandbox_a"),))] == 120
        assert got[("rebalancer_in_flight_transactions", ())] == 2
        assert got[("rebalancer_pending_approvals", ())] == 1
        health = httpx.get(f"http://{addr}/healthz", timeout=5)
        assert health.status_code == 200 and health.json()["ok"] is True
        m.on_halt("SafetyHalt: x")
        assert httpx.get(f"http://{addr}/healthz", timeout=5).status_code == 503
        assert scrape(addr)[("rebalancer_halted", ())] == 1
    finally:
        server.shutdown()


def test_busy_port_is_a_config_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(ConfigError, match="METRICS_ADDR"):
            serve_metrics(Metrics(), f"127.0.0.1:{s.getsockname()[1]}")
