"""``rebalancer bench execution``: implementation shortfall of large swaps on the official Uniswap V2 and V3
pools — one shot vs our splitter vs hindsight — and the accuracy of ``est_impact_bps``.

What runs: one anvil with the official builds only (``official_world``: a V2 pair with 10M USDC a side, and a
V3 0.05% pool whose positions — full range, ±50%, ±20%, ±5%, ±2% — concentrate the liquidity around the
price), deployed once; the market (``official_market``): the ETH reference replayed from real hourly bars
(``data/prices_hourly_btc_eth_2021-05.csv``, 300 twelve-second blocks per bar), an arbitrage keeper on both
pools, the mainnet per-block base fee. Every strategy starts from the same ``evm_snapshot`` (reverted after
each run) and the same point of the path.

Per venue (the agent sees one venue at a time: its chain config has only that protocol) and per size — a
percentage of the venue's *depth*: the sell token's reserve in the V2 pair, the sell token's virtual reserve
at the current price from the V3 pool's active liquidity (``L·√P`` or ``L/√P``) — the wallet buys WETH with
USDC and sells the same size of WETH (the mean over both sides cancels the path's drift), from each decision
time of ``STARTS``. Each strategy runs through the real pipeline (simulation, exact approval, signing, receipts,
balance checks) with a fresh journal: one shot at the venue's on-chain quote; our splitter (``execute_twap``);
at 5% and 10%, the same executor forced to each chunk count of ``GRID`` and to our own (its best is the
hindsight best; our run stands for the forced run at its own count when it kept its plan — same schedule, same
quotes, no re-plan). Shortfall, in bps of what was sold valued at the reference mid at the decision block ``P₀``:
``(sold − bought + gas) / sold`` — LP fees, impact, drift and gas included.

Targets (on the means over starts and sides): at 5% and 10%, splitter ≤ 0.5 × the one shot and ≤ 1.15 × the
per-path hindsight best (cost), and its chunk count ≤ 1.15 × the chunk count that is best on average; at
0.1%, splitter ≤ one shot + 1 bp. The impact rows (``impact``) compare the agent's ``est_impact_bps`` with
the impact a one-shot swap of that size really had, ±25% being the target.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config.chains import ChainConfig
from agent.devtools.bench.execution_report import summarize, summarize_venue
from agent.devtools.bench.harness import EFFICIENCY, LIMITS, Bench
from agent.devtools.bench.impact import impact_rows
from agent.devtools.bench.official_world import VENUES
from agent.execution.pipeline import ExecutionContext, execute_intent
from agent.execution.splitter import SplitParams
from agent.execution.twap import BestQuoteChunkQuoter, TwapOrder, TwapParams, chunk_intent, execute_twap, horizon_blocks
from agent.quotes.models import QuoteRequest

SIZES_PCT = (0.1, 5.0, 10.0)
GRID = (1, 2, 4, 8, 16, 32)
#: the decision time (chosen before any run), bought and sold; each further start adds ≈ 5 minutes on two cores
STARTS = ("2021-05-06T00:00:00Z",)
SIDES = ("buy", "sell")
#: one process and one anvil per venue
WORKERS = 2
SPACING_BLOCKS = 1
MAX_CHUNKS = 32
MAX_IMPACT_BPS = 50


def _order(request: QuoteRequest, key: str, chain: ChainConfig) -> TwapOrder:
    return TwapOrder(chain=chain.name, plan_id=key, key=key, sell_token=request.sell_token,
                     buy_token=request.buy_token, total_sell_raw=request.sell_amount_raw)


def one_shot(bench: Bench, venue: str, side: str, amount: float) -> Callable[[ExecutionContext], dict[str, Any]]:
    def run(ctx: ExecutionContext) -> dict[str, Any]:
        request = bench.request(venue, side, amount)
        quote = bench.quoter(venue).fetch_quote(request)
        result = execute_intent(chunk_intent(_order(request, "one-shot", ctx.chain), quote, 0, TwapParams()), ctx)
        return {"state": result.state, "route": quote.route}
    return run


def split_params(max_chunks: int = MAX_CHUNKS) -> SplitParams:
    """The agent's split settings (MAX_IMPACT_BPS, TWAP_MAX_CHUNKS, TWAP_SPACING_BLOCKS, TWAP_HORIZON_S unset): every
    split run spreads over the default horizon — what ``max_chunks`` chunks need at the fastest spacing — so the
    hindsight grid varies the chunk count only, not the time the order is exposed to the price."""
    return SplitParams(max_impact_bps=MAX_IMPACT_BPS, max_chunks=max_chunks, block_time_s=12,
                       blocks_per_chunk=SPACING_BLOCKS + 2,
                       horizon_blocks=horizon_blocks(None, max_chunks=max_chunks, blocks_per_chunk=SPACING_BLOCKS + 2,
                                                     block_time_s=12))


def twap(bench: Bench, venue: str, side: str, amount: float, chunks: int | None, *, max_chunks: int = MAX_CHUNKS
         ) -> Callable[[ExecutionContext], dict[str, Any]]:
    def run(ctx: ExecutionContext) -> dict[str, Any]:
        request = bench.request(venue, side, amount)
        onchain = bench.quoter(venue)
        quoter = BestQuoteChunkQuoter(request, chain=ctx.chain, sources=[onchain], reference=onchain.fetch_reference,
                                      limits=LIMITS)
        params = TwapParams(split=split_params(max_chunks), spacing_blocks=SPACING_BLOCKS, chunks=chunks)
        res = execute_twap(_order(request, f"twap-{chunks or 'ours'}", ctx.chain), ctx, quoter, bench.market,
                           params, sell_decimals=6 if side == "buy" else 18)
        return {"state": res.status, "chunks": len([c for c in res.chunks if c.state == "confirmed"]),
                "planned_chunks": res.planned_chunks, "reason": res.plan.get("reason", "")}
    return run


def bench_size(bench: Bench, venue: str, pct: float, side: str, grid: tuple[int, ...], depth: tuple[float, float],
               max_chunks: int = MAX_CHUNKS) -> dict[str, Any]:
    """Every strategy for one size and side; ``depth`` is the venue's (USDC, WETH) depth at the checkpoint."""
    usdc_depth, weth_depth = depth
    amount = (usdc_depth if side == "buy" else weth_depth) * pct / 100
    single = bench.measure(venue, one_shot(bench, venue, side, amount))
    ours = bench.measure(venue, twap(bench, venue, side, amount, None, max_chunks=max_chunks))
    counts = sorted({*grid, ours["chunks"] or 1}) if grid else []
    # our run is the forced run at its own count when it kept its plan (no re-plan, every chunk done): reuse it
    same = ours["chunks"] if ours["state"] == "completed" and ours["chunks"] == ours["planned_chunks"] else None
    hindsight = {n: ours if n == same else bench.measure(venue, twap(bench, venue, side, amount, n,
                                                                     max_chunks=max_chunks)) for n in counts}
    row: dict[str, Any] = {
        "venue": venue, "size_pct_of_depth": pct, "side": side, "order_usd": round(single["usd_spent"], 2),
        "one_shot_bps": single["shortfall_bps"], "one_shot_state": single["state"],
        "splitter_bps": ours["shortfall_bps"], "splitter_chunks": ours["chunks"],
        "splitter_state": ours["state"], "splitter_reason": ours.get("reason", ""),
        "reference_move_bps_over_splitter": ours["reference_move_bps"], "grid_count_from_splitter_run": same,
        "wall_s": round(sum(r["wall_s"] for r in (single, ours, *(r for n, r in hindsight.items() if n != same))), 1),
    }
    # a run that sold nothing (its price guard abandoned every chunk) has no shortfall: it cannot be the best
    spent = {n: r for n, r in hindsight.items() if r["shortfall_bps"] is not None}
    if spent:
        best_n = min(spent, key=lambda n: spent[n]["shortfall_bps"])
        row |= {"hindsight_best_bps": spent[best_n]["shortfall_bps"], "hindsight_best_chunks": best_n,
                "grid_bps": {str(n): r["shortfall_bps"] for n, r in hindsight.items()},
                #: runs that did not finish every chunk (e.g. the price guard abandoned the rest)
                "grid_unfinished": {str(n): r["state"] for n, r in hindsight.items() if r["state"] != "completed"}}
    return row


