"""The official QuoterV2 over the official V3 pools: its numbers are what SwapRouter02 executes."""

from __future__ import annotations

import pytest
from eth_utils import function_abi_to_4byte_selector

from agent.chain.abis import load_abi
from agent.devtools.contracts import official_at

pytestmark = pytest.mark.chain

E6, E8, E18 = 10**6, 10**8, 10**18
FEE = 3000


def v3_path(tokens: list[str]) -> bytes:
    out = bytes.fromhex(tokens[0][2:])
    for token in tokens[1:]:
        out += FEE.to_bytes(3, "big") + bytes.fromhex(token[2:])
    return out


def pool_of(world, a: str, b: str):
    v3_factory = official_at(world.w3, "UniswapV3Factory", world.v3.factory)
    return official_at(world.w3, "UniswapV3Pool", v3_factory.functions.getPool(a, b, FEE).call())


def test_selector_and_mutability_match_the_real_quoter(world) -> None:
    (real,) = [e for e in load_abi("QuoterV2") if e.get("name") == "quoteExactInputSingle"]
    assert function_abi_to_4byte_selector(real).hex() == "c6a5026a"
    (ours,) = [e for e in world.quoter.abi if e.get("name") == "quoteExactInputSingle"]
    assert ours["stateMutability"] == real["stateMutability"] == "nonpayable"
    assert world.quoter.functions.factory().call() == world.v3.factory
    assert world.quoter.functions.WETH9().call() == world.weth.address


@pytest.mark.parametrize("sell_weth", [True, False])
def test_quote_exact_input_single_is_what_the_swap_pays_and_where_the_price_lands(world, sell_weth: bool) -> None:
    weth, usdc = world.weth, world.usdc
    token_in, token_out, amount = (weth, usdc, 5 * E18) if sell_weth else (usdc, weth, 15_000 * E6)
    amount_out, sqrt_price_after, _ticks, gas = world.quoter.functions.quoteExactInputSingle(
        (token_in.address, token_out.address, amount, FEE, 0)).call()
    assert gas > 0
    world.transact(token_in.functions.approve(world.swap_router02.address, amount))
    before = token_out.functions.balanceOf(world.user).call()
    world.transact(world.swap_router02.functions.exactInputSingle(
        (token_in.address, token_out.address, FEE, world.user, amount, amount_out, 0)))
    assert token_out.functions.balanceOf(world.user).call() - before == amount_out
    assert pool_of(world, weth.address, usdc.address).functions.slot0().call()[0] == sqrt_price_after


def test_quote_exact_input_multi_hop_path(world) -> None:
    tokens = [world.wbtc.address, world.weth.address, world.usdc.address]
    amount_out, prices, ticks, gas = world.quoter.functions.quoteExactInput(v3_path(tokens), E8).call()
    first = world.quoter.functions.quoteExactInput(v3_path(tokens[:2]), E8).call()
    second = world.quoter.functions.quoteExactInput(v3_path(tokens[1:]), first[0]).call()
    assert amount_out == second[0]  # hop by hop, each on its own pool
    assert len(prices) == len(ticks) == 2 and gas > first[3]


def test_quote_exact_output_single_and_path(world) -> None:
    usdc, weth = world.usdc.address, world.weth.address
    amount_in = world.quoter.functions.quoteExactOutputSingle((usdc, weth, E18, FEE, 0)).call()[0]
    assert world.quoter.functions.quoteExactInputSingle((usdc, weth, amount_in, FEE, 0)).call()[0] >= E18
    assert 3000 * E6 < amount_in < 3100 * E6

    tokens = [world.wbtc.address, usdc, weth]  # buy WETH with WBTC; an exact-output V3 path is reversed
    amount_in, prices, _, _ = world.quoter.functions.quoteExactOutput(v3_path(tokens[::-1]), E18).call()
    assert len(prices) == 2 and 5 * 10**6 < amount_in < 5_2 * 10**5 * 10  # ≈ 0.05 BTC


def test_quoter_rejects_what_has_no_pool(world, reverts) -> None:
    q, usdc, weth = world.quoter, world.usdc.address, world.weth.address
    with reverts("execution reverted"):  # no 0.05% pool in this world
        q.functions.quoteExactInputSingle((usdc, weth, E6, 500, 0)).call()
    with reverts("execution reverted"):
        q.functions.quoteExactInputSingle((usdc, world.usdt.address, E6, FEE, 0)).call()


def test_a_price_limit_ends_the_quote_early(world) -> None:
    """A limit inside the liquidity: the quote stops there and spends less than asked (a partial fill)."""
    usdc, weth = world.usdc.address, world.weth.address
    pool = pool_of(world, weth, usdc)
    sqrt_now = pool.functions.slot0().call()[0]
    weth_is_0 = pool.functions.token0().call() == weth
    limit = int(sqrt_now * (0.999 if weth_is_0 else 1.001))  # selling WETH moves the price 0.2% at most
    big = 1_000 * E18
    out, sqrt_after, _, _ = world.quoter.functions.quoteExactInputSingle((weth, usdc, big, FEE, limit)).call()
    full = world.quoter.functions.quoteExactInputSingle((weth, usdc, big, FEE, 0)).call()[0]
    assert sqrt_after == limit and out < full
