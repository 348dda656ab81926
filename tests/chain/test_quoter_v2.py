"""QuoterV2 over the sandbox V2 pools: same numbers as the router, real QuoterV2 ABI."""

from __future__ import annotations

from math import isqrt

import pytest
from eth_utils import function_abi_to_4byte_selector

from agent.chain.abis import load_abi

pytestmark = pytest.mark.chain

E6, E8, E18 = 10**6, 10**8, 10**18
FEE = 3000


def v3_path(tokens: list[str]) -> bytes:
    out = bytes.fromhex(tokens[0][2:])
    for token in tokens[1:]:
        out += FEE.to_bytes(3, "big") + bytes.fromhex(token[2:])
    return out


def test_selector_and_mutability_match_the_real_quoter(world) -> None:
    (real,) = [e for e in load_abi("QuoterV2") if e.get("name") == "quoteExactInputSingle"]
    assert function_abi_to_4byte_selector(real).hex() == "c6a5026a"
    (ours,) = [e for e in world.quoter.abi if e.get("name") == "quoteExactInputSingle"]
    assert ours["stateMutability"] == "nonpayable"
    assert world.quoter.functions.factory().call() == world.factory.address
    assert world.quoter.functions.WETH9().call() == world.weth.address


@pytest.mark.parametrize("sell_weth", [True, False])
def test_quote_exact_input_single_equals_router_get_amounts_out(world, sell_weth: bool) -> None:
    weth, usdc = world.weth.address, world.usdc.address
    token_in, token_out, amount = (weth, usdc, 5 * E18) if sell_weth else (usdc, weth, 15_000 * E6)
    real = world.w3.eth.contract(address=world.quoter.address, abi=load_abi("QuoterV2"))
    amount_out, sqrt_price_after, ticks, gas = real.functions.quoteExactInputSingle(
        (token_in, token_out, amount, FEE, 0)
    ).call()
    assert amount_out == world.router.functions.getAmountsOut(amount, [token_in, token_out]).call()[-1]
    assert ticks == 0 and gas > 0

    pair = world.pair(world.weth, world.usdc)
    r0, r1, _ = pair.functions.getReserves().call()
    if pair.functions.token0().call() == token_in:
        r0, r1 = r0 + amount, r1 - amount_out
    else:
        r0, r1 = r0 - amount_out, r1 + amount
    exact = isqrt((r1 << 192) // r0)
    assert abs(sqrt_price_after - exact) <= exact // 10**12 + 2**24


def test_quote_then_swap_gets_the_quoted_amount(world) -> None:
    usdc, weth = world.usdc, world.weth
    amount_out = world.quoter.functions.quoteExactInputSingle((usdc.address, weth.address, 9_000 * E6, FEE, 0)).call()[
        0
    ]
    world.transact(usdc.functions.approve(world.router.address, 9_000 * E6))
    before = weth.functions.balanceOf(world.user).call()
    world.transact(
        world.router.functions.swapExactTokensForTokens(
            9_000 * E6, amount_out, [usdc.address, weth.address], world.user, world.deadline()
        )
    )
    assert weth.functions.balanceOf(world.user).call() - before == amount_out


def test_quote_exact_input_multi_hop_path(world) -> None:
    tokens = [world.wbtc.address, world.weth.address, world.usdc.address]
    amount_out, prices, ticks, gas = world.quoter.functions.quoteExactInput(v3_path(tokens), E8).call()
    assert amount_out == world.router.functions.getAmountsOut(E8, tokens).call()[-1]
    assert len(prices) == 2 and ticks == [0, 0]
    assert gas == 2 * world.quoter.functions.quoteExactInput(v3_path(tokens[:2]), E8).call()[3]


def test_quote_exact_output_single_and_path(world) -> None:
    usdc, weth = world.usdc.address, world.weth.address
    amount_in = world.quoter.functions.quoteExactOutputSingle((usdc, weth, E18, FEE, 0)).call()[0]
    assert amount_in == world.router.functions.getAmountsIn(E18, [usdc, weth]).call()[0]

    tokens = [world.dai.address, usdc, weth]  # buy WETH with DAI; the V3 path is reversed
    amount_in, prices, _, _ = world.quoter.functions.quoteExactOutput(v3_path(tokens[::-1]), E18).call()
    assert amount_in == world.router.functions.getAmountsIn(E18, tokens).call()[0]
    assert len(prices) == 2


def test_quoter_rejects_what_the_sandbox_cannot_quote(world, reverts) -> None:
    q, usdc, weth = world.quoter, world.usdc.address, world.weth.address
    with reverts("only the 3000 fee tier"):
        q.functions.quoteExactInputSingle((usdc, weth, E6, 500, 0)).call()
    with reverts("sqrtPriceLimitX96 is not supported"):
        q.functions.quoteExactInputSingle((usdc, weth, E6, FEE, 1)).call()
    with reverts("pool does not exist"):
        q.functions.quoteExactInputSingle((usdc, world.usdt.address, E6, FEE, 0)).call()
    with reverts("invalid path"):
        q.functions.quoteExactInput(bytes.fromhex(usdc[2:]), E6).call()
