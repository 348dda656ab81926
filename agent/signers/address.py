"""The address a ``SIGNER`` signs for, known at start-up without unlocking or touching a device (#14 item 9).

``anvil:N`` and ``env:SANDBOX_PRIVATE_KEY`` derive it from the (public or configured) key, ``keystore:PATH``
reads it from the keystore's ``address`` field (no password needed); hardware and external signers only
know it once opened, so ``SIGNER_EXPECTED_ADDRESS`` stands in for them. ``status``, ``plan`` and dry runs read
this wallet when ``WALLET_ADDRESS`` is unset; a bad ``SIGNER`` is one clear error for every command.
"""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account

from agent.errors import ConfigError
from agent.models import checksum
from agent.signers.factory import parse_signer_spec
from agent.signers.spec import SignerSpec


def signer_address(spec_text: str, *, expected: str | None, sandbox_key: str | None) -> str | None:
    """The address ``SIGNER=spec_text`` signs for, or None when only the device knows it (and no expected
    address is set). Raises ``ConfigError`` for a SIGNER that does not parse or a keystore that cannot be read."""
    spec = parse_signer_spec(spec_text)
    if spec.scheme == "anvil":
        from agent.signers.dev import dev_account_key

        return str(Account.from_key(dev_account_key(int(spec.argument))).address)
    if spec.scheme == "env":
        if not sandbox_key:
            raise ConfigError("SIGNER=env:SANDBOX_PRIVATE_KEY but SANDBOX_PRIVATE_KEY is not set; set it (sandbox "
                              "only) or pick another SIGNER")
        try:
            return str(Account.from_key(sandbox_key).address)
        except (ValueError, TypeError):
            raise ConfigError("SANDBOX_PRIVATE_KEY: not a private key (32 bytes as hex); fix it") from None
    if spec.scheme == "keystore":
        return _keystore_address(spec) or expected
    return expected


def _keystore_address(spec: SignerSpec) -> str | None:
    path = Path(spec.argument)
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"SIGNER=keystore:{path}: cannot read the keystore ({exc.strerror}); fix the path") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigError(f"SIGNER=keystore:{path}: not a JSON keystore file; point SIGNER at a v3 keystore") from None
    stated = document.get("address") if isinstance(document, dict) else None
    if not stated:
        return None
    try:
        return checksum("0x" + str(stated).removeprefix("0x"))
    except ValueError:
        raise ConfigError(f"SIGNER=keystore:{path}: its address field is not an address") from None
