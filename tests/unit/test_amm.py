"""The one constant-product AMM module: Uniswap V2 integer maths against hand-checked numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.amm import (
    amount_in_to_price,
    fit_curve,
    get_amount_in,
    get_amount_out,
    get_amounts_out,
    impact_bps,
    shortfall_bps,
    spot_out,
)

ETH, USDC = 10**18, 10**6


def test_get_amount_out_sells_one_eth_into_a_ten_eth_pool() -> None:
    # 1 ETH into 10 ETH / 20,000 USDC at 0.3%: 0.997 * 20000 / 10.997 = 1813.2217877... USDC
    assert get_amount_out(1 * ETH, 10 * ETH, 20_000 * USDC) == 1_813_221_787


def test_get_amount_out_small_numbers_by_hand() -> None:
    # 1000 * 997 * 10^6 // (10^9 + 997000) = 997000000000 // 1000997000 = 996
    assert get_amount_out(1000, 10**6, 10**6) == 996
    assert get_amount_out(1000, 10**6, 10**6, fee_bps=0) == 999  # 10^9 // 1001000
    assert get_amount_out(0, 10**6, 10**6) == 0
    assert get_amount_out(1000, 0, 10**6) == 0


def test_get_amount_in_by_hand() -> None:
    # 10^6 * 1000 * 10000 // (999000 * 9970) + 1 = 10^13 // 9960030000 + 1 = 1004 + 1
    assert get_amount_in(1000, 10**6, 10**6) == 1005
    assert get_amount_out(1005, 10**6, 10**6) >= 1000
    assert get_amount_out(1004, 10**6, 10**6) < 1000


def test_get_amount_in_refuses_draining_the_pool() -> None:
    with pytest.raises(ValueError, match="cannot pay out"):
        get_amount_in(10**6, 10**6, 10**6)


@given(st.integers(1, 10**30), st.integers(10**3, 10**30), st.integers(10**3, 10**30), st.integers(0, 100))
def test_get_amount_in_is_the_least_input_for_the_output(out: int, r_in: int, r_out: int, fee: int) -> None:
    if out >= r_out:
        return
    need = get_amount_in(out, r_in, r_out, fee_bps=fee)
    assert get_amount_out(need, r_in, r_out, fee_bps=fee) >= out
    assert get_amount_out(need - 2, r_in, r_out, fee_bps=fee) < out  # V2's +1 rounds up by at most one


def test_get_amounts_out_chains_the_hops() -> None:
    first = get_amount_out(ETH, 10 * ETH, 20_000 * USDC)
    assert get_amounts_out(ETH, [(10 * ETH, 20_000 * USDC), (30_000 * USDC, 30_000 * USDC)]) == [
        ETH, first, get_amount_out(first, 30_000 * USDC, 30_000 * USDC)]


def test_spot_and_shortfall() -> None:
    assert spot_out(ETH, 10 * ETH, 20_000 * USDC) == 2_000 * USDC
    assert shortfall_bps(2_000 * USDC, 1_813_221_787) == Decimal("933.891065")  # (2000 - 1813.221787) / 2000
    assert shortfall_bps(0, 5) == 0


def test_impact_is_trade_over_depth_plus_trade() -> None:
    assert impact_bps(Decimal(1_000), Decimal(9_000)) == 1_000
    assert impact_bps(Decimal(1_000), None) == 0
    assert impact_bps(Decimal(0), Decimal(9_000)) == 0


def test_fit_curve_recovers_price_and_depth_of_a_v2_pool() -> None:
    x, y = 500 * ETH, 1_500_000 * USDC  # 3000 USDC per ETH
    small, big = ETH, 100 * ETH
    price, depth = fit_curve(small_in=small, small_out=get_amount_out(small, x, y), big_in=big,
                             big_out=get_amount_out(big, x, y), fee_factor=Decimal("0.997"))
    assert abs(price / (Decimal(y) / x) - 1) < Decimal("1e-6")
    assert depth is not None and abs(depth / x - 1) < Decimal("1e-4")


def test_fit_curve_falls_back_when_quotes_are_not_a_curve() -> None:
    price, depth = fit_curve(small_in=100, small_out=300, big_in=200, big_out=700, fee_factor=Decimal(1))
    assert (price, depth) == (Decimal(3), None)


def test_amount_in_to_price_reaches_the_target() -> None:
    r_in, r_out = 1_000 * ETH, 3_000_000 * USDC  # 3000 USDC/ETH, in raw units 3e-9 out per in
    target = 2_900 * USDC / ETH
    amount = amount_in_to_price(r_in, r_out, target_out_per_in=target)
    new_in = r_in + amount
    new_out = r_in * r_out // new_in
    assert abs(new_out / new_in / target - 1) < 1e-9
    assert amount_in_to_price(r_in, r_out, target_out_per_in=3_100 * USDC / ETH) == 0
