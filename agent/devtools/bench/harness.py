"""The execution benchmark's harness: the official world, its market, a live execution context per run, and the
shortfall of one strategy run measured from the wallet's balances (see ``agent.devtools.bench.execution``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from pydantic import SecretStr

from agent.chain.rpc import ChainRpc
from agent.config.settings import ChainSettings
from agent.devtools.bench.official_market import MarketCheckpoint, OfficialMarket
from agent.devtools.bench.official_world import VENUES, OfficialBenchWorld, deploy_bench_world
from agent.devtools.contracts import official_at
from agent.devtools.sandbox.anvil import DEV_MNEMONIC
from agent.devtools.sandbox.market import BaseFeeTrace, ReferencePath
from agent.devtools.sandbox.spec import WALLET
from agent.execution.live import LiveSender
from agent.execution.pipeline import ExecutionContext
from agent.execution.sender import SendPolicy
from agent.journal.store import JournalStore
from agent.quotes.models import QuoteRequest
from agent.quotes.onchain import OnchainQuoter
from agent.quotes.service import build_request
from agent.quotes.validate import Limits
from agent.signers.local import LocalKeySigner

EFFICIENCY = 0.8
FIRST_START = "2021-05-06T00:00:00Z"
#: quotes are still validated (router allow-list, recipient, calldata); the deviation bound is opened so the
#: one-shot baselines and forced chunk counts can be measured at all
LIMITS = Limits(max_slippage_bps=50, max_quote_deviation_bps=9000, max_swap_gas=3_000_000)


def wallet_key() -> str:
    Account.enable_unaudited_hdwallet_features()
    return "0x" + Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/0").key.hex()


class Bench:
    """The official world, its market and the measurement of one strategy run."""

    def __init__(self, *, journal_dir: Path, efficiency: float = EFFICIENCY) -> None:
        self.world: OfficialBenchWorld = deploy_bench_world()
        try:
            self.fees = BaseFeeTrace.per_block()
            # the warm-up blocks stay within the first bar's first ticks: the pools stay at the reference
            first = ReferencePath.from_hourly(start=FIRST_START, bars=2, ticks_per_bar=300)
            self.market = OfficialMarket(self.world, first, base_fees=self.fees, efficiency=efficiency)
            self.market.wait_blocks(2)
            self.cp: MarketCheckpoint = self.market.checkpoint()
            self.journal_dir, self.runs = journal_dir, 0
            self.chains = {v: self.world.chain(v) for v in VENUES}
            self.rpcs = {v: ChainRpc(c, ChainSettings(rpc_urls=(SecretStr(self.world.rpc_url),)), timeout_s=60)
                         for v, c in self.chains.items()}
            self.signer = LocalKeySigner.from_key(wallet_key(), label="bench wallet")
        except BaseException:
            self.world.stop()
            raise

    def close(self) -> None:
        self.world.stop()

    def set_path(self, start: str, bars: int) -> str:
        """Replay the hourly bars from ``start`` (from the snapshot's block on)."""
        path = ReferencePath.from_hourly(start=start, bars=bars, ticks_per_bar=300)
        self.market.path = path
        return path.label

    def request(self, venue: str, side: str, amount: float) -> QuoteRequest:
        """"buy": spend ``amount`` USDC on WETH; "sell": sell ``amount`` WETH for USDC."""
        sell, buy = ("USDC", "WETH") if side == "buy" else ("WETH", "USDC")
        return build_request(self.chains[venue], sell=sell, buy=buy, amount=f"{amount:.6f}", taker=WALLET,
                             slippage_bps=LIMITS.max_slippage_bps)

    def quoter(self, venue: str) -> OnchainQuoter:
        return OnchainQuoter(self.chains[venue], self.rpcs[venue])

    def depth(self, venue: str) -> tuple[float, float]:
        """(USDC, WETH) depth of the venue in whole tokens: V2 reserves, V3 virtual reserves of its active
        liquidity at the current price."""
        pool = self.world.pools[venue]
        if venue == "v2":
            weth, usdc = self.market.reserves(pool)
            return usdc / 1e6, weth / 1e18
        contract = official_at(self.world.w3, "UniswapV3Pool", pool.address)
        liquidity = contract.functions.liquidity().call()
        sqrt_p = contract.functions.slot0().call()[0] / 2**96  # √(token1/token0), raw
        r0, r1 = liquidity / sqrt_p, liquidity * sqrt_p
        usdc, weth = (r0, r1) if pool.usdc_is_0 else (r1, r0)
        return usdc / 1e6, weth / 1e18

    def context(self, venue: str) -> ExecutionContext:
        self.runs += 1
        journal = JournalStore.open(self.journal_dir / f"run{self.runs}.sqlite")
        sender = LiveSender(self.rpcs[venue], self.signer, journal,
                            SendPolicy(poll_s=0.01, gas_wait_deadline_s=10**9), progress=lambda _p: None,
                            clock=self.market.now, sleep=self.market.sleep)
        return ExecutionContext(chain=self.chains[venue], rpc=self.rpcs[venue], sender=sender, journal=journal)

    def measure(self, venue: str, run: Callable[[ExecutionContext], dict[str, Any]]) -> dict[str, Any]:
        """Rewind, run one strategy with a fresh journal, and measure its shortfall from the wallet's balances."""
        self.cp = self.market.rewind(self.cp)
        ctx = self.context(venue)
        p0 = self.market.reference_usd()
        before = self.balances()
        t0 = time.perf_counter()
        try:
            extra = run(ctx)
        finally:
            ctx.journal.close()
        after = self.balances()
        d_usdc, d_weth, gas = after[0] - before[0], after[1] - before[1], before[2] - after[2]
        spent = -d_usdc if d_usdc < 0 else -d_weth * p0
        got = d_weth * p0 if d_usdc < 0 else d_usdc
        shortfall = (spent - got + gas * p0) / spent * 10_000 if spent > 0 else None
        return {"shortfall_bps": None if shortfall is None else round(shortfall, 2), "usd_spent": round(spent, 2),
                "gas_usd": round(gas * p0, 2), "blocks": self.market.steps,
                "reference_move_bps": round((self.market.reference_usd() / p0 - 1) * 10_000, 1),
                "wall_s": round(time.perf_counter() - t0, 2), **extra}

    def balances(self) -> tuple[float, float, float]:
        w3 = self.world.w3
        usdc = official_at(w3, "FiatTokenV2_2", self.world.usdc).functions.balanceOf(WALLET).call()
        weth = official_at(w3, "WETH9", self.world.weth).functions.balanceOf(WALLET).call()
        return usdc / 1e6, weth / 1e18, w3.eth.get_balance(WALLET) / 1e18
