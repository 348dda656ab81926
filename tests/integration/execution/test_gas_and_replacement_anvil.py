"""Waiting for the base fee and replacing a stuck transaction, on anvil (driven block by block)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from agent.execution.fees import GWEI
from agent.execution.gas_wait import GasWaitProgress
from agent.execution.intent import ActionResult
from agent.execution.pipeline import execute_intent
from agent.execution.sender import SendPolicy
from tests.integration.execution.helpers import FAST, erc20, eth_swap_intent, live_context, wait_until

pytestmark = pytest.mark.anvil


@pytest.fixture(autouse=True)
def _calm_base_fee_after(anvil):  # type: ignore[no-untyped-def]
    """anvil keeps its next base fee across evm_revert: leave it low for the tests that follow."""
    yield
    anvil.rpc("evm_setAutomine", [True])
    anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(GWEI)])


def _run_in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def test_waits_while_the_base_fee_is_above_the_limit_then_executes(world, anvil, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(100 * GWEI)])
    anvil.rpc("evm_mine")
    assert w3.eth.get_block("latest")["baseFeePerGas"] == 100 * GWEI
    seen: list[GasWaitProgress] = []
    waiting = threading.Event()

    def progress(p: GasWaitProgress) -> None:
        seen.append(p)
        if p.state == "waiting":
            waiting.set()

    policy = FAST.model_copy(update={"max_base_fee_wei": 50 * GWEI, "hard_cap_wei": 500 * GWEI})
    ctx = live_context(world.chain, world.rpc_url, tmp_path / "j.sqlite", policy=policy, progress=progress)
    intent = eth_swap_intent(w3, world.chain, world.router, world.wallet, key="wait", buy="USDC", value_wei=10**18)
    nonce = w3.eth.get_transaction_count(world.wallet)
    thread, box = _run_in_thread(lambda: execute_intent(intent, ctx))
    assert waiting.wait(60), "the agent never reported waiting"
    anvil.rpc("evm_mine")  # still high-ish (empty block: -12.5%): the agent keeps waiting
    assert w3.eth.get_transaction_count(world.wallet) == nonce
    anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(GWEI)])
    anvil.rpc("evm_mine")
    thread.join(60)
    result: ActionResult = box["result"]
    assert result.state == "confirmed" and w3.eth.get_transaction_count(world.wallet) == nonce + 1
    mined_in = w3.eth.get_block(result.outcomes[-1].block_number)
    assert mined_in["baseFeePerGas"] <= 50 * GWEI
    assert seen[0].state == "waiting" and seen[-1].state == "done" and seen[-1].blocks_waited >= 2
    events = [e for e in ctx.journal.summary().to_json()["events"] if e["kind"] == "gas_wait"]
    assert {e["detail"]["state"] for e in events} == {"waiting", "done"}


def test_a_stuck_transaction_is_replaced_at_the_same_nonce_and_mined(world, anvil, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    usdc = erc20(w3, world.token("USDC"))
    usdc_before = usdc.functions.balanceOf(world.wallet).call()
    nonce = w3.eth.get_transaction_count(world.wallet)
    policy: SendPolicy = FAST.model_copy(update={"hard_cap_wei": 10_000 * GWEI})
    ctx = live_context(world.chain, world.rpc_url, tmp_path / "j.sqlite", policy=policy)
    intent = eth_swap_intent(w3, world.chain, world.router, world.wallet, key="stuck", buy="USDC", value_wei=10**18)
    anvil.rpc("evm_setAutomine", [False])
    try:
        thread, box = _run_in_thread(lambda: execute_intent(intent, ctx))
        wait_until(lambda: [a.broadcast for a in ctx.journal.attempts()] == ["definitely"], what="first send")
        [first] = ctx.journal.attempts()
        for _ in range(policy.replace_after_blocks):  # blocks whose base fee the offered max fee cannot pay
            anvil.rpc("anvil_setNextBlockBaseFeePerGas", [hex(first.max_fee_per_gas_wei * 4)])
            anvil.rpc("evm_mine")
        wait_until(lambda: len(ctx.journal.attempts()) == 2 and ctx.journal.attempts()[1].broadcast == "definitely",
                   what="the replacement")
        anvil.rpc("evm_mine")
        thread.join(60)
    finally:
        anvil.rpc("evm_setAutomine", [True])
    result: ActionResult = box["result"]
    first, second = ctx.journal.attempts()
    assert result.state == "confirmed" and result.outcomes[-1].tx_hash == second.tx_hash
    assert first.nonce == second.nonce == nonce and w3.eth.get_transaction_count(world.wallet) == nonce + 1
    assert (first.status, second.status) == ("replaced", "mined")
    assert second.max_fee_per_gas_wei * 8 >= first.max_fee_per_gas_wei * 9
    assert second.max_priority_fee_per_gas_wei * 8 >= first.max_priority_fee_per_gas_wei * 9
    assert second.max_fee_per_gas_wei <= policy.hard_cap_wei
    assert usdc.functions.balanceOf(world.wallet).call() - usdc_before == result.observed_deltas[world.token("USDC")]
