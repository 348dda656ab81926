"""SIGNER parsing and the factory: dispatch by scheme, expected-address check, clear config errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from eth_account import Account

from agent.devtools.simulators.ledger_sim import LedgerSimulator, LedgerTcpServer
from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, HARDENED, RECIPIENT
from agent.errors import ConfigError, SafetyHalt
from agent.models import UnsignedTx
from agent.ports import Signer
from agent.signers import factory
from agent.signers.factory import (
    SchemeHandler,
    SignerSpec,
    open_hardware_signer,
    open_signer,
    parse_bip32_path,
    parse_signer_spec,
)


@pytest.fixture
def ledger_server() -> Iterator[LedgerTcpServer]:
    server = LedgerSimulator().serve_tcp()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize(
    ("spec", "scheme"),
    [
        ("ledger:44'/60'/0'/0/0", "ledger"),
        ("trezor:m/44h/60h/0h/0/0", "trezor"),
        (" LEDGER:m/44H/60H/0H/0/0 ", "ledger"),
        ("trezor:44'/60'/0'/0/0", "trezor"),
    ],
)
def test_parse_valid_specs(spec: str, scheme: str) -> None:
    parsed = parse_signer_spec(spec)
    assert parsed.scheme == scheme
    assert parsed.derivation_path == DEFAULT_PATH


def test_parse_path_forms() -> None:
    assert parse_bip32_path("44'/60'/0'/0/7") == (*DEFAULT_PATH[:-1], 7)
    assert parse_bip32_path("m/44h/60h/1h") == (44 | HARDENED, 60 | HARDENED, 1 | HARDENED)
    assert parse_bip32_path("2147483647") == (2147483647,)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("ledger", "SCHEME:ARGUMENT"),
        ("ledger:", "SCHEME:ARGUMENT"),
        ("ledger:m/", "empty"),
        ("ledger:44'/60'//0", "step ''"),
        ("ledger:44'/sixty'/0'", "step \"sixty'\""),
        ("trezor:m/44h/60h/0hh", "step '0hh'"),
        ("ledger:2147483648'/0", "too large"),
        ("ledger:" + "/".join(["0"] * 11), "at most 10"),
        ("ledger:44'/60'/0'/0/-1", "step '-1'"),
        ("yubikey:1", "unknown"),
    ],
)
def test_bad_specs_name_signer_and_the_fix(spec: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_signer_spec(spec)
    message = str(info.value)
    assert "SIGNER" in message and fragment in message
    assert "ledger:44'/60'/0'/0/0" in message  # the fix: an example of a good value
    assert "\n" not in message


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


def test_trezor_through_the_factory() -> None:
    pytest.importorskip("trezorlib")
    from agent.devtools.simulators.trezor_sim import TrezorSimulator

    with TrezorSimulator().serve_udp() as server:
        env = {"TREZOR_PATH": server.path, "SIGNER_EXPECTED_ADDRESS": ANVIL_0}
        signer = open_hardware_signer("trezor:m/44h/60h/0h/0/0", expected_address=None, env=env)
        assert signer.address == ANVIL_0
        signer.close()  # type: ignore[attr-defined]
        with pytest.raises(SafetyHalt):
            open_hardware_signer("trezor:m/44h/60h/0h/0/1", expected_address=ANVIL_0, env=env)


class _StaticSigner:
    def __init__(self, address: str) -> None:
        self.address = address
        self.closed = False

    def sign_transaction(self, tx: object) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True


def test_a_new_scheme_is_a_small_addition(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[_StaticSigner] = []

    def parse(argument: str) -> SignerSpec:
        return SignerSpec(scheme="static", argument=argument)

    def open_(spec: SignerSpec, env: object) -> _StaticSigner:
        opened.append(_StaticSigner(spec.argument))
        return opened[-1]

    monkeypatch.setitem(factory.SCHEMES, "static", SchemeHandler(parse, open_))
    assert open_signer(f"static:{ANVIL_0}", expected_address=ANVIL_0, env={}).address == ANVIL_0
    with pytest.raises(SafetyHalt):
        open_signer(f"static:{RECIPIENT}", expected_address=ANVIL_0, env={})
    assert opened[-1].closed  # refused signers are closed
    with pytest.raises(ConfigError, match="not a hardware wallet"):
        open_hardware_signer(f"static:{ANVIL_0}", expected_address=None, env={})
