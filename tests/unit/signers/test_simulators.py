"""The simulators themselves: keys match eth-account's HD wallet, and the Ledger one is strict."""

from __future__ import annotations

import pytest
import rlp
from eth_account import Account

from agent.devtools.simulators import TEST_MNEMONIC
from agent.devtools.simulators.hd import HDWallet
from agent.devtools.simulators.ledger_sim import LedgerSimulator
from agent.devtools.simulators.testkit import DEFAULT_PATH, make_tx
from agent.signers import ledger_apdu as apdu


@pytest.mark.parametrize("index", [0, 1, 7])
def test_keys_equal_eth_account_from_mnemonic(index: int) -> None:
    Account.enable_unaudited_hdwallet_features()
    expected = Account.from_mnemonic(TEST_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    node = HDWallet(TEST_MNEMONIC).node((*DEFAULT_PATH[:-1], index))
    assert node.private_key == bytes(expected.key)
    assert node.address == expected.address
    assert "private" not in repr(node) and expected.key.hex() not in repr(node)


def test_root_xpub_is_well_formed() -> None:
    xpub = HDWallet(TEST_MNEMONIC).node(()).xpub()
    assert xpub.startswith("xpub") and len(xpub) == 111


def test_wrong_lc_is_6700(ledger_sim: LedgerSimulator) -> None:
    assert ledger_sim.exchange(bytes.fromhex("e00600000200")) == (b"", 0x6700)


def test_unknown_ins_and_cla(ledger_sim: LedgerSimulator) -> None:
    assert ledger_sim.exchange(bytes.fromhex("e00a000000"))[1] == 0x6D00
    assert ledger_sim.exchange(bytes.fromhex("b001000000"))[1] == 0x6E00


def test_continuation_without_first_block_is_rejected(ledger_sim: LedgerSimulator) -> None:
    assert ledger_sim.exchange(apdu.apdu(0x04, 0x80, 0x00, b"\x02\xc0"))[1] == 0x6A80


def test_trailing_bytes_after_the_transaction_are_rejected(ledger_sim: LedgerSimulator) -> None:
    payload = apdu.eip1559_payload(make_tx(0)) + b"\x00"
    (block,) = apdu.sign_apdus(DEFAULT_PATH, payload)
    assert ledger_sim.exchange(block) == (b"", 0x6A80)


def test_legacy_payload_is_not_supported(ledger_sim: LedgerSimulator) -> None:
    legacy = rlp.encode([0, 1, 21000, bytes(20), 0, b"", 1, 0, 0])
    (block,) = apdu.sign_apdus(DEFAULT_PATH, legacy)
    assert ledger_sim.exchange(block) == (b"", 0x6501)


def test_incomplete_payload_waits_then_signs(ledger_sim: LedgerSimulator) -> None:
    blocks = apdu.sign_apdus(DEFAULT_PATH, apdu.eip1559_payload(make_tx(700)))
    replies = [ledger_sim.exchange(block) for block in blocks]
    assert replies[:-1] == [(b"", 0x9000)] * (len(blocks) - 1)
    assert replies[-1][1] == 0x9000 and len(replies[-1][0]) == 65
    assert len(ledger_sim.signed_payloads) == 1


def test_get_address_with_chain_code(ledger_sim: LedgerSimulator) -> None:
    data, sw = ledger_sim.exchange(apdu.get_address_apdu(DEFAULT_PATH, chain_code=True))
    parsed = apdu.parse_address_reply(data, with_chain_code=True)
    assert sw == 0x9000
    assert parsed.chain_code == HDWallet(TEST_MNEMONIC).node(DEFAULT_PATH).chain_code
    assert parsed.public_key[0] == 0x04
