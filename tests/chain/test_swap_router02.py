"""The official SwapRouter02 over the official V3 pools: pays what QuoterV2 quotes, enforces min-out."""

from __future__ import annotations

import pytest
from eth_utils import function_abi_to_4byte_selector
from web3.contract import Contract

from agent.chain.abis import load_abi
from agent.devtools.contracts import load_official
from tests.abi_compat import compat_problems

from .conftest import World

pytestmark = pytest.mark.chain

E6, E8, E18 = 10**6, 10**8, 10**18
FEE = 3000
MSG_SENDER = "0x0000000000000000000000000000000000000001"


@pytest.fixture
def router02(world: World) -> Contract:
    """The official router, driven through the ABI the agent ships (abis/SwapRouter02.json)."""
    return world.w3.eth.contract(address=world.swap_router02.address, abi=load_abi("SwapRouter02"))


def v3_path(tokens: list[str]) -> bytes:
    out = bytes.fromhex(tokens[0][2:])
    for token in tokens[1:]:
        out += FEE.to_bytes(3, "big") + bytes.fromhex(token[2:])
    return out


def quote_single(world: World, token_in: str, token_out: str, amount_raw: int) -> int:
    return world.quoter.functions.quoteExactInputSingle((token_in, token_out, amount_raw, FEE, 0)).call()[0]


def params(token_in: str, token_out: str, recipient: str, amount_in: int, min_out: int, *, fee: int = FEE,
           limit: int = 0) -> tuple:
    return (token_in, token_out, fee, recipient, amount_in, min_out, limit)


def test_abi_and_selectors_match_the_real_swap_router02(world: World, router02: Contract) -> None:
    assert compat_problems(load_official("SwapRouter02").abi, load_abi("SwapRouter02")) == []
    selectors = {e["name"]: function_abi_to_4byte_selector(e).hex() for e in load_abi("SwapRouter02")
                 if e["type"] == "function"}
    assert selectors["exactInputSingle"] == "04e45aaf"  # no deadline field, unlike the original SwapRouter
    assert selectors["exactInput"] == "b858183f"
    assert router02.functions.WETH9().call() == world.weth.address
    assert router02.functions.factory().call() == world.v3.factory


def test_exact_input_single_pays_the_quoted_amount_to_the_recipient(world: World, router02: Contract) -> None:
    weth, usdc, amount = world.weth, world.usdc, 5 * E18
    quoted = quote_single(world, weth.address, usdc.address, amount)
    weth_before, usdc_before = weth.functions.balanceOf(world.user).call(), usdc.functions.balanceOf(world.other).call()
    world.transact(weth.functions.approve(router02.address, amount))
    world.transact(router02.functions.exactInputSingle(params(weth.address, usdc.address, world.other, amount,
                                                              quoted)))
    assert usdc.functions.balanceOf(world.other).call() - usdc_before == quoted
    assert weth_before - weth.functions.balanceOf(world.user).call() == amount
    assert weth.functions.allowance(world.user, router02.address).call() == 0


def test_recipient_address_one_means_the_caller(world: World, router02: Contract) -> None:
    usdc, wbtc, amount = world.usdc, world.wbtc, 60_000 * E6
    quoted = quote_single(world, usdc.address, wbtc.address, amount)
    before = wbtc.functions.balanceOf(world.user).call()
    world.transact(usdc.functions.approve(router02.address, amount))
    world.transact(router02.functions.exactInputSingle(params(usdc.address, wbtc.address, MSG_SENDER, amount, 1)))
    assert wbtc.functions.balanceOf(world.user).call() - before == quoted


def test_native_eth_in_is_wrapped_from_msg_value(world: World, router02: Contract) -> None:
    weth, usdc, amount = world.weth, world.usdc, 2 * E18
    quoted = quote_single(world, weth.address, usdc.address, amount)
    eth_before = world.w3.eth.get_balance(world.other)
    usdc_before = usdc.functions.balanceOf(world.other).call()
    receipt = world.transact(router02.functions.exactInputSingle(
        params(weth.address, usdc.address, world.other, amount, quoted)), sender=world.other, value=amount)
    gas_paid = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert eth_before - world.w3.eth.get_balance(world.other) == amount + gas_paid
    assert usdc.functions.balanceOf(world.other).call() - usdc_before == quoted
    assert world.w3.eth.get_balance(router02.address) == 0


def test_exact_input_multi_hop_equals_the_quoter(world: World, router02: Contract) -> None:
    wbtc, weth, usdc, amount = world.wbtc, world.weth, world.usdc, 2 * E8
    path = v3_path([wbtc.address, weth.address, usdc.address])
    quoted = world.quoter.functions.quoteExactInput(path, amount).call()[0]
    before = usdc.functions.balanceOf(world.user).call()
    world.transact(wbtc.functions.approve(router02.address, amount))
    world.transact(router02.functions.exactInput((path, world.user, amount, quoted)))
    assert usdc.functions.balanceOf(world.user).call() - before == quoted


def test_output_below_amount_out_minimum_reverts(world: World, router02: Contract, reverts) -> None:
    weth, usdc, amount = world.weth, world.usdc, E18
    quoted = quote_single(world, weth.address, usdc.address, amount)
    world.transact(weth.functions.approve(router02.address, amount))
    with reverts("Too little received"):
        router02.functions.exactInputSingle(params(weth.address, usdc.address, world.user, amount,
                                                   quoted + 1)).transact({"from": world.user})
    path = v3_path([weth.address, usdc.address])
    with reverts("Too little received"):
        router02.functions.exactInput((path, world.user, amount, quoted + 1)).transact({"from": world.user})


@pytest.mark.parametrize(("case", "message"), [
    ("fee", r"execution reverted: b''$"),  # no pool at that tier: a call to no code
    ("limit", "SPL"),  # a price limit on the wrong side of the price
    ("no_pool", r"execution reverted: b''$"),
    ("zero_recipient", "TF"),  # the pool's safeTransfer: USDC refuses to pay the zero address
    ("no_approval", "STF"),  # TransferHelper's safeTransferFrom failed
])
def test_unsupported_or_unfunded_swaps_revert(world: World, router02: Contract, reverts, case: str,
                                              message: str) -> None:
    weth, usdc, amount = world.weth.address, world.usdc.address, E18
    if case != "no_approval":
        world.transact(world.weth.functions.approve(router02.address, amount))
    p = {
        "fee": params(weth, usdc, world.user, amount, 0, fee=500),
        "limit": params(weth, usdc, world.user, amount, 0, limit=1),
        "no_pool": params(weth, world.usdt.address, world.user, amount, 0),
        "zero_recipient": params(weth, usdc, "0x" + "00" * 20, amount, 0),
        "no_approval": params(weth, usdc, world.user, amount, 0),
    }[case]
    with reverts(message):
        router02.functions.exactInputSingle(p).transact({"from": world.user})


@pytest.mark.parametrize(("token", "value_of"), [("usdc", lambda a: a), ("weth", lambda a: a - 1)])
def test_msg_value_short_of_a_weth_amount_falls_back_to_transfer_from(world: World, router02: Contract, reverts,
                                                                        token: str, value_of) -> None:
    """Only msg.value covering the whole WETH amount is wrapped; otherwise the router pulls the token (STF)."""
    sell = getattr(world, token).address
    buy = world.wbtc.address if token == "usdc" else world.usdc.address
    amount = E18
    with reverts("STF"):
        router02.functions.exactInputSingle(params(sell, buy, world.user, amount, 0)).transact(
            {"from": world.user, "value": value_of(amount)})
