"""LedgerSigner against the APDU simulator at the transport seam: refusals, locks, wrong app, blind signing.

The conformance class that runs on every backend (seam, TCP, Speculos) is in tests/integration/signers.
"""

from __future__ import annotations

import pytest
from eth_account import Account

from agent.devtools.simulators.ledger_sim import LedgerSimulator
from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, RecordingTransport, eth_account_raw, make_tx
from agent.errors import SignerError
from agent.signers.ledger import LedgerSigner


def test_v_is_the_parity_in_the_raw_transaction(ledger_sim: LedgerSimulator, anvil_account) -> None:  # type: ignore[no-untyped-def]
    wire = RecordingTransport(ledger_sim)
    signer = LedgerSigner(wire, DEFAULT_PATH)
    parities = set()
    for nonce in range(8):  # both parities occur over a few signatures
        tx = make_tx(10, nonce=nonce)
        signer.sign_transaction(tx)
        device_v = wire.log[-1][1][0]
        assert device_v == anvil_account.sign_transaction(tx.as_eth_account_dict()).v
        parities.add(device_v)
    assert parities == {0, 1}


def test_simulator_records_what_was_sent(ledger_sim: LedgerSimulator) -> None:
    signer = LedgerSigner(ledger_sim, DEFAULT_PATH)
    assert signer.app_configuration.version == (1, 10, 4)
    assert signer.app_configuration.blind_signing_enabled
    signer.sign_transaction(make_tx(600))
    blocks = [c for c in ledger_sim.received if c[1] == 0x04]
    assert [b[2] for b in blocks] == [0x00, 0x80, 0x80]
    assert ledger_sim.signed_payloads[-1][0] == 0x02


def test_refused_on_device(ledger_sim: LedgerSimulator) -> None:
    signer = LedgerSigner(ledger_sim, DEFAULT_PATH)
    ledger_sim.refuse = True
    with pytest.raises(SignerError, match="refused on device"):
        signer.sign_transaction(make_tx(300))
    ledger_sim.refuse = False  # the next attempt starts a fresh signing session
    assert Account.recover_transaction(signer.sign_transaction(make_tx(300))) == ANVIL_0


def test_refused_address_display(ledger_sim: LedgerSimulator) -> None:
    signer = LedgerSigner(ledger_sim, DEFAULT_PATH)
    assert signer.show_address() == ANVIL_0
    ledger_sim.refuse = True
    with pytest.raises(SignerError, match="refused on device"):
        signer.show_address()


def test_locked_device(ledger_sim: LedgerSimulator) -> None:
    ledger_sim.locked = True
    with pytest.raises(SignerError, match=r"locked.*unlock it"):
        LedgerSigner(ledger_sim, DEFAULT_PATH)


def test_locked_while_running(ledger_sim: LedgerSimulator) -> None:
    signer = LedgerSigner(ledger_sim, DEFAULT_PATH)
    ledger_sim.locked = True
    with pytest.raises(SignerError, match=r"locked \(status 0x6982\)"):
        signer.sign_transaction(make_tx())


@pytest.mark.parametrize("status", [0x6D00, 0x6E00])
def test_wrong_app_open(ledger_sim: LedgerSimulator, status: int) -> None:
    ledger_sim.wrong_app, ledger_sim.wrong_app_status = True, status
    transport = RecordingTransport(ledger_sim)
    with pytest.raises(SignerError, match="open the Ethereum app on the Ledger"):
        LedgerSigner(transport, DEFAULT_PATH)
    assert transport.closed  # a failed connect releases the device


def test_tx_type_not_supported(ledger_sim: LedgerSimulator) -> None:
    signer = LedgerSigner(ledger_sim, DEFAULT_PATH)
    ledger_sim.supports_eip1559 = False
    with pytest.raises(SignerError, match=r"not supported.*0x6501"):
        signer.sign_transaction(make_tx())


def test_blind_signing_off(ledger_sim: LedgerSimulator, anvil_account) -> None:  # type: ignore[no-untyped-def]
    ledger_sim.blind_signing = False
    signer = LedgerSigner(ledger_sim, DEFAULT_PATH)
    assert not signer.app_configuration.blind_signing_enabled
    with pytest.raises(SignerError, match="Blind signing"):
        signer.sign_transaction(make_tx(68))
    plain = make_tx(0)
    assert signer.sign_transaction(plain) == eth_account_raw(anvil_account, plain)


def test_other_account_path(ledger_sim: LedgerSimulator) -> None:
    path = (*DEFAULT_PATH[:-1], 1)
    signer = LedgerSigner(ledger_sim, path)
    assert signer.address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert Account.recover_transaction(signer.sign_transaction(make_tx(5))) == signer.address


class _ParityFlipper(RecordingTransport):
    """A transport that corrupts the signature's v: the signer must notice."""

    def exchange(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = super().exchange(apdu)
        if apdu[1] == 0x04 and len(data) == 65:
            data = bytes([data[0] ^ 1]) + data[1:]
        return data, sw


def test_signature_not_recovering_to_device_is_refused(ledger_sim: LedgerSimulator) -> None:
    signer = LedgerSigner(_ParityFlipper(ledger_sim), DEFAULT_PATH)
    with pytest.raises(SignerError, match="refusing to use it"):
        signer.sign_transaction(make_tx(1))


def test_unexpected_status_word_is_named() -> None:
    class Odd:
        def exchange(self, apdu: bytes) -> tuple[bytes, int]:
            return b"", 0x6F42

        def close(self) -> None:
            pass

    with pytest.raises(SignerError, match="0x6F42"):
        LedgerSigner(Odd(), DEFAULT_PATH)
