"""The splitter's decisions as pure functions: curve fit, chunk count, and deadline-aware gas timing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.execution.splitter import (
    ImpactCurve,
    SplitParams,
    choose_chunk_count,
    due_offset,
    expected_cost,
    fit_impact_curve,
    local_points,
    schedule_offsets,
)
from agent.execution.twap import horizon_blocks

DEPTH = 20_000_000.0  # USDC on the input side of a $20M/$20M pool
PARAMS = SplitParams(max_impact_bps=50, max_chunks=64, band_bps=30, recovery=1.0, blocks_per_chunk=3,
                     block_time_s=12, annual_vol_pct=80, risk_aversion=0.5)


def cp_out(q: float, x: float = DEPTH, y: float = DEPTH / 3000, fee: float = 0.003) -> float:
    """A constant-product pool's exact output for ``q`` in."""
    q_eff = q * (1 - fee)
    return y * q_eff / (x + q_eff)


def curve(depth: float = DEPTH) -> ImpactCurve:
    return fit_impact_curve([(q, cp_out(q, x=depth, y=depth / 3000)) for q in (1e3, 1e4, 1e5, 1e6)])


def test_fit_recovers_a_constant_product_pool_exactly() -> None:
    c = curve()
    assert c.depth_in == pytest.approx(DEPTH / 0.997, rel=1e-6)
    assert c.price0 == pytest.approx(0.997 / 3000, rel=1e-9)
    assert c.fit_error < 1e-9
    assert c.out(250_000) == pytest.approx(cp_out(250_000), rel=1e-9)
    # the reference doc's example: a $1M sell against a $20M side costs ≈ 476 bp of impact (475 with the fee
    # taken before the curve, as the pool does)
    assert c.impact_bps(1_000_000) == pytest.approx(476, abs=2)


def concentrated_out(q: float, *, deep: float = DEPTH, edge: float = 400_000, thin: float = DEPTH / 40) -> float:
    """A V3-like pool: constant product on a deep virtual reserve until the active range ends after ``edge`` in,
    then on a thin one (the wide positions only)."""
    if q <= edge:
        return cp_out(q, x=deep, y=deep / 3000, fee=0.0005)
    first = cp_out(edge, x=deep, y=deep / 3000, fee=0.0005)
    price = (deep / 3000 - first) / (deep + edge * 0.9995)  # the marginal price where the range ends
    return first + cp_out(q - edge, x=thin, y=thin * price, fee=0.0005)


def test_the_curve_on_concentrated_liquidity_is_drawn_from_the_quotes_a_chunk_can_live_on() -> None:
    total = 6_400_000.0
    points = [(total / d, concentrated_out(total / d)) for d in (256, 64, 16, 4, 1)]
    whole, local = fit_impact_curve(points), fit_impact_curve(local_points(points, max_impact_bps=50))
    true_price0 = 0.9995 / 3000
    assert abs(whole.price0 / true_price0 - 1) > 0.01  # the whole order's quotes bend the line: > 100 bps off
    assert local.price0 == pytest.approx(true_price0, rel=1e-6)
    chunk = total / 32  # inside the range: the local curve is the pool's
    true_impact = (1 - concentrated_out(chunk) / chunk / true_price0) * 10_000
    assert local.impact_bps(chunk) == pytest.approx(true_impact, rel=0.02)
    assert whole.impact_bps(chunk) != pytest.approx(true_impact, rel=0.25)
    # constant product: the same fit from any of its points
    cp = [(q, cp_out(q)) for q in (1e4, 1e5, 1e6, 4e6)]
    assert fit_impact_curve(local_points(cp, 50)).depth_in == pytest.approx(curve().depth_in, rel=1e-6)


def test_fit_needs_two_sizes() -> None:
    with pytest.raises(ValueError, match="two or more distinct sizes"):
        fit_impact_curve([(1e3, 0.33), (1e3, 0.33)])


def test_no_split_for_a_small_order() -> None:
    d = choose_chunk_count(20_000, curve(), gas_per_chunk_in=10, params=PARAMS)
    assert d.n == 1 and d.feasible and d.n_min == 1
    assert d.reason.startswith("one chunk")


@pytest.mark.parametrize("size", [200_000, 1_000_000, 2_000_000])
def test_larger_orders_get_more_chunks_and_respect_the_bound(size: float) -> None:
    d = choose_chunk_count(size, curve(), gas_per_chunk_in=10, params=PARAMS)
    assert d.chunk_impact_bps <= PARAMS.max_impact_bps + 1e-9
    assert d.expected.total_bps <= d.one_shot.total_bps


def test_more_chunks_for_deeper_impact() -> None:
    counts = [choose_chunk_count(size, curve(), gas_per_chunk_in=10, params=PARAMS).n
              for size in (20_000, 200_000, 1_000_000, 2_000_000)]
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] > counts[1] > 1
    shallow = choose_chunk_count(1_000_000, curve(DEPTH / 4), gas_per_chunk_in=10, params=PARAMS).n
    assert shallow > counts[2]


def test_fewer_chunks_when_gas_is_dear() -> None:
    cheap = choose_chunk_count(1_000_000, curve(), gas_per_chunk_in=5, params=PARAMS).n
    dear = choose_chunk_count(1_000_000, curve(), gas_per_chunk_in=500, params=PARAMS).n
    assert dear < cheap
    # however dear the gas, the impact bound is never given up
    bound = choose_chunk_count(1_000_000, curve(), gas_per_chunk_in=1e9, params=PARAMS)
    assert bound.n == bound.n_min > 1


