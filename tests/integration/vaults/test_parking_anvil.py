"""Vault parking on the sandbox (anvil) with the real pipeline, signing with the sandbox wallet's dev key.

The wallet starts with 10k USDC liquid and 5k USDC in sUSDC (5 %/yr, share price grows with block time).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from agent.commands.status import status_document
from agent.config.settings import AppConfig, load_config
from agent.devtools.contracts import contract_at
from agent.devtools.sandbox.spec import DEPLOYER
from agent.execution.intent import Approval, BalanceDelta, TxIntent
from agent.execution.pipeline import ExecutionContext, execute_intent
from agent.planning.allocation import compute_allocation
from agent.planning.costs import ChainCosts
from agent.planning.planner import PlanParams, plan_rebalance
from agent.portfolio.models import Snapshot
from agent.portfolio.reader import fetch_snapshot
from agent.vaults.report import vault_rows
from agent.vaults.service import adapt_plan_to_vault_limits, execute_vault_action, park_idle_stables
from tests.integration.execution.helpers import erc20, live_context, router

pytestmark = pytest.mark.anvil
D = Decimal
USDC = 10**6
HOUR = 3600


class Sandbox:
    """One test's config, execution context (with its journal) and chain handles."""

    def __init__(self, world: Any, anvil: Any, tmp_path: Path, **env: str) -> None:
        self.world, self.anvil = world, anvil
        base = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": world.rpc_url, "TARGETS": "ETH:40,WBTC:30,USDC:30",
                "WALLET_ADDRESS": world.wallet, "STABLE_BUFFER_USD": "1000", "VAULT_MIN_TVL_USD": "0"}
        self.config: AppConfig = load_config({**base, **env}, env_file=Path("/nonexistent"))
        self.ctx: ExecutionContext = live_context(world.chain, world.rpc_url, tmp_path / "journal.sqlite")
        self.w3 = Web3(Web3.HTTPProvider(world.rpc_url))
        self.usdc = erc20(self.w3, world.token("USDC"))
        self.vault = contract_at(self.w3, "Vault4626", world.addresses.vault)

    def snapshot(self) -> Snapshot:
        return fetch_snapshot([self.ctx.rpc], self.world.wallet)

    def park(self) -> list[Any]:
        return park_idle_stables(self.config, self.snapshot(), self.ctx.journal, {"sandbox_a": self.ctx},
                                 datetime.now(UTC))

    def later(self, seconds: int) -> None:
        self.anvil.rpc("evm_increaseTime", [seconds])
        self.anvil.rpc("evm_mine")

    def liquid(self) -> int:
        return int(self.usdc.functions.balanceOf(self.world.wallet).call())

    def shares(self) -> int:
        return int(self.vault.functions.balanceOf(self.world.wallet).call())

    def owner(self, fn: Any) -> None:
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact({"from": DEPLOYER}))
        assert receipt["status"] == 1

    def holdings(self) -> dict[str, dict[str, Any]]:
        """``rebalancer status --json`` holdings by symbol."""
        snap = self.snapshot()
        doc = status_document(snap, compute_allocation(snap, self.config.settings.targets))
        return {h["symbol"]: h for h in doc["holdings"]}

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.ctx.journal.summary(limit=500).to_json()["events"] if e["kind"] == kind]


@pytest.fixture
def sb(world, anvil, tmp_path: Path) -> Sandbox:  # type: ignore[no-untyped-def]
    return Sandbox(world, anvil, tmp_path)


def parked(sb: Sandbox) -> None:
    """Two cycles: the first samples the share price, the second (6 h later) has a yield and parks."""
    assert sb.park() == []
    notes = sb.events("vault_parking")[0]["detail"]["notes"]
    assert any("yield not measured yet" in n["reason"] for n in notes)
    sb.later(6 * HOUR)
    [result] = sb.park()
    assert result.state == "confirmed"


