"""plan_parking: deposits above the buffer into the best checked vault, limits routed around, exits on loss."""

from __future__ import annotations

from decimal import Decimal

from agent.planning.costs import ChainCosts
from agent.vaults.policy import ParkingPlan, effective_buffer_usd, plan_parking

from .vault_factory import NOW, USDC, params, snapshot, state, stats, three_vaults

D = Decimal
CHAIN = three_vaults()
CHAINS = {CHAIN.name: CHAIN}


def run(snap, vault_stats, **kw) -> ParkingPlan:  # type: ignore[no-untyped-def]
    costs = kw.pop("costs", None)
    return plan_parking(snapshot=snap, chains=CHAINS, vault_stats=vault_stats, params=params(**kw), now=NOW,
                        costs=costs)


def all_stats(**over):  # type: ignore[no-untyped-def]
    base = {("sandbox_a", "sUSDC"): stats(state(CHAIN, "sUSDC"), D("0.04")),
            ("sandbox_a", "vB"): stats(state(CHAIN, "vB"), D("0.06")),
            ("sandbox_a", "vDAI"): stats(state(CHAIN, "vDAI"), D("0.09"))}
    base.update({("sandbox_a", k): v for k, v in over.items()})
    return base


def reasons(plan: ParkingPlan, vault: str) -> list[str]:
    return [f"{n.status}: {n.reason}" for n in plan.notes if n.vault == vault]


def test_idle_usdc_above_the_buffer_goes_to_the_best_usdc_vault() -> None:
    plan = run(snapshot(CHAIN, usdc=D(10_000)), all_stats())
    [a] = plan.actions
    assert (a.kind, a.sell, a.buy, a.amount_raw) == ("deposit", "USDC", "vB", 9_000 * USDC)
    assert "buffer" in a.reason and "6.00%" in a.reason
    assert plan.buffer_usd == D(1000)


def test_the_dai_vault_is_never_filled_even_with_the_best_yield() -> None:
    plan = run(snapshot(CHAIN, usdc=D(500), dai=D(5000)), all_stats())
    assert plan.actions == ()


def test_buffer_percent_wins_when_larger() -> None:
    assert effective_buffer_usd(buffer_usd=D(1000), buffer_pct=D(10), total_usd=D(50_000)) == D(5000)
    plan = run(snapshot(CHAIN, usdc=D(10_000), eth=D(10)), all_stats(), stable_buffer_pct=D(10))
    # portfolio = 10k USDC + 30k ETH = 40k → buffer 4k
    assert [a.amount_raw for a in plan.actions] == [6_000 * USDC]


def test_small_excess_is_left_alone() -> None:
    assert run(snapshot(CHAIN, usdc=D(1040)), all_stats()).actions == ()


def test_paused_vault_is_routed_around_with_the_reason() -> None:
    paused = stats(state(CHAIN, "vB", max_deposit=0), D("0.06"))
    plan = run(snapshot(CHAIN, usdc=D(10_000)), all_stats(vB=paused))
    assert [(a.buy, a.amount_raw) for a in plan.actions] == [("sUSDC", 9_000 * USDC)]
    assert any("maxDeposit is 0" in r for r in reasons(plan, "vB"))


def test_deposit_limit_splits_across_vaults() -> None:
    limited = stats(state(CHAIN, "vB", max_deposit=2_500 * USDC), D("0.06"))
    plan = run(snapshot(CHAIN, usdc=D(10_000)), all_stats(vB=limited))
    assert [(a.buy, a.amount_raw) for a in plan.actions] == [("vB", 2_500 * USDC), ("sUSDC", 6_500 * USDC)]
    assert any(r.startswith("limited") for r in reasons(plan, "vB"))


def test_max_share_pct_caps_our_share_of_the_vault() -> None:
    chain = three_vaults(vB=10.0)
    small = stats(state(chain, "vB", total_assets=9_000 * USDC), D("0.06"))
    st = {("sandbox_a", "sUSDC"): stats(state(chain, "sUSDC"), D("0.04")), ("sandbox_a", "vB"): small}
    plan = plan_parking(snapshot=snapshot(chain, usdc=D(10_000)), chains={"sandbox_a": chain}, vault_stats=st,
                        params=params(), now=NOW)
    # (p + d) / (T + d) <= 10 % with p = 0, T = 9000 → d <= 1000
    assert [(a.buy, a.amount_raw) for a in plan.actions] == [("vB", 1_000 * USDC), ("sUSDC", 8_000 * USDC)]


