"""A tiny configuration of ``bench execution`` on the official V2 pair and V3 pool: its outcome fields, not its
timing (the timing targets live in the benchmark's JSON)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.devtools.bench.execution import run

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return run((0.1, 5.0), grid=(1, 4), starts=("2021-05-18T00:00:00Z",), max_chunks=16, sides=("buy",),
               impact_sizes_pct=(0.1, 3.0), workers=1)


def test_both_venues_run_on_the_official_pools_with_every_strategy_completed(result: dict[str, Any]) -> None:
    assert set(result["venues"]) == {"v2", "v3"}
    for venue in result["venues"].values():
        for size in venue["sizes"]:
            for r in size["per_run"]:
                assert r["splitter_state"] == "completed" and r["one_shot_bps"] is not None
                assert not r.get("grid_unfinished")
    assert result["keeper_trades"] > 0


def test_a_large_order_is_split_and_costs_far_less_than_one_shot_on_v2_and_v3(result: dict[str, Any]) -> None:
    for name, venue in result["venues"].items():
        large = next(s for s in venue["sizes"] if s["size_pct_of_depth"] == 5.0)
        assert large["mean_splitter_chunks"] > 1, name
        assert large["checks"]["vs_one_shot"] is True, (name, large["mean_splitter_bps"], large["mean_one_shot_bps"])
        assert large["mean_splitter_bps"] <= 0.5 * large["mean_one_shot_bps"]
        assert set(large["mean_bps_by_fixed_chunks"]) >= {"1", "4"}


def test_a_small_order_stays_one_chunk_and_the_impact_estimate_tracks_the_realised_impact(
        result: dict[str, Any]) -> None:
    for name, venue in result["venues"].items():
        small = next(s for s in venue["sizes"] if s["size_pct_of_depth"] == 0.1)
        assert small["mean_splitter_chunks"] == 1 and small["target_met"] is True, name
        assert venue["targets_met"]["est_impact_within_25pct"] is True, venue["impact"]
        assert len(venue["impact"]) == 4 and all(r["realised_impact_bps"] > 0 for r in venue["impact"])
    v3_big = next(r for r in result["venues"]["v3"]["impact"] if r["size_pct_of_depth"] == 3.0)
    # concentrated liquidity: the planner's two-size depth alone would be optimistic; the trade-size quote is not
    assert v3_big["plan_est_impact_bps"] < 0.8 * v3_big["realised_impact_bps"] <= v3_big["est_impact_bps"]
