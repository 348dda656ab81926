"""The market keeper's trade sizing on both pool kinds (pure: no chain)."""

from __future__ import annotations

import math

import pytest

from agent.amm import get_amount_out
from agent.devtools.sandbox.keeper import KeeperPool, PoolState, plan_swap
from agent.devtools.sandbox.pools import position_amounts, position_ticks

T0, T1 = "0x" + "00" * 19 + "01", "0x" + "00" * 19 + "02"


def pool(fee: int) -> KeeperPool:
    return KeeperPool("0x" + "aa" * 20, "0x" + "bb" * 20, T0, T1, "WETH", "USDC", 18, 6, fee)


@pytest.mark.parametrize("goal_factor", [0.99, 1.01])
def test_v2_trade_lands_the_pair_on_the_goal_price(goal_factor: float) -> None:
    r0, r1 = 10_000 * 10**18, 30_000_000 * 10**6
    state = PoolState(r1 / r0, reserves=(r0, r1))
    goal = state.price * goal_factor
    swap = plan_swap(pool(0), state, goal)
    assert swap is not None and swap.amount_in_raw > 0
    if goal_factor > 1:  # the pool must get dearer in token0: buy token0 with token1
        assert (swap.sell, swap.sym_sell) == (T1, "USDC")
        out = get_amount_out(swap.amount_in_raw, r1, r0)
        after = (r1 + swap.amount_in_raw) / (r0 - out)
    else:
        assert (swap.sell, swap.sym_sell) == (T0, "WETH")
        out = get_amount_out(swap.amount_in_raw, r0, r1)
        after = (r1 - out) / (r0 + swap.amount_in_raw)
    assert after == pytest.approx(goal, rel=1e-4)


def test_v3_trade_estimate_follows_the_active_liquidity() -> None:
    price = 3000 * 10**6 / 10**18
    liquidity = 10**18
    state = PoolState(price, liquidity=liquidity)
    up = plan_swap(pool(500), state, price * 1.01)
    down = plan_swap(pool(500), state, price * 0.99)
    assert up is not None and down is not None
    assert up.sell == T1 and down.sell == T0
    # Δy = L·Δ√P (selling token1), Δx = L·Δ(1/√P) (selling token0), grossed up by the 0.05% fee
    assert up.amount_in_raw == pytest.approx(liquidity * (math.sqrt(price * 1.01) - math.sqrt(price)) / 0.9995,
                                             rel=1e-9)
    assert down.amount_in_raw == pytest.approx(
        liquidity * (1 / math.sqrt(price * 0.99) - 1 / math.sqrt(price)) / 0.9995, rel=1e-9)
    assert plan_swap(pool(500), PoolState(price, liquidity=0), price * 1.01) is None  # nothing in range


@pytest.mark.parametrize(("spacing", "half_width"), [(1, 0.001), (10, 0.01), (60, 0.05), (60, None)])
def test_positions_straddle_the_price_and_their_value_is_the_budget(spacing: int, half_width: float | None) -> None:
    price01 = 3000 * 10**6 / 10**18
    tick = math.floor(math.log(price01) / math.log(1.0001))
    low, high = position_ticks(tick, spacing, half_width)
    assert low % spacing == 0 and high % spacing == 0 and low <= tick < high
    if half_width is not None:
        assert 1.0001 ** (high - tick) >= 1 + half_width and 1.0001 ** (tick - low) >= 1 + half_width
    amount0, amount1 = position_amounts(price01, low, high, 1e12)
    assert amount0 > 0 and amount1 > 0
    assert amount0 * price01 + amount1 == pytest.approx(1e12, rel=1e-6)
