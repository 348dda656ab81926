"""AggregatorRouter: atomic split/multi-hop routes with min-out, native ETH in and out."""

from __future__ import annotations

import pytest
from web3.logs import DISCARD

pytestmark = pytest.mark.chain

E6, E8, E18 = 10**6, 10**8, 10**18
NATIVE = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
MAX = 2**256 - 1


def v2_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    return amount_in * 997 * reserve_out // (reserve_in * 1000 + amount_in * 997)


def reserves_for(pair, token_in: str) -> tuple[int, int]:
    r0, r1, _ = pair.functions.getReserves().call()
    return (r0, r1) if pair.functions.token0().call() == token_in else (r1, r0)


def legs_weth_usdc(world, uni_amount: int, sushi_amount: int) -> list[tuple[int, list[str]]]:
    legs = []
    if uni_amount:
        legs.append((uni_amount, [world.pair(world.weth, world.usdc).address]))
    if sushi_amount:
        legs.append((sushi_amount, [world.pair(world.weth, world.usdc, factory=world.sushi_factory).address]))
    return legs


def test_split_over_two_pools_beats_either_pool_alone(world) -> None:
    agg, weth, usdc = world.aggregator, world.weth, world.usdc
    amount = 300 * E18
    quote = agg.functions.quote
    only_uni = quote(weth.address, usdc.address, legs_weth_usdc(world, amount, 0)).call()
    only_sushi = quote(weth.address, usdc.address, legs_weth_usdc(world, 0, amount)).call()
    split_legs = legs_weth_usdc(world, 200 * E18, 100 * E18)  # in proportion to the pools' depth
    split = quote(weth.address, usdc.address, split_legs).call()
    assert split > only_uni > only_sushi

    uni_pair = world.pair(weth, usdc)
    r_in, r_out = reserves_for(uni_pair, weth.address)
    assert only_uni == v2_out(amount, r_in, r_out)

    world.transact(weth.functions.approve(agg.address, amount))
    user_weth = weth.functions.balanceOf(world.user).call()
    receipt = world.transact(agg.functions.swap(weth.address, usdc.address, amount, split, world.other, split_legs))
    assert usdc.functions.balanceOf(world.other).call() == split  # only the recipient receives
    assert weth.functions.balanceOf(world.user).call() == user_weth - amount
    assert weth.functions.balanceOf(agg.address).call() == 0 and usdc.functions.balanceOf(agg.address).call() == 0
    (event,) = agg.events.Swapped().process_receipt(receipt, errors=DISCARD)
    assert (event.args.sender, event.args.recipient, event.args.amount_in, event.args.amount_out) == (
        world.user,
        world.other,
        amount,
        split,
    )


def test_multi_hop_leg_plus_direct_leg(world) -> None:
    agg, wbtc, usdc = world.aggregator, world.wbtc, world.usdc
    legs = [
        (2 * E8, [world.pair(wbtc, usdc).address]),
        (E8, [world.pair(wbtc, world.weth).address, world.pair(world.weth, usdc).address]),
    ]
    expected = agg.functions.quote(wbtc.address, usdc.address, legs).call()
    direct = world.router.functions.getAmountsOut(2 * E8, [wbtc.address, usdc.address]).call()[-1]
    via_weth = world.router.functions.getAmountsOut(E8, [wbtc.address, world.weth.address, usdc.address]).call()[-1]
    assert expected == direct + via_weth

    world.transact(wbtc.functions.approve(agg.address, 3 * E8))
    before = usdc.functions.balanceOf(world.user).call()
    world.transact(agg.functions.swap(wbtc.address, usdc.address, 3 * E8, expected, world.user, legs))
    assert usdc.functions.balanceOf(world.user).call() - before == expected


def test_quote_accounts_for_a_pool_used_by_two_legs(world) -> None:
    agg, weth, usdc = world.aggregator, world.weth, world.usdc
    pair = world.pair(weth, usdc).address
    legs = [(10 * E18, [pair]), (10 * E18, [pair])]
    expected = agg.functions.quote(weth.address, usdc.address, legs).call()
    r_in, r_out = reserves_for(world.pair(weth, usdc), weth.address)
    first = v2_out(10 * E18, r_in, r_out)
    assert expected == first + v2_out(10 * E18, r_in + 10 * E18, r_out - first)
    world.transact(weth.functions.approve(agg.address, 20 * E18))
    before = usdc.functions.balanceOf(world.user).call()
    world.transact(agg.functions.swap(weth.address, usdc.address, 20 * E18, expected, world.user, legs))
    assert usdc.functions.balanceOf(world.user).call() - before == expected


