"""``rebalancer bench execution``: implementation shortfall of large swaps — one shot vs our splitter vs hindsight.

What runs: a fresh anvil with the sandbox world (real Vyper pools, routers, AggregatorRouter), the local
aggregator server (0x shape, splitting over the Uniswap and Sushi pools and multi-hop paths), and the
market simulator: the ETH reference replayed from real hourly bars (``data/prices_hourly_btc_eth_2021-05.csv``,
open → low/high → close inside each bar, 300 twelve-second blocks per bar), an arbitrage keeper, and the
mainnet per-block base fee (``data/eth_basefee_perblock_…csv``). The wallet buys WETH with USDC for
0.1%, 1%, 5% and 10% of the depth of the deepest WETH/USDC pool (its USDC reserve).

From the same chain snapshot and the same point of the path, each strategy is run through the real
pipeline (simulation, exact approval, signing, broadcast, receipts, balance checks) with a fresh journal:
one shot through the best single pool (the on-chain router quote), one shot through the aggregator route,
our splitter (``execute_twap``), and the same executor forced to each chunk count of a grid (the best of
those is the hindsight best; our own chunk count is always in the grid). Shortfall, in bps of the USDC
spent, is measured from the wallet's balances: ``(USDC spent − WETH received × P₀ + ETH gas × P₀) / USDC
spent`` with ``P₀`` the reference mid at the decision block — LP fees, impact, drift and gas included.

One path is one draw of the drift, so the comparison is repeated from several decision times spread over
the month of hourly data (``STARTS``, fixed in advance, one fresh sandbox each, two at a time). Per size the
JSON reports each strategy's shortfall per start and its mean over the starts, the per-path hindsight best
and its mean, and the ratios of the means; the targets are judged on the means (the expected shortfall).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from eth_account import Account
from pydantic import SecretStr
from web3 import Web3
from web3.types import Wei

from agent.chain.rpc import ChainRpc
from agent.config.settings import ChainSettings
from agent.devtools.aggregator import AggregatorServer, SandboxChain
from agent.devtools.contracts import contract_at
from agent.devtools.sandbox.anvil import DEV_MNEMONIC, AnvilProcess, start_anvil
from agent.devtools.sandbox.market import BaseFeeTrace, KeeperConfig, MarketSimulator, ReferencePath
from agent.devtools.sandbox.spec import DEPLOYER, WALLET
from agent.devtools.sandbox.world import World, deploy_world
from agent.execution.intent import ActionResult
from agent.execution.live import LiveSender
from agent.execution.pipeline import ExecutionContext, execute_intent
from agent.execution.sender import SendPolicy
from agent.execution.splitter import SplitParams
from agent.execution.twap import (
    BestQuoteChunkQuoter,
    TwapOrder,
    TwapParams,
    chunk_intent,
    execute_twap,
    horizon_blocks,
)
from agent.journal.store import JournalStore
from agent.quotes.base import ClientOptions
from agent.quotes.models import QuoteRequest, QuoteSource
from agent.quotes.onchain import OnchainQuoter
from agent.quotes.service import build_request
from agent.quotes.validate import Limits
from agent.quotes.zerox import ZeroExClient
from agent.signers.local import LocalKeySigner

SIZES_PCT = (0.1, 1.0, 5.0, 10.0)
GRID_SMALL = (1, 2, 4, 8)
GRID_LARGE = (1, 2, 4, 8, 16, 32, 64)
PATH_START = "2021-05-10T00:00:00Z"
#: decision times, every four days over the copied month of hourly bars (chosen before any run)
STARTS = tuple(f"2021-05-{d:02d}T00:00:00Z" for d in (2, 6, 10, 14, 18, 22, 26))
WORKERS = 2
KEEPER = KeeperConfig(efficiency=0.8, delay_blocks=0, band_bps=30)
SPACING_BLOCKS = 1
#: every split run (ours and each forced chunk count) spreads over the agent's default horizon: the blocks
#: TWAP_MAX_CHUNKS (64) chunks need at the fastest spacing — so the hindsight grid varies the chunk count only,
#: not the time the order is exposed to the price
HORIZON_BLOCKS = horizon_blocks(None, max_chunks=64, blocks_per_chunk=SPACING_BLOCKS + 2, block_time_s=12)
#: each decision time is run buying WETH and selling WETH of the same size: a price move that helps one side
#: hurts the other, so the mean over both measures execution rather than the month's drift
SIDES = ("buy", "sell")
MAX_IMPACT_BPS = 50
#: quotes are still validated (router allow-list, recipient, calldata); the deviation bound is opened so the
#: one-shot baselines and forced chunk counts can be measured at all
LIMITS = Limits(max_slippage_bps=50, max_quote_deviation_bps=5000, max_swap_gas=1_500_000)


def wallet_key() -> str:
    Account.enable_unaudited_hdwallet_features()
    return "0x" + Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/0").key.hex()


def sandbox_context(world: World, sim: MarketSimulator, journal_dir: Path, name: str) -> ExecutionContext:
    """A live context whose waits mine blocks in the simulator; a fresh journal per run (rewinds reuse nonces)."""
    rpc = ChainRpc(world.chain, ChainSettings(rpc_urls=(SecretStr(world.rpc_url),)), timeout_s=30)
    journal = JournalStore.open(journal_dir / f"{name}.sqlite")
    sender = LiveSender(rpc, LocalKeySigner.from_key(wallet_key(), label="sandbox wallet"), journal,
                        SendPolicy(poll_s=0.01, gas_wait_deadline_s=10**9), progress=lambda _p: None,
                        clock=sim.now, sleep=sim.sleep)
    return ExecutionContext(chain=world.chain, rpc=rpc, sender=sender, journal=journal)


class Bench:
    """The sandbox, aggregator server and simulator for one benchmark run."""

    def __init__(self, *, start: str = PATH_START, keeper: KeeperConfig = KEEPER) -> None:
        self.anvil: AnvilProcess = start_anvil(chain_id=31337)
        self.server: AggregatorServer | None = None
        self.sim: MarketSimulator | None = None
        self.tmp = tempfile.TemporaryDirectory()
        try:
            self.world = deploy_world(self.anvil.url)
            self.w3 = Web3(Web3.HTTPProvider(self.anvil.url))
            usdc = contract_at(self.w3, "ERC20", self.world.token("USDC"))
            usdc.functions.mint(WALLET, 10**9 * 10**6).transact({"from": DEPLOYER})
            self.anvil.rpc("anvil_setBalance", [WALLET, hex(10**7 * 10**18)])
            weth = contract_at(self.w3, "WETH9", self.world.token("WETH"))
            weth.functions.deposit().transact({"from": WALLET, "value": Wei(10**6 * 10**18)})
            self.server = AggregatorServer([SandboxChain(self.world.chain, self.anvil.url,
                                                         (self.world.addresses.sushi_factory,))]).start()
            path = ReferencePath.from_hourly(start=start, bars=24, ticks_per_bar=300)
            self.path_label = path.label
            self.fees = BaseFeeTrace.per_block()
            self.sim = MarketSimulator(self.world, path, keeper=keeper, base_fees=self.fees).start()
            self.sim.wait_blocks(3)
            self.rpc = ChainRpc(self.world.chain, ChainSettings(rpc_urls=(SecretStr(self.anvil.url),)), timeout_s=30)
            self.zerox = ZeroExClient(ClientOptions(self.server.url))
            self.cp = self.sim.checkpoint()
            self.runs = 0
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.sim is not None:
            self.sim.close()
        if self.server is not None:
            self.server.stop()
        self.anvil.stop()
        self.tmp.cleanup()

    def request(self, side: str, amount: float) -> QuoteRequest:
        """``side`` "buy": spend ``amount`` USDC on WETH; "sell": sell ``amount`` WETH for USDC."""
        sell, buy = ("USDC", "WETH") if side == "buy" else ("WETH", "USDC")
        return build_request(self.world.chain, sell=sell, buy=buy, amount=f"{amount:.6f}", taker=WALLET,
                             slippage_bps=LIMITS.max_slippage_bps)

    def sources(self) -> list[QuoteSource]:
        return [OnchainQuoter(self.world.chain, self.rpc), self.zerox]

    def depth(self) -> tuple[int, float]:
        """The deepest WETH/USDC pool's reserves: (USDC, WETH) in whole tokens."""
        pair = contract_at(self.w3, "UniswapV2Pair", self.world.pairs[("uniswap", "WETH", "USDC")])
        r0, r1, _ = pair.functions.getReserves().call()
        usdc_is_0 = pair.functions.token0().call() == self.world.token("USDC")
        usdc, weth = (r0, r1) if usdc_is_0 else (r1, r0)
        return int(usdc // 10**6), weth / 1e18

    def depth_usdc(self) -> int:
        return self.depth()[0]

    def measure(self, run: Callable[[ExecutionContext], dict[str, Any]]) -> dict[str, Any]:
        """Rewind, run one strategy with a fresh journal, and measure its shortfall from the wallet's balances."""
        assert self.sim is not None
        self.sim.rewind(self.cp)
        self.runs += 1
        ctx = sandbox_context(self.world, self.sim, Path(self.tmp.name), f"run{self.runs}")
        p0 = self.sim.reference_usd("WETH")
        before = self._balances()
        t0 = time.perf_counter()
        try:
            extra = run(ctx)
        finally:
            ctx.journal.close()
        after = self._balances()
        d_usdc, d_weth, gas = after[0] - before[0], after[1] - before[1], before[2] - after[2]
        # valued at the reference mid at the decision: what left the wallet, what came in, and the gas
        spent = -d_usdc if d_usdc < 0 else -d_weth * p0
        got = d_weth * p0 if d_usdc < 0 else d_usdc
        shortfall = (spent - got + gas * p0) / spent * 10_000 if spent > 0 else None
        return {"shortfall_bps": None if shortfall is None else round(shortfall, 2), "usd_spent": round(spent, 2),
                "usd_received": round(got, 2), "gas_usd": round(gas * p0, 2), "blocks": self.sim.steps,
                "reference_move_bps": round((self.sim.reference_usd("WETH") / p0 - 1) * 10_000, 1),
                "wall_s": round(time.perf_counter() - t0, 2), **extra}

    def _balances(self) -> tuple[float, float, float]:
        usdc = contract_at(self.w3, "ERC20", self.world.token("USDC")).functions.balanceOf(WALLET).call()
        weth = contract_at(self.w3, "ERC20", self.world.token("WETH")).functions.balanceOf(WALLET).call()
        return usdc / 1e6, weth / 1e18, self.w3.eth.get_balance(WALLET) / 1e18


def one_shot(bench: Bench, side: str, amount: float, source: QuoteSource
             ) -> Callable[[ExecutionContext], dict[str, Any]]:
    def run(ctx: ExecutionContext) -> dict[str, Any]:
        request = bench.request(side, amount)
        quote = source.fetch_quote(request)
        order = _order(bench, request, f"one-shot-{source.name}")
        result: ActionResult = execute_intent(chunk_intent(order, quote, 0, TwapParams()), ctx)
        return {"state": result.state, "route": quote.route}
    return run


def twap(bench: Bench, side: str, amount: float, chunks: int | None) -> Callable[[ExecutionContext], dict[str, Any]]:
    def run(ctx: ExecutionContext) -> dict[str, Any]:
        assert bench.sim is not None
        request = bench.request(side, amount)
        quoter = BestQuoteChunkQuoter(request, chain=bench.world.chain, sources=bench.sources(),
                                      reference=OnchainQuoter(bench.world.chain, bench.rpc).fetch_reference,
                                      limits=LIMITS)
        split = SplitParams(max_impact_bps=MAX_IMPACT_BPS, block_time_s=bench.world.spec.block_time_s,
                            blocks_per_chunk=SPACING_BLOCKS + 2, horizon_blocks=HORIZON_BLOCKS)
        params = TwapParams(split=split, spacing_blocks=SPACING_BLOCKS, chunks=chunks)
        res = execute_twap(_order(bench, request, f"twap-{chunks or 'ours'}"), ctx, quoter, bench.sim, params,
                           sell_decimals=6 if side == "buy" else 18)
        return {"state": res.status, "chunks": len([c for c in res.chunks if c.state == "confirmed"]),
                "planned_chunks": res.planned_chunks, "reason": res.plan.get("reason", "")}
    return run


def _order(bench: Bench, request: QuoteRequest, key: str) -> TwapOrder:
    return TwapOrder(chain=bench.world.chain.name, plan_id=key, key=key, sell_token=request.sell_token,
                     buy_token=request.buy_token, total_sell_raw=request.sell_amount_raw)


def bench_size(bench: Bench, pct: float, grid: tuple[int, ...], side: str) -> dict[str, Any]:
    usdc_depth, weth_depth = bench.depth()
    amount = max(1.0, usdc_depth * pct / 100) if side == "buy" else weth_depth * pct / 100
    single = bench.measure(one_shot(bench, side, amount, OnchainQuoter(bench.world.chain, bench.rpc)))
    agg = bench.measure(one_shot(bench, side, amount, bench.zerox))
    ours = bench.measure(twap(bench, side, amount, None))
    hindsight = {n: bench.measure(twap(bench, side, amount, n)) for n in sorted({*grid, ours["chunks"] or 1})}
    best_n = min(hindsight, key=lambda n: hindsight[n]["shortfall_bps"])
    return {
        "size_pct_of_depth": pct, "side": side, "order_usd": round(ours["usd_spent"] or single["usd_spent"], 2),
        "one_shot_single_pool_bps": single["shortfall_bps"],
        "one_shot_aggregator_bps": agg["shortfall_bps"], "splitter_bps": ours["shortfall_bps"],
        "splitter_chunks": ours["chunks"], "hindsight_best_bps": hindsight[best_n]["shortfall_bps"],
        "hindsight_best_chunks": best_n, "reference_move_bps_over_splitter": ours["reference_move_bps"],
        "grid_bps": {str(n): r["shortfall_bps"] for n, r in hindsight.items()},
        #: runs that did not finish every chunk (e.g. the price guard abandoned the rest): shortfall on what was spent
        "grid_unfinished": {str(n): r["state"] for n, r in hindsight.items() if r["state"] != "completed"},
        "splitter_state": ours["state"], "splitter_reason": ours.get("reason", ""),
        "wall_s": round(sum(r["wall_s"] for r in (single, agg, ours, *hindsight.values())), 1),
    }


def run_start(start: str, sizes_pct: tuple[float, ...] = SIZES_PCT, grid_small: tuple[int, ...] = GRID_SMALL,
              grid_large: tuple[int, ...] = GRID_LARGE) -> dict[str, Any]:
    """All sizes from one decision time, on a fresh sandbox."""
    t0 = time.perf_counter()
    bench = Bench(start=start)
    try:
        sizes = [bench_size(bench, pct, grid_large if pct >= 5 else grid_small, side)
                 for pct in sizes_pct for side in SIDES]
        depth = bench.depth_usdc()
        path_label, fee_label = bench.path_label, bench.fees.label
    finally:
        bench.close()
    return {"start": start, "reference_path": path_label, "base_fee_trace": fee_label, "depth_usdc": depth,
            "sizes": sizes, "wall_s": round(time.perf_counter() - t0, 1)}


def summarize(pct: float, per_start: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the starts of each strategy's shortfall (and of the per-path hindsight best), ratios of means."""
    keys = ("one_shot_single_pool_bps", "one_shot_aggregator_bps", "splitter_bps", "hindsight_best_bps")
    mean = {k: round(statistics.fmean(r[k] for r in per_start), 2) for k in keys}
    one = min(mean["one_shot_single_pool_bps"], mean["one_shot_aggregator_bps"])
    s, best = mean["splitter_bps"], mean["hindsight_best_bps"]
    # the chunk count that is best on average (the grid counts every path ran): the hindsight choice for the
    # expected shortfall, without the per-path minimum's pick of the luckiest drift
    common = set.intersection(*(set(r["grid_bps"]) for r in per_start))
    by_n = {n: statistics.fmean(r["grid_bps"][n] for r in per_start) for n in common}
    fixed_n = min(by_n, key=lambda n: by_n[n])
    out: dict[str, Any] = {
        "size_pct_of_depth": pct, "starts": len({r["start"] for r in per_start}), "runs": len(per_start),
        **{f"mean_{k}": v for k, v in mean.items()},
        "by_side": {side: {f"mean_{k}": round(statistics.fmean(r[k] for r in rows), 2) for k in keys}
                    for side in SIDES if (rows := [r for r in per_start if r["side"] == side])},
        "best_fixed_chunks_on_average": int(fixed_n), "mean_bps_at_best_fixed_chunks": round(by_n[fixed_n], 2),
        "splitter_vs_best_fixed_chunks": round(s / by_n[fixed_n], 3) if by_n[fixed_n] else None,
        "splitter_vs_one_shot": round(s / one, 3) if one else None,
        "splitter_vs_hindsight": round(s / best, 3) if best else None,
        "paths_where_splitter_within_1_15_of_hindsight": sum(r["splitter_bps"] <= 1.15 * r["hindsight_best_bps"]
                                                             for r in per_start),
        "per_start": [{"start": r["start"], "side": r["side"],
                       **{k: r[k] for k in (*keys, "splitter_chunks", "splitter_state", "hindsight_best_chunks",
                                            "reference_move_bps_over_splitter", "grid_bps", "grid_unfinished")}}
                      for r in per_start],
    }
    if pct >= 5:
        out["target"] = "mean splitter <= 0.5 x mean best one-shot and <= 1.15 x mean per-path hindsight best"
        out["target_met"] = bool(s <= 0.5 * one and s <= 1.15 * best)
    elif pct <= 0.1:
        out["target"] = "mean splitter <= mean best one-shot + 1 bp"
        out["target_met"] = bool(s <= one + 1)
    return out


def run(sizes_pct: tuple[float, ...] = SIZES_PCT, *, grid_small: tuple[int, ...] = GRID_SMALL,
        grid_large: tuple[int, ...] = GRID_LARGE, starts: tuple[str, ...] = STARTS,
        workers: int = WORKERS) -> dict[str, Any]:
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(starts)))) as pool:
        paths = list(pool.map(run_start, starts, [sizes_pct] * len(starts), [grid_small] * len(starts),
                              [grid_large] * len(starts)))
    results = [summarize(pct, [{**r, "start": p["start"]} for p in paths for r in p["sizes"]
                               if r["size_pct_of_depth"] == pct]) for pct in sizes_pct]
    targets = [r["target_met"] for r in results if "target_met" in r]
    flat: dict[str, Any] = {}
    for r in results:
        tag = f"{r['size_pct_of_depth']:g}pct"
        for k in ("mean_one_shot_single_pool_bps", "mean_one_shot_aggregator_bps", "mean_splitter_bps",
                  "mean_hindsight_best_bps", "splitter_vs_one_shot", "splitter_vs_hindsight",
                  "best_fixed_chunks_on_average", "mean_bps_at_best_fixed_chunks", "splitter_vs_best_fixed_chunks"):
            flat[f"{tag}_{k}"] = r[k]
    return {
        "benchmark": "execution", "chain": "sandbox_a (anvil)", "depth_usdc": paths[0]["depth_usdc"],
        "pair": "USDC -> WETH", "starts": list(starts), "reference_paths": [p["reference_path"] for p in paths],
        "base_fee_trace": paths[0]["base_fee_trace"], "keeper": KEEPER.model_dump(),
        "spacing_blocks": SPACING_BLOCKS, "max_impact_bps": MAX_IMPACT_BPS,
        "grid_small": list(grid_small), "grid_large": list(grid_large),
        "measure": "implementation shortfall in bps of USDC spent vs the reference mid at the decision; LP fees, "
                   "impact, drift and gas (at the replayed base fee) included; mean over the decision times",
        **flat, "sizes": results, "all_targets_met": all(targets),
        "path_wall_s": [p["wall_s"] for p in paths], "wall_s": round(time.perf_counter() - t0, 1),
    }