def test_checks_each_skip_a_vault_with_a_reason() -> None:
    cases = {
        "previews differ": stats(state(CHAIN, "vB", preview_gap_bps=50), D("0.06")),
        "TVL": stats(state(CHAIN, "vB", total_assets=100 * USDC), D("0.06")),
        "yield not measured": stats(state(CHAIN, "vB"), None),
        "not positive": stats(state(CHAIN, "vB"), D(0)),
    }
    for expected, st in cases.items():
        plan = run(snapshot(CHAIN, usdc=D(10_000)), all_stats(vB=st), min_tvl_usd=D(1000))
        assert [a.buy for a in plan.actions] == ["sUSDC"], expected
        assert any(expected in r for r in reasons(plan, "vB")), (expected, reasons(plan, "vB"))


def test_wrong_asset_is_flagged_and_never_used() -> None:
    wrong = stats(state(CHAIN, "vB", asset=CHAIN.token("USDT").address), D("0.5"))
    plan = run(snapshot(CHAIN, usdc=D(10_000)), all_stats(vB=wrong))
    assert [a.buy for a in plan.actions] == ["sUSDC"]
    assert any(n.vault == "vB" and "asset()" in n.reason for n in plan.flagged())


def test_falling_share_price_flags_and_exits_when_configured() -> None:
    falling = stats(state(CHAIN, "vB", shares=4_000 * USDC, price=D("0.9")), D("0.06"), drop_bps=D(1000))
    plan = run(snapshot(CHAIN, usdc=D(500), vaults={"vB": D(3600)}), all_stats(vB=falling))
    exit_, deposit = plan.actions
    assert (exit_.kind, exit_.sell, exit_.buy, exit_.amount_raw) == ("withdraw", "vB", "USDC", 3_600 * USDC)
    assert "share price fell" in exit_.reason
    # the exited USDC above the buffer goes to the next vault in the same plan
    assert (deposit.kind, deposit.buy, deposit.amount_raw) == ("deposit", "sUSDC", 3_100 * USDC)
    assert any("share price fell 1000.00 bps" in n.reason for n in plan.flagged())
    kept = run(snapshot(CHAIN, usdc=D(500), vaults={"vB": D(3600)}), all_stats(vB=falling), exit_on_loss=False)
    assert kept.actions == () and kept.flagged()


def test_exit_is_bounded_by_max_withdraw() -> None:
    falling = stats(state(CHAIN, "vB", shares=4_000 * USDC, max_withdraw=1_000 * USDC), D("0.06"), drop_bps=D(5))
    plan = run(snapshot(CHAIN, usdc=D(1000)), all_stats(vB=falling))
    assert [(a.kind, a.amount_raw) for a in plan.actions] == [("withdraw", 1_000 * USDC), ("deposit", 1_000 * USDC)]
    assert any("maxWithdraw" in r for r in reasons(plan, "vB"))
    paused = stats(state(CHAIN, "vB", shares=4_000 * USDC, max_withdraw=0), D("0.06"), drop_bps=D(5))
    plan = run(snapshot(CHAIN, usdc=D(1000)), all_stats(vB=paused))
    assert plan.actions == () and any("cannot exit now" in r for r in reasons(plan, "vB"))


def test_a_journal_flag_keeps_a_recovered_vault_out() -> None:
    st = stats(state(CHAIN, "vB"), D("0.20"), flagged="share price fell 12 bps")
    plan = run(snapshot(CHAIN, usdc=D(10_000)), all_stats(vB=st))
    assert [a.buy for a in plan.actions] == ["sUSDC"]


def test_buffer_shortfall_is_refilled_from_the_lowest_yield_vault_within_limits() -> None:
    st = all_stats(sUSDC=stats(state(CHAIN, "sUSDC", shares=300 * USDC), D("0.04")),
                   vB=stats(state(CHAIN, "vB", shares=5_000 * USDC), D("0.06")))
    plan = run(snapshot(CHAIN, usdc=D(200)), st)
    assert [(a.kind, a.sell, a.amount_raw) for a in plan.actions] == [
        ("withdraw", "sUSDC", 300 * USDC), ("withdraw", "vB", 500 * USDC)]


def test_deposit_not_worth_its_gas_is_skipped() -> None:
    costs = {"sandbox_a": ChainCosts(chain="sandbox_a", gas_price_wei=100 * 10**9, native_usd=D(3000))}
    # gas ≈ (120k + 50k + 120k) × 100 gwei × 3000 = 87 USD; 200 USD at 6 % for 30 days earns ≈ 1 USD
    plan = run(snapshot(CHAIN, usdc=D(1200)), all_stats(), costs=costs)
    assert plan.actions == () and any("less than" in r for r in reasons(plan, "vB"))
    plan = run(snapshot(CHAIN, usdc=D(1_000_000)), all_stats(), costs=costs)
    assert plan.actions[0].est_cost_usd > 0


def test_unread_vaults_are_not_used() -> None:
    plan = run(snapshot(CHAIN, usdc=D(10_000)), {})
    assert plan.actions == () and any("not read" in r for r in reasons(plan, "vB"))
