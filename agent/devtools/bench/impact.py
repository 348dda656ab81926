"""The ``est_impact_bps`` rows of ``bench execution``: the agent's impact estimate for one swap against the impact
that swap really has when executed on the official pool.

Estimate — what the agent decides with: the planner's ``est_impact_bps`` (Δ/(x+Δ) on the USD depth the valuation
reads from two quotes of the token's pricing pool) and, on a V3-only chain, the larger of that and QuoterV2's
impact at the trade's own size (``OnchainQuoter.v3_impact_bps``), as ``agent.cycle.executors.trade_impact_bps``
takes it. Realised: from the snapshot, the wallet sends the swap straight to the venue's router (no keeper, no
splitting), one block is mined, and the impact is the average price received against the pool's marginal price
before the trade net of the LP fee: ``1 − (out/in) / (mid · (1 − fee))``. Both are fee-free, in bps.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from agent.amm import impact_bps
from agent.chain.multicall import aggregate
from agent.devtools.bench.execution_report import impact_verdict
from agent.devtools.bench.harness import Bench
from agent.devtools.contracts import official_at
from agent.devtools.sandbox.spec import WALLET
from agent.portfolio.valuation import decode_prices, plan_price_calls, price_subcalls

IMPACT_SIZES_PCT = (0.1, 0.3, 1.0, 3.0, 10.0)
MAX = 2**256 - 1


def plan_estimate_bps(bench: Bench, venue: str, trade_usd: float) -> tuple[float, float | None]:
    """(the planner's impact estimate in bps, the pricing pool's USD depth it uses)."""
    chain, rpc = bench.chains[venue], bench.rpcs[venue]
    calls = [c for c in plan_price_calls(chain) if c.symbol == "WETH"]
    subcalls = price_subcalls(calls)
    values = aggregate(rpc, [call for call, _ in subcalls])
    prices = decode_prices(chain, calls, {key: v for (_, key), v in zip(subcalls, values, strict=True)})
    depth = prices["WETH"].depth_usd if "WETH" in prices else None
    return float(impact_bps(Decimal(repr(trade_usd)), depth)), None if depth is None else float(depth)


def realised_bps(bench: Bench, venue: str, side: str, amount_raw: int) -> float:
    """Send the swap from the wallet, mine one block, and measure its impact (see the module docstring)."""
    world, market, w3 = bench.world, bench.market, bench.world.w3
    pool = world.pools[venue]
    sell, buy = (world.usdc, world.weth) if side == "buy" else (world.weth, world.usdc)
    sell_name, buy_name = ("FiatTokenV2_2", "WETH9") if side == "buy" else ("WETH9", "FiatTokenV2_2")
    mid = market.pool_price(pool)  # USDC per WETH
    mid_out_per_in = 1e12 / mid if side == "buy" else mid / 1e12  # raw out per raw in
    before = official_at(w3, buy_name, buy).functions.balanceOf(WALLET).call()
    official_at(w3, sell_name, sell).functions.approve(pool.router, amount_raw).transact({"from": WALLET})
    if venue == "v2":
        call = official_at(w3, "UniswapV2Router02", pool.router).functions.swapExactTokensForTokens(
            amount_raw, 0, [sell, buy], WALLET, 2**40)
    else:
        call = official_at(w3, "SwapRouter02", pool.router).functions.exactInputSingle(
            (sell, buy, pool.fee_ppm, WALLET, amount_raw, 0, 0))
    tx = call.transact({"from": WALLET, "gas": 3_000_000})
    market.mine(1)
    if w3.eth.get_transaction_receipt(tx)["status"] != 1:
        raise RuntimeError(f"bench impact: the {venue} {side} swap of {amount_raw} reverted")
    out = official_at(w3, buy_name, buy).functions.balanceOf(WALLET).call() - before
    return (1 - out / amount_raw / (mid_out_per_in * (1 - pool.fee_ppm / 1e6))) * 10_000


def impact_rows(bench: Bench, venue: str, sizes_pct: tuple[float, ...] | None = None) -> list[dict[str, Any]]:
    rows = []
    for pct in sizes_pct if sizes_pct is not None else IMPACT_SIZES_PCT:
        for side in ("buy", "sell"):
            bench.cp = bench.market.rewind(bench.cp)
            usdc_depth, weth_depth = bench.depth(venue)
            amount = (usdc_depth if side == "buy" else weth_depth) * pct / 100
            request = bench.request(venue, side, amount)
            price = bench.market.pool_price(bench.world.pools[venue])
            trade_usd = amount if side == "buy" else amount * price
            plan, depth_usd = plan_estimate_bps(bench, venue, trade_usd)
            quoted = bench.quoter(venue).v3_impact_bps(request) if venue == "v3" else None
            est = plan if quoted is None else max(plan, float(quoted))
            real = realised_bps(bench, venue, side, request.sell_amount_raw)
            rows.append(impact_verdict({
                "venue": venue, "side": side, "size_pct_of_depth": pct, "trade_usd": round(trade_usd, 2),
                "plan_est_impact_bps": round(plan, 2),
                "plan_depth_usd": None if depth_usd is None else round(depth_usd),
                "quoter_est_impact_bps": None if quoted is None else round(float(quoted), 2),
                "est_impact_bps": round(est, 2), "realised_impact_bps": round(real, 2)}))
    bench.cp = bench.market.rewind(bench.cp)
    return rows
