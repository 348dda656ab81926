"""The TWAP executor on the sandbox with the market simulator's keeper: balances, journal, resume."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from agent.devtools.sandbox.market import BaseFeeTrace, KeeperConfig, MarketSimulator, ReferencePath
from agent.devtools.sandbox.spec import DEPLOYER
from agent.execution.live import LiveSender
from agent.execution.pipeline import ExecutionContext
from agent.execution.sender import SendPolicy
from agent.execution.splitter import SplitParams, due_offset
from agent.execution.twap import BestQuoteChunkQuoter, ChunkRecord, TwapOrder, TwapParams, chunk_key, execute_twap
from agent.journal.store import JournalStore
from agent.quotes.onchain import OnchainQuoter
from agent.quotes.service import build_request
from agent.quotes.validate import Limits
from tests.integration.execution.helpers import chain_rpc, erc20, wallet_signer

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
ORDER_USDC = 400_000  # 2% of the 20M-USDC pool: several chunks under a 50 bps impact bound
PARAMS = TwapParams(split=SplitParams(max_impact_bps=50, max_chunks=16, block_time_s=12, blocks_per_chunk=3),
                    spacing_blocks=1)


@pytest.fixture
def sim(world: Any) -> Iterator[MarketSimulator]:
    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    erc20(w3, world.token("USDC")).functions.mint(world.wallet, ORDER_USDC * 10**6).transact({"from": DEPLOYER})
    path = ReferencePath.from_hourly(start="2021-05-10T00:00:00Z", bars=2, ticks_per_bar=300)
    simulator = MarketSimulator(world, path, keeper=KeeperConfig(efficiency=1.0, delay_blocks=0),
                                base_fees=BaseFeeTrace.per_block()).start()
    try:
        simulator.wait_blocks(2)
        yield simulator
    finally:
        simulator.close()


def context(world: Any, sim: MarketSimulator, journal: Path, sleep: Callable[[float], None] | None = None
            ) -> ExecutionContext:
    rpc = chain_rpc(world.chain, world.rpc_url)
    store = JournalStore.open(journal)
    sender = LiveSender(rpc, wallet_signer(), store, SendPolicy(poll_s=0.01), progress=lambda _p: None,
                        clock=sim.now, sleep=sleep or sim.sleep)
    return ExecutionContext(chain=world.chain, rpc=rpc, sender=sender, journal=store)


def run(world: Any, sim: MarketSimulator, ctx: ExecutionContext, params: TwapParams = PARAMS, **kw: Any) -> Any:
    request = build_request(world.chain, sell="USDC", buy="WETH", amount=str(ORDER_USDC), taker=world.wallet,
                            slippage_bps=50)
    quoter = BestQuoteChunkQuoter(request, chain=world.chain, sources=[OnchainQuoter(world.chain, ctx.rpc)],
                                  reference=OnchainQuoter(world.chain, ctx.rpc).fetch_reference,
                                  limits=Limits(max_slippage_bps=50, max_quote_deviation_bps=150, max_swap_gas=10**6))
    order = TwapOrder(chain=world.chain.name, plan_id="plan-twap", key="plan-twap:USDC>WETH",
                      sell_token=request.sell_token, buy_token=request.buy_token,
                      total_sell_raw=request.sell_amount_raw)
    return execute_twap(order, ctx, quoter, sim, params, sell_decimals=6, **kw)


def balances(world: Any) -> tuple[int, int]:
    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    return (erc20(w3, world.token("USDC")).functions.balanceOf(world.wallet).call(),
            erc20(w3, world.token("WETH")).functions.balanceOf(world.wallet).call())


def events(journal: JournalStore) -> list[str]:
    return [e["kind"] for e in reversed(journal.summary(limit=1000).to_json()["events"])]


def interrupt_after(n: int, done: list[ChunkRecord]) -> Callable[[ChunkRecord], None]:
    """An ``on_chunk`` hook that records each chunk and interrupts the order (as Ctrl-C would) after ``n``."""
    def hook(record: ChunkRecord) -> None:
        done.append(record)
        if len(done) == n:
            raise KeyboardInterrupt
    return hook


def test_split_swap_with_the_keeper_ends_with_the_expected_balances_and_a_complete_journal(
        world: Any, sim: MarketSimulator, tmp_path: Path) -> None:
    usdc0, weth0 = balances(world)
    ctx = context(world, sim, tmp_path / "j.sqlite")
    result = run(world, sim, ctx)
    usdc1, weth1 = balances(world)
    assert result.status == "completed" and 1 < len(result.chunks) <= 16
    assert usdc0 - usdc1 == ORDER_USDC * 10**6 == result.sold_raw
    assert weth1 - weth0 == result.bought_raw == sum(c.bought_raw for c in result.chunks)
    assert all(c.state == "confirmed" and c.bought_raw >= c.min_out_raw > 0 for c in result.chunks)
    assert all(c.impact_bps is not None and c.impact_bps <= 50 * 1.02 for c in result.chunks)
    assert len({c.block for c in result.chunks}) == len(result.chunks)  # one chunk per block, over blocks
    parent = ctx.journal.action_by_key("plan-twap:USDC>WETH")
    assert parent is not None and parent.state == "confirmed" and parent.kind == "twap"
    assert (parent.result or {}).get("status") == "completed"
    for c in result.chunks:
        row = ctx.journal.action_by_key(c.key)
        assert row is not None and row.state == "confirmed"
        assert [(a.purpose, a.status) for a in ctx.journal.attempts(action_id=row.id)] == [
            ("approve", "mined"), ("main", "mined")]
    kinds = events(ctx.journal)
    assert kinds[0] == "twap_plan" and kinds[-1] == "twap_done" and kinds.count("twap_chunk") == len(result.chunks)
    # the keeper pulled the pool back toward the reference: the chunks after the first were priced near it
    assert max(c.impact_bps or 0 for c in result.chunks) < 50 * 1.02


def test_resume_after_an_interruption_between_chunks_executes_only_the_rest(
        world: Any, sim: MarketSimulator, tmp_path: Path) -> None:
    usdc0, _ = balances(world)
    done: list[ChunkRecord] = []
    stop_after_two = interrupt_after(2, done)
    with pytest.raises(KeyboardInterrupt):
        run(world, sim, context(world, sim, tmp_path / "j.sqlite"), on_chunk=stop_after_two)
    assert usdc0 - balances(world)[0] == sum(c.sell_raw for c in done)
    ctx = context(world, sim, tmp_path / "j.sqlite")
    assert ctx.journal.open_actions()[0].idempotency_key == "plan-twap:USDC>WETH"  # the planner keeps off it
    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    nonce = w3.eth.get_transaction_count(world.wallet)
    result = run(world, sim, ctx)
    assert result.status == "completed" and usdc0 - balances(world)[0] == ORDER_USDC * 10**6
    assert [c.reused for c in result.chunks[:2]] == [True, True] and not any(c.reused for c in result.chunks[2:])
    assert w3.eth.get_transaction_count(world.wallet) - nonce == 2 * (len(result.chunks) - 2)  # approve + swap each
    assert ctx.journal.action_by_key(chunk_key_of(result, len(result.chunks))) is None


def test_resume_with_a_chunk_in_flight_finishes_it_without_sending_it_again(
        world: Any, sim: MarketSimulator, tmp_path: Path) -> None:
    usdc0, _ = balances(world)
    journal_path = tmp_path / "j.sqlite"
    probe = JournalStore.open(journal_path)
    state = {"crashed": False}

    def crash_once_chunk1_is_broadcast(_s: float) -> None:
        row = probe.action_by_key("plan-twap:USDC>WETH#chunk1")
        if row is not None and not state["crashed"]:
            mains = [a for a in probe.attempts(action_id=row.id) if a.purpose == "main"]
            if mains and mains[-1].broadcast == "definitely" and mains[-1].status == "pending":
                state["crashed"] = True
                raise KeyboardInterrupt
        sim.step()

    with pytest.raises(KeyboardInterrupt):
        run(world, sim, context(world, sim, journal_path, sleep=crash_once_chunk1_is_broadcast))
    ctx = context(world, sim, journal_path)
    row = ctx.journal.action_by_key("plan-twap:USDC>WETH#chunk1")
    assert row is not None and row.state == "pending"
    result = run(world, sim, ctx)
    assert result.status == "completed" and usdc0 - balances(world)[0] == ORDER_USDC * 10**6
    mains = [a for a in ctx.journal.attempts(action_id=row.id) if a.purpose == "main"]
    assert len(mains) == 1 and mains[0].status == "mined"
    probe.close()


def test_the_price_guard_abandons_the_remaining_chunks_and_says_so(
        world: Any, sim: MarketSimulator, tmp_path: Path) -> None:
    usdc0, _ = balances(world)
    ctx = context(world, sim, tmp_path / "j.sqlite")

    def crash_the_market(record: ChunkRecord) -> None:
        if record.index == 0:  # the reference jumps 10% while the keeper follows it
            sim.path = ReferencePath({k: [v * 1.10 for v in vals] for k, vals in sim.path.prices.items()})
            sim.wait_blocks(3)

    result = run(world, sim, ctx, on_chunk=crash_the_market)
    assert result.status == "abandoned" and len(result.chunks) == 1
    assert "guard" in result.reason and "abandoned the remaining" in result.reason
    assert usdc0 - balances(world)[0] == result.sold_raw < ORDER_USDC * 10**6
    parent = ctx.journal.action_by_key("plan-twap:USDC>WETH")
    assert parent is not None and parent.state == "failed" and "guard" in parent.error
    assert "twap_abandoned" in events(ctx.journal)


def test_a_horizon_spreads_the_chunks_over_it_and_a_resume_keeps_to_the_schedule(
        world: Any, sim: MarketSimulator, tmp_path: Path) -> None:
    horizon = 60
    params = PARAMS.model_copy(update={"split": PARAMS.split.model_copy(update={"horizon_blocks": horizon})})
    usdc0, _ = balances(world)
    done: list[ChunkRecord] = []
    stop_after_two = interrupt_after(2, done)
    with pytest.raises(KeyboardInterrupt):
        run(world, sim, context(world, sim, tmp_path / "j.sqlite"), params, on_chunk=stop_after_two)
    sim.wait_blocks(10)  # the agent was down for a while: behind schedule when it comes back
    ctx = context(world, sim, tmp_path / "j.sqlite")
    result = run(world, sim, ctx, params)
    assert result.status == "completed" and usdc0 - balances(world)[0] == ORDER_USDC * 10**6
    parent = ctx.journal.action_by_key("plan-twap:USDC>WETH")
    assert parent is not None
    start, n = int(str(parent.intent["block"])), len(result.chunks)
    assert n > 2
    sold = 0
    for c in result.chunks:  # no chunk before the block by which the part sold before it was due
        assert c.block is not None and c.block > start + due_offset(sold / (ORDER_USDC * 10**6), params.split)
        sold += c.sell_raw
    blocks = [c.block or 0 for c in result.chunks]
    assert blocks[1] - start >= horizon // n  # spread out: the fastest spacing would be 3 blocks
    # the resumed part catches up at the fastest spacing instead of starting the horizon again
    assert blocks[-1] - start < horizon + 10 + 3 * PARAMS.split.blocks_per_chunk


def chunk_key_of(result: Any, index: int) -> str:
    return chunk_key(TwapOrder(chain="x", plan_id="p", key=result.key, sell_token=DEPLOYER, buy_token=DEPLOYER,
                               total_sell_raw=1), index)
