"""`rebalancer simulate --fork ethereum --json` against the mainnet replica completes a rebalance."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from agent.chain.rpc import make_web3
from agent.commands import render
from agent.devtools.commands import simulate as simulate_command
from agent.devtools.sandbox.fork import balance_of
from agent.devtools.sandbox.replica import Replica
from agent.devtools.sandbox.spec import WALLET
from tests.fork.helpers import child_anvils, fork_env
from tests.integration.test_cli_80_columns import valid

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    simulate_command.register(app)
    return app


def test_simulate_fork_ethereum_rebalances_on_the_fork(replica: Replica) -> None:
    pytest.importorskip("agent.cycle.loop")
    before = set(child_anvils())
    env = fork_env(replica.rpc_url)
    env.pop("CHAINS")  # simulate narrows CHAINS to the forked chain itself
    result = CliRunner().invoke(_app(), ["simulate", "--fork", "ethereum", "--json"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    doc = json.loads(result.stdout)
    valid(doc, "simulate")  # docs/schema/rebalancer.schema.json
    assert all(t["source"] == t["quote_source"] for t in doc["trades"])  # the alias keeps its value
    assert {"chain", "fork_block", "funded", "plan", "trades", "allocation_before", "allocation_after",
            "gas_paid_usd"} <= set(doc)
    assert doc["chain"] == "ethereum" and doc["chain_id"] == 1
    assert doc["plan"]["rebalance"] is True and doc["plan"]["actions"]
    swaps = [t for t in doc["trades"] if t["kind"] == "swap"]
    assert swaps and all(t["state"] == "confirmed" for t in doc["trades"]), doc["trades"]
    assert all(any(o["purpose"] == "main" and o["status"] == "mined" for o in t["txs"]) for t in swaps)
    assert doc["gas_paid_usd"] > 0 and doc["dropped_because"] is None
    assert doc["gas_paid_usd"] > 0.05  # at the replica's mainnet-like base fee, not the few wei its build left
    assert doc["max_drift_pp_after"] < doc["max_drift_pp_before"]
    assert doc["max_drift_pp_after"] < 5  # inside the default threshold band
    # the fork's transactions stayed on the fork; its anvil is gone
    replica_w3 = make_web3(replica.rpc_url, timeout_s=30)
    assert replica_w3.eth.get_transaction_count(WALLET) == 0
    assert balance_of(replica_w3, replica.chain.token("WBTC").address, WALLET) == 0
    assert set(child_anvils()) == before


def test_simulate_human_output_shows_trades_and_allocation(replica: Replica) -> None:
    pytest.importorskip("agent.cycle.loop")
    env = fork_env(replica.rpc_url)
    with render.recording(80) as (out, _):  # what a person reads at 80 columns
        result = CliRunner().invoke(_app(), ["simulate", "--fork", "ethereum", "--fund", "ETH:1,USDC:9000"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    text = out.export_text(clear=False)
    assert "Trades" in text and "Allocation" in text and "USDC→" in text
    assert all(len(ln) <= 80 for ln in text.splitlines()) and "…" not in text, text
