"""The official tokens on the in-process EVM: OpenZeppelin's ERC20, Circle's FiatToken (USDC), the USDT-quirk
token and WETH9."""

from __future__ import annotations

import pytest
from web3.logs import DISCARD

from agent.devtools.contracts import contract_at, deploy_token, load_official, official_at

pytestmark = pytest.mark.chain


@pytest.mark.parametrize("decimals", [6, 8, 18])
def test_erc20_metadata_and_owner_defaults_to_deployer(world, decimals: int) -> None:
    address = deploy_token(world.w3, name="Token", symbol="TKN", decimals=decimals, sender=world.deployer)
    token = contract_at(world.w3, "ERC20", address)
    assert token.functions.decimals().call() == decimals
    assert token.functions.name().call() == "Token"
    assert token.functions.symbol().call() == "TKN"
    assert token.functions.owner().call() == world.deployer
    assert token.functions.totalSupply().call() == 0


def test_world_tokens_have_their_decimals(world) -> None:
    assert [t.functions.decimals().call() for t in (world.usdc, world.wbtc, world.dai, world.usdt)] == [6, 8, 18, 6]
    code = {t: bytes(world.w3.eth.get_code(c.address)) for t, c in (("usdt", world.usdt), ("dai", world.dai))}
    assert code["usdt"] == load_official("TetherToken").deployed_bytecode
    assert load_official("SandboxToken").deployed_bytecode[:200] == code["dai"][:200]  # its decimals immutable aside
    proxy = official_at(world.w3, "FiatTokenProxy", world.usdc.address)
    implementation = proxy.functions.implementation().call({"from": world.w3.eth.accounts[3]})  # the proxy admin
    assert bytes(world.w3.eth.get_code(implementation))[:100] == load_official("FiatTokenV2_2").deployed_bytecode[:100]


def test_transfer_and_transfer_from_move_balances_and_spend_allowance(world, reverts) -> None:
    usdc, user, other = world.usdc, world.user, world.other
    start = usdc.functions.balanceOf(user).call()
    world.transact(usdc.functions.transfer(other, 5_000_000))
    assert usdc.functions.balanceOf(user).call() == start - 5_000_000
    assert usdc.functions.balanceOf(other).call() == 5_000_000

    world.transact(usdc.functions.approve(other, 3_000_000))
    world.transact(usdc.functions.transferFrom(user, other, 2_000_000), sender=other)
    assert usdc.functions.allowance(user, other).call() == 1_000_000
    assert usdc.functions.balanceOf(other).call() == 7_000_000
    with reverts("exceeds allowance"):
        usdc.functions.transferFrom(user, other, 1_000_001).transact({"from": other})


def test_infinite_allowance_is_not_decreased_except_by_usdc(world) -> None:
    """OpenZeppelin's ERC20 keeps an unlimited allowance; Circle's FiatToken spends from it like any other."""
    for token, spent in ((world.dai, 0), (world.usdc, 10)):
        world.transact(token.functions.approve(world.other, 2**256 - 1))
        world.transact(token.functions.transferFrom(world.user, world.other, 10), sender=world.other)
        assert token.functions.allowance(world.user, world.other).call() == 2**256 - 1 - spent


def test_transfer_over_balance_reverts(world, reverts) -> None:
    balance = world.usdc.functions.balanceOf(world.other).call()
    with reverts("exceeds balance"):
        world.usdc.functions.transfer(world.user, balance + 1).transact({"from": world.other})


def test_approve_requires_zero_forces_a_reset_first(world, reverts) -> None:
    usdt, user, spender = world.usdt, world.user, world.other
    world.transact(usdt.functions.approve(spender, 100))
    with reverts(r"execution reverted: b''$"):  # a bare revert, as USDT's
        usdt.functions.approve(spender, 200).transact({"from": user})
    assert usdt.functions.allowance(user, spender).call() == 100
    world.transact(usdt.functions.approve(spender, 0))
    world.transact(usdt.functions.approve(spender, 200))
    assert usdt.functions.allowance(user, spender).call() == 200


