"""The market simulator's arbitrage keeper on the official pools: V2 pairs and V3 concentrated liquidity.

Each pool's marginal price (raw token1 per token0) comes from one multicall per chain: ``getReserves`` of a V2
pair, ``slot0`` and ``liquidity`` of a V3 pool. A V2 trade is sized with the constant-product formula to land
on the goal price and goes through the venue's Router02; a V3 trade goes through SwapRouter02's
``exactInputSingle`` with ``sqrtPriceLimitX96`` at the goal price, so the pool itself stops the swap there
(whatever ticks it crosses) and the keeper pays only what was swapped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.types import Wei

from agent.amm import amount_in_to_price
from agent.chain.abi import Abi, Function, abi
from agent.chain.multicall import Call, aggregate
from agent.chain.rpc import ChainRpc
from agent.devtools.contracts import load_official, official_at
from agent.devtools.sandbox.pools import token_contract
from agent.devtools.sandbox.spec import DEPLOYER, KEEPER, TOKENS
from agent.devtools.sandbox.world import World

SPEC_USD = {t.symbol: float(t.usd_price) for t in TOKENS}
GET_RESERVES = abi("UniswapV2Pair").fn("getReserves")
TOKEN0 = abi("UniswapV2Pair").fn("token0")
_V3_POOL = Abi("UniswapV3Pool", load_official("UniswapV3Pool").abi)
SLOT0: Function = _V3_POOL.fn("slot0")
LIQUIDITY: Function = _V3_POOL.fn("liquidity")
MAX_UINT = 2**256 - 1
#: the most a V3 keeper trade may spend (far above any move of the sandbox pools; the price limit stops it)
V3_AMOUNT_CAP = 10**30
V2_GAS, V3_GAS = 300_000, 1_500_000


@dataclass(frozen=True)
class KeeperPool:
    address: str
    router: str
    token0: str
    token1: str
    sym0: str
    sym1: str
    dec0: int
    dec1: int
    #: 0 for a V2 pair, else the V3 fee tier
    fee: int = 0

    @property
    def is_v3(self) -> bool:
        return self.fee != 0


@dataclass(frozen=True)
class PoolState:
    """A pool's marginal price (raw token1 per token0) and what sizing a trade needs."""

    price: float
    reserves: tuple[int, int] = (0, 0)
    liquidity: int = 0


@dataclass(frozen=True)
class PlannedSwap:
    sell: str
    buy: str
    sym_sell: str
    sym_buy: str
    amount_in_raw: int


def keeper_pools(w3: Web3, world: World) -> list[KeeperPool]:
    """Every V2 pair and V3 pool of the world whose two tokens the chain config lists."""
    decimals = {t.symbol: t.decimals for t in world.chain.tokens}
    routers = {"uniswap": world.router, "sushi": world.addresses.sushi_router}
    out = []
    for (venue, a, b), pair in world.pairs.items():
        if a in decimals and b in decimals:
            out.append(_pool(w3, world, pair, routers[venue], a, b, decimals, 0))
    for (a, b, fee), pool in world.v3_pools.items():
        if a in decimals and b in decimals:
            out.append(_pool(w3, world, pool, world.swap_router02, a, b, decimals, fee))
    return out


def _pool(w3: Web3, world: World, address: str, router: str, a: str, b: str, decimals: dict[str, int],
          fee: int) -> KeeperPool:
    returned = bytes(w3.eth.call({"to": Web3.to_checksum_address(address), "data": TOKEN0.encode()}))
    t0 = Web3.to_checksum_address(TOKEN0.decode_output(returned)[0])
    s0, s1 = (a, b) if t0 == Web3.to_checksum_address(world.token(a)) else (b, a)
    return KeeperPool(address, router, world.token(s0), world.token(s1), s0, s1, decimals[s0], decimals[s1], fee)


