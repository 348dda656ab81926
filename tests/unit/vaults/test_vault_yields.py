"""measure_yield: compounded growth over the window, minimum span, drop from the window's peak."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from agent.vaults.yields import measure_yield

from .vault_factory import samples

D = Decimal
DAY = timedelta(days=1)


def test_five_percent_a_year_measures_as_five_percent() -> None:
    daily = D("1.05") ** (D(1) / D(365))
    prices = [daily**i for i in range(8)]
    m = measure_yield(samples("v", prices, step=DAY), timedelta(days=7))
    assert m.apy is not None and abs(m.apy - D("0.05")) < D("0.0001")
    assert m.samples == 8 and m.span_s == 7 * 86400 and not m.falling


def test_only_the_window_counts() -> None:
    # a fast first week, then flat: a 2-day window sees no growth
    prices = [D(1), D("1.01"), D("1.02"), D("1.02"), D("1.02")]
    m = measure_yield(samples("v", prices, step=DAY), timedelta(days=2))
    assert m.samples == 3 and m.apy == 0


def test_too_short_a_span_gives_no_yield() -> None:
    m = measure_yield(samples("v", [D(1), D("1.0001")], step=timedelta(minutes=5)), DAY)
    assert m.apy is None and m.span_s == 300
    assert measure_yield([], DAY).apy is None
    assert measure_yield(samples("v", [D(1)]), DAY).apy is None


def test_a_drop_below_the_peak_is_a_loss() -> None:
    m = measure_yield(samples("v", [D(1), D("1.02"), D("1.0098")]), DAY)
    assert m.falling and abs(m.drop_bps - D(100)) < D("0.001")
    assert m.peak_assets_per_share == D("1.02")
    # rounding-sized wobble is not a loss
    assert not measure_yield(samples("v", [D(1), D("1.000000000001"), D(1)]), DAY).falling
