"""The market simulator: a replayed reference price, an arbitrage keeper, and a replayed base fee.

Usage (the sandbox world(s) already deployed)::

    path = ReferencePath.from_hourly(start="2021-05-19T00:00:00Z", bars=24, ticks_per_bar=1)
    fees = BaseFeeTrace.per_block()
    with MarketSimulator([world_a, world_b], path, keeper=KeeperConfig(efficiency=0.8, delay_blocks=1),
                         base_fees=fees) as sim:
        for _ in range(24):
            report = sim.step()          # one block on every chain
            print(report.block, report.prices["ETH"], report.base_fee_wei, len(report.trades))

``step()`` advances one tick, which is one block on every world: the reference moves to the next point of
the path, the keeper (anvil account 8) trades every pool whose price is off the reference by more than its
band, the block is mined (with whatever the wallet has pending), and the next block's base fee is set from
the trace (``anvil_setNextBlockBaseFeePerGas``), so ``eth_feeHistory`` shows it in advance as on mainnet.
While the simulator runs, automine is off: nothing is mined except by ``step()``. Hand ``sim.sleep`` and
``sim.now`` to a ``LiveSender`` (its ``sleep``/``clock``) and every wait of the pipeline mines a block;
``sim.wait_blocks(n)`` is the TWAP executor's block clock. ``checkpoint()``/``rewind(cp)`` replay the
same path from the same state (benchmarks). ``close()`` turns automine back on.

Reference path: hourly OHLC bars of BTC and ETH from ``data/prices_hourly_btc_eth_2021-05.csv`` (see
``data/SOURCES.md``). With ``ticks_per_bar=1`` one block is one bar (its close): a day of real moves in 24
blocks, for demos. With more ticks per bar the path runs open → low → high → close (or open → high → low
→ close for a falling bar), linear between those real points, so a bar's real range is visited. Prices
are scaled so the first tick equals the sandbox spec prices (ETH 3000, BTC 60000) unless
``normalize=False``; stablecoins and assets without a path stay at their spec price.

Keeper (``keeper.py``): for each pool of two priced tokens — V2 pairs of both venues and V3 pools of every
fee tier — the deviation of the pool's marginal price from the reference is ``dev``. Inside ``band_bps``
(≈ the 0.3% LP fee, where arbitrage would lose money) it does nothing; beyond it, once the deviation has
been visible for ``delay_blocks`` blocks, it trades the pool (a V2 pair through its venue's Router02, a V3
pool through SwapRouter02 with the goal as its price limit) so that ``efficiency`` of the excess is
removed. Its transactions carry no tip, so in
a block shared with the wallet they come after the wallet's.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from web3 import Web3

from agent.chain.rpc import ChainRpc, make_web3
from agent.config.settings import ChainSettings
from agent.devtools.sandbox.keeper import (
    KeeperPool,
    PoolState,
    fund_keeper,
    keeper_pools,
    plan_swap,
    read_states,
    send_swap,
)
from agent.devtools.sandbox.spec import TOKENS
from agent.devtools.sandbox.world import World
from agent.errors import ConfigError, SandboxError
from agent.resources import data_file

log = logging.getLogger(__name__)
HOURLY_CSV = data_file("prices_hourly_btc_eth_2021-05.csv")
PER_BLOCK_CSV = data_file("eth_basefee_perblock_15533942-15535581.csv")
DAILY_CSV = data_file("eth_gas_price_daily_2015-2025.csv")
SPEC_USD = {t.symbol: float(t.usd_price) for t in TOKENS}
ASSET_OF = {"WETH": "ETH", "WBTC": "BTC"}


# ------------------------------------------------------------------------------------------- real data
class ReferencePath:
    """USD reference prices per asset for each tick (one tick = one block)."""

    def __init__(self, prices: Mapping[str, Sequence[float]], *, label: str = "") -> None:
        lengths = {len(v) for v in prices.values()}
        if len(lengths) != 1 or 0 in lengths:
            raise ConfigError("ReferencePath needs one non-empty series per asset, all the same length")
        self.prices = {k: tuple(float(x) for x in v) for k, v in prices.items()}
        self.ticks = lengths.pop()
        self.label = label

    def usd(self, asset: str, tick: int) -> float | None:
        series = self.prices.get(asset)
        return None if series is None else series[min(max(tick, 0), self.ticks - 1)]

    @classmethod
    def from_hourly(cls, *, start: str | None = None, bars: int | None = None, ticks_per_bar: int = 1,
                    assets: Sequence[str] = ("ETH", "BTC"), normalize: bool = True,
                    csv_path: Path = HOURLY_CSV) -> ReferencePath:
        """Bars from ``start`` (ISO time of a bar's open; default the first) for ``bars`` hours."""
        by_asset: dict[str, list[tuple[str, float, float, float, float]]] = {a: [] for a in assets}
        with open(csv_path, newline="") as fh:
            for row in csv.DictReader(fh):
                if row["asset"] in by_asset and (start is None or row["timestamp"] >= start):
                    by_asset[row["asset"]].append((row["timestamp"], float(row["open"]), float(row["high"]),
                                                   float(row["low"]), float(row["close"])))
        prices: dict[str, list[float]] = {}
        for asset, rows in by_asset.items():
            rows = rows[:bars] if bars else rows
            if not rows:
                raise ConfigError(f"{csv_path.name}: no {asset} bars from {start}")
            series = [p for r in rows for p in _intrabar(r[1:], ticks_per_bar)]
            scale = SPEC_USD["W" + asset] / series[0] if normalize and "W" + asset in SPEC_USD else 1.0
            prices[asset] = [p * scale for p in series]
        first = next(iter(by_asset.values()))[0][0]
        return cls(prices, label=f"hourly {','.join(assets)} from {first}, {ticks_per_bar} ticks/bar")


def _intrabar(ohlc: tuple[float, float, float, float], ticks: int) -> list[float]:
    o, h, low, c = ohlc
    if ticks <= 1:
        return [c]
    points = [o, low, h, c] if c >= o else [o, h, low, c]
    out = []
    for i in range(1, ticks + 1):
        x = i * 3 / ticks  # 0..3 across the three segments; the bar ends on its close
        seg = min(int(x), 2)
        out.append(points[seg] + (points[seg + 1] - points[seg]) * (x - seg))
    return out


@dataclass(frozen=True)
class BaseFeeTrace:
    """Base fees (wei) replayed one per block; past the end the trace starts again."""

    values_wei: tuple[int, ...]
    label: str
    #: seconds one entry stands for (12 for a per-block trace, 86400 for daily averages)
    period_s: float = 12.0

    def at(self, i: int) -> int:
        return self.values_wei[i % len(self.values_wei)]

    @classmethod
    def per_block(cls, csv_path: Path = PER_BLOCK_CSV) -> BaseFeeTrace:
        with open(csv_path, newline="") as fh:
            values = tuple(int(r["base_fee_wei"]) for r in csv.DictReader(fh))
        return cls(values, f"mainnet per-block base fee, {len(values)} blocks ({csv_path.name})", 12.0)

    @classmethod
    def daily(cls, csv_path: Path = DAILY_CSV, since: str | None = None) -> BaseFeeTrace:
        with open(csv_path, newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if since is None or r["date"] >= since]
        values = tuple(int(r["avg_gas_price_wei"]) for r in rows)
        return cls(values, f"mainnet daily average gas price, {len(values)} days ({csv_path.name})", 86400.0)


# ----------------------------------------------------------------------------------------------- keeper
class KeeperConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: share of the deviation beyond the band removed per trade (1 = all of it)
    efficiency: float = Field(default=1.0, ge=0, le=1)
    #: blocks a deviation must have been visible before the keeper trades it (0 = in the next block)
    delay_blocks: int = Field(default=0, ge=0)
    #: no-arbitrage band around the reference (bps); inside it the keeper does nothing
    band_bps: float = Field(default=30.0, ge=0)


@dataclass
class _Chain:
    world: World
    w3: Web3
    rpc: ChainRpc
    pools: list[KeeperPool] = field(default_factory=list)
    first_seen: dict[str, int] = field(default_factory=dict)


class KeeperTrade(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    chain_id: int
    pool: str
    sell: str
    buy: str
    amount_in_raw: int
    deviation_bps: float


class StepReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tick: int
    block: int
    prices: dict[str, float]
    #: the base fee of the block just mined (None without a trace)
    base_fee_wei: int | None
    trades: tuple[KeeperTrade, ...] = ()


@dataclass
class Checkpoint:
    snapshots: list[str]
    tick: int
    first_seen: list[dict[str, int]]


class MarketSimulator:
    """One tick = one block on every world: reference moves, keeper arbitrages, block mined (see module doc)."""

    def __init__(self, worlds: World | Sequence[World], path: ReferencePath, *,
                 keeper: KeeperConfig | None = KeeperConfig(), base_fees: BaseFeeTrace | None = None,
                 block_time_s: float | None = None, start_tick: int = 0) -> None:
        self.worlds = [worlds] if isinstance(worlds, World) else list(worlds)
        self.path = path
        self.keeper = keeper
        self.base_fees = base_fees
        self.block_time_s = block_time_s or (base_fees.period_s if base_fees else self.worlds[0].spec.block_time_s)
        self.tick = start_tick
        self.steps = 0
        self._next_fee: int | None = None
        self._chains: list[_Chain] = []

    # --------------------------------------------------------------------------------- lifecycle
    def start(self) -> MarketSimulator:
        for world in self.worlds:
            w3 = make_web3(world.rpc_url, timeout_s=60)
            rpc = ChainRpc(world.chain, ChainSettings(rpc_urls=(SecretStr(world.rpc_url),)), timeout_s=30)
            chain = _Chain(world, w3, rpc)
            if self.keeper is not None:
                chain.pools = keeper_pools(w3, world)
                fund_keeper(w3, world, chain.pools)
            self._chains.append(chain)
            _rpc(w3, "evm_setAutomine", [False])
        self._set_next_base_fee()
        return self

    def close(self) -> None:
        for c in self._chains:
            _rpc(c.w3, "evm_setAutomine", [True])
        self._chains = []

    def __enter__(self) -> MarketSimulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------- clock
    def now(self) -> float:
        """Simulated seconds since the start (for a ``LiveSender`` clock)."""
        return self.steps * self.block_time_s

    def sleep(self, _seconds: float = 0.0) -> None:
        """Waiting means a block passes (for a ``LiveSender`` sleep)."""
        self.step()

    def wait_blocks(self, n: int) -> None:
        for _ in range(max(n, 0)):
            self.step()

    def block_number(self) -> int:
        return int(self._chains[0].w3.eth.block_number)

    def reference_usd(self, symbol: str) -> float:
        asset = ASSET_OF.get(symbol, symbol)
        price = self.path.usd(asset, self.tick)
        return price if price is not None else SPEC_USD.get(symbol, SPEC_USD.get("W" + symbol, math.nan))

    # -------------------------------------------------------------------------------------- step
    def step(self) -> StepReport:
        mined_fee = self._next_fee
        self.tick += 1
        self.steps += 1
        trades: list[KeeperTrade] = []
        for c in self._chains:
            if self.keeper is not None:
                trades += self._arbitrage(c)
            latest = c.w3.eth.get_block("latest")
            _rpc(c.w3, "anvil_setNextBlockTimestamp", [int(latest["timestamp"]) + max(int(self.block_time_s), 1)])
            _rpc(c.w3, "evm_mine")
        self._set_next_base_fee()
        prices = {a: float(self.path.usd(a, self.tick) or 0) for a in self.path.prices}
        return StepReport(tick=self.tick, block=self.block_number(), prices=prices, base_fee_wei=mined_fee,
                          trades=tuple(trades))

    def checkpoint(self) -> Checkpoint:
        return Checkpoint([str(_rpc(c.w3, "evm_snapshot")) for c in self._chains], self.tick,
                          [dict(c.first_seen) for c in self._chains])

    def rewind(self, cp: Checkpoint) -> None:
        """Back to ``cp`` (chain state and path position); ``cp`` stays usable for another rewind."""
        for i, c in enumerate(self._chains):
            _rpc(c.w3, "evm_revert", [cp.snapshots[i]])
            cp.snapshots[i] = str(_rpc(c.w3, "evm_snapshot"))
            c.first_seen = dict(cp.first_seen[i])
        self.tick = cp.tick
        self.steps = 0
        self._set_next_base_fee()

    def _set_next_base_fee(self) -> int | None:
        if self.base_fees is None:
            return None
        fee = self.base_fees.at(self.tick)
        for c in self._chains:
            _rpc(c.w3, "anvil_setNextBlockBaseFeePerGas", [hex(fee)])
        self._next_fee = fee
        return fee

    # ------------------------------------------------------------------------------------ keeper
    def _arbitrage(self, c: _Chain) -> list[KeeperTrade]:
        states = read_states(c.rpc, c.pools)
        block = int(c.w3.eth.block_number)
        out: list[KeeperTrade] = []
        for pool, state in zip(c.pools, states, strict=True):
            if state is None:
                continue
            target = self.reference_usd(pool.sym0) / self.reference_usd(pool.sym1) * 10 ** (pool.dec1 - pool.dec0)
            trade = self._plan_trade(c, pool, state, target, block)
            if trade is not None:
                out.append(trade)
        return out

    def _plan_trade(self, c: _Chain, pool: KeeperPool, state: PoolState, target: float,
                    block: int) -> KeeperTrade | None:
        assert self.keeper is not None
        dev = state.price / target - 1
        band = self.keeper.band_bps / 10_000
        if abs(dev) <= band:
            c.first_seen.pop(pool.address, None)
            return None
        seen = c.first_seen.setdefault(pool.address, block)
        if block - seen < self.keeper.delay_blocks:
            return None
        goal = math.copysign(band + (1 - self.keeper.efficiency) * (abs(dev) - band), dev)
        goal_price = target * (1 + goal)
        swap = plan_swap(pool, state, goal_price)
        if swap is None:
            return None
        send_swap(c.w3, pool, swap, goal_price)
        return KeeperTrade(chain_id=c.world.chain.chain_id, pool=pool.address, sell=swap.sym_sell, buy=swap.sym_buy,
                           amount_in_raw=swap.amount_in_raw, deviation_bps=dev * 10_000)


# ------------------------------------------------------------------------------------------- plumbing
def _rpc(w3: Web3, method: str, params: list[Any] | None = None) -> Any:
    body = w3.provider.make_request(method, params or [])  # type: ignore[arg-type]
    if "error" in body:
        raise SandboxError(f"{method}: {body['error']}")
    return body.get("result")
