"""Market signals on hand-built paths: a trend, a range, a crash, a correlation spike; hand-checked figures."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from strategies.signals import (
    average_pairwise_correlation,
    correlation,
    efficiency_ratio,
    ewma_volatility,
    fastest_drop,
    inverse_volatility_weights,
    log_returns,
    moving_average_slope,
    realised_volatility,
    volatility_target_stable_share,
)

TREND = [100 * 1.01**i for i in range(60)]
RANGE = [100 + (1 if i % 2 else -1) for i in range(60)]


def test_efficiency_ratio_is_one_in_a_straight_trend_and_near_zero_in_a_range() -> None:
    assert efficiency_ratio(TREND, 20) == pytest.approx(1.0)
    assert efficiency_ratio(RANGE, 20) == 0.0  # 20 moves of 2 that end where they began
    assert efficiency_ratio([1, 2, 1, 2, 3], 4) == pytest.approx(2 / 4)


def test_moving_average_slope_measures_the_trend_per_period() -> None:
    assert moving_average_slope(TREND, 10, 5) == pytest.approx((1.01**5 - 1) / 5)
    assert moving_average_slope(RANGE, 10, 5) == pytest.approx(0.0)
    assert moving_average_slope(TREND[:12], 10, 5) == 0.0  # too short to say


def test_ewma_volatility_of_constant_moves_is_their_size_annualised() -> None:
    returns = [0.01, -0.01] * 50
    assert ewma_volatility(returns, halflife=10) == pytest.approx(0.01 * math.sqrt(365))
    # a recent shock weighs more than an old one
    calm_then_shock = [0.001] * 50 + [0.05] * 3
    shock_then_calm = [0.05] * 3 + [0.001] * 50
    assert ewma_volatility(calm_then_shock, halflife=5) > 5 * ewma_volatility(shock_then_calm, halflife=5)


def test_realised_volatility_matches_the_sample_standard_deviation() -> None:
    returns = [0.02, -0.01, 0.03, 0.0]
    mean = sum(returns) / 4
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / 3)
    assert realised_volatility(returns, periods_per_year=1) == pytest.approx(sd)


def test_log_returns_refuse_non_positive_prices() -> None:
    assert log_returns([100, 110]) == [pytest.approx(math.log(1.1))]
    with pytest.raises(ValueError):
        log_returns([100, 0])


def test_correlation_spike_is_seen_in_the_average_pairwise_correlation() -> None:
    a = [0.01 * math.sin(i) for i in range(40)]
    independent = {"ETH": a, "WBTC": [0.01 * math.cos(3 * i) for i in range(40)]}
    together = {"ETH": a, "WBTC": [2 * x for x in a], "LINK": [x + 0.0001 for x in a]}
    assert abs(average_pairwise_correlation(independent, 40)) < 0.2
    assert average_pairwise_correlation(together, 40) == pytest.approx(1.0)
    assert correlation(a, [-x for x in a]) == pytest.approx(-1.0)


def test_inverse_volatility_weights_within_bounds() -> None:
    w = inverse_volatility_weights({"ETH": 0.8, "WBTC": 0.4})
    assert w == {"ETH": pytest.approx(1 / 3), "WBTC": pytest.approx(2 / 3)}
    bounded = inverse_volatility_weights({"ETH": 0.8, "WBTC": 0.4, "USDC": 0.0},
                                         bounds={"USDC": (0.3, 0.3), "WBTC": (0.0, 0.5)})
    assert bounded["USDC"] == pytest.approx(0.3)
    # 0.7 left for the risky two, split 1:2 by inverse volatility; WBTC's 0.467 is inside its 0.5 cap
    assert (bounded["ETH"], bounded["WBTC"]) == (pytest.approx(0.7 / 3), pytest.approx(1.4 / 3))
    capped = inverse_volatility_weights({"ETH": 0.8, "WBTC": 0.2, "USDC": 0.0},
                                        bounds={"USDC": (0.3, 0.3), "WBTC": (0.0, 0.5)})
    assert capped == {"ETH": pytest.approx(0.2), "WBTC": pytest.approx(0.5), "USDC": pytest.approx(0.3)}
    with pytest.raises(ValueError, match="needs a weight bound"):
        inverse_volatility_weights({"USDC": 0.0, "ETH": 0.5})


def test_volatility_targeting_moves_to_the_stable_as_volatility_rises() -> None:
    assert volatility_target_stable_share(0.4, target_vol=0.5) == 0.0
    assert volatility_target_stable_share(1.0, target_vol=0.5) == pytest.approx(0.5)
    assert volatility_target_stable_share(2.0, target_vol=0.5, max_share=0.6) == pytest.approx(0.6)


def test_fastest_drop_sees_a_crash_inside_the_window_only() -> None:
    t0 = datetime(2022, 11, 8, tzinfo=UTC)
    hours = [t0 + timedelta(hours=h) for h in range(48)]
    prices = [1600.0] * 30 + [1600 * (1 - 0.02 * k) for k in range(1, 13)] + [1220.0] * 6
    history = list(zip(hours, prices, strict=True))
    assert fastest_drop(history, within=timedelta(hours=24)) == pytest.approx(1 - 1216 / 1600)  # low 1600 x 0.76
    assert fastest_drop(history[:30], within=timedelta(hours=24)) == 0.0
    # a crash older than the window no longer counts
    later = history + [(hours[-1] + timedelta(hours=h), 1220.0) for h in range(1, 30)]
    assert fastest_drop(later, within=timedelta(hours=6)) == 0.0
