"""A transaction signed through each simulator is accepted by a real EVM (eth-tester / py-evm)."""

from __future__ import annotations

import pytest
from web3 import EthereumTesterProvider, Web3

from agent.devtools.simulators.ledger_sim import LedgerSimulator
from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, RECIPIENT, calldata
from agent.models import UnsignedTx
from agent.ports import Signer
from agent.signers.ledger import LedgerSigner

pytestmark = pytest.mark.chain


def _ledger() -> Signer:
    return LedgerSigner(LedgerSimulator(), DEFAULT_PATH)


def _trezor() -> Signer:
    pytest.importorskip("trezorlib")
    from agent.devtools.simulators.trezor_sim import SimulatorTransport, TrezorSimulator
    from agent.signers.trezor import TrezorSigner

    return TrezorSigner.connect(DEFAULT_PATH, transport=SimulatorTransport(TrezorSimulator()))


@pytest.mark.parametrize("make_signer", [_ledger, _trezor], ids=["ledger", "trezor"])
@pytest.mark.parametrize("data_len", [0, 1500])
def test_signed_transaction_is_mined(make_signer, data_len: int) -> None:  # type: ignore[no-untyped-def]
    w3 = Web3(EthereumTesterProvider())
    funder = w3.eth.accounts[0]
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": funder, "to": ANVIL_0, "value": 10**18}))
    signer = make_signer()
    assert signer.address == ANVIL_0
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    tx = UnsignedTx(
        chain_id=w3.eth.chain_id,
        nonce=w3.eth.get_transaction_count(ANVIL_0),
        to=RECIPIENT,
        value_wei=123_456_789,
        data=calldata(data_len),
        gas=21_000 + 40 * data_len + 10_000,  # covers the EIP-7623 calldata floor
        max_fee_per_gas_wei=2 * base_fee + 10**9,
        max_priority_fee_per_gas_wei=10**9,
    )
    sender_before, recipient_before = w3.eth.get_balance(ANVIL_0), w3.eth.get_balance(RECIPIENT)

    tx_hash = w3.eth.send_raw_transaction(signer.sign_transaction(tx))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)

    assert receipt["status"] == 1
    assert receipt["from"] == ANVIL_0 and receipt["type"] == 2
    assert w3.eth.get_transaction(tx_hash)["input"] == tx.data
    assert w3.eth.get_balance(RECIPIENT) - recipient_before == tx.value_wei
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert sender_before - w3.eth.get_balance(ANVIL_0) == tx.value_wei + fee
    assert w3.eth.get_transaction_count(ANVIL_0) == tx.nonce + 1
