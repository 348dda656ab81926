"""The transaction pipeline against the sandbox world on anvil: approvals, simulation, dry-run, signers."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from agent.devtools.sandbox.spec import DEPLOYER
from agent.errors import ExecutionError, PriceMoved
from agent.execution.pipeline import ExecutionContext, execute_intent
from agent.execution.sender import DryRunSender
from agent.journal.store import JournalStore
from agent.signers.external import ExternalSigner
from tests.integration.execution.helpers import (
    FAST,
    WALLET_KEY,
    chain_rpc,
    erc20,
    eth_swap_intent,
    live_context,
    token_swap_intent,
)
from tests.integration.signers.fake_external_signer import FakeSignerServer

pytestmark = pytest.mark.anvil


@pytest.fixture
def w3(world) -> Web3:  # type: ignore[no-untyped-def]
    return Web3(Web3.HTTPProvider(world.rpc_url))


def test_exact_approval_is_spent_to_zero_and_the_key_runs_once(world, w3: Web3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    usdc = erc20(w3, world.token("USDC"))
    weth = erc20(w3, world.token("WETH"))
    assert usdc.functions.allowance(world.wallet, world.router).call() == 0
    usdc_before = usdc.functions.balanceOf(world.wallet).call()
    weth_before = weth.functions.balanceOf(world.wallet).call()
    intent = token_swap_intent(w3, world.chain, world.router, world.wallet, key="swap-usdc-weth", sell="USDC",
                               buy="WETH", amount_raw=1_000 * 10**6)
    ctx = live_context(world.chain, world.rpc_url, tmp_path / "j.sqlite")
    result = execute_intent(intent, ctx)
    assert result.state == "confirmed" and [o.purpose for o in result.outcomes] == ["approve", "main"]
    assert usdc.functions.allowance(world.wallet, world.router).call() == 0
    assert usdc.functions.balanceOf(world.wallet).call() == usdc_before - 1_000 * 10**6
    assert weth.functions.balanceOf(world.wallet).call() - weth_before == result.observed_deltas[world.token("WETH")]
    nonce = w3.eth.get_transaction_count(world.wallet)
    again = execute_intent(intent, ctx)
    assert again.reused and again.state == "confirmed" and w3.eth.get_transaction_count(world.wallet) == nonce
    rows = ctx.journal.attempts(action_id=result.action_id)
    assert [(r.purpose, r.broadcast, r.status) for r in rows] == [
        ("approve", "definitely", "mined"), ("main", "definitely", "mined")]


def test_tokens_needing_zero_first_get_a_reset(world, w3: Web3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    usdt = erc20(w3, world.token("USDT"))
    usdt.functions.mint(world.wallet, 500 * 10**6).transact({"from": DEPLOYER})
    usdt.functions.approve(world.router, 7).transact({"from": world.wallet})  # a stale non-zero allowance
    intent = token_swap_intent(w3, world.chain, world.router, world.wallet, key="swap-usdt", sell="USDT",
                               buy="USDC", amount_raw=300 * 10**6)
    result = execute_intent(intent, live_context(world.chain, world.rpc_url, tmp_path / "j.sqlite"))
    assert [o.purpose for o in result.outcomes] == ["approve-reset", "approve", "main"]
    assert usdt.functions.allowance(world.wallet, world.router).call() == 0
    assert usdt.functions.balanceOf(world.wallet).call() == 200 * 10**6


def test_a_reverting_simulation_sends_nothing(world, w3: Web3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    intent = token_swap_intent(w3, world.chain, world.router, world.wallet, key="greedy", sell="USDC", buy="WETH",
                               amount_raw=1_000 * 10**6, min_out_raw=10**30)
    ctx = live_context(world.chain, world.rpc_url, tmp_path / "j.sqlite")
    nonce = w3.eth.get_transaction_count(world.wallet)
    # the router's own min-out guard: the price moved (a retry with a fresh quote), not a broken plan
    with pytest.raises(PriceMoved, match=r"INSUFFICIENT_OUTPUT_AMOUNT.*nothing was sent") as info:
        execute_intent(intent, ctx)
    assert info.value.disposition == "retry" and not info.value.sent
    assert w3.eth.get_transaction_count(world.wallet) == nonce
    assert erc20(w3, world.token("USDC")).functions.allowance(world.wallet, world.router).call() == 0
    action = ctx.journal.action_by_key("greedy")
    assert action is not None and action.state == "failed" and ctx.journal.attempts(action_id=action.id) == []


def test_an_unlisted_spender_is_refused(world, w3: Web3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    intent = token_swap_intent(w3, world.chain, world.router, world.wallet, key="bad-spender", sell="USDC",
                               buy="WETH", amount_raw=10**6, spender=Account.create().address)
    nonce = w3.eth.get_transaction_count(world.wallet)
    with pytest.raises(ExecutionError, match="not an allow-listed spender"):
        execute_intent(intent, live_context(world.chain, world.rpc_url, tmp_path / "j.sqlite"))
    assert w3.eth.get_transaction_count(world.wallet) == nonce


def test_dry_run_signs_nothing_and_reports_what_it_would_send(world, w3: Web3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rpc = chain_rpc(world.chain, world.rpc_url)
    journal = JournalStore.open(tmp_path / "j.sqlite")
    sender = DryRunSender(rpc, FAST, world.wallet)
    ctx = ExecutionContext(chain=world.chain, rpc=rpc, sender=sender, journal=journal)
    intent = token_swap_intent(w3, world.chain, world.router, world.wallet, key="dry", sell="USDC", buy="WETH",
                               amount_raw=1_000 * 10**6)
    nonce = w3.eth.get_transaction_count(world.wallet)
    result = execute_intent(intent, ctx)
    assert result.state == "dry_run" and [o.purpose for o in sender.report] == ["approve", "main"]
    assert [o.nonce for o in sender.report] == [nonce, nonce + 1]
    assert all(o.status == "dry_run" and o.tx_hash is None and o.max_fee_per_gas_wei for o in sender.report)
    assert w3.eth.get_transaction_count(world.wallet) == nonce
    assert journal.attempts() == [] and not journal.is_blocked("dry")  # a dry run never claims the key


def test_external_signer_transactions_are_mined(world, w3: Web3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with FakeSignerServer(Account.from_key(WALLET_KEY), flavor="clef") as server:
        signer = ExternalSigner(server.url)
        intent = eth_swap_intent(w3, world.chain, world.router, world.wallet, key="ext", buy="USDC",
                                 value_wei=10**18)
        result = execute_intent(intent, live_context(world.chain, world.rpc_url, tmp_path / "j.sqlite",
                                                     signer=signer))
        signer.close()
    assert result.state == "confirmed"
    assert w3.eth.get_transaction_receipt(result.outcomes[-1].tx_hash)["status"] == 1
    assert any(r["method"] == "account_signTransaction" for r in server.requests)
