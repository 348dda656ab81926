"""The benchmarks' pure parts: how per-path results become the figures and target verdicts they print."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from agent.devtools.bench.execution_report import impact_verdict, summarize, summarize_venue
from agent.devtools.bench.gas import process_optimum, ratio_standard_error, window_oracle


def row(start: str, side: str, single: float, ours: float, grid: dict[str, float] | None = None,
        chunks: int = 30) -> dict[str, Any]:
    out: dict[str, Any] = {"start": start, "side": side, "order_usd": 1000.0, "one_shot_bps": single,
                           "splitter_bps": ours, "splitter_chunks": chunks, "reference_move_bps_over_splitter": 0.0,
                           "splitter_state": "completed"}
    if grid is not None:
        best = min(grid, key=lambda n: grid[n])
        out |= {"hindsight_best_bps": grid[best], "hindsight_best_chunks": int(best), "grid_bps": grid,
                "grid_unfinished": {}}
    return out


def test_large_orders_are_judged_on_the_means_against_one_shot_the_hindsight_best_and_its_chunk_count() -> None:
    rows = [row("a", "buy", 500, 60, {"1": 360, "16": 58, "32": 55}),
            row("a", "sell", 500, 90, {"1": 360, "16": 88, "32": 86})]
    out = summarize("v3", 5.0, rows)
    assert out["mean_splitter_bps"] == 75 and out["mean_hindsight_best_bps"] == 70.5
    assert out["splitter_vs_hindsight"] == round(75 / 70.5, 3) and out["target_met"] is True
    assert out["best_fixed_chunks_on_average"] == 32 and out["splitter_chunks_vs_best_fixed_chunks"] == 0.938
    assert out["by_side"]["buy"]["mean_splitter_bps"] == 60 and out["starts"] == 1 and out["runs"] == 2
    worse = summarize("v3", 5.0, [r | {"splitter_bps": r["splitter_bps"] * 1.3} for r in rows])
    assert worse["target_met"] is False and worse["checks"]["vs_hindsight_cost"] is False  # 1.38 x hindsight
    over_split = summarize("v3", 5.0, [r | {"splitter_chunks": 40} for r in rows])
    assert over_split["checks"] == {"vs_one_shot": True, "vs_hindsight_cost": True, "chunk_count": False}


def test_a_small_order_must_not_be_split_needlessly() -> None:
    assert summarize("v2", 0.1, [row("a", "buy", 46, 46.5, chunks=1)])["target_met"] is True
    assert summarize("v2", 0.1, [row("a", "buy", 46, 48, chunks=2)])["target_met"] is False  # > one-shot + 1 bp


def test_an_impact_estimate_is_judged_within_25_percent_of_the_realised_impact() -> None:
    ok = impact_verdict({"est_impact_bps": 110.0, "realised_impact_bps": 100.0})
    optimistic = impact_verdict({"est_impact_bps": 30.0, "realised_impact_bps": 100.0})
    assert (ok["within_25pct"], ok["est_vs_realised"]) == (True, 1.1)
    assert optimistic["within_25pct"] is False
    venue = summarize_venue("v3", [summarize("v3", 0.1, [row("a", "buy", 46, 46.5, chunks=1)])], [ok, optimistic],
                            {"usdc": 1.0, "weth": 2.0})
    assert venue["targets_met"] == {"0.1pct": True, "est_impact_within_25pct": False}


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
