"""The signer factory against device simulators on loopback: expected-address checks (argument and
SIGNER_EXPECTED_ADDRESS), connections released on refusal."""

from __future__ import annotations

import logging

import pytest
from eth_account import Account

from agent.devtools.simulators.ledger_sim import LedgerTcpServer
from agent.devtools.simulators.testkit import ANVIL_0, RECIPIENT
from agent.devtools.simulators.trezor_sim import TrezorSimulator
from agent.errors import ConfigError, SafetyHalt
from agent.models import UnsignedTx
from agent.ports import Signer
from agent.signers.factory import (
    open_hardware_signer,
    open_signer,
)


def test_opens_ledger_over_tcp_and_accepts_the_expected_address(ledger_server: LedgerTcpServer) -> None:
    signer = open_hardware_signer("ledger:44'/60'/0'/0/0", expected_address=ANVIL_0, env=ledger_server.env)
    try:
        assert signer.address == ANVIL_0
        assert isinstance(signer, Signer)
    finally:
        signer.close()  # type: ignore[attr-defined]


def test_expected_address_from_env(ledger_server: LedgerTcpServer) -> None:
    env = {**ledger_server.env, "SIGNER_EXPECTED_ADDRESS": ANVIL_0}
    signer = open_signer("ledger:44'/60'/0'/0/0", expected_address=None, env=env)
    try:
        assert signer.address == ANVIL_0
    finally:
        signer.close()  # type: ignore[attr-defined]
    # the variable is really checked: another expected address in the environment refuses to start
    with pytest.raises(SafetyHalt, match="SIGNER_EXPECTED_ADDRESS"):
        open_signer("ledger:44'/60'/0'/0/0", expected_address=None,
                    env={**ledger_server.env, "SIGNER_EXPECTED_ADDRESS": RECIPIENT})


def test_address_mismatch_refuses_to_start(ledger_server: LedgerTcpServer) -> None:
    with pytest.raises(SafetyHalt) as info:
        open_hardware_signer("ledger:44'/60'/0'/0/0", expected_address=RECIPIENT, env=ledger_server.env)
    message = str(info.value)
    assert ANVIL_0 in message and RECIPIENT in message and "SIGNER_EXPECTED_ADDRESS" in message
    # the device connection was released: a new client can connect and work
    again = open_signer("ledger:44'/60'/0'/0/0", expected_address=ANVIL_0, env=ledger_server.env)
    try:
        tx = UnsignedTx(chain_id=31337, nonce=0, to=RECIPIENT, gas=21_000, max_fee_per_gas_wei=2 * 10**9,
                        max_priority_fee_per_gas_wei=10**9)
        assert again.address == ANVIL_0 and Account.recover_transaction(again.sign_transaction(tx)) == ANVIL_0
    finally:
        again.close()  # type: ignore[attr-defined]


def test_mismatch_from_env_refuses_to_start(ledger_server: LedgerTcpServer) -> None:
    env = {**ledger_server.env, "SIGNER_EXPECTED_ADDRESS": RECIPIENT}
    with pytest.raises(SafetyHalt, match="wrong device, seed, passphrase or derivation path"):
        open_signer("ledger:44'/60'/0'/0/0", expected_address=None, env=env)


def test_bad_expected_address_is_a_config_error_before_any_device_io(ledger_server: LedgerTcpServer) -> None:
    before = len(ledger_server.simulator.received)
    with pytest.raises(ConfigError, match="SIGNER_EXPECTED_ADDRESS"):
        open_signer("ledger:44'/60'/0'/0/0", expected_address=ANVIL_0.lower()[:-1] + "7", env=ledger_server.env)
    with pytest.raises(ConfigError, match="EIP-55"):
        open_signer("ledger:44'/60'/0'/0/0", expected_address=ANVIL_0.lower(), env=ledger_server.env)
    assert len(ledger_server.simulator.received) == before


def test_missing_expected_address_warns(ledger_server: LedgerTcpServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agent.signers.factory"):
        signer = open_signer("ledger:44'/60'/0'/0/0", expected_address=None, env=ledger_server.env)
    signer.close()  # type: ignore[attr-defined]
    assert "SIGNER_EXPECTED_ADDRESS is not set" in caplog.text


def test_trezor_through_the_factory(trezor_sim: TrezorSimulator) -> None:
    with trezor_sim.serve_udp() as server:
        env = {"TREZOR_PATH": server.path, "SIGNER_EXPECTED_ADDRESS": ANVIL_0}
        signer = open_hardware_signer("trezor:m/44h/60h/0h/0/0", expected_address=None, env=env)
        assert signer.address == ANVIL_0
        signer.close()  # type: ignore[attr-defined]
        with pytest.raises(SafetyHalt):
            open_hardware_signer("trezor:m/44h/60h/0h/0/1", expected_address=ANVIL_0, env=env)
