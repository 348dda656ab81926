"""Trezor: trezorlib 0.20, unchanged, against the wire-protocol-v1 simulator (in process and over UDP)."""

from __future__ import annotations

import math
import sys

import pytest
from eth_account import Account

from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, eth_account_raw, make_tx
from agent.errors import SignerError

trezorlib = pytest.importorskip("trezorlib")
from trezorlib import ethereum, messages, protocol_v1  # noqa: E402
from trezorlib.client import get_default_client  # noqa: E402

from agent.devtools.simulators.trezor_sim import (  # noqa: E402
    FrameReassembler,
    SimulatorTransport,
    TrezorSimulator,
    encode_frames,
)
from agent.signers.trezor import TrezorSigner  # noqa: E402


class _ListTransport(SimulatorTransport):
    """Captures what trezorlib's own protocol_v1.write puts on the wire."""

    def __init__(self) -> None:
        super().__init__(TrezorSimulator.__new__(TrezorSimulator))
        self.written: list[bytes] = []

    def write_chunk(self, chunk: bytes, /) -> None:
        self.written.append(chunk)


@pytest.mark.parametrize("size", [0, 1, 54, 55, 56, 200, 5000])
def test_framing_matches_trezorlib_byte_for_byte(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    transport = _ListTransport()
    protocol_v1.write(transport, 452, payload)
    assert encode_frames(452, payload) == transport.written
    reassembler = FrameReassembler()
    results = [reassembler.feed(chunk) for chunk in transport.written]
    assert results[-1] == (452, payload) and all(r is None for r in results[:-1])


def test_trezorlib_get_address_and_sign_directly(trezor_sim: TrezorSimulator, anvil_account) -> None:  # type: ignore[no-untyped-def]
    client = get_default_client("rebalancer-tests", SimulatorTransport(trezor_sim))
    session = client.get_session(passphrase="")
    n = list(DEFAULT_PATH)
    assert ethereum.get_address(session, n) == ANVIL_0
    tx = make_tx(2500)
    v, r, s = ethereum.sign_tx_eip1559(
        session, n, nonce=tx.nonce, gas_limit=tx.gas, to=tx.to, value=tx.value_wei, data=tx.data,
        chain_id=tx.chain_id, max_gas_fee=tx.max_fee_per_gas_wei, max_priority_fee=tx.max_priority_fee_per_gas_wei,
    )
    expected = anvil_account.sign_transaction(tx.as_eth_account_dict())
    assert (v, int.from_bytes(r, "big"), int.from_bytes(s, "big")) == (expected.v, expected.r, expected.s)
    assert all(len(c) == 64 and c[:1] == b"?" for c in trezor_sim.chunks_in + trezor_sim.chunks_out)


@pytest.mark.parametrize("data_len", [0, 1, 1023, 1024, 1025, 2048, 5000])
def test_signer_equals_eth_account(trezor_sim: TrezorSimulator, anvil_account, data_len: int) -> None:  # type: ignore[no-untyped-def]
    signer = TrezorSigner.connect(DEFAULT_PATH, transport=SimulatorTransport(trezor_sim))
    assert signer.address == ANVIL_0
    tx = make_tx(data_len)
    raw = signer.sign_transaction(tx)
    assert raw == eth_account_raw(anvil_account, tx)
    assert Account.recover_transaction(raw) == ANVIL_0
    acks = trezor_sim.received.count("EthereumTxAck")
    assert acks == max(0, math.ceil((data_len - 1024) / 1024))  # 1024-byte pieces after the first
    assert trezor_sim.button_requests == 2




def test_refused_on_device(trezor_sim: TrezorSimulator) -> None:
    signer = TrezorSigner.connect(DEFAULT_PATH, transport=SimulatorTransport(trezor_sim))
    trezor_sim.refuse = True
    with pytest.raises(SignerError, match="refused on device"):
        signer.sign_transaction(make_tx(10))
    with pytest.raises(SignerError, match="refused on device"):
        signer.show_address()
    trezor_sim.refuse = False
    assert signer.show_address() == ANVIL_0
    assert Account.recover_transaction(signer.sign_transaction(make_tx(10))) == ANVIL_0


def test_locked_device(trezor_sim: TrezorSimulator) -> None:
    trezor_sim.pin, trezor_sim.locked = "1234", True
    with pytest.raises(SignerError, match="locked"):
        TrezorSigner.connect(DEFAULT_PATH, transport=SimulatorTransport(trezor_sim))
    assert trezor_sim.received[-1] == "Cancel"  # the PIN prompt was cancelled, not left on screen
    assert trezor_sim.locked


def test_simulator_unlocks_with_the_right_pin(trezor_sim: TrezorSimulator) -> None:
    trezor_sim.pin, trezor_sim.locked = "1234", True
    client = get_default_client("t", SimulatorTransport(trezor_sim), pin_callback=lambda _req: "1234")
    session = client.get_session(passphrase="")
    assert ethereum.get_address(session, list(DEFAULT_PATH)) == ANVIL_0
    assert not trezor_sim.locked


def test_no_device_at_path() -> None:
    with pytest.raises(SignerError, match="Trezor: no device reachable"):
        TrezorSigner.connect(DEFAULT_PATH, device_path="udp:127.0.0.1:9")


def test_failure_from_device_is_one_line(trezor_sim: TrezorSimulator) -> None:
    signer = TrezorSigner.connect(DEFAULT_PATH, transport=SimulatorTransport(trezor_sim))
    trezor_sim._handlers = lambda: {  # type: ignore[method-assign]
        messages.EthereumSignTxEIP1559: lambda _m: messages.Failure(
            code=messages.FailureType.DataError, message="Invalid chain id"
        )
    }
    with pytest.raises(SignerError, match="failed on device: Invalid chain id"):
        signer.sign_transaction(make_tx())


def test_missing_trezorlib_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "trezorlib" or m.startswith("trezorlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(SignerError, match=r"install rebalancer\[trezor\]"):
        TrezorSigner.connect(DEFAULT_PATH)
