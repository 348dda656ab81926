"""The execution benchmark's figures and target verdicts from its per-run rows (pure)."""

from __future__ import annotations

import statistics
from typing import Any

KEYS = ("one_shot_bps", "splitter_bps", "hindsight_best_bps")
IMPACT_TOLERANCE = 0.25


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    """The mean over the runs that have the figure (a run that sold nothing has no shortfall)."""
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.fmean(values), 2) if values else None


def summarize(venue: str, pct: float, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the runs (starts × sides) of each strategy's shortfall, ratios of means, and the verdicts."""
    keys = [k for k in KEYS if all(k in r for r in rows)]
    mean = {k: _mean(rows, k) for k in keys}
    one, s = mean["one_shot_bps"] or 0.0, mean["splitter_bps"]
    if s is None:  # the splitter sold nothing on any run: every target is missed
        s = float("inf")
    chunks = statistics.fmean(r["splitter_chunks"] for r in rows)
    out: dict[str, Any] = {
        "venue": venue, "size_pct_of_depth": pct, "starts": len({r["start"] for r in rows}), "runs": len(rows),
        "mean_order_usd": round(statistics.fmean(r["order_usd"] for r in rows), 2),
        **{f"mean_{k}": v for k, v in mean.items()},
        "mean_splitter_chunks": round(chunks, 2),
        "by_side": {side: {f"mean_{k}": _mean(sub, k) for k in keys}
                    for side in ("buy", "sell") if (sub := [r for r in rows if r["side"] == side])},
        "splitter_vs_one_shot": round(s / one, 3) if one and s != float("inf") else None,
        "runs_without_shortfall": sum(r.get("splitter_bps") is None for r in rows),
    }
    # the chunk count that is best on average over the runs (every run tried the grid's counts)
    common = set.intersection(*(set(r.get("grid_bps") or {}) for r in rows)) if rows else set()
    by_n = {n: statistics.fmean(r["grid_bps"][n] for r in rows) for n in common
            if all(r["grid_bps"][n] is not None for r in rows)}
    if mean.get("hindsight_best_bps") is not None and by_n:
        best = mean["hindsight_best_bps"]
        fixed_n = int(min(by_n, key=lambda n: by_n[n]))
        out |= {"splitter_vs_hindsight": round(s / best, 3) if best else None,
                "best_fixed_chunks_on_average": fixed_n,
                "mean_bps_at_best_fixed_chunks": round(by_n[str(fixed_n)], 2),
                "mean_bps_by_fixed_chunks": {n: round(v, 2) for n, v in sorted(by_n.items(), key=lambda i: int(i[0]))},
                "splitter_chunks_vs_best_fixed_chunks": round(chunks / fixed_n, 3),
                "mean_hindsight_best_chunks": round(statistics.fmean(r["hindsight_best_chunks"] for r in rows), 2),
                "runs_where_splitter_within_1_15_of_hindsight": sum(
                    r.get("splitter_bps") is not None and r["splitter_bps"] <= 1.15 * r["hindsight_best_bps"]
                    for r in rows)}
    if pct >= 5:
        out["target"] = ("mean splitter <= 0.5 x mean one-shot and <= 1.15 x mean per-run hindsight best; "
                         "mean splitter chunk count <= 1.15 x the chunk count best on average")
        checks = {"vs_one_shot": s <= 0.5 * one}
        if "best_fixed_chunks_on_average" in out:
            checks |= {"vs_hindsight_cost": s <= 1.15 * (mean["hindsight_best_bps"] or 0.0),
                       "chunk_count": chunks <= 1.15 * out["best_fixed_chunks_on_average"]}
        out["checks"] = checks
        out["target_met"] = all(checks.values())
    elif pct <= 0.1:
        out["target"] = "mean splitter <= mean one-shot + 1 bp"
        out["target_met"] = bool(s <= one + 1)
    out["per_run"] = [{k: r.get(k) for k in ("start", "side", "order_usd", *keys, "splitter_chunks", "splitter_state",
                                            "hindsight_best_chunks", "reference_move_bps_over_splitter", "grid_bps",
                                            "grid_unfinished", "splitter_reason") if k in r} for r in rows]
    return out


def impact_verdict(row: dict[str, Any]) -> dict[str, Any]:
    """An impact row with its ratio and whether the estimate is within ±25% of the realised impact."""
    est, real = row["est_impact_bps"], row["realised_impact_bps"]
    ratio = est / real if real > 0 else None
    return row | {"est_vs_realised": None if ratio is None else round(ratio, 3),
                  "within_25pct": ratio is not None and abs(ratio - 1) <= IMPACT_TOLERANCE}


def summarize_venue(venue: str, sizes: list[dict[str, Any]], impact: list[dict[str, Any]],
                    depth: dict[str, float]) -> dict[str, Any]:
    targets = {f"{s['size_pct_of_depth']:g}pct": bool(s["target_met"]) for s in sizes if "target_met" in s}
    if impact:
        targets["est_impact_within_25pct"] = all(r["within_25pct"] for r in impact)
    flat = {}
    for s in sizes:
        tag = f"{s['size_pct_of_depth']:g}pct"
        for k in ("mean_one_shot_bps", "mean_splitter_bps", "mean_hindsight_best_bps", "splitter_vs_one_shot",
                  "splitter_vs_hindsight", "mean_splitter_chunks", "best_fixed_chunks_on_average",
                  "splitter_chunks_vs_best_fixed_chunks"):
            if k in s:
                flat[f"{tag}_{k}"] = s[k]
    return {"venue": venue, "depth_at_start": {k: round(v, 2) for k, v in depth.items()}, **flat,
            "targets_met": targets, "sizes": sizes, "impact": impact}
