"""Encrypted JSON keystore (Web3 Secret Storage v3). The password comes from ``KEYSTORE_PASSWORD``,
a file named by ``KEYSTORE_PASSWORD_FILE``, or a prompt on the terminal; it is never logged and is
dropped once the key is decrypted. A wrong password gives one clear ``SignerError``.
"""

from __future__ import annotations

import getpass
import json
import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from eth_account import Account

from agent.errors import ConfigError, SignerError
from agent.models import checksum
from agent.signers.local import LocalKeySigner

log = logging.getLogger(__name__)


def read_password(env: Mapping[str, str], *, path: Path,
                  prompt: Callable[[str], str] | None = None, interactive: bool | None = None) -> str:
    """KEYSTORE_PASSWORD, else the file KEYSTORE_PASSWORD_FILE, else a prompt (only on a terminal)."""
    if env.get("KEYSTORE_PASSWORD"):
        return env["KEYSTORE_PASSWORD"]
    file_name = env.get("KEYSTORE_PASSWORD_FILE", "").strip()
    if file_name:
        try:
            return Path(file_name).expanduser().read_text().rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"KEYSTORE_PASSWORD_FILE: cannot read {file_name} ({exc.strerror}); "
                              "point it at a readable file holding the password") from None
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise ConfigError("KEYSTORE_PASSWORD: no password for the keystore; set KEYSTORE_PASSWORD or "
                          "KEYSTORE_PASSWORD_FILE, or run on a terminal to be prompted")
    return (prompt or getpass.getpass)(f"Password for keystore {path.name}: ")


def open_keystore_signer(path: Path | str, password: str) -> LocalKeySigner:
    path = Path(path).expanduser()
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"SIGNER=keystore:{path}: cannot read the keystore ({exc.strerror})") from None
    except json.JSONDecodeError:
        raise ConfigError(f"SIGNER=keystore:{path}: not a JSON keystore file") from None
    if not isinstance(document, dict) or "crypto" not in {k.lower() for k in document}:
        raise ConfigError(f"SIGNER=keystore:{path}: not a v3 keystore (no 'crypto' section)")
    try:
        key = Account.decrypt(document, password)
    except ValueError as exc:
        if "mac mismatch" in str(exc).lower():
            raise SignerError(f"keystore {path.name}: wrong password (check KEYSTORE_PASSWORD / "
                              "KEYSTORE_PASSWORD_FILE)") from None
        raise SignerError(f"keystore {path.name}: cannot decrypt ({exc})") from None
    signer = LocalKeySigner.from_key(key, label=f"keystore {path.name}")
    stated = document.get("address")
    if stated and checksum("0x" + str(stated).removeprefix("0x")) != signer.address:
        raise SignerError(f"keystore {path.name}: decrypts to {signer.address}, but the file says 0x{stated}")
    log.info("keystore %s unlocked for %s", path.name, signer.address)
    return signer
