"""The benchmark's market: a replayed reference, an arbitrage keeper on the official V2 pair and V3 pool, and the
replayed mainnet base fee — one tick is one block, as in ``agent.devtools.sandbox.market`` (whose reference path
and base-fee trace it reuses), on ``OfficialBenchWorld``.

Keeper (anvil account 8, deep inventory): each block, a pool whose marginal price is off the reference by more than
its band (the pool's own LP fee unless ``band_bps`` says otherwise) plus ``min_excess_bps`` (what makes the trade
worth its gas) is traded so that ``efficiency`` of the excess beyond the band goes: on V2 through Router02 with the
constant-product input to the target price; on V3 through SwapRouter02 ``exactInputSingle`` with
``sqrtPriceLimitX96`` at the target, so the pool itself stops the swap there, whatever ticks it crosses. Keeper
transactions carry no tip (the wallet's go first in a shared block).

Speed: ``wait_blocks`` (the TWAP executor's clock) mines the blocks in which the keeper has nothing to do in one
``anvil_mine`` call — pool prices do not change in an empty block, so the first block whose reference leaves some
pool's band is found from the path alone — and steps one by one from there. ``checkpoint``/``rewind`` are
``evm_snapshot``/``evm_revert``: every strategy starts from the same state and the same point of the path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import requests
from web3 import Web3

from agent.amm import amount_in_to_price
from agent.devtools.bench.official_world import BenchPool, OfficialBenchWorld
from agent.devtools.contracts import official_at
from agent.devtools.sandbox.market import BaseFeeTrace, ReferencePath
from agent.devtools.sandbox.spec import KEEPER
from agent.errors import SandboxError

SLOT0 = Web3.keccak(text="slot0()")[:4]
GET_RESERVES = Web3.keccak(text="getReserves()")[:4]
KEEPER_GAS = {"v2": 250_000, "v3": 1_200_000}


@dataclass(frozen=True)
class MarketCheckpoint:
    snapshot: str
    tick: int


class OfficialMarket:
    """One tick = one block: the reference moves, the keeper arbitrages both venues, the block is mined."""

    def __init__(self, world: OfficialBenchWorld, path: ReferencePath, *, base_fees: BaseFeeTrace,
                 efficiency: float = 0.8, band_bps: float | None = None, min_excess_bps: float = 5.0,
                 keeper: bool = True, block_time_s: int = 12) -> None:
        self.world, self.path, self.base_fees = world, path, base_fees
        self.efficiency, self.band_override, self.keeper_on = efficiency, band_bps, keeper
        #: the keeper trades only when the deviation beyond the band exceeds this (its gas must pay)
        self.min_excess = min_excess_bps / 10_000
        self.block_time_s = block_time_s
        self.tick = self.steps = self.keeper_trades = 0
        self._session = requests.Session()
        self._session.trust_env = False  # a loopback node: no proxy look-up per request
        self._pools = list(world.pools.values())
        self._routers = {v: official_at(world.w3, "UniswapV2Router02" if v == "v2" else "SwapRouter02", p.router)
                         for v, p in world.pools.items()}
        self._rpc("evm_setAutomine", [False])
        self._sync()

    # ------------------------------------------------------------------------------------------- clock
    def now(self) -> float:
        return self.steps * float(self.block_time_s)

    def sleep(self, _seconds: float = 0.0) -> None:
        self.step()

    def reference_usd(self, symbol: str = "WETH") -> float:
        if symbol == "USDC":
            return 1.0
        price = self.path.usd("ETH", self.tick)
        assert price is not None
        return price

    def band(self, pool: BenchPool) -> float:
        return (self.band_override if self.band_override is not None else pool.fee_ppm / 100) / 10_000

    def trades(self, pool: BenchPool, price: float, ref: float) -> bool:
        """Whether the keeper trades ``pool`` at ``price`` against the reference ``ref``."""
        return abs(price / ref - 1) > self.band(pool) + self.min_excess

    def step(self, prices: list[float] | None = None) -> None:
        """One block: ``prices`` are the pools' prices as of the last block when the caller just read them."""
        self.tick += 1
        self.steps += 1
        if self.keeper_on:
            for pool, price in zip(self._pools, prices or self.pool_prices(), strict=True):
                self._arbitrage(pool, price)
        self.mine(1)

    def wait_blocks(self, n: int) -> None:
        """``n`` blocks: the quiet ones (no pool leaves its band) mined at once, the others stepped."""
        left = max(n, 0)
        while left > 0:
            prices = self.pool_prices()
            quiet = self._quiet_blocks(prices, left) if self.keeper_on else left
            if quiet:
                self.tick += quiet
                self.steps += quiet
                left -= quiet
                self.mine(quiet)
            if left:
                self.step(prices)
                left -= 1

    def _quiet_blocks(self, prices: list[float], most: int) -> int:
        for k in range(1, most + 1):
            ref = self.path.usd("ETH", self.tick + k)
            assert ref is not None
            if any(self.trades(p, price, ref) for p, price in zip(self._pools, prices, strict=True)):
                return k - 1
        return most

    def checkpoint(self) -> MarketCheckpoint:
        return MarketCheckpoint(str(self._rpc("evm_snapshot")), self.tick)

    def rewind(self, cp: MarketCheckpoint) -> MarketCheckpoint:
        """Back to ``cp``; returns the fresh checkpoint of the same state (a revert consumes its snapshot)."""
        self._rpc("evm_revert", [cp.snapshot])
        self.tick, self.steps = cp.tick, 0
        self._sync()
        return MarketCheckpoint(str(self._rpc("evm_snapshot")), cp.tick)

    def close(self) -> None:
        self._rpc("evm_setAutomine", [True])
        self._session.close()

    # ------------------------------------------------------------------------------------------ pools
    def pool_prices(self) -> list[float]:
        """Every pool's marginal price in USDC per WETH (whole tokens, fee excluded), in one batch request."""
        calls = [("eth_call", [{"to": p.address, "data": "0x" + (SLOT0 if p.venue == "v3" else GET_RESERVES).hex()},
                               "latest"]) for p in self._pools]
        return [_price(p, bytes.fromhex(r[2:])) for p, r in zip(self._pools, self._batch(calls), strict=True)]

    def pool_price(self, pool: BenchPool) -> float:
        return self.pool_prices()[self._pools.index(pool)]

    def reserves(self, pool: BenchPool) -> tuple[int, int]:
        """A V2 pair's (WETH, USDC) reserves, raw."""
        data = bytes.fromhex(self._rpc("eth_call", [{"to": pool.address, "data": "0x" + GET_RESERVES.hex()},
                                                    "latest"])[2:])
        r0, r1 = int.from_bytes(data[:32], "big"), int.from_bytes(data[32:64], "big")
        return (r1, r0) if pool.usdc_is_0 else (r0, r1)

    def _arbitrage(self, pool: BenchPool, price: float) -> None:
        ref = self.reference_usd()
        dev, band = price / ref - 1, self.band(pool)
        if not self.trades(pool, price, ref):
            return
        goal = ref * (1 + math.copysign(band + (1 - self.efficiency) * (abs(dev) - band), dev))
        weth, usdc = self.world.weth, self.world.usdc
        sell, buy = (weth, usdc) if dev > 0 else (usdc, weth)  # the pool overprices WETH: sell WETH into it
        if pool.venue == "v2":
            r_weth, r_usdc = self.reserves(pool)
            if sell == weth:
                amount = amount_in_to_price(r_weth, r_usdc, target_out_per_in=goal / 10**12)
            else:
                amount = amount_in_to_price(r_usdc, r_weth, target_out_per_in=10**12 / goal)
            if amount <= 0:
                return
            call: Any = self._routers["v2"].functions.swapExactTokensForTokens(amount, 0, [sell, buy], KEEPER, 2**40)
        else:
            p01_raw = goal / 10**12 if not pool.usdc_is_0 else 10**12 / goal
            limit = int(math.sqrt(p01_raw) * 2**96)
            amount = 10**30 if sell == weth else 10**18  # more than enough: the price limit ends the swap
            call = self._routers["v3"].functions.exactInputSingle((sell, buy, pool.fee_ppm, KEEPER, amount, 0,
                                                                     limit))
        self._rpc("eth_sendTransaction", [{"from": KEEPER, "to": pool.router, "data": call._encode_transaction_data(),
                                           "gas": hex(KEEPER_GAS[pool.venue]), "maxFeePerGas": hex(3 * self._fee + 1),
                                           "maxPriorityFeePerGas": "0x0"}])
        self.keeper_trades += 1

    # --------------------------------------------------------------------------------------- plumbing
    def _sync(self) -> None:
        """Read the last block's timestamp and set the next block's base fee from the trace."""
        self._ts = int(self._rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        self._set_next_base_fee()

    def mine(self, blocks: int) -> None:
        """Mine ``blocks`` blocks as they are (no keeper, the path does not move)."""
        if blocks == 1:
            self._ts += self.block_time_s
            self._rpc("evm_mine", [self._ts])
        else:
            self._rpc("anvil_mine", [hex(blocks), hex(self.block_time_s)])
            self._ts = int(self._rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        self._set_next_base_fee()

    def _set_next_base_fee(self) -> None:
        self._fee = self.base_fees.at(self.tick)
        self._rpc("anvil_setNextBlockBaseFeePerGas", [hex(self._fee)])

    def _post(self, body: Any) -> Any:
        return self._session.post(self.world.rpc_url, json=body, timeout=60).json()

    def _rpc(self, method: str, params: list[Any] | None = None) -> Any:
        body = self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
        if "error" in body:
            raise SandboxError(f"{method}: {body['error']}")
        return body.get("result")

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        bodies = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        answers = sorted(self._post(bodies), key=lambda b: b["id"])
        for call, answer in zip(calls, answers, strict=True):
            if "error" in answer:
                raise SandboxError(f"{call[0]}: {answer['error']}")
        return [a["result"] for a in answers]


def _price(pool: BenchPool, data: bytes) -> float:
    if pool.venue == "v3":
        p01 = (int.from_bytes(data[:32], "big") / 2**96) ** 2
    else:
        p01 = int.from_bytes(data[32:64], "big") / int.from_bytes(data[:32], "big")
    return (1 / p01 if pool.usdc_is_0 else p01) * 10**12
