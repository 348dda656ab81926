"""A raw private key held in memory (eth-account). For the local sandbox only: the key sits in the
environment (``SANDBOX_PRIVATE_KEY``), so opening it logs a loud warning. The keystore signer reuses
this class after decrypting.
"""

from __future__ import annotations

import logging

from eth_account import Account
from eth_account.signers.local import LocalAccount

from agent.errors import SignerError
from agent.models import UnsignedTx

log = logging.getLogger(__name__)


class LocalKeySigner:
    """Signs with a key in process memory. ``repr`` never shows the key."""

    def __init__(self, account: LocalAccount, *, label: str = "local key") -> None:
        self._account = account
        self.label = label

    @classmethod
    def from_key(cls, key: str | bytes, *, label: str = "local key") -> LocalKeySigner:
        try:
            account = Account.from_key(key)
        except Exception:
            raise SignerError(f"{label}: not a valid 32-byte private key (0x + 64 hex digits)") from None
        return cls(account, label=label)

    @property
    def address(self) -> str:
        return str(self._account.address)

    def sign_transaction(self, tx: UnsignedTx) -> bytes:
        try:
            signed = self._account.sign_transaction(tx.as_eth_account_dict())
        except Exception as exc:
            raise SignerError(f"{self.label}: could not sign: {type(exc).__name__}") from None
        return bytes(signed.raw_transaction)

    def __repr__(self) -> str:
        return f"LocalKeySigner({self.label}, {self.address})"


def open_sandbox_key_signer(key: str | None, *, chain_kinds: dict[str, str]) -> LocalKeySigner:
    """The ``SANDBOX_PRIVATE_KEY`` signer; refused unless every configured chain is a sandbox chain."""
    if not key:
        raise SignerError("SIGNER is not set and SANDBOX_PRIVATE_KEY is empty: set SIGNER=keystore:PATH "
                          "(or external:URL, ledger:…, trezor:…); a raw key is for the sandbox only")
    real = sorted(name for name, kind in chain_kinds.items() if kind != "sandbox")
    if real:
        raise SignerError(f"SANDBOX_PRIVATE_KEY: a raw key from the environment is only allowed on sandbox "
                          f"chains, but CHAINS includes {', '.join(real)}; use SIGNER=keystore:PATH or a hardware "
                          "wallet for real chains")
    signer = LocalKeySigner.from_key(key, label="SANDBOX_PRIVATE_KEY")
    log.warning("!!! SIGNING WITH A RAW PRIVATE KEY FROM THE ENVIRONMENT (SANDBOX_PRIVATE_KEY) FOR %s — "
                "SANDBOX ONLY; NEVER PUT A REAL KEY THERE !!!", signer.address)
    return signer
