"""TrezorSigner over UDP, like the Trezor emulator (trezorlib's UdpTransport against the simulator)."""

from __future__ import annotations

import pytest

from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, eth_account_raw, make_tx

trezorlib = pytest.importorskip("trezorlib")

from agent.devtools.simulators.trezor_sim import (  # noqa: E402
    TrezorUdpServer,
)
from agent.signers.trezor import TrezorSigner  # noqa: E402


def test_signer_over_udp_like_the_emulator(trezor_udp: TrezorUdpServer, anvil_account) -> None:  # type: ignore[no-untyped-def]
    with TrezorSigner.open(DEFAULT_PATH, env={"TREZOR_PATH": trezor_udp.path}) as signer:
        assert signer.address == ANVIL_0
        tx = make_tx(3000)
        assert signer.sign_transaction(tx) == eth_account_raw(anvil_account, tx)
