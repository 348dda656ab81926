"""LedgerSigner over the wire: the same conformance class on the simulator at the seam, behind Speculos TCP
framing, and (opt-in, see conftest.py) Speculos running the real Ethereum app, so the simulator cannot drift
from the real app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from agent.devtools.simulators.ledger_sim import LedgerSimulator
from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, RecordingTransport, eth_account_raw, make_tx
from agent.signers.ledger import LedgerSigner
from agent.signers.ledger_transport import TcpApduTransport


@pytest.fixture(params=["seam", "tcp", "speculos"])
def wire(request: pytest.FixtureRequest, ledger_sim: LedgerSimulator) -> Iterator[RecordingTransport]:
    """A recording transport to the simulator (directly or over TCP, port 0) or to Speculos."""
    if request.param == "seam":
        yield RecordingTransport(ledger_sim)
        return
    if request.param == "speculos":
        yield request.getfixturevalue("speculos_transport")  # skips unless LEDGER_APP_ELF is set
        return
    server = ledger_sim.serve_tcp()
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