def _progress(row: dict[str, Any], t0: float) -> None:
    print(f"bench execution: {row['start'][:10]} {row['venue']} {row['size_pct_of_depth']:g}% {row['side']}: "
          f"one shot {row['one_shot_bps']} bps, splitter {row['splitter_bps']} bps in {row['splitter_chunks']} chunks "
          f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Config:
    sizes_pct: tuple[float, ...] = SIZES_PCT
    grid: tuple[int, ...] = GRID
    starts: tuple[str, ...] = STARTS
    max_chunks: int = MAX_CHUNKS
    sides: tuple[str, ...] = SIDES
    impact_sizes_pct: tuple[float, ...] | None = None


def run_venues(venues: tuple[str, ...], config: Config) -> dict[str, Any]:
    """Every run on ``venues`` on one anvil (deployed once, reverted between runs)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(journal_dir=Path(tmp))
        try:
            impact = {v: impact_rows(bench, v, config.impact_sizes_pct) for v in venues}  # ends rewound
            depth = {v: bench.depth(v) for v in venues}
            rows: list[dict[str, Any]] = []
            labels = []
            for start in config.starts:
                labels.append(bench.set_path(start, bars=2))  # 600 blocks: more than the longest run needs
                for venue in venues:
                    for pct in config.sizes_pct:
                        for side in config.sides:
                            grid = config.grid if pct >= 5 else ()
                            row = bench_size(bench, venue, pct, side, grid, depth[venue], config.max_chunks)
                            rows.append({"start": start, **row})
                            _progress(rows[-1], t0)
        finally:
            bench.close()
    return {"impact": impact, "depth": depth, "rows": rows, "labels": labels, "fees": bench.fees.label,
            "keeper_trades": bench.market.keeper_trades, "runs": bench.runs, "wall_s": time.perf_counter() - t0}


def run(sizes_pct: tuple[float, ...] = SIZES_PCT, *, grid: tuple[int, ...] = GRID, starts: tuple[str, ...] = STARTS,
        venues: tuple[str, ...] = VENUES, max_chunks: int = MAX_CHUNKS, sides: tuple[str, ...] = SIDES,
        impact_sizes_pct: tuple[float, ...] | None = None, workers: int = WORKERS) -> dict[str, Any]:
    """The whole benchmark (see the module docstring); the arguments shrink it for tests. With ``workers`` > 1
    the venues run side by side, one process and one anvil each."""
    t0 = time.perf_counter()
    config = Config(sizes_pct, grid, starts, max_chunks, sides, impact_sizes_pct)
    groups = [venues[i::workers] for i in range(min(workers, len(venues)))] if workers > 1 else [venues]
    if len(groups) > 1:
        with ProcessPoolExecutor(max_workers=len(groups)) as pool:
            parts = list(pool.map(run_venues, groups, [config] * len(groups)))
    else:
        parts = [run_venues(venues, config)]
    impact = {v: r for p in parts for v, r in p["impact"].items()}
    depths = {v: dict(zip(("usdc", "weth"), d, strict=True)) for p in parts for v, d in p["depth"].items()}
    rows = [r for p in parts for r in p["rows"]]
    venues_out = {v: summarize_venue(v, [summarize(v, pct, [r for r in rows if r["venue"] == v
                                                               and r["size_pct_of_depth"] == pct])
                                         for pct in sizes_pct], impact[v], depths[v]) for v in venues}
    targets = [t for v in venues_out.values() for t in v["targets_met"].values()]
    return {
        "benchmark": "execution", "contracts": "official builds (contracts/build/official)",
        "chain": "anvil, deployed once per process, evm_snapshot/evm_revert between runs", "pair": "USDC <-> WETH",
        "venues": venues_out, "all_targets_met": all(targets), "starts": list(starts),
        "reference_paths": parts[0]["labels"], "base_fee_trace": parts[0]["fees"],
        "keeper": {"efficiency": EFFICIENCY, "band": "the pool's LP fee", "min_excess_bps": 5, "delay_blocks": 0},
        "keeper_trades": sum(p["keeper_trades"] for p in parts), "spacing_blocks": SPACING_BLOCKS,
        "max_chunks": max_chunks,
        "max_impact_bps": MAX_IMPACT_BPS, "grid": list(grid),
        "measure": "implementation shortfall in bps of what was sold, valued at the reference mid at the decision; "
                   "LP fees, impact, drift and gas (at the replayed base fee) included; mean over starts and sides",
        "runs": sum(p["runs"] for p in parts), "processes": len(parts), "anvils": len(parts),
        "venue_wall_s": {"+".join(g): round(p["wall_s"], 1) for g, p in zip(groups, parts, strict=True)},
        "wall_s": round(time.perf_counter() - t0, 1),
    }
