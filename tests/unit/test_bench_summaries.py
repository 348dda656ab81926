"""The benchmarks' pure parts: how per-path results become the figures and target verdicts they print."""

from __future__ import annotations

from typing import Any

import pytest

from bench.execution import summarize
from bench.gas import window_oracle


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