def test_idle_usdc_above_the_buffer_is_parked_with_an_exact_approval(sb: Sandbox) -> None:
    shares_before = sb.shares()
    parked(sb)
    assert sb.liquid() == 1_000 * USDC  # exactly the buffer is left liquid
    assert sb.shares() > shares_before
    assert sb.usdc.functions.allowance(sb.world.wallet, sb.world.addresses.vault).call() == 0
    plan = sb.events("vault_parking")[0]["detail"]
    [action] = plan["actions"]
    assert (action["kind"], action["buy"], int(action["amount_raw"])) == ("deposit", "sUSDC", 9_000 * USDC)
    # 5 %/yr simple interest, compounded each 6 h sample → ≈ 5.13 %/yr measured
    measured = D(re.search(r"measured ([0-9.]+)%", action["reason"]).group(1))  # type: ignore[union-attr]
    assert D("4.9") < measured < D("5.2")
    # nothing left to park: the next cycle sends nothing
    sb.later(HOUR)
    assert sb.park() == []


def test_yield_accrual_shows_in_status(sb: Sandbox) -> None:
    parked(sb)
    before = sb.holdings()
    sb.later(30 * 24 * HOUR)
    sb.park()  # the loop samples the share price every cycle
    after = sb.holdings()
    gained = after["sUSDC"]["usd"] - before["sUSDC"]["usd"]
    # ~14k at 5 %/yr for 30 days ≈ 57 USD
    assert D(50) < gained < D(65)
    assert after["sUSDC"]["balance_raw"] == before["sUSDC"]["balance_raw"]
    [row] = vault_rows(sb.snapshot(), sb.ctx.journal, window=timedelta(days=60))
    assert row["vault"] == "sUSDC" and row["flagged"] is None
    assert D("4.9") < row["apy_pct"] < D("5.2")
    assert row["earned_in_window"] > D(50)


def _buy_wbtc_plan(sb: Sandbox, extra_wbtc_pp: Decimal) -> Any:
    """A plan that only buys WBTC with USDC (ETH kept at its weight), funded by a vault withdrawal."""
    snap = sb.snapshot()
    alloc = compute_allocation(snap, {"ETH": D(40), "WBTC": D(30), "USDC": D(30)})
    eth, wbtc = alloc.asset("ETH").weight_pct, alloc.asset("WBTC").weight_pct + extra_wbtc_pp
    targets = {"ETH": eth, "WBTC": wbtc, "USDC": 100 - eth - wbtc}
    costs = {"sandbox_a": ChainCosts(chain="sandbox_a", gas_price_wei=10**9, native_usd=D(3000))}
    return plan_rebalance(snapshot=snap, chains={"sandbox_a": sb.world.chain}, targets=targets, costs=costs,
                          params=PlanParams(stable_buffer_usd=D(1000)), now=datetime.now(UTC))


def _swap(sb: Sandbox, amount_raw: int, key: str) -> TxIntent:
    """USDC → WBTC on the sandbox router; the deadline follows the chain's clock (the tests move it ahead)."""
    route = [sb.world.token("USDC"), sb.world.token("WBTC")]
    r = router(sb.w3, sb.world.router)
    min_out = r.functions.getAmountsOut(amount_raw, route).call()[-1] * 99 // 100
    deadline = sb.w3.eth.get_block("latest")["timestamp"] + 3600
    data = r.encode_abi("swapExactTokensForTokens", args=[amount_raw, min_out, route, sb.world.wallet, deadline])
    return TxIntent(chain="sandbox_a", plan_id="test-plan", idempotency_key=key, to=sb.world.router,
                    data=bytes.fromhex(data[2:]),
                    approval=Approval(token=route[0], spender=sb.world.router, amount_raw=amount_raw),
                    expected_deltas=(BalanceDelta(token=route[0], min_raw=-amount_raw, max_raw=-amount_raw),
                                     BalanceDelta(token=route[1], min_raw=min_out)))


def _execute(sb: Sandbox, plan: Any) -> None:
    for i, a in enumerate(plan.actions):
        key = f"test-plan:{i}:{a.kind}"
        if a.kind == "withdraw":
            assert execute_vault_action(a, sb.ctx, plan_id="test-plan", key=key).state == "confirmed"
        else:
            assert (a.kind, a.sell, a.buy) == ("swap", "USDC", "WBTC")
            assert execute_intent(_swap(sb, a.amount_raw, key), sb.ctx).state == "confirmed"