def test_min_out_reverts_the_whole_route(world, reverts) -> None:
    agg, weth, usdc = world.aggregator, world.weth, world.usdc
    legs = legs_weth_usdc(world, 2 * E18, E18)
    expected = agg.functions.quote(weth.address, usdc.address, legs).call()
    world.transact(weth.functions.approve(agg.address, MAX))
    with reverts("output below min_amount_out"):
        agg.functions.swap(weth.address, usdc.address, 3 * E18, expected + 1, world.user, legs).call(
            {"from": world.user}
        )


def test_value_on_a_token_sell_reverts(world, reverts) -> None:
    agg, weth, usdc = world.aggregator, world.weth, world.usdc
    world.transact(weth.functions.approve(agg.address, MAX))
    call = agg.functions.swap(weth.address, usdc.address, E18, 0, world.user, legs_weth_usdc(world, E18, 0))
    with reverts("msg.value must be 0"):
        call.call({"from": world.user, "value": 1})


def test_route_validation(world, reverts) -> None:
    agg, weth, usdc, wbtc = world.aggregator, world.weth, world.usdc, world.wbtc
    world.transact(weth.functions.approve(agg.address, MAX))
    world.transact(wbtc.functions.approve(agg.address, MAX))
    uni = world.pair(weth, usdc).address
    swap = agg.functions.swap
    with reverts("must sum to amount_in"):
        swap(weth.address, usdc.address, 2 * E18, 0, world.user, [(E18, [uni])]).call({"from": world.user})
    with reverts("does not trade the leg's token"):
        swap(wbtc.address, usdc.address, E8, 0, world.user, [(E8, [uni])]).call({"from": world.user})
    with reverts("does not end in token_out"):
        swap(weth.address, wbtc.address, E18, 0, world.user, [(E18, [uni])]).call({"from": world.user})
    with reverts("no legs"):
        swap(weth.address, usdc.address, 0, 0, world.user, []).call({"from": world.user})


def test_transfer_from_needs_approval_of_the_router(world, reverts) -> None:
    agg, usdc = world.aggregator, world.usdc
    legs = [(1_000 * E6, [world.pair(world.weth, usdc).address])]
    with reverts("exceeds allowance"):  # USDC (FiatToken) says so
        agg.functions.swap(usdc.address, world.weth.address, 1_000 * E6, 0, world.user, legs).call({"from": world.user})


def test_native_eth_in(world, reverts) -> None:
    agg, usdc = world.aggregator, world.usdc
    legs = legs_weth_usdc(world, E18, E18 // 2)
    expected = agg.functions.quote(NATIVE, usdc.address, legs).call()
    with reverts("msg.value must equal amount_in"):
        agg.functions.swap(NATIVE, usdc.address, 3 * E18 // 2, 0, world.other, legs).call(
            {"from": world.user, "value": E18}
        )
    world.transact(
        agg.functions.swap(NATIVE, usdc.address, 3 * E18 // 2, expected, world.other, legs), value=3 * E18 // 2
    )
    assert usdc.functions.balanceOf(world.other).call() == expected
    assert world.w3.eth.get_balance(agg.address) == 0


def test_native_eth_out(world) -> None:
    w3, agg, usdc = world.w3, world.aggregator, world.usdc
    legs = legs_weth_usdc(world, 2_000 * E6, 1_000 * E6)
    expected = agg.functions.quote(usdc.address, NATIVE, legs).call()
    world.transact(usdc.functions.approve(agg.address, 3_000 * E6))
    eth_before = w3.eth.get_balance(world.other)
    world.transact(agg.functions.swap(usdc.address, NATIVE, 3_000 * E6, expected, world.other, legs))
    assert w3.eth.get_balance(world.other) - eth_before == expected
    assert world.weth.functions.balanceOf(agg.address).call() == 0
