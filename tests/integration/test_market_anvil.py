"""The market simulator on a sandbox chain: base fee replayed block by block, keeper follows the reference."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from agent.devtools.contracts import official_at
from agent.devtools.sandbox.market import BaseFeeTrace, KeeperConfig, MarketSimulator, ReferencePath

pytestmark = pytest.mark.anvil


def eth_price(w3: Web3, world: Any, venue: str) -> float:
    pair = official_at(w3, "UniswapV2Pair", world.pairs[(venue, "WETH", "USDC")])
    r0, r1, _ = pair.functions.getReserves().call()
    weth_is_0 = pair.functions.token0().call() == world.token("WETH")
    weth, usdc = (r0, r1) if weth_is_0 else (r1, r0)
    return (usdc / 1e6) / (weth / 1e18)


def eth_price_v3(w3: Web3, world: Any, fee: int) -> float:
    """USDC per WETH at a V3 pool's current sqrt price."""
    pool = official_at(w3, "UniswapV3Pool", world.v3_pools[("WETH", "USDC", fee)])
    price01 = (pool.functions.slot0().call()[0] / 2**96) ** 2
    weth_is_0 = pool.functions.token0().call() == world.token("WETH")
    return (price01 if weth_is_0 else 1 / price01) * 1e12


def test_replays_the_base_fee_and_the_keeper_pulls_pools_to_the_reference(world: Any) -> None:
    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    path = ReferencePath.from_hourly(start="2021-05-19T08:00:00Z", bars=8)  # into the 19 May crash
    trace = BaseFeeTrace.per_block()
    sim = MarketSimulator(world, path, keeper=KeeperConfig(efficiency=1.0, delay_blocks=0, band_bps=30),
                          base_fees=trace)
    with sim:
        start = sim.block_number()
        reports = [sim.step() for _ in range(8)]
        assert [r.block for r in reports] == list(range(start + 1, start + 9))
        mined = [int(w3.eth.get_block(b)["baseFeePerGas"]) for b in range(start + 1, start + 9)]
        assert mined == list(trace.values_wei[:8]) == [r.base_fee_wei for r in reports]
        assert any(r.trades for r in reports)
        ref = sim.reference_usd("WETH")
        for venue in ("uniswap", "sushi"):  # at the band edge (the keeper trades back to it)
            assert abs(eth_price(w3, world, venue) / ref - 1) < 0.0035
        for fee in (500, 3000):  # the V3 pools too (their swaps stop at the goal price)
            assert abs(eth_price_v3(w3, world, fee) / ref - 1) < 0.0035
        assert abs(ref / 3000 - 1) > 0.01  # the reference did move: the pools followed it
        v3_pools = set(world.v3_pools.values())
        assert any(t.pool in v3_pools for r in reports for t in r.trades)
        assert not w3.eth.get_block("latest")["transactions"] or reports[-1].trades
        cp = sim.checkpoint()
        again = [sim.step().trades for _ in range(3)]
        sim.rewind(cp)
        assert [sim.step().trades for _ in range(3)] == again  # the same path replays the same trades
    before = w3.eth.block_number
    official_at(w3, "SandboxToken", world.token("USDC")).functions.approve(world.router, 1).transact(
        {"from": world.wallet})
    assert w3.eth.block_number == before + 1  # automine is back on after close()


def test_a_slow_keeper_waits_for_its_delay(world: Any) -> None:
    path = ReferencePath({"ETH": [3000.0, 3300.0, 3300.0, 3300.0]})
    with MarketSimulator(world, path, keeper=KeeperConfig(efficiency=0.5, delay_blocks=2)) as sim:
        trades = [len(sim.step().trades) for _ in range(4)]
    assert trades[0] == 0 and trades[1] == 0 and trades[2] > 0
