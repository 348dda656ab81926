"""Finding an ERC-20's balance slot by probing: Solidity and Vyper mapping layouts, zero and non-zero slots, through
USDC's proxy (its balances live in the proxy's storage, slot 9 as on mainnet)."""

from __future__ import annotations

import pytest
from web3 import Web3

from agent.chain.rpc import make_web3
from agent.config.chains import load_chain
from agent.devtools.sandbox.fork import (
    MAX_PROBE_SLOT,
    BalanceSlot,
    balance_of,
    find_balance_slot,
    get_storage,
    mapping_slot,
    set_token_balance,
)
from agent.devtools.sandbox.replica import Replica
from agent.devtools.sandbox.spec import DEPLOYER, WALLET
from agent.errors import SafetyHalt
from tests.fork.helpers import solidity_balance_token, vyper_balance_token

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
CHAIN = load_chain("ethereum")
SOLIDITY_TOKEN = "0x00000000000000000000000000000000000050A1"


def _w3(replica: Replica) -> Web3:
    return make_web3(replica.rpc_url, timeout_s=30)


@pytest.mark.parametrize(("symbol", "expected"), [("USDC", BalanceSlot("solidity", 9)),
                                                  ("WBTC", BalanceSlot("solidity", 0)),
                                                  ("WETH", BalanceSlot("solidity", 3))])
def test_official_tokens_balance_slot_is_found_and_the_probe_leaves_balances_alone(
        replica: Replica, symbol: str, expected: BalanceSlot) -> None:
    w3, token = _w3(replica), CHAIN.token(symbol).address
    before = {h: balance_of(w3, token, h) for h in (WALLET, DEPLOYER)}
    assert find_balance_slot(w3, token, WALLET) == expected
    assert {h: balance_of(w3, token, h) for h in (WALLET, DEPLOYER)} == before
    set_token_balance(w3, token, WALLET, 123_456_789)
    assert balance_of(w3, token, WALLET) == 123_456_789


def test_vault_shares_are_found_like_any_erc20(replica: Replica) -> None:
    w3, vault = _w3(replica), CHAIN.vaults[0].address
    held = balance_of(w3, vault, DEPLOYER)
    assert held > 0
    assert find_balance_slot(w3, vault, DEPLOYER) == BalanceSlot("solidity", 0)
    assert balance_of(w3, vault, DEPLOYER) == held


@pytest.mark.parametrize("slot", [0, 9])
def test_solidity_layout_token_at_zero_and_non_zero_slot(replica: Replica, slot: int) -> None:
    w3 = _w3(replica)
    w3.provider.make_request("anvil_setCode", [SOLIDITY_TOKEN, "0x" + solidity_balance_token(slot).hex()])
    assert balance_of(w3, SOLIDITY_TOKEN, WALLET) == 0
    found = set_token_balance(w3, SOLIDITY_TOKEN, WALLET, 10**24)
    assert found == BalanceSlot("solidity", slot)
    assert balance_of(w3, SOLIDITY_TOKEN, WALLET) == 10**24
    assert balance_of(w3, SOLIDITY_TOKEN, DEPLOYER) == 0
    # the Vyper-layout candidate of the same slot was probed and put back
    assert get_storage(w3, SOLIDITY_TOKEN, mapping_slot("vyper", slot, WALLET)) == 0


@pytest.mark.parametrize("slot", [0, 4])
def test_vyper_layout_token_at_zero_and_non_zero_slot(replica: Replica, slot: int) -> None:
    """The replica's tokens are all Solidity now; Vyper tokens (curve's, yearn's) are still found."""
    w3 = _w3(replica)
    w3.provider.make_request("anvil_setCode", [SOLIDITY_TOKEN, "0x" + vyper_balance_token(slot).hex()])
    found = set_token_balance(w3, SOLIDITY_TOKEN, WALLET, 10**20)
    assert found == BalanceSlot("vyper", slot)
    assert balance_of(w3, SOLIDITY_TOKEN, WALLET) == 10**20


def test_a_contract_without_a_balance_mapping_is_refused_and_its_storage_restored(replica: Replica) -> None:
    w3 = _w3(replica)
    router = CHAIN.aggregators["odos"].routers[0]  # has code, balanceOf reverts
    with pytest.raises(SafetyHalt, match=f"no balance mapping found in slots 0..{MAX_PROBE_SLOT}"):
        find_balance_slot(w3, router, WALLET)
    for slot in (0, 1, MAX_PROBE_SLOT):
        for layout in ("solidity", "vyper"):
            assert get_storage(w3, router, mapping_slot(layout, slot, WALLET)) == 0  # type: ignore[arg-type]
