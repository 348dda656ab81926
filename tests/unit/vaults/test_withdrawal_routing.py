"""route_withdrawals on real planner output: limits cap a withdrawal, other vaults pay the rest, else buys shrink."""

from __future__ import annotations

from decimal import Decimal

from agent.planning.costs import ChainCosts
from agent.planning.models import Plan
from agent.planning.planner import PlanParams, plan_rebalance
from agent.portfolio.models import Snapshot
from agent.vaults.adapter import VaultState
from agent.vaults.routing import route_withdrawals

from .vault_factory import NOW, USDC, snapshot, state, three_vaults

D = Decimal
CHAIN = three_vaults()
CHAINS = {CHAIN.name: CHAIN}
COSTS = {"sandbox_a": ChainCosts(chain="sandbox_a", gas_price_wei=10**9, native_usd=D(3000))}
TARGETS = {"ETH": D(50), "USDC": D(50)}


def planned(snap: Snapshot) -> Plan:
    return plan_rebalance(snapshot=snap, chains=CHAINS, targets=TARGETS, costs=COSTS, params=PlanParams(), now=NOW)


def base_plan() -> Plan:
    # 3000 ETH + 500 USDC + 3000 in sUSDC + 3000 in vB = 9500 → buy 1750 of ETH, withdrawing 1250
    plan = planned(snapshot(CHAIN, usdc=D(500), eth=D(1), vaults={"sUSDC": D(3000), "vB": D(3000)}))
    assert [(a.kind, a.sell, a.amount_raw) for a in plan.actions] == [
        ("withdraw", "sUSDC", 1_250 * USDC), ("swap", "USDC", 1_750 * USDC)]
    return plan


def states(**limits: int) -> dict[tuple[str, str], VaultState]:
    return {("sandbox_a", v): state(CHAIN, v, shares=3_000 * USDC, max_withdraw=limits.get(v)) for v in ("sUSDC", "vB")}


def test_unlimited_vaults_leave_the_plan_unchanged() -> None:
    plan = base_plan()
    routed, notes = route_withdrawals(plan, chains=CHAINS, states=states(), min_trade_usd=D(50))
    assert routed == plan and notes == []


def test_a_limited_vault_is_topped_up_from_another_vault() -> None:
    routed, notes = route_withdrawals(base_plan(), chains=CHAINS, states=states(sUSDC=1_000 * USDC),
                                      min_trade_usd=D(50))
    assert [(a.kind, a.sell, a.amount_raw) for a in routed.actions] == [
        ("withdraw", "sUSDC", 1_000 * USDC), ("withdraw", "vB", 250 * USDC), ("swap", "USDC", 1_750 * USDC)]
    assert any("maxWithdraw 1000000000" in n.reason for n in notes if n.vault == "sUSDC")
    assert any("maxWithdraw" in s.why for s in routed.skipped)


def test_when_no_vault_can_pay_the_buy_shrinks() -> None:
    routed, notes = route_withdrawals(base_plan(), chains=CHAINS, states=states(sUSDC=1_000 * USDC, vB=0),
                                      min_trade_usd=D(50))
    assert [(a.kind, a.sell, a.amount_raw) for a in routed.actions] == [
        ("withdraw", "sUSDC", 1_000 * USDC), ("swap", "USDC", 1_500 * USDC)]
    assert routed.actions[1].amount_usd == D(1500) and "reduced" in routed.actions[1].reason
    assert any(n.vault == "*" and "250000000 raw USDC of the buy of WETH" in n.reason for n in notes)
    # paused everywhere: nothing can be withdrawn; the buy keeps only the liquid 500
    routed, _ = route_withdrawals(base_plan(), chains=CHAINS, states=states(sUSDC=0, vB=0),
                                  min_trade_usd=D(50))
    assert [(a.kind, a.amount_raw) for a in routed.actions] == [("swap", 500 * USDC)]


def test_a_buy_below_the_minimum_is_dropped() -> None:
    routed, _ = route_withdrawals(base_plan(), chains=CHAINS, states=states(sUSDC=0, vB=0),
                                  min_trade_usd=D(600))
    assert routed.actions == () and not routed.rebalance
    assert any("buy of WETH" in s.what for s in routed.skipped)
