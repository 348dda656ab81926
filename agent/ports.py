"""The seams between the pure core and the outside world (typing.Protocol interfaces).

Adapters implement these; planning and strategies only ever see the data they return.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agent.models import UnsignedTx


@runtime_checkable
class Signer(Protocol):
    """Anything that can sign EIP-1559 transactions for one address.

    Implementations: local keystore, raw sandbox key, external JSON-RPC (Clef/Web3Signer), Ledger, Trezor.
    ``sign_transaction`` returns the raw signed transaction bytes (``0x02 ‖ rlp(...)``) ready for
    ``eth_sendRawTransaction``. Errors are raised as ``agent.errors.SignerError`` with a clear message.
    """

    @property
    def address(self) -> str:
        """The checksummed address this signer signs for."""
        ...

    def sign_transaction(self, tx: UnsignedTx) -> bytes:
        """Sign ``tx`` and return the raw signed transaction."""
        ...