def test_a_rebalance_that_needs_usdc_withdraws_just_enough(sb: Sandbox) -> None:
    parked(sb)
    position = sb.vault.functions.maxWithdraw(sb.world.wallet).call()
    plan = _buy_wbtc_plan(sb, D(4))
    withdraw, buy = plan.actions
    # the buffer pays nothing (the planner's USD→raw rounding may differ by a raw unit)
    assert withdraw.kind == "withdraw" and abs(withdraw.amount_raw - buy.amount_raw) <= 2
    adapted = adapt_plan_to_vault_limits(sb.config, plan, {"sandbox_a": sb.ctx}, sb.ctx.journal)
    assert adapted == plan  # no limit: unchanged
    _execute(sb, plan)
    assert 1_000 * USDC <= sb.liquid() <= 1_000 * USDC + 2  # the buffer is intact, nothing extra left liquid
    left = sb.vault.functions.maxWithdraw(sb.world.wallet).call()
    assert position - withdraw.amount_raw <= left <= position - withdraw.amount_raw + 5 * USDC  # + yield meanwhile


def test_a_withdrawal_limit_makes_the_plan_adapt(sb: Sandbox) -> None:
    parked(sb)
    sb.owner(sb.vault.functions.set_withdraw_limit(2_000 * USDC))
    plan = _buy_wbtc_plan(sb, D(4))
    assert plan.actions[0].amount_raw > 2_000 * USDC
    adapted = adapt_plan_to_vault_limits(sb.config, plan, {"sandbox_a": sb.ctx}, sb.ctx.journal)
    withdraw, buy = adapted.actions
    assert withdraw.amount_raw == 2_000 * USDC and abs(buy.amount_raw - 2_000 * USDC) <= 2
    assert any("maxWithdraw" in s.why for s in adapted.skipped)
    [routing] = sb.events("vault_routing")
    assert any("sUSDC can pay 2000000000" in n["reason"] for n in routing["detail"]["notes"])
    _execute(sb, adapted)
    assert 1_000 * USDC <= sb.liquid() <= 1_000 * USDC + 2


def test_paused_vault_is_not_deposited_into_and_the_reason_is_journaled(sb: Sandbox) -> None:
    sb.park()
    sb.later(6 * HOUR)
    sb.owner(sb.vault.functions.set_paused(True))
    assert sb.park() == []
    assert sb.liquid() == 10_000 * USDC
    notes = sb.events("vault_parking")[0]["detail"]["notes"]
    assert any("maxDeposit is 0" in n["reason"] for n in notes)


@pytest.mark.parametrize("exit_on_loss", [True, False])
def test_a_share_price_drop_flags_the_vault_and_exits_when_configured(world, anvil, tmp_path: Path,
                                                                      exit_on_loss: bool) -> None:  # type: ignore[no-untyped-def]
    sb = Sandbox(world, anvil, tmp_path, VAULT_EXIT_ON_LOSS=str(exit_on_loss).lower())
    sb.park()  # samples the share price; the 5k position stays
    shares = sb.shares()
    sb.owner(sb.vault.functions.slash(500 * USDC))  # the vault loses 10 %
    results = sb.park()
    [flag] = sb.events("vault_flagged")
    assert flag["detail"]["vault"] == "sUSDC" and "share price fell" in flag["detail"]["reason"]
    if exit_on_loss:
        [result] = results
        assert result.state == "confirmed" and sb.shares() == 0
        assert sb.liquid() >= 10_000 * USDC + 4_499 * USDC
        intent = sb.ctx.journal.action(result.action_id)
        assert intent.kind == "redeem"
    else:
        assert results == [] and sb.shares() == shares
    # the flag is sticky: later cycles never deposit into it, even once the price recovers
    sb.later(12 * HOUR)
    assert sb.park() == []
    assert len(sb.events("vault_flagged")) == 1
