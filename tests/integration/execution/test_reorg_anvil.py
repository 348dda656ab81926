"""A receipt waits for ``<CHAIN>_CONFIRMATIONS`` blocks; a reorg that drops the transaction gets the same signed
bytes rebroadcast, so the swap lands exactly once (on anvil, ``anvil_reorg`` replacing the block that held it)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from agent.execution.intent import ActionResult
from agent.execution.pipeline import execute_intent
from tests.integration.execution.helpers import FAST, erc20, eth_swap_intent, live_context, wait_until

pytestmark = pytest.mark.anvil


def _events(ctx: Any, kind: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in ctx.journal.summary().to_json()["events"] if e["kind"] == kind]


def test_a_swap_dropped_by_a_reorg_is_rebroadcast_and_lands_once(world, anvil, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    usdc = erc20(w3, world.token("USDC"))
    usdc_before = usdc.functions.balanceOf(world.wallet).call()
    nonce = w3.eth.get_transaction_count(world.wallet)
    ctx = live_context(world.chain, world.rpc_url, tmp_path / "j.sqlite",
                       policy=FAST.model_copy(update={"confirmations": 2, "confirm_timeout_s": 60}))
    intent = eth_swap_intent(w3, world.chain, world.router, world.wallet, key="reorg", buy="USDC", value_wei=10**18)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = execute_intent(intent, ctx)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_until(lambda: len(_events(ctx, "confirming")) == 1, what="the swap mined and waiting for confirmations")
    first_block = _events(ctx, "confirming")[0]["block"]
    assert w3.eth.get_transaction_count(world.wallet) == nonce + 1
    anvil.rpc("anvil_reorg", [1, []])  # the block holding the swap is replaced by an empty one
    assert w3.eth.get_transaction_count(world.wallet) == nonce  # gone from the chain
    wait_until(lambda: len(_events(ctx, "confirming")) == 2, what="the rebroadcast mined and waiting again")
    assert not box, "settled before the rebroadcast swap was confirmed"
    anvil.rpc("evm_mine")
    anvil.rpc("evm_mine")
    thread.join(60)
    assert "error" not in box, box.get("error")
    result: ActionResult = box["result"]
    [reorg] = _events(ctx, "reorg")
    assert reorg["action"] == "rebroadcast" and reorg["was_in_block"] == first_block
    main = result.outcomes[-1]
    assert result.state == "confirmed" and main.status == "mined" and main.block_number > first_block
    [attempt] = [a for a in ctx.journal.attempts() if a.purpose == "main"]  # the same signed bytes, one attempt
    assert attempt.tx_hash == main.tx_hash and attempt.block_number == main.block_number
    assert w3.eth.get_transaction_count(world.wallet) == nonce + 1  # landed once
    received = usdc.functions.balanceOf(world.wallet).call() - usdc_before
    assert received == result.observed_deltas[world.token("USDC")] > 0