def read_states(rpc: ChainRpc, pools: list[KeeperPool]) -> list[PoolState | None]:
    """Every pool's state from one multicall (None where a read failed or the pool is empty)."""
    calls: list[Call] = []
    for p in pools:
        calls += [Call(p.address, SLOT0), Call(p.address, LIQUIDITY)] if p.is_v3 else [Call(p.address, GET_RESERVES)]
    results = iter(aggregate(rpc, calls, what="keeper pool states"))
    out: list[PoolState | None] = []
    for p in pools:
        if p.is_v3:
            slot0, liq = next(results), next(results)
            ok = bool(slot0 and liq and slot0[0] and liq[0])
            out.append(PoolState((slot0[0] / 2**96) ** 2, liquidity=int(liq[0])) if ok and slot0 and liq else None)
        else:
            res = next(results)
            ok = bool(res and res[0] and res[1])
            out.append(PoolState(res[1] / res[0], reserves=(int(res[0]), int(res[1]))) if ok and res else None)
    return out


def plan_swap(pool: KeeperPool, state: PoolState, goal_price: float) -> PlannedSwap | None:
    """The swap that moves the pool's price to ``goal_price`` (for V3 the amount is an estimate for the report)."""
    buy_token0 = goal_price > state.price
    sell, buy = (pool.token1, pool.token0) if buy_token0 else (pool.token0, pool.token1)
    syms = (pool.sym1, pool.sym0) if buy_token0 else (pool.sym0, pool.sym1)
    if pool.is_v3:
        s_old, s_new = math.sqrt(state.price), math.sqrt(goal_price)
        raw = state.liquidity * (s_new - s_old) if buy_token0 else state.liquidity * (1 / s_new - 1 / s_old)
        amount = int(raw / (1 - pool.fee / 1_000_000))
    else:
        r0, r1 = state.reserves
        amount = (amount_in_to_price(r1, r0, target_out_per_in=1 / goal_price) if buy_token0
                  else amount_in_to_price(r0, r1, target_out_per_in=goal_price))
    return PlannedSwap(sell, buy, syms[0], syms[1], amount) if amount > 0 else None


def send_swap(w3: Web3, pool: KeeperPool, swap: PlannedSwap, goal_price: float) -> None:
    """Send the keeper's swap with no tip (it lands after the wallet's transactions in a shared block)."""
    if pool.is_v3:
        router = official_at(w3, "SwapRouter02", pool.router)
        limit = int(math.sqrt(goal_price) * 2**96)
        params = (swap.sell, swap.buy, pool.fee, KEEPER, V3_AMOUNT_CAP, 0, limit)
        data, gas = router.encode_abi("exactInputSingle", args=[params]), V3_GAS
    else:
        router = official_at(w3, "UniswapV2Router02", pool.router)
        deadline = int(w3.eth.get_block("latest")["timestamp"]) + 3600
        data = router.encode_abi("swapExactTokensForTokens",
                                 args=[swap.amount_in_raw, 0, [swap.sell, swap.buy], KEEPER, deadline])
        gas = V2_GAS
    base = int(w3.eth.get_block("pending").get("baseFeePerGas") or 0)
    tx: Any = {"from": KEEPER, "to": pool.router, "data": data, "gas": gas, "maxFeePerGas": 3 * base + 1,
               "maxPriorityFeePerGas": 0}
    w3.eth.send_transaction(tx)


def fund_keeper(w3: Web3, world: World, pools: list[KeeperPool]) -> None:
    """Give the keeper a deep inventory of every pooled token and approve the routers (automine is on here)."""
    symbols = {s for p in pools for s in (p.sym0, p.sym1)}
    routers = {p.router for p in pools}
    for sym in sorted(symbols):
        token = world.token(sym)
        if sym == "WETH":
            w3.eth.wait_for_transaction_receipt(official_at(w3, "WETH9", token).functions.deposit().transact(
                {"from": KEEPER, "value": Wei(500_000 * 10**18)}))
        else:
            decimals = next(t.decimals for t in world.chain.tokens if t.symbol == sym)
            amount = int(1e10 / SPEC_USD.get(sym, 1.0)) * 10**decimals
            w3.eth.wait_for_transaction_receipt(
                token_contract(w3, token).functions.mint(KEEPER, amount).transact({"from": DEPLOYER}))
        for router in sorted(routers):
            w3.eth.wait_for_transaction_receipt(
                token_contract(w3, token).functions.approve(router, MAX_UINT).transact({"from": KEEPER}))
