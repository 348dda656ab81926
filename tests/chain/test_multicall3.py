"""Multicall3: the real contract's functions, encodings and failure semantics, and its bounds."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from web3 import Web3

from agent.chain.abis import load_abi
from agent.devtools.contracts import load_official

pytestmark = pytest.mark.chain

ZERO_HASH = b"\x00" * 32
ERROR_STRING_SELECTOR = Web3.keccak(text="Error(string)")[:4]


def balance_of_call(token, holder: str) -> bytes:
    return bytes.fromhex(token.functions.balanceOf(holder)._encode_transaction_data()[2:])


def failing_call(world) -> bytes:
    """transferFrom without an allowance: reverts with an Error(string)."""
    data = world.usdc.functions.transferFrom(world.deployer, world.user, 1)._encode_transaction_data()
    return bytes.fromhex(data[2:])


def test_runtime_code_has_no_constructor_state(world) -> None:
    """The pre-signed deployment leaves exactly the mainnet runtime code at 0xcA11…CA11."""
    on_chain = world.w3.eth.get_code(world.multicall.address)
    assert world.multicall.address == "0xcA11bde05977b3631167028862bE2a173976CA11"
    assert bytes(on_chain) == load_official("Multicall3").deployed_bytecode


def test_real_multicall3_abi_drives_the_sandbox_contract(world) -> None:
    real = world.w3.eth.contract(address=world.multicall.address, abi=load_abi("Multicall3"))
    assert real.functions.getChainId().call() == world.w3.eth.chain_id
    calls = [(world.usdc.address, False, balance_of_call(world.usdc, world.user))]
    (result,) = real.functions.aggregate3(calls).call()
    assert result[0] is True
    assert decode(["uint256"], result[1])[0] == world.usdc.functions.balanceOf(world.user).call()


def test_aggregate3_mixed_success_and_failure(world, reverts) -> None:
    mc, usdc, wbtc = world.multicall, world.usdc, world.wbtc
    calls = [
        (usdc.address, False, balance_of_call(usdc, world.user)),
        (usdc.address, True, failing_call(world)),
        (wbtc.address, True, balance_of_call(wbtc, world.deployer)),
    ]
    results = mc.functions.aggregate3(calls).call()
    assert [ok for ok, _ in results] == [True, False, True]
    assert decode(["uint256"], results[0][1])[0] == usdc.functions.balanceOf(world.user).call()
    assert decode(["uint256"], results[2][1])[0] == wbtc.functions.balanceOf(world.deployer).call()
    revert_data = results[1][1]
    assert revert_data[:4] == ERROR_STRING_SELECTOR
    assert "exceeds allowance" in decode(["string"], revert_data[4:])[0]

    calls[1] = (usdc.address, False, failing_call(world))
    with reverts("Multicall3: call failed"):
        mc.functions.aggregate3(calls).call()


def test_aggregate_returns_block_number_and_reverts_on_any_failure(world, reverts) -> None:
    mc, usdc = world.multicall, world.usdc
    latest = world.w3.eth.block_number
    block_number, data = mc.functions.aggregate(
        [(usdc.address, balance_of_call(usdc, world.user)), (usdc.address, balance_of_call(usdc, world.other))]
    ).call(block_identifier=latest)
    assert block_number == mc.functions.getBlockNumber().call(block_identifier=latest)
    assert [decode(["uint256"], d)[0] for d in data] == [
        usdc.functions.balanceOf(world.user).call(),
        usdc.functions.balanceOf(world.other).call(),
    ]
    with reverts("Multicall3: call failed"):
        mc.functions.aggregate([(usdc.address, failing_call(world))]).call()


def test_try_aggregate_and_block_variants(world, reverts) -> None:
    mc, usdc = world.multicall, world.usdc
    calls = [(usdc.address, balance_of_call(usdc, world.user)), (usdc.address, failing_call(world))]
    assert [ok for ok, _ in mc.functions.tryAggregate(False, calls).call()] == [True, False]
    with reverts("Multicall3: call failed"):
        mc.functions.tryAggregate(True, calls).call()

    block_number, block_hash, results = mc.functions.tryBlockAndAggregate(False, calls).call()
    assert block_number == mc.functions.getBlockNumber().call()
    assert block_hash == ZERO_HASH  # blockhash(block.number) is always zero, as in the original
    assert [ok for ok, _ in results] == [True, False]
    with reverts("Multicall3: call failed"):
        mc.functions.blockAndAggregate(calls).call()
    _, _, ok_results = mc.functions.blockAndAggregate(calls[:1]).call()
    assert ok_results[0][0] is True


def test_aggregate3_value_forwards_value_and_checks_the_sum(world, reverts) -> None:
    mc, weth = world.multicall, world.weth
    deposit = bytes.fromhex(weth.functions.deposit()._encode_transaction_data()[2:])
    calls = [(weth.address, False, 10**18, deposit), (weth.address, False, 2 * 10**18, deposit)]
    with reverts("Multicall3: value mismatch"):
        mc.functions.aggregate3Value(calls).call({"value": 4 * 10**18})
    world.transact(mc.functions.aggregate3Value(calls), value=3 * 10**18)
    assert weth.functions.balanceOf(mc.address).call() == 3 * 10**18


def test_block_and_chain_getters(world) -> None:
    w3, mc = world.w3, world.multicall
    world.advance_time(10)
    latest = w3.eth.get_block("latest")
    n = latest["number"]
    at = {"block_identifier": n}
    assert mc.functions.getBlockNumber().call(**at) == n
    assert mc.functions.getEthBalance(world.user).call(**at) == w3.eth.get_balance(world.user, n)
    assert mc.functions.getChainId().call() == w3.eth.chain_id
    assert mc.functions.getBlockHash(n - 1).call(**at) == bytes(w3.eth.get_block(n - 1)["hash"])
    assert mc.functions.getLastBlockHash().call(**at) == bytes(w3.eth.get_block(n - 1)["hash"])
    assert mc.functions.getBlockHash(n + 5).call(**at) == ZERO_HASH
    assert mc.functions.getCurrentBlockTimestamp().call(**at) == latest["timestamp"]
    assert mc.functions.getCurrentBlockGasLimit().call(**at) == latest["gasLimit"]
    assert mc.functions.getBasefee().call(**at) == latest["baseFeePerGas"]
    assert mc.functions.getCurrentBlockCoinbase().call(**at) == latest["miner"]
    difficulty = mc.functions.getCurrentBlockDifficulty().call(**at)  # PREVRANDAO after the merge
    assert difficulty in (latest["difficulty"], int.from_bytes(bytes(latest["mixHash"]), "big"))


def test_two_hundred_balance_of_calls_fit_one_eth_call(world) -> None:
    mc, tokens = world.multicall, [world.usdc, world.wbtc, world.dai, world.usdt]
    holders = [world.user, world.deployer, world.other, world.vault.address, world.router.address]
    calls = [
        (token.address, True, balance_of_call(token, holders[i % len(holders)]))
        for i in range(200)
        for token in [tokens[i % len(tokens)]]
    ]
    results = mc.functions.aggregate3(calls).call({"gas": 30_000_000})
    assert len(results) == 200 and all(ok for ok, _ in results)
    decoded = [decode(["uint256"], data)[0] for _, data in results]
    for i in (0, 1, 2, 3, 57, 199):
        assert decoded[i] == tokens[i % 4].functions.balanceOf(holders[i % len(holders)]).call()
    gas = mc.functions.aggregate3(calls).estimate_gas()
    assert gas < 5_000_000, gas


def test_batches_beyond_256_calls_and_1_kib_call_data(world) -> None:
    """The real Multicall3 has no batch bound (the Vyper stand-in stopped at 256): only gas limits a batch."""
    mc = world.multicall
    target = world.usdc.address
    batch = [(target, True, balance_of_call(world.usdc, world.user))] * 300
    assert len(mc.functions.aggregate3(batch).call({"gas": 30_000_000})) == 300
    # a 1024-byte callData is accepted (the extra bytes after balanceOf's argument are ignored)
    padded = balance_of_call(world.usdc, world.user) + encode(["bytes32"] * 31, [b"\x00" * 32] * 31)
    padded = padded[:1024]
    assert len(padded) == 1024
    (result,) = mc.functions.aggregate3([(target, False, padded)]).call()
    assert result[0] is True
