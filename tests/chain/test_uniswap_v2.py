"""Uniswap-V2-compatible pair, factory and router: exact V2 math, reserves, routes and guards."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from agent.devtools.contracts import contract_at

pytestmark = pytest.mark.chain

E6, E8, E18 = 10**6, 10**8, 10**18


def v2_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    return amount_in * 997 * reserve_out // (reserve_in * 1000 + amount_in * 997)


def v2_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


def reserves_for(world, pair, token_in) -> tuple[int, int]:
    r0, r1, _ = pair.functions.getReserves().call()
    return (r0, r1) if pair.functions.token0().call() == token_in.address else (r1, r0)


def test_pairs_sort_tokens_and_factory_indexes_them(world, reverts) -> None:
    pair = world.pair(world.weth, world.usdc)
    token0, token1 = pair.functions.token0().call(), pair.functions.token1().call()
    assert int(token0, 16) < int(token1, 16)
    assert {token0, token1} == {world.weth.address, world.usdc.address}
    assert pair.functions.factory().call() == world.factory.address
    assert world.factory.functions.getPair(world.usdc.address, world.weth.address).call() == pair.address
    assert world.factory.functions.allPairsLength().call() == 4
    assert pair.address in [world.factory.functions.allPairs(i).call() for i in range(4)]
    with reverts("PAIR_EXISTS"):
        world.factory.functions.createPair(world.usdc.address, world.weth.address).call()
    with reverts("IDENTICAL_ADDRESSES"):
        world.factory.functions.createPair(world.usdc.address, world.usdc.address).call()


def test_create_pair_emits_pair_created(world) -> None:
    receipt = world.transact(world.factory.functions.createPair(world.dai.address, world.wbtc.address))
    (event,) = world.factory.events.PairCreated().process_receipt(receipt, errors=DISCARD)
    assert {event.args.token0, event.args.token1} == {world.dai.address, world.wbtc.address}
    assert event.args.pair == world.factory.functions.getPair(world.dai.address, world.wbtc.address).call()
    assert list(event.args.values())[-1] == 5  # the official event's pair count is an unnamed uint
    with pytest.raises(Exception, match="FORBIDDEN"):
        contract_at(world.w3, "UniswapV2Pair", event.args.pair).functions.initialize(
            world.dai.address, world.wbtc.address
        ).call({"from": world.user})


def test_pair_swap_pays_exactly_the_v2_formula_and_updates_reserves(world, reverts) -> None:
    pair, usdc, weth = world.pair(world.weth, world.usdc), world.usdc, world.weth
    reserve_in, reserve_out = reserves_for(world, pair, usdc)
    amount_in = 30_000 * E6
    expected = v2_out(amount_in, reserve_in, reserve_out)
    usdc_is_token0 = pair.functions.token0().call() == usdc.address
    out0, out1 = (0, expected) if usdc_is_token0 else (expected, 0)

    world.transact(usdc.functions.transfer(pair.address, amount_in))
    with reverts("UniswapV2: K"):  # one wei more than the formula allows
        pair.functions.swap(out0 + (out0 > 0), out1 + (out1 > 0), world.other, b"").call({"from": world.user})
    weth_before = weth.functions.balanceOf(world.other).call()
    world.transact(pair.functions.swap(out0, out1, world.other, b""))

    assert weth.functions.balanceOf(world.other).call() - weth_before == expected
    assert reserves_for(world, pair, usdc) == (reserve_in + amount_in, reserve_out - expected)


def test_router_math_functions_match_the_formula(world) -> None:
    router = world.router
    assert router.functions.getAmountOut(10**18, 5 * 10**20, 10**24).call() == v2_out(10**18, 5 * 10**20, 10**24)
    assert router.functions.getAmountIn(10**21, 5 * 10**20, 10**24).call() == v2_in(10**21, 5 * 10**20, 10**24)
    assert router.functions.quote(10, 100, 250).call() == 25
    path = [world.wbtc.address, world.weth.address, world.usdc.address]
    amounts = router.functions.getAmountsOut(E8, path).call()
    r_btc, r_eth = reserves_for(world, world.pair(world.wbtc, world.weth), world.wbtc)
    hop1 = v2_out(E8, r_btc, r_eth)
    r_eth2, r_usdc = reserves_for(world, world.pair(world.weth, world.usdc), world.weth)
    assert amounts == [E8, hop1, v2_out(hop1, r_eth2, r_usdc)]
    back = router.functions.getAmountsIn(amounts[-1], path).call()
    assert back[-1] == amounts[-1] and back[0] <= E8 + 2


def test_swap_exact_tokens_for_tokens_single_hop(world) -> None:
    router, usdc, weth, user = world.router, world.usdc, world.weth, world.user
    pair = world.pair(weth, usdc)
    r_in, r_out = reserves_for(world, pair, usdc)
    amount_in = 3_000 * E6
    world.transact(usdc.functions.approve(router.address, amount_in))
    usdc_before, weth_before = usdc.functions.balanceOf(user).call(), weth.functions.balanceOf(user).call()

    path = [usdc.address, weth.address]
    expected = router.functions.getAmountsOut(amount_in, path).call()
    world.transact(router.functions.swapExactTokensForTokens(amount_in, expected[1], path, user, world.deadline()))

    assert expected == [amount_in, v2_out(amount_in, r_in, r_out)]
    assert usdc.functions.balanceOf(user).call() == usdc_before - amount_in
    assert weth.functions.balanceOf(user).call() == weth_before + expected[1]
    assert reserves_for(world, pair, usdc) == (r_in + amount_in, r_out - expected[1])


def test_swap_exact_tokens_multi_hop(world) -> None:
    router, dai, weth = world.router, world.dai, world.weth
    path = [dai.address, world.usdc.address, weth.address]
    amount_in = 10_000 * E18
    expected = router.functions.getAmountsOut(amount_in, path).call()
    world.transact(dai.functions.approve(router.address, amount_in))
    weth_before = weth.functions.balanceOf(world.other).call()
    world.transact(router.functions.swapExactTokensForTokens(amount_in, 0, path, world.other, world.deadline()))
    assert weth.functions.balanceOf(world.other).call() - weth_before == expected[-1]
    assert 3 * E18 < expected[-1] < 34 * E18 // 10  # about 10k USD of ETH at 3000


def test_min_out_and_deadline_guards(world, reverts) -> None:
    router, usdc, user = world.router, world.usdc, world.user
    path = [usdc.address, world.weth.address]
    world.transact(usdc.functions.approve(router.address, 10**12))
    expected = router.functions.getAmountsOut(1_000 * E6, path).call()[-1]
    with reverts("INSUFFICIENT_OUTPUT_AMOUNT"):
        router.functions.swapExactTokensForTokens(1_000 * E6, expected + 1, path, user, world.deadline()).call(
            {"from": user}
        )
    past = world.w3.eth.get_block("latest")["timestamp"] - 1
    with reverts("EXPIRED"):
        router.functions.swapExactTokensForTokens(1_000 * E6, 0, path, user, past).call({"from": user})
    with reverts("INVALID_PATH"):
        router.functions.getAmountsOut(E6, [usdc.address]).call()
    with reverts(r"execution reverted: b''$"):  # no pair: the official router's getReserves call on no code
        router.functions.getAmountsOut(E6, [usdc.address, world.usdt.address]).call()


def test_swap_tokens_for_exact_tokens(world, reverts) -> None:
    router, usdc, weth, user = world.router, world.usdc, world.weth, world.user
    path = [usdc.address, weth.address]
    want = 2 * E18
    needed = router.functions.getAmountsIn(want, path).call()[0]
    world.transact(usdc.functions.approve(router.address, needed))
    with reverts("EXCESSIVE_INPUT_AMOUNT"):
        router.functions.swapTokensForExactTokens(want, needed - 1, path, user, world.deadline()).call({"from": user})
    usdc_before, weth_before = usdc.functions.balanceOf(user).call(), weth.functions.balanceOf(user).call()
    world.transact(router.functions.swapTokensForExactTokens(want, needed, path, user, world.deadline()))
    assert weth.functions.balanceOf(user).call() - weth_before == want
    assert usdc_before - usdc.functions.balanceOf(user).call() == needed


def test_eth_in_and_eth_out_swaps(world) -> None:
    w3, router, usdc = world.w3, world.router, world.usdc
    to_usdc = [world.weth.address, usdc.address]
    expected = router.functions.getAmountsOut(E18, to_usdc).call()[-1]
    usdc_before = usdc.functions.balanceOf(world.other).call()
    world.transact(router.functions.swapExactETHForTokens(0, to_usdc, world.other, world.deadline()), value=E18)
    assert usdc.functions.balanceOf(world.other).call() - usdc_before == expected

    to_eth = [usdc.address, world.weth.address]
    eth_out = router.functions.getAmountsOut(3_000 * E6, to_eth).call()[-1]
    world.transact(usdc.functions.approve(router.address, 3_000 * E6))
    eth_before = w3.eth.get_balance(world.other)
    world.transact(router.functions.swapExactTokensForETH(3_000 * E6, eth_out, to_eth, world.other, world.deadline()))
    assert w3.eth.get_balance(world.other) - eth_before == eth_out


def test_swap_eth_for_exact_tokens_refunds_the_rest(world) -> None:
    w3, router, usdc, user = world.w3, world.router, world.usdc, world.user
    path = [world.weth.address, usdc.address]
    needed = router.functions.getAmountsIn(1_000 * E6, path).call()[0]
    eth_before = w3.eth.get_balance(user)
    receipt = world.transact(
        router.functions.swapETHForExactTokens(1_000 * E6, path, user, world.deadline()), value=needed + E18
    )
    gas = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert eth_before - w3.eth.get_balance(user) == needed + gas


def test_add_and_remove_liquidity_through_the_router(world) -> None:
    router, dai, usdc, user = world.router, world.dai, world.usdc, world.user
    pair = world.pair(dai, usdc)
    world.transact(dai.functions.approve(router.address, 2**256 - 1))
    world.transact(usdc.functions.approve(router.address, 2**256 - 1))
    supply = pair.functions.totalSupply().call()
    world.transact(
        router.functions.addLiquidity(dai.address, usdc.address, 1_000 * E18, 5_000 * E6, 0, 0, user, world.deadline())
    )
    lp = pair.functions.balanceOf(user).call()
    assert lp == supply * 1_000 // 1_000_000  # pool is 1:1, so only 1000 USDC is used
    world.transact(pair.functions.approve(router.address, lp))
    dai_before, usdc_before = dai.functions.balanceOf(user).call(), usdc.functions.balanceOf(user).call()
    world.transact(router.functions.removeLiquidity(dai.address, usdc.address, lp, 0, 0, user, world.deadline()))
    assert pair.functions.balanceOf(user).call() == 0
    assert 999 * E18 < dai.functions.balanceOf(user).call() - dai_before <= 1_000 * E18
    assert 999 * E6 < usdc.functions.balanceOf(user).call() - usdc_before <= 1_000 * E6


def test_remove_liquidity_with_permit_signature(world) -> None:
    w3, router, dai, usdc = world.w3, world.router, world.dai, world.usdc
    key = w3.provider.ethereum_tester.backend.account_keys[1]
    owner = Account.from_key(key.to_bytes()).address
    assert owner == world.user
    world.transact(dai.functions.approve(router.address, 2**256 - 1))
    world.transact(usdc.functions.approve(router.address, 2**256 - 1))
    world.transact(
        router.functions.addLiquidity(dai.address, usdc.address, 100 * E18, 100 * E6, 0, 0, owner, world.deadline())
    )
    pair = world.pair(dai, usdc)
    lp, deadline = pair.functions.balanceOf(owner).call(), world.deadline()
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": "Uniswap V2", "version": "1", "chainId": w3.eth.chain_id, "verifyingContract": pair.address},
        "message": {"owner": owner, "spender": router.address, "value": lp, "nonce": 0, "deadline": deadline},
    }
    signed = Account.sign_typed_data(key.to_bytes(), full_message=typed)
    world.transact(
        router.functions.removeLiquidityWithPermit(
            dai.address,
            usdc.address,
            lp,
            0,
            0,
            owner,
            deadline,
            False,
            signed.v,
            signed.r.to_bytes(32, "big"),
            signed.s.to_bytes(32, "big"),
        )
    )
    assert pair.functions.balanceOf(owner).call() == 0
    assert pair.functions.nonces(owner).call() == 1


def test_sync_and_skim(world) -> None:
    pair, dai, usdc = world.pair(world.dai, world.usdc), world.dai, world.usdc
    r_dai, r_usdc = reserves_for(world, pair, dai)
    world.transact(dai.functions.transfer(pair.address, 5 * E18))
    skim_before = dai.functions.balanceOf(world.other).call()
    world.transact(pair.functions.skim(world.other))
    assert dai.functions.balanceOf(world.other).call() - skim_before == 5 * E18
    assert reserves_for(world, pair, dai) == (r_dai, r_usdc)

    world.transact(usdc.functions.transfer(pair.address, 7 * E6))
    world.transact(pair.functions.sync())
    assert reserves_for(world, pair, dai) == (r_dai, r_usdc + 7 * E6)


def test_price_accumulators_grow_with_time(world) -> None:
    pair = world.pair(world.weth, world.usdc)
    before = pair.functions.price0CumulativeLast().call(), pair.functions.price1CumulativeLast().call()
    world.advance_time(600)
    world.transact(pair.functions.sync())
    after = pair.functions.price0CumulativeLast().call(), pair.functions.price1CumulativeLast().call()
    assert after[0] > before[0] and after[1] > before[1]


def test_protocol_fee_goes_to_fee_to(world) -> None:
    factory, router, usdc, weth = world.factory, world.router, world.usdc, world.weth
    world.transact(factory.functions.setFeeTo(world.other), sender=world.deployer)
    pair = world.pair(weth, usdc)
    world.transact(weth.functions.approve(router.address, 2**256 - 1))
    world.transact(usdc.functions.approve(router.address, 2**256 - 1))
    deadline = world.deadline()
    # first liquidity event after the switch records kLast; swaps grow k; the next one mints the fee
    world.transact(
        router.functions.addLiquidity(weth.address, usdc.address, E18, 3_000 * E6, 0, 0, world.user, deadline)
    )
    path = [usdc.address, weth.address]
    world.transact(router.functions.swapExactTokensForTokens(300_000 * E6, 0, path, world.user, deadline))
    world.transact(
        router.functions.addLiquidity(weth.address, usdc.address, E18, 3_000 * E6, 0, 0, world.user, deadline)
    )
    assert pair.functions.balanceOf(world.other).call() > 0
    assert pair.functions.kLast().call() > 0


def test_lp_token_metadata(world) -> None:
    pair = world.pair(world.weth, world.usdc)
    assert pair.functions.name().call() == "Uniswap V2"
    assert pair.functions.symbol().call() == "UNI-V2"
    assert pair.functions.decimals().call() == 18
    assert pair.functions.MINIMUM_LIQUIDITY().call() == 1000
    assert pair.functions.balanceOf("0x" + "00" * 20).call() == 1000
    expected_typehash = Web3.keccak(
        text="Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    )
    assert pair.functions.PERMIT_TYPEHASH().call() == expected_typehash
