"""The one units module: exact raw <-> Decimal round trips, wei/gwei/native."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from hypothesis import given
from hypothesis import strategies as st

from agent.units import (
    format_gwei,
    gas_cost_native,
    gwei_to_wei,
    is_whole_raw,
    to_raw,
    to_units,
    wei_to_gwei,
    wei_to_native,
)

UINT256 = st.integers(0, 2**256 - 1)


@given(UINT256, st.integers(0, 36))
def test_raw_round_trips_exactly_for_every_uint256(raw: int, decimals: int) -> None:
    assert to_raw(to_units(raw, decimals), decimals) == raw


@given(st.decimals(min_value=0, max_value=10**30, places=6, allow_nan=False, allow_infinity=False))
def test_units_round_trip_through_raw(amount: Decimal) -> None:
    assert to_units(to_raw(amount, 6), 6) == amount


def test_by_hand() -> None:
    assert to_units(1_500_000, 6) == Decimal("1.5")
    assert to_raw(Decimal("1.2345678"), 6) == 1_234_567  # toward zero
    assert to_raw(Decimal("1.2345671"), 6, rounding=ROUND_CEILING) == 1_234_568
    max_units = "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    assert to_units(2**256 - 1, 18) == Decimal(max_units)


def test_whole_raw() -> None:
    assert is_whole_raw(Decimal("1.000001"), 6)
    assert not is_whole_raw(Decimal("1.0000001"), 6)


def test_wei_gwei_native() -> None:
    assert gwei_to_wei(Decimal("1.5")) == 1_500_000_000
    assert gwei_to_wei(None) is None
    assert wei_to_gwei(30 * 10**9) == 30
    assert wei_to_native(10**18) == 1
    assert gas_cost_native(21_000, 30 * 10**9) == Decimal("0.00063")
    assert format_gwei(1_500_000_000) == "1.5"
    assert format_gwei(30 * 10**9) == "30"
    assert format_gwei(1_234_567) == "0.001"
