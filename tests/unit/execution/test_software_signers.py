"""Keystore, raw sandbox key and external JSON-RPC signers behind the one Signer interface."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from eth_account import Account

from agent.errors import ConfigError, SignerError
from agent.models import UnsignedTx
from agent.ports import Signer
from agent.signers.external import ExternalSigner
from agent.signers.factory import open_signer, parse_signer_spec
from agent.signers.keystore import open_keystore_signer, read_password
from agent.signers.local import LocalKeySigner, open_sandbox_key_signer
from tests.unit.execution.fake_external_signer import FakeSignerServer

KEY = "0xac0974bec39a17e36ba4a84b6b4d7ee4ff3a6d5c2f9a2a3a0f28b3c3b9a3e8a5"  # a throwaway test key
ACCOUNT = Account.from_key(KEY)
TX = UnsignedTx(chain_id=31337, nonce=3, to="0x000000000000000000000000000000000000dEaD", value_wei=5,
                data=bytes(300), gas=90_000, max_fee_per_gas_wei=3 * 10**9, max_priority_fee_per_gas_wei=10**9)
EXPECTED_RAW = bytes(ACCOUNT.sign_transaction(TX.as_eth_account_dict()).raw_transaction)


@pytest.fixture
def keystore(tmp_path: Path) -> Path:
    path = tmp_path / "UTC--test"
    path.write_text(json.dumps(Account.encrypt(KEY, "correct horse", kdf="pbkdf2", iterations=2)))
    return path


def test_keystore_signs_like_eth_account(keystore: Path) -> None:
    signer = open_keystore_signer(keystore, "correct horse")
    assert isinstance(signer, Signer)
    assert signer.address == ACCOUNT.address and signer.sign_transaction(TX) == EXPECTED_RAW


def test_wrong_keystore_password_is_one_clear_error(keystore: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SignerError) as info:
        open_signer(f"keystore:{keystore}", expected_address=None, env={"KEYSTORE_PASSWORD": "hunter2"})
    assert str(info.value) == ("keystore UTC--test: wrong password (check KEYSTORE_PASSWORD / "
                               "KEYSTORE_PASSWORD_FILE)")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "hunter2" not in caplog.text


def test_password_sources(tmp_path: Path, keystore: Path) -> None:
    pw_file = tmp_path / "pw"
    pw_file.write_text("correct horse\n")
    assert read_password({"KEYSTORE_PASSWORD_FILE": str(pw_file)}, path=keystore) == "correct horse"
    assert read_password({}, path=keystore, interactive=True, prompt=lambda _: "typed") == "typed"
    with pytest.raises(ConfigError, match="KEYSTORE_PASSWORD"):
        read_password({}, path=keystore, interactive=False)
    signer = open_signer(f"keystore:{keystore}", expected_address=ACCOUNT.address,
                         env={"KEYSTORE_PASSWORD_FILE": str(pw_file)})
    assert signer.address == ACCOUNT.address


def test_raw_key_only_on_sandbox_chains_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(SignerError, match="only allowed on sandbox chains, but CHAINS includes ethereum"):
        open_sandbox_key_signer(KEY, chain_kinds={"ethereum": "mainnet", "sandbox_a": "sandbox"})
    caplog.set_level(logging.WARNING)
    signer = open_sandbox_key_signer(KEY, chain_kinds={"sandbox_a": "sandbox"})
    assert signer.sign_transaction(TX) == EXPECTED_RAW
    assert "RAW PRIVATE KEY" in caplog.text and KEY[2:] not in caplog.text and KEY[2:] not in repr(signer)
    with pytest.raises(SignerError, match="not a valid 32-byte private key"):
        LocalKeySigner.from_key("0x1234")


def test_env_spec_refuses_mainnet_chains() -> None:
    with pytest.raises(SignerError, match="sandbox"):
        open_signer("env:SANDBOX_PRIVATE_KEY", expected_address=None,
                    env={"SANDBOX_PRIVATE_KEY": KEY, "CHAINS": "ethereum"})
    with pytest.raises(ConfigError, match="external:http"):
        parse_signer_spec("external:ftp://signer")


@pytest.mark.parametrize("flavor", ["clef", "web3signer"])
def test_external_signer_both_flavors(flavor: str) -> None:
    with FakeSignerServer(ACCOUNT, flavor=flavor) as server:
        signer = open_signer(f"external:{server.url}", expected_address=ACCOUNT.address, env={})
        assert isinstance(signer, ExternalSigner) and signer.flavor == flavor
        assert signer.sign_transaction(TX) == EXPECTED_RAW
        sent = server.requests[-1]
        method = "account_signTransaction" if flavor == "clef" else "eth_signTransaction"
        assert sent["method"] == method
        assert sent["params"][0]["from"] == ACCOUNT.address and sent["params"][0]["nonce"] == "0x3"
        signer.close()


def test_external_refusal_and_tampering_are_signer_errors() -> None:
    with FakeSignerServer(ACCOUNT) as server:
        signer = ExternalSigner(server.url)
        server.refuse = True
        with pytest.raises(SignerError, match="refused to sign: Request denied"):
            signer.sign_transaction(TX)
        server.refuse, server.tamper = False, True
        with pytest.raises(SignerError, match="differs from the one requested"):
            signer.sign_transaction(TX)
        with pytest.raises(SignerError, match="does not hold"):
            ExternalSigner(server.url, address="0x000000000000000000000000000000000000dEaD")
