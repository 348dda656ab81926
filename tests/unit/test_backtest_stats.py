"""Deflated Sharpe and PBO against worked examples; the tear-sheet metrics on hand-built series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agent.research.metrics import longest_drawdown_bars, run_metrics
from agent.research.stats import deflated_sharpe, dsr_of_best, expected_max_sharpe, pbo


def test_deflated_sharpe_matches_the_papers_worked_example() -> None:
    # Bailey & López de Prado (2014), section "A numerical example": 100 trials, variance of their annualised
    # Sharpes 0.5, 1,250 daily returns, skew −3, kurtosis 10, observed annualised Sharpe 2.5 (250 days a year):
    # the expected maximum is 0.1132 per day and the DSR 0.9004
    sr0 = expected_max_sharpe(0.5, 100) / math.sqrt(250)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert deflated_sharpe(2.5 / math.sqrt(250), 1250, -3, 10, sr0) == pytest.approx(0.9004, abs=5e-4)


def test_one_trial_is_not_deflated_and_more_trials_deflate_more() -> None:
    assert expected_max_sharpe(0.5, 1) == 0
    assert expected_max_sharpe(0.5, 1000) > expected_max_sharpe(0.5, 10) > 0
    # normal returns: the DSR of one trial is the probabilistic Sharpe ratio against 0
    assert deflated_sharpe(0.05, 401, 0, 3, 0) == pytest.approx(0.5 + 0.5 * math.erf(0.05 * 20 / math.sqrt(
        1 + 2 / 4 * 0.05 ** 2) / math.sqrt(2)))


def test_pbo_is_one_when_the_in_sample_winner_always_loses_out_of_sample_and_zero_for_a_dominant_variant() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.01, size=(400, 2))
    # two blocks: variant 0 earns in the first half and loses in the second, variant 1 the reverse; the only two
    # splits each pick the in-sample winner, which is the out-of-sample loser: rank 1 of 2, ω = 1/3, λ < 0
    flip = noise + np.where(np.arange(400)[:, None] < 200, [0.01, -0.01], [-0.01, 0.01])
    out = pbo(flip, blocks=2)
    assert out["splits"] == 2 and out["pbo"] == 1.0 and out["median_logit"] == pytest.approx(math.log(0.5))
    dominant = noise + np.array([0.0, 0.02])
    assert pbo(dominant, blocks=16)["pbo"] == 0.0 and pbo(dominant, blocks=16)["splits"] == 12870


def test_pbo_of_pure_noise_variants_is_near_one_half() -> None:
    rng = np.random.default_rng(7)
    assert 0.25 < pbo(rng.normal(0, 0.01, size=(1600, 20)), blocks=8)["pbo"] < 0.75


def test_dsr_of_best_counts_every_variant() -> None:
    rng = np.random.default_rng(3)
    r = rng.normal(0.0005, 0.02, size=(1000, 50))
    out = dsr_of_best(r)
    assert out["trials"] == 50 and out["deflated_sharpe"] < 0.95  # luck alone: not significant


def test_metrics_on_a_hand_built_series() -> None:
    v = np.array([100, 110, 99, 99, 121, 110.0])
    assert longest_drawdown_bars(v) == 2
    m = run_metrics(v, 365, turnover_usd=1000, costs_usd=10)
    rets = v[1:] / v[:-1] - 1
    assert m["max_drawdown_pct"] == 10.0 and m["longest_drawdown_days"] == 2
    assert m["sharpe"] == round(rets.mean() / rets.std() * math.sqrt(365), 3)
    downside = math.sqrt(np.mean(np.minimum(rets, 0) ** 2))
    assert m["sortino"] == round(rets.mean() / downside * math.sqrt(365), 3)
    years = 5 / 365
    assert m["calmar"] == round(((1.1) ** (1 / years) - 1) / 0.1, 3)
    assert m["turnover_per_year"] == round(1000 / v.mean() / years, 3)
    assert m["cost_drag_pct_per_year"] == round(100 * 10 / v.mean() / years, 3)
    with_rf = run_metrics(v, 365, rf_pct=4)
    assert with_rf["sharpe"] < m["sharpe"]
