"""Ledger transports: Speculos TCP framing byte for byte, env selection, lost connections, HID."""

from __future__ import annotations

import socket
import struct
import sys

import pytest

from agent.devtools.simulators.ledger_sim import LedgerSimulator, LedgerTcpServer
from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, eth_account_raw, make_tx
from agent.errors import ConfigError, SignerError
from agent.signers.ledger import LedgerSigner
from agent.signers.ledger_transport import (
    HidApduTransport,
    TcpApduTransport,
    open_ledger_transport,
    proxy_from_env,
)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        assert part, "server closed the connection"
        buf += part
    return buf


def test_speculos_framing_on_the_wire(ledger_server: LedgerTcpServer) -> None:
    with socket.create_connection((ledger_server.host, ledger_server.port), timeout=5) as sock:
        sock.sendall(bytes.fromhex("00000005") + bytes.fromhex("e006000000"))
        assert _recv_exact(sock, 4 + 4 + 2) == bytes.fromhex("00000004" + "01010a04" + "9000")
        command = bytes.fromhex("e002000015058000002c8000003c800000000000000000000000")
        sock.sendall(struct.pack(">I", len(command)) + command)
        (length,) = struct.unpack(">I", _recv_exact(sock, 4))
        data = _recv_exact(sock, length)
        assert _recv_exact(sock, 2) == b"\x90\x00"
        assert data[0] == 65 and data[1] == 0x04 and data[66] == 40
        assert data[67:107].decode() == ANVIL_0[2:]


def test_ledgercomm_tcp_client_talks_to_the_simulator(ledger_server: LedgerTcpServer) -> None:
    ledgercomm = pytest.importorskip("ledgercomm")
    transport = ledgercomm.Transport(interface="tcp", server=ledger_server.host, port=ledger_server.port)
    try:
        sw, data = transport.exchange_raw("e006000000")
    finally:
        transport.close()
    assert (sw, data) == (0x9000, bytes([1, 1, 10, 4]))


def test_signer_opens_over_tcp_from_env(ledger_server: LedgerTcpServer, anvil_account) -> None:  # type: ignore[no-untyped-def]
    with LedgerSigner.open(DEFAULT_PATH, env=ledger_server.env) as signer:
        assert signer.address == ANVIL_0
        tx = make_tx(1500)
        assert signer.sign_transaction(tx) == eth_account_raw(anvil_account, tx)


@pytest.mark.parametrize(
    ("switch", "fragment"),
    [("refuse", "refused on device"), ("locked", "locked"), ("wrong_app", "open the Ethereum app")],
)
def test_status_words_over_tcp(ledger_server: LedgerTcpServer, ledger_sim: LedgerSimulator, switch: str,
                               fragment: str) -> None:
    signer = LedgerSigner.open(DEFAULT_PATH, env=ledger_server.env)
    setattr(ledger_sim, switch, True)
    try:
        with pytest.raises(SignerError, match=fragment):
            signer.sign_transaction(make_tx(400))
    finally:
        signer.close()


def test_unplugged_mid_sign(ledger_server: LedgerTcpServer) -> None:
    signer = LedgerSigner.open(DEFAULT_PATH, env=ledger_server.env)  # 2 APDUs: config, address
    ledger_server.drop_after_apdus = 4  # the second SIGN block never gets an answer
    with pytest.raises(SignerError, match=r"connection .* lost"):
        signer.sign_transaction(make_tx(600))
    signer.close()


def test_no_proxy_listening() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connection refused
        with pytest.raises(SignerError, match="no device found at LEDGER_PROXY_ADDRESS"):
            TcpApduTransport("127.0.0.1", port)


def test_closed_transport_refuses(ledger_server: LedgerTcpServer) -> None:
    transport = TcpApduTransport(ledger_server.host, ledger_server.port)
    transport.close()
    with pytest.raises(SignerError, match="closed"):
        transport.exchange(bytes.fromhex("e006000000"))


def test_proxy_env_selection() -> None:
    assert proxy_from_env({}) is None
    assert proxy_from_env({"LEDGER_PROXY_ADDRESS": "127.0.0.1", "LEDGER_PROXY_PORT": "9999"}) == ("127.0.0.1", 9999)
    with pytest.raises(ConfigError, match="LEDGER_PROXY_ADDRESS and LEDGER_PROXY_PORT go together"):
        proxy_from_env({"LEDGER_PROXY_ADDRESS": "127.0.0.1"})
    with pytest.raises(ConfigError, match="LEDGER_PROXY_PORT='x9'"):
        proxy_from_env({"LEDGER_PROXY_ADDRESS": "127.0.0.1", "LEDGER_PROXY_PORT": "x9"})
    with pytest.raises(ConfigError, match="LEDGER_PROXY_PORT='70000'"):
        proxy_from_env({"LEDGER_PROXY_ADDRESS": "127.0.0.1", "LEDGER_PROXY_PORT": "70000"})


def test_without_proxy_env_usb_is_used_and_missing_ledgercomm_is_explained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ledgercomm", None)  # as if rebalancer[ledger] were not installed
    with pytest.raises(SignerError, match=r"install rebalancer\[ledger\]"):
        open_ledger_transport({})


def test_hid_without_hidapi_is_explained() -> None:
    class NoHid:
        class Transport:
            def __init__(self, interface: str) -> None:
                assert interface == "hid"
                raise ImportError("hidapi is not installed")

    with pytest.raises(SignerError, match=r"USB HID support is missing.*install rebalancer\[ledger\]"):
        HidApduTransport(_ledgercomm=NoHid)


def test_hid_no_device_is_explained() -> None:
    class CannotFindDeviceError(Exception):
        pass

    class Empty:
        class Transport:
            def __init__(self, interface: str) -> None:
                raise CannotFindDeviceError("Can't find Ledger device with vendor_id 0x2c97")

    with pytest.raises(SignerError, match="no device found over USB"):
        HidApduTransport(_ledgercomm=Empty)
