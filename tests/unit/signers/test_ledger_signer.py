"""LedgerSigner against the APDU simulator: at the transport seam and over a real TCP socket.

``TestLedgerConformance`` runs unchanged on every backend: the simulator plugged in at the seam,
the simulator behind Speculos TCP framing, and (opt-in, see conftest.py) Speculos running the real
Ethereum app, so the simulator cannot drift from what the real app does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from agent.devtools.simulators.ledger_sim import LedgerSimulator
from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, RecordingTransport, eth_account_raw, make_tx
from agent.errors import SignerError
from agent.signers.ledger import LedgerSigner
from agent.signers.ledger_transport import TcpApduTransport


@pytest.fixture
def sim() -> LedgerSimulator:
    return LedgerSimulator()


@pytest.fixture(params=["seam", "tcp", "speculos"])
def wire(request: pytest.FixtureRequest, sim: LedgerSimulator) -> Iterator[RecordingTransport]:
    """A recording transport to the simulator (directly or over TCP, port 0) or to Speculos."""
    if request.param == "seam":
        yield RecordingTransport(sim)
        return
    if request.param == "speculos":
        yield request.getfixturevalue("speculos_transport")  # skips unless LEDGER_APP_ELF is set
        return
    server = sim.serve_tcp()
    transport = RecordingTransport(TcpApduTransport(server.host, server.port, timeout_s=10))
    try:
        yield transport
    finally:
        transport.close()
        server.close()


class TestLedgerConformance:
    def test_address_is_anvil_account_0(self, wire: RecordingTransport) -> None:
        signer = LedgerSigner(wire, DEFAULT_PATH)
        assert signer.address == ANVIL_0
        commands = [command.hex() for command, _, _ in wire.log]
        assert "e002000015058000002c8000003c800000000000000000000000" in commands
        assert signer.app_configuration.version >= (1, 0, 0)

    @pytest.mark.parametrize("data_len", [0, 254, 255, 256, 1000, 1025, 3000])
    def test_signature_equals_eth_account(self, wire: RecordingTransport, anvil_account, data_len: int) -> None:  # type: ignore[no-untyped-def]
        signer = LedgerSigner(wire, DEFAULT_PATH)
        if data_len and not signer.app_configuration.blind_signing_enabled:
            pytest.skip("enable Blind signing in the Ethereum app settings to sign contract data")
        tx = make_tx(data_len)
        raw = signer.sign_transaction(tx)
        assert raw == eth_account_raw(anvil_account, tx)
        assert Account.recover_transaction(raw) == ANVIL_0
        sign_commands = wire.sign_commands()
        assert [c[2] for c in sign_commands] == [0x00] + [0x80] * (len(sign_commands) - 1)
        assert all(len(c) <= 260 for c in sign_commands)
        sign_replies = [(data, sw) for command, data, sw in wire.log if command[1] == 0x04]
        assert all(reply == (b"", 0x9000) for reply in sign_replies[:-1])
        last_data, last_sw = sign_replies[-1]
        assert last_sw == 0x9000 and len(last_data) == 65
        assert last_data[0] in (0, 1)  # v is the y-parity for a type-2 transaction


def test_v_is_the_parity_in_the_raw_transaction(sim: LedgerSimulator, anvil_account) -> None:  # type: ignore[no-untyped-def]
    wire = RecordingTransport(sim)
    signer = LedgerSigner(wire, DEFAULT_PATH)
    parities = set()
    for nonce in range(8):  # both parities occur over a few signatures
        tx = make_tx(10, nonce=nonce)
        signer.sign_transaction(tx)
        device_v = wire.log[-1][1][0]
        assert device_v == anvil_account.sign_transaction(tx.as_eth_account_dict()).v
        parities.add(device_v)
    assert parities == {0, 1}


def test_simulator_records_what_was_sent(sim: LedgerSimulator) -> None:
    signer = LedgerSigner(sim, DEFAULT_PATH)
    assert signer.app_configuration.version == (1, 10, 4)
    assert signer.app_configuration.blind_signing_enabled
    signer.sign_transaction(make_tx(600))
    blocks = [c for c in sim.received if c[1] == 0x04]
    assert [b[2] for b in blocks] == [0x00, 0x80, 0x80]
    assert sim.signed_payloads[-1][0] == 0x02


def test_refused_on_device(sim: LedgerSimulator) -> None:
    signer = LedgerSigner(sim, DEFAULT_PATH)
    sim.refuse = True
    with pytest.raises(SignerError, match="refused on device"):
        signer.sign_transaction(make_tx(300))
    sim.refuse = False  # the next attempt starts a fresh signing session
    assert Account.recover_transaction(signer.sign_transaction(make_tx(300))) == ANVIL_0


def test_refused_address_display(sim: LedgerSimulator) -> None:
    signer = LedgerSigner(sim, DEFAULT_PATH)
    assert signer.show_address() == ANVIL_0
    sim.refuse = True
    with pytest.raises(SignerError, match="refused on device"):
        signer.show_address()


def test_locked_device(sim: LedgerSimulator) -> None:
    sim.locked = True
    with pytest.raises(SignerError, match=r"locked.*unlock it"):
        LedgerSigner(sim, DEFAULT_PATH)


def test_locked_while_running(sim: LedgerSimulator) -> None:
    signer = LedgerSigner(sim, DEFAULT_PATH)
    sim.locked = True
    with pytest.raises(SignerError, match=r"locked \(status 0x6982\)"):
        signer.sign_transaction(make_tx())


@pytest.mark.parametrize("status", [0x6D00, 0x6E00])
def test_wrong_app_open(sim: LedgerSimulator, status: int) -> None:
    sim.wrong_app, sim.wrong_app_status = True, status
    transport = RecordingTransport(sim)
    with pytest.raises(SignerError, match="open the Ethereum app on the Ledger"):
        LedgerSigner(transport, DEFAULT_PATH)
    assert transport.closed  # a failed connect releases the device


def test_tx_type_not_supported(sim: LedgerSimulator) -> None:
    signer = LedgerSigner(sim, DEFAULT_PATH)
    sim.supports_eip1559 = False
    with pytest.raises(SignerError, match=r"not supported.*0x6501"):
        signer.sign_transaction(make_tx())


def test_blind_signing_off(sim: LedgerSimulator, anvil_account) -> None:  # type: ignore[no-untyped-def]
    sim.blind_signing = False
    signer = LedgerSigner(sim, DEFAULT_PATH)
    assert not signer.app_configuration.blind_signing_enabled
    with pytest.raises(SignerError, match="Blind signing"):
        signer.sign_transaction(make_tx(68))
    plain = make_tx(0)
    assert signer.sign_transaction(plain) == eth_account_raw(anvil_account, plain)


def test_other_account_path(sim: LedgerSimulator) -> None:
    path = (*DEFAULT_PATH[:-1], 1)
    signer = LedgerSigner(sim, path)
    assert signer.address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert Account.recover_transaction(signer.sign_transaction(make_tx(5))) == signer.address


class _ParityFlipper(RecordingTransport):
    """A transport that corrupts the signature's v: the signer must notice."""

    def exchange(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = super().exchange(apdu)
        if apdu[1] == 0x04 and len(data) == 65:
            data = bytes([data[0] ^ 1]) + data[1:]
        return data, sw


def test_signature_not_recovering_to_device_is_refused(sim: LedgerSimulator) -> None:
    signer = LedgerSigner(_ParityFlipper(sim), DEFAULT_PATH)
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