def test_plain_token_allows_non_zero_to_non_zero_approve(world) -> None:
    world.transact(world.usdc.functions.approve(world.other, 100))
    world.transact(world.usdc.functions.approve(world.other, 200))
    assert world.usdc.functions.allowance(world.user, world.other).call() == 200


def test_mint_is_restricted_to_owner_and_minters(world, reverts_custom) -> None:
    dai, other = world.dai, world.other
    with reverts_custom("OwnableUnauthorizedAccount"):
        dai.functions.mint(other, 1).transact({"from": other})
    with reverts_custom("OwnableUnauthorizedAccount"):
        dai.functions.setMinter(other, True).transact({"from": other})

    world.transact(dai.functions.setMinter(other, True), sender=world.deployer)
    supply = dai.functions.totalSupply().call()
    world.transact(dai.functions.mint(other, 7), sender=other)
    assert dai.functions.balanceOf(other).call() == 7
    assert dai.functions.totalSupply().call() == supply + 7

    world.transact(dai.functions.setMinter(other, False), sender=world.deployer)
    with reverts_custom("OwnableUnauthorizedAccount"):
        dai.functions.mint(other, 1).transact({"from": other})


def test_usdc_minter_burns_its_own_balance_and_supply(world, reverts) -> None:
    usdc = official_at(world.w3, "FiatTokenV2_2", world.usdc.address)
    supply = usdc.functions.totalSupply().call()
    balance = usdc.functions.balanceOf(world.deployer).call()
    world.transact(usdc.functions.burn(10**6), sender=world.deployer)
    assert usdc.functions.balanceOf(world.deployer).call() == balance - 10**6
    assert usdc.functions.totalSupply().call() == supply - 10**6
    with reverts("caller is not a minter"):
        usdc.functions.burn(1).transact({"from": world.user})


def test_transfer_emits_transfer_event(world) -> None:
    receipt = world.transact(world.wbtc.functions.transfer(world.other, 123))
    (event,) = world.wbtc.events.Transfer().process_receipt(receipt, errors=DISCARD)
    assert (event.args["from"], event.args.to, event.args.value) == (world.user, world.other, 123)


def test_weth_metadata(world) -> None:
    weth = world.weth
    assert (weth.functions.name().call(), weth.functions.symbol().call(), weth.functions.decimals().call()) == (
        "Wrapped Ether",
        "WETH",
        18,
    )


def test_weth_wrap_and_unwrap(world, reverts) -> None:
    w3, weth, other = world.w3, world.weth, world.other
    supply = weth.functions.totalSupply().call()
    receipt = world.transact(weth.functions.deposit(), sender=other, value=3 * 10**18)
    assert weth.functions.balanceOf(other).call() == 3 * 10**18
    assert weth.functions.totalSupply().call() == supply + 3 * 10**18
    assert weth.events.Deposit().process_receipt(receipt, errors=DISCARD)[0].args.wad == 3 * 10**18

    eth_before = w3.eth.get_balance(other)
    receipt = world.transact(weth.functions.withdraw(10**18), sender=other)
    gas_cost = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert w3.eth.get_balance(other) == eth_before + 10**18 - gas_cost
    assert weth.functions.balanceOf(other).call() == 2 * 10**18
    assert weth.events.Withdrawal().process_receipt(receipt, errors=DISCARD)[0].args.wad == 10**18
    with reverts(r"execution reverted: b''$"):  # WETH9's bare require
        weth.functions.withdraw(3 * 10**18).transact({"from": other})


def test_weth_plain_eth_transfer_wraps(world) -> None:
    tx_hash = world.w3.eth.send_transaction({"from": world.other, "to": world.weth.address, "value": 5})
    assert world.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    assert world.weth.functions.balanceOf(world.other).call() == 5