def test_splitting_does_not_help_without_arbitrage() -> None:
    """On one pool with no recovery between chunks, n chunks cost what one does (plus gas)."""
    still = PARAMS.model_copy(update={"recovery": 0.0, "band_bps": 0.0, "max_impact_bps": 10_000})
    one = expected_cost(1_000_000, 1, curve(), gas_per_chunk_in=0, params=still)
    ten = expected_cost(1_000_000, 10, curve(), gas_per_chunk_in=0, params=still)
    assert ten.impact_bps + ten.carry_bps == pytest.approx(one.impact_bps, rel=0.02)
    assert choose_chunk_count(1_000_000, curve(), gas_per_chunk_in=1, params=still).n == 1


def test_price_risk_of_waiting_limits_the_chunk_count() -> None:
    calm = choose_chunk_count(2_000_000, curve(), gas_per_chunk_in=1, params=PARAMS.model_copy(
        update={"risk_aversion": 0.0})).n
    nervous = choose_chunk_count(2_000_000, curve(), gas_per_chunk_in=1, params=PARAMS.model_copy(
        update={"risk_aversion": 3.0})).n
    assert nervous < calm


def test_a_horizon_spreads_chunks_on_a_straight_line_never_faster_than_the_spacing() -> None:
    fast = PARAMS  # horizon 0: as fast as 3 blocks per chunk allow
    assert schedule_offsets(4, fast) == [0, 3, 6, 9]
    spread = PARAMS.model_copy(update={"horizon_blocks": 192})
    assert schedule_offsets(4, spread) == [0, 48, 96, 144]
    crowded = schedule_offsets(100, spread)  # 100 chunks cannot fit 192 blocks at 3 blocks each
    assert all(b - a >= 3 for a, b in itertools.pairwise(crowded)) and crowded[-1] == 297
    assert [due_offset(f, spread) for f in (0, 0.25, 0.5, 1.0, 1.5)] == [0, 48, 96, 192, 192]
    assert due_offset(0.5, fast) == 0


def test_with_a_horizon_the_risk_of_waiting_barely_depends_on_the_chunk_count() -> None:
    spread = PARAMS.model_copy(update={"horizon_blocks": 192})
    risk = {n: expected_cost(2_000_000, n, curve(), gas_per_chunk_in=1, params=spread).risk_bps for n in (1, 16, 64)}
    fast = {n: expected_cost(2_000_000, n, curve(), gas_per_chunk_in=1, params=PARAMS).risk_bps for n in (16, 64)}
    assert risk[1] == 0 and 0.95 < risk[64] / risk[16] < 1.05  # every split count is exposed for ~the horizon
    assert fast[64] / fast[16] > 1.9  # without it, more chunks means more blocks exposed
    assert risk[16] > fast[16]


def test_the_default_horizon_is_the_time_the_most_split_schedule_needs() -> None:
    assert horizon_blocks(None, max_chunks=64, blocks_per_chunk=3, block_time_s=12) == 192
    assert horizon_blocks(0, max_chunks=64, blocks_per_chunk=3, block_time_s=12) == 0
    assert horizon_blocks(1800, max_chunks=64, blocks_per_chunk=3, block_time_s=12) == 150
    assert horizon_blocks(1801, max_chunks=64, blocks_per_chunk=3, block_time_s=2) == 901


def test_an_order_too_big_for_the_chunk_limit_is_infeasible() -> None:
    d = choose_chunk_count(5_000_000, curve(), gas_per_chunk_in=1, params=PARAMS.model_copy(
        update={"max_chunks": 8}))
    assert not d.feasible and d.n > 8 and "make the order smaller" in d.reason


@pytest.mark.slow  # a compile / long search: make test, not make test-fast
@given(size=st.floats(min_value=1e3, max_value=5e6), gas=st.floats(min_value=0, max_value=1e4))
def test_chosen_count_is_the_cheapest_within_the_bound(size: float, gas: float) -> None:
    d = choose_chunk_count(size, curve(), gas_per_chunk_in=gas, params=PARAMS)
    if not d.feasible:
        return
    assert d.chunk_impact_bps <= PARAMS.max_impact_bps + 1e-6
    for n in range(d.n_min, PARAMS.max_chunks + 1):
        assert d.expected.total_bps <= expected_cost(size, n, curve(), gas_per_chunk_in=gas,
                                                     params=PARAMS).total_bps + 1e-9


def test_curve_fit_is_scale_free_for_18_decimal_inputs() -> None:
    """Real quotes of WETH (18 decimals) → WBTC (8) through a $5M pool: the depth must be found (~1,600 WETH)."""
    pts = [(76953125004471709, 383593), (307812500017886839, 1534162), (1231250000071547356, 6133263),
           (4925000000286189424, 24479006)]
    curve = fit_impact_curve(pts)
    assert curve.depth_in is not None
    assert 1_400e18 < curve.depth_in < 1_800e18
    assert 25 < curve.impact_bps(4925000000286189424) < 35  # ~30 bps at 4.9 WETH


def test_block_clock_gives_up_on_a_stalled_node(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from agent.errors import TemporaryError
    from agent.execution import twap

    now = [0.0]
    monkeypatch.setattr(twap, "fetch_block_number", lambda _rpc: 100)  # the node never moves
    rpc = SimpleNamespace(chain=SimpleNamespace(name="stalled"))
    clock = twap.PollingBlockClock(rpc, poll_s=10, sleep=lambda s: now.__setitem__(0, now[0] + s), stall_s=60,
                                   clock=lambda: now[0])
    with pytest.raises(TemporaryError, match="no new block for 60 s"):
        clock.wait_blocks(1)
    assert 60 < now[0] <= 80
