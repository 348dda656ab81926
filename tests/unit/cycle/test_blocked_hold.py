"""While a chain is blocked (a transaction there may still be in flight) the plan holds every trade (#14): the
global rebalance is not moved onto the other chains, and each held action says why."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from agent.config.settings import load_config
from agent.cycle.steps import make_plan
from strategies import Decision
from tests.unit.portfolio_factory import snapshot

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TARGETS = {"ETH": Decimal(40), "WBTC": Decimal(30), "USDC": Decimal(30)}


def _config():  # type: ignore[no-untyped-def]
    env = {"CHAINS": "sandbox_a,sandbox_b", "SANDBOX_A_RPC_URL": "http://127.0.0.1:9",
           "SANDBOX_B_RPC_URL": "http://127.0.0.1:9", "TARGETS": "ETH:40,WBTC:30,USDC:30"}
    return load_config(env, env_file=Path("/nonexistent"))


def _plan(**kw):  # type: ignore[no-untyped-def]
    snap = snapshot({"ETH": Decimal(20), "WETH": Decimal(10)}, {"ETH": Decimal(10), "WETH": Decimal(10),
                                                                "USDC": Decimal(5000)})
    decision = Decision(rebalance=True, reasons=("drift",), targets=TARGETS)
    return make_plan(_config(), snap, decision, NOW, **kw)


def test_without_the_hold_the_rebalance_moves_onto_the_other_chain() -> None:
    plan = _plan(exclude_chains={"sandbox_a"})
    assert plan.actions and {a.chain for a in plan.actions} == {"sandbox_b"}  # what #14 forbids while blocked


def test_a_blocked_chain_holds_every_trade_with_the_reason() -> None:
    free = _plan()
    held = _plan(exclude_chains={"sandbox_a"}, held={"sandbox_a": "action k1 may still be in flight"})
    assert free.actions and held.actions == () and held.rebalance is False
    reasons = [s.why for s in held.skipped if s.why.startswith("held:")]
    assert len(reasons) == len(_plan(exclude_chains={"sandbox_a"}).actions)
    assert all("sandbox_a" in r and "action k1 may still be in flight" in r for r in reasons)
    assert any(r.startswith("held:") for r in held.reasons)
