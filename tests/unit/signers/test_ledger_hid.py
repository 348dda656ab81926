"""ledgercomm's real USB HID code path against the simulator behind HID framing (hidapi stood in)."""

from __future__ import annotations

import pytest

from agent.devtools.simulators.ledger_hid import FakeHidModule, frame_hid
from agent.devtools.simulators.ledger_sim import LedgerSimulator
from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, eth_account_raw, make_tx
from agent.errors import SignerError
from agent.signers.ledger import LedgerSigner
from agent.signers.ledger_transport import HidApduTransport, open_ledger_transport

hid_device = pytest.importorskip("ledgercomm.interfaces.hid_device")


@pytest.fixture
def fake_hid(monkeypatch: pytest.MonkeyPatch, ledger_sim: LedgerSimulator) -> FakeHidModule:
    fake = FakeHidModule(ledger_sim)
    monkeypatch.setattr(hid_device, "hid", fake)
    return fake


def test_hid_frames_of_get_address() -> None:
    command = bytes.fromhex("e002000015058000002c8000003c800000000000000000000000")
    (packet,) = frame_hid(command)
    assert packet[:7] == bytes.fromhex("0101050000") + len(command).to_bytes(2, "big")
    assert packet[7 : 7 + len(command)] == command and len(packet) == 64


def test_usb_hid_path_signs_like_eth_account(fake_hid: FakeHidModule, anvil_account) -> None:  # type: ignore[no-untyped-def]
    with LedgerSigner(open_ledger_transport({}), DEFAULT_PATH) as signer:
        assert signer.address == ANVIL_0
        tx = make_tx(1100)  # several APDUs, each several HID packets
        assert signer.sign_transaction(tx) == eth_account_raw(anvil_account, tx)
    packets = fake_hid.opened[0].packets_in
    assert all(len(p) == 64 and p[:3] == b"\x01\x01\x05" for p in packets)
    assert max(int.from_bytes(p[3:5], "big") for p in packets) >= 4  # a 260-byte APDU spans 5 packets


def test_usb_refusal_and_wrong_app(fake_hid: FakeHidModule, ledger_sim: LedgerSimulator) -> None:
    signer = LedgerSigner(HidApduTransport(), DEFAULT_PATH)
    ledger_sim.refuse = True
    with pytest.raises(SignerError, match="refused on device"):
        signer.sign_transaction(make_tx(10))
    signer.close()
    ledger_sim.refuse, ledger_sim.wrong_app = False, True
    with pytest.raises(SignerError, match="open the Ethereum app"):
        LedgerSigner(HidApduTransport(), DEFAULT_PATH)


def test_usb_unplugged_mid_sign(fake_hid: FakeHidModule) -> None:
    signer = LedgerSigner(HidApduTransport(), DEFAULT_PATH)
    fake_hid.opened[0].unplugged = True
    with pytest.raises(SignerError, match="unplugged"):
        signer.sign_transaction(make_tx(10))
    signer.close()


def test_usb_no_device(fake_hid: FakeHidModule) -> None:
    fake_hid.present = False
    with pytest.raises(SignerError, match="no device found over USB"):
        HidApduTransport()
