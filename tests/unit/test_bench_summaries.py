"""The benchmarks' pure parts: how per-path results become the figures and target verdicts they print."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from agent.devtools.bench.execution import summarize
from agent.devtools.bench.gas import process_optimum, ratio_standard_error, window_oracle


def row(start: str, side: str, single: float, agg: float, ours: float, grid: dict[str, float]) -> dict[str, Any]:
    best = min(grid, key=lambda n: grid[n])
    return {"start": start, "side": side, "one_shot_single_pool_bps": single, "one_shot_aggregator_bps": agg,
            "splitter_bps": ours, "hindsight_best_bps": grid[best], "splitter_chunks": 30,
            "hindsight_best_chunks": int(best), "reference_move_bps_over_splitter": 0.0, "grid_bps": grid,
            "grid_unfinished": {}, "splitter_state": "completed"}


def test_large_orders_are_judged_on_the_means_against_one_shot_and_the_per_path_hindsight_best() -> None:
    rows = [row("a", "buy", 500, 360, 60, {"1": 360, "32": 58, "64": 55}),
            row("a", "sell", 500, 360, 90, {"1": 360, "32": 88, "64": 86})]
    out = summarize(5.0, rows)
    assert out["mean_splitter_bps"] == 75 and out["mean_hindsight_best_bps"] == 70.5
    assert out["splitter_vs_hindsight"] == round(75 / 70.5, 3) and out["target_met"] is True
    assert out["by_side"]["buy"]["mean_splitter_bps"] == 60 and out["starts"] == 1 and out["runs"] == 2
    worse = summarize(5.0, [r | {"splitter_bps": r["splitter_bps"] * 1.3} for r in rows])
    assert worse["target_met"] is False  # 1.38 x the hindsight best


def test_a_small_order_must_not_be_split_needlessly() -> None:
    ok = summarize(0.1, [row("a", "buy", 46, 47, 46.5, {"1": 46.5, "2": 50})])
    assert ok["target_met"] is True
    split = summarize(0.1, [row("a", "buy", 46, 47, 48, {"1": 46.5, "2": 48})])
    assert split["target_met"] is False  # more than one-shot + 1 bp


@pytest.mark.parametrize(("window", "expected"), [([5, 1, 3], 17 / 9), ([2, 2, 2], 2.0), ([7], 7.0)])
def test_the_window_oracle_is_the_optimal_stopping_value_for_known_values(window: list[int], expected: float) -> None:
    assert window_oracle(window) == pytest.approx(expected)
    assert min(window) <= window_oracle(window) <= sum(window) / len(window)


def ar1_trace(phi: float, sd: float, n: int = 4000, seed: int = 7) -> list[int]:
    """A synthetic base-fee trace whose log follows an AR(1) around 20 gwei with the given stationary spread."""
    rng, z, out = random.Random(seed), 0.0, []
    for _ in range(n):
        z = phi * z + rng.gauss(0, sd * math.sqrt(1 - phi * phi))
        out.append(int(20e9 * math.exp(z)))
    return out


def test_the_process_optimum_sees_the_reversion_of_the_process_it_was_fitted_to() -> None:
    reverting = process_optimum(ar1_trace(0.5, 0.3), 10, windows=4000)
    drifting = process_optimum(ar1_trace(0.995, 0.3), 10, windows=4000)
    assert abs(float(reverting["process"].split("phi=")[1]) - 0.5) < 0.05
    assert abs(float(drifting["process"].split("phi=")[1]) - 0.995) < 0.01
    # a fee that reverts fast can be waited out; one that barely reverts cannot (nor does hindsight gain much)
    assert reverting["saving_vs_immediate_pct"] > 15 > 3 > drifting["saving_vs_immediate_pct"]
    assert reverting["hindsight_saving_pct"] > 3 * drifting["hindsight_saving_pct"]
    for out in (reverting, drifting):
        assert out["ratio_to_hindsight"] >= 1 and out["saving_vs_immediate_pct"] <= out["hindsight_saving_pct"]
    assert process_optimum(ar1_trace(0.5, 0.3), 10, windows=4000) == reverting  # seeded: reproducible


def test_the_process_reproduces_the_hindsight_saving_of_the_trace_it_was_fitted_to() -> None:
    trace, d = ar1_trace(0.9, 0.3, n=20000), 20
    windows = [trace[t:t + d + 1] for t in range(0, len(trace) - d, d + 1)]
    trace_hindsight = 100 * (1 - sum(min(w) for w in windows) / sum(w[0] for w in windows))
    assert process_optimum(trace, d, windows=4000)["hindsight_saving_pct"] == pytest.approx(trace_hindsight, abs=2)


def test_the_ratio_standard_error_is_the_spread_of_the_windows_around_the_ratio() -> None:
    assert ratio_standard_error([2, 4, 6], [1, 2, 3]) == 0  # every window at the same ratio
    assert ratio_standard_error([2, 4], [1, 1]) == pytest.approx(1.0)  # ratio 3, residuals ±1, n/(n−1) = 2
    assert ratio_standard_error([5], [4]) == 0
