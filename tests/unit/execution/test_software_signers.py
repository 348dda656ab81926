"""Keystore, raw sandbox key and external JSON-RPC signers behind the one Signer interface."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from eth_account import Account

from agent.errors import ConfigError, SignerError
from agent.ports import Signer
from agent.signers.factory import open_signer, parse_signer_spec
from agent.signers.keystore import open_keystore_signer, read_password
from agent.signers.local import LocalKeySigner, open_sandbox_key_signer
from tests.signing import ACCOUNT, EXPECTED_RAW, KEY, TX


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




