"""Assembling a device's (y-parity, r, s) into a raw type-2 transaction, checked before it is returned."""

from __future__ import annotations

from eth_account import Account

from agent.errors import SignerError
from agent.models import UnsignedTx
from agent.signers.ledger_apdu import eip1559_signed


def verified_raw_transaction(tx: UnsignedTx, *, y_parity: int, r: int, s: int, device: str, address: str) -> bytes:
    """``0x02 ‖ rlp([...fields, yParity, r, s])``, refused unless the signature recovers to ``address``."""
    if y_parity not in (0, 1):
        raise SignerError(f"{device}: unexpected y parity {y_parity} in a type-2 signature")
    raw = eip1559_signed(tx, y_parity=y_parity, r=r, s=s)
    recovered = Account.recover_transaction(raw)
    if recovered != address:
        raise SignerError(f"{device}: signature recovers to {recovered}, not the device address {address}; "
                          "refusing to use it")
    return raw
