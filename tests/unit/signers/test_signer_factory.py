"""SIGNER parsing and the factory: dispatch by scheme, expected-address check, clear config errors."""

from __future__ import annotations

import pytest

from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, HARDENED, RECIPIENT
from agent.errors import ConfigError, SafetyHalt
from agent.signers import factory
from agent.signers.factory import (
    SchemeHandler,
    SignerSpec,
    open_hardware_signer,
    open_signer,
    parse_bip32_path,
    parse_signer_spec,
)


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
