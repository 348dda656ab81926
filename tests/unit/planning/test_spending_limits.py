"""Spending limits cut a plan and say what and why (#14 item 8); the journal's 24 h window feeds the daily ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.journal.spending import record_spend, spent_since
from agent.journal.store import JournalStore
from agent.planning.allocation import compute_allocation
from agent.planning.limits import SpendingLimits, Spent, apply_limits
from agent.planning.models import Action, Plan
from agent.planning.planner import PlanParams, plan_rebalance
from tests.unit.test_planner import (
    CHAINS,
    PRICES,
    allocation_after,
    costs,
    execute,
    snapshot,
    usd_amounts,
    weights,
)
from tests.unit.test_planner import NOW as PLANNER_NOW

NOW = datetime(2026, 12, 1, tzinfo=UTC)
D = Decimal


def _action(kind: str, sell: str, buy: str, usd: str, raw: int, phase: int) -> Action:
    return Action(kind=kind, chain="ethereum", sell=sell, buy=buy, amount_raw=raw, amount_usd=D(usd),  # type: ignore[arg-type]
                  reason=f"{kind} {sell}", est_cost_usd=D("2"), est_gas=150_000, phase=phase)


def _plan() -> Plan:
    actions = (_action("wrap", "ETH", "WETH", "3000", 10**18, 0),
               _action("swap", "WETH", "USDC", "9000", 3 * 10**18, 1),
               _action("swap", "USDC", "WBTC", "6000", 6_000 * 10**6, 2),
               _action("swap", "USDC", "LINK", "3000", 3_000 * 10**6, 2))
    return Plan(created_at=NOW, rebalance=True, reasons=("drift",), targets={}, actions=actions)


def test_no_limits_leave_the_plan_as_it_is() -> None:
    plan = _plan()
    assert apply_limits(plan, SpendingLimits()) == plan
    assert apply_limits(plan, SpendingLimits(max_trade_usd=D(9000), max_cycle_usd=D(18000))) == plan


def test_max_trade_usd_scales_every_action_by_one_factor_and_says_so() -> None:
    cut = apply_limits(_plan(), SpendingLimits(max_trade_usd=D(4500)))
    assert [a.amount_usd for a in cut.actions] == [D("1500.00"), D("4500.00"), D("3000.00"), D("1500.00")]
    assert [a.amount_raw for a in cut.actions] == [5 * 10**17, 15 * 10**17, 3_000 * 10**6, 1_500 * 10**6]
    assert max(a.amount_usd for a in cut.actions if a.kind == "swap") <= D(4500)
    assert len(cut.cuts) == 4 and {c.limit for c in cut.cuts} == {"MAX_TRADE_USD"}
    assert cut.cuts[1].from_usd == D(9000) and cut.cuts[1].to_usd == D("4500.00")
    assert "largest trade (9,000.00 USD) is above MAX_TRADE_USD=4500" in cut.cuts[0].why
    assert any("plan cut by MAX_TRADE_USD" in r for r in cut.reasons)
    # the sell still funds the buys it was planned for: proceeds and purchases shrink together
    sells = sum(a.amount_usd for a in cut.actions if a.phase == 1)
    buys = sum(a.amount_usd for a in cut.actions if a.phase == 2)
    assert sells == buys


def test_the_tightest_of_cycle_and_daily_limits_binds() -> None:
    plan = _plan()  # 18,000 USD of swaps
    cycle = apply_limits(plan, SpendingLimits(max_cycle_usd=D(12000), max_daily_usd=D(100000)))
    assert sum(a.amount_usd for a in cycle.actions if a.kind == "swap") == D("12000.00")
    assert {c.limit for c in cycle.cuts} == {"MAX_CYCLE_USD"}
    daily = apply_limits(plan, SpendingLimits(max_cycle_usd=D(12000), max_daily_usd=D(20000)),
                         Spent(trades_usd=D(11000)))
    assert sum(a.amount_usd for a in daily.actions if a.kind == "swap") == D("9000.00")
    assert {c.limit for c in daily.cuts} == {"MAX_DAILY_USD"}
    assert "11,000.00 USD traded in the last 24 h" in daily.cuts[0].why


def test_a_used_up_daily_budget_or_gas_budget_cuts_the_whole_plan() -> None:
    spent = apply_limits(_plan(), SpendingLimits(max_daily_usd=D(5000)), Spent(trades_usd=D(5000)))
    assert spent.actions == () and not spent.rebalance
    assert len(spent.cuts) == 4 and all(c.to_usd == 0 for c in spent.cuts)
    gas = apply_limits(_plan(), SpendingLimits(max_daily_gas_usd=D(20)), Spent(gas_usd=D(15)))
    assert gas.actions == () and {c.limit for c in gas.cuts} == {"MAX_DAILY_GAS_USD"}
    assert "this plan's estimate (8.00 USD)" in gas.cuts[0].why
    fits = apply_limits(_plan(), SpendingLimits(max_daily_gas_usd=D(20)), Spent(gas_usd=D(11)))
    assert fits.actions == _plan().actions


def test_the_daily_window_reads_the_journals_spend_of_the_last_24_hours(tmp_path: Path) -> None:
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        record_spend(journal, key="k1", chain="ethereum", kind="swap", trade_usd=D("1200.5"), gas_usd=D("3.25"))
        record_spend(journal, key="k2", chain="ethereum", kind="wrap", trade_usd=D(0), gas_usd=D("0.75"))
        now = datetime.now(UTC)
        assert spent_since(journal, now - timedelta(hours=24)) == (D("1200.5"), D("4.00"))
        assert spent_since(journal, now + timedelta(seconds=1)) == (D(0), D(0))  # outside the window


@pytest.mark.parametrize("value", ["0", "-5", "inf"])
def test_limits_must_be_positive_and_finite(value: str) -> None:
    from pydantic import ValidationError

    from agent.config.settings import Settings

    for name in ("max_trade_usd", "max_cycle_usd", "max_daily_usd", "max_daily_gas_usd"):
        with pytest.raises(ValidationError):
            Settings(chains="ethereum", targets="ETH:100", **{name: value})


def test_a_cut_that_leaves_only_dust_cuts_the_whole_plan() -> None:
    cut = apply_limits(_plan(), SpendingLimits(max_daily_usd=D(1000)), Spent(trades_usd=D(990)), min_trade_usd=D(50))
    assert cut.actions == () and not cut.rebalance
    assert "below MIN_TRADE_USD=50" in cut.cuts[0].why


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units=st.fixed_dictionaries({s: usd_amounts for s in ("ETH", "WETH", "WBTC", "LINK", "USDC")}),
       mix=st.tuples(weights, weights, weights, weights).filter(lambda w: sum(w) > 0),
       eth_price=st.sampled_from([D(800), D(3000)]), max_trade=st.sampled_from([D(500), D(5_000), D(40_000)]),
       daily_left=st.sampled_from([None, D(1_000), D(30_000)]))
def test_a_cut_plan_never_increases_the_maximum_or_the_total_drift(units, mix, eth_price, max_trade,
                                                                   daily_left) -> None:
    """The planner's property (a plan never makes drift worse, tests/unit/test_planner.py) holds for the plan the
    spending limits cut: random portfolios, targets and prices, a trade cap and a daily budget on top."""
    prices = {**PRICES, "WETH": eth_price}
    targets = {k: D(v) * 100 / sum(mix) for k, v in zip(("ETH", "WBTC", "LINK", "USDC"), mix, strict=True) if v}
    per_unit = {"ETH": eth_price, "WETH": eth_price, "WBTC": prices["WBTC"], "LINK": prices["LINK"], "USDC": D(1)}
    snap = snapshot({s: (usd / per_unit[s]).quantize(D("1e-6")) for s, usd in units.items()}, usd_prices=prices)
    before = compute_allocation(snap, targets)
    if before.total_usd < 1_000:
        return
    full = plan_rebalance(snapshot=snap, chains=CHAINS, targets=targets, costs=costs(1, 1),
                          params=PlanParams(min_trade_usd=D(10)), now=PLANNER_NOW)
    limits = SpendingLimits(max_trade_usd=max_trade, max_daily_usd=None if daily_left is None else D(50_000))
    spent = Spent(trades_usd=D(0) if daily_left is None else D(50_000) - daily_left)
    p = apply_limits(full, limits, spent, min_trade_usd=D(10))
    assert all(a.amount_usd <= max_trade + D("0.01") for a in p.actions if a.kind == "swap")
    after = allocation_after(snap, execute(snap, p, prices), targets)
    fees_pp = 100 * sum(a.amount_usd * (30 + a.est_impact_bps) / 10_000 for a in p.actions if a.kind == "swap") \
        / before.total_usd
    tolerance = 2 * fees_pp + D("1e-6") * len(before.assets)
    assert max(abs(a.drift_pp) for a in after.assets) <= max(abs(a.drift_pp) for a in before.assets) + tolerance
    assert sum(abs(a.drift_pp) for a in after.assets) <= sum(abs(a.drift_pp) for a in before.assets) \
        + len(before.assets) * tolerance
