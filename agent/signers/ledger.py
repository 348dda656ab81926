"""Ledger signer: the Ethereum app's APDUs over an :class:`ApduTransport` (USB HID or TCP).

Each signature is rebuilt into the raw type-2 transaction and checked to recover to the device's
address before it is returned, so a wrong parity, path or device can never be broadcast.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence

from agent.errors import SignerError
from agent.models import UnsignedTx
from agent.signers import ledger_apdu as apdu
from agent.signers.ledger_apdu import AppConfiguration, LedgerAddress, format_path
from agent.signers.ledger_transport import ApduTransport, open_ledger_transport
from agent.signers.signed import verified_raw_transaction

log = logging.getLogger(__name__)


class LedgerEthereumApp:
    """The three Ethereum-app commands, with status words turned into one-line ``SignerError``s."""

    def __init__(self, transport: ApduTransport) -> None:
        self.transport = transport

    def _exchange(self, command: bytes, *, action: str, has_calldata: bool = False) -> bytes:
        data, sw = self.transport.exchange(command)
        if sw != apdu.SW_OK:
            raise apdu.status_error(sw, action=action, has_calldata=has_calldata)
        return data

    def get_app_configuration(self) -> AppConfiguration:
        reply = self._exchange(apdu.get_app_configuration_apdu(), action="GET APP CONFIGURATION")
        return apdu.parse_app_configuration(reply)

    def get_address(
        self, path: Sequence[int], *, display: bool = False, chain_code: bool = False
    ) -> LedgerAddress:
        command = apdu.get_address_apdu(path, display=display, chain_code=chain_code)
        reply = self._exchange(command, action="address confirmation" if display else "GET ADDRESS")
        return apdu.parse_address_reply(reply, with_chain_code=chain_code)

    def sign(self, path: Sequence[int], payload: bytes, *, has_calldata: bool) -> tuple[int, int, int]:
        """Send ``payload`` in blocks; intermediate blocks answer 9000 and no data."""
        blocks = apdu.sign_apdus(path, payload)
        reply = b""
        for index, block in enumerate(blocks):
            reply = self._exchange(block, action="transaction", has_calldata=has_calldata)
            if index < len(blocks) - 1 and reply:
                raise SignerError(f"Ledger: unexpected data after block {index + 1} of {len(blocks)}")
        return apdu.parse_signature(reply)


class LedgerSigner:
    """A :class:`agent.ports.Signer` backed by a Ledger running the Ethereum app.

    Connecting reads the app configuration (which fails clearly if another app is open) and
    the address at ``path``. Use :meth:`open` to pick the transport from the environment.
    """

    def __init__(self, transport: ApduTransport, path: Sequence[int]) -> None:
        self._app = LedgerEthereumApp(transport)
        self._path = tuple(path)
        self._lock = threading.Lock()
        try:
            self.app_configuration = self._app.get_app_configuration()
            self._device_address = self._app.get_address(self._path)
        except Exception:
            transport.close()
            raise
        log.info(
            "Ledger connected: Ethereum app %s, path %s, address %s",
            self.app_configuration.version_str,
            format_path(self._path),
            self._device_address.address,
        )

    @classmethod
    def open(cls, path: Sequence[int], *, env: Mapping[str, str]) -> LedgerSigner:
        """Connect over TCP when ``LEDGER_PROXY_ADDRESS``/``PORT`` are set in ``env``, else USB HID."""
        return cls(open_ledger_transport(env), path)

    @property
    def address(self) -> str:
        return self._device_address.address

    @property
    def path(self) -> tuple[int, ...]:
        return self._path

    def show_address(self) -> str:
        """Ask the device to display the address for the user to compare; returns it once confirmed."""
        with self._lock:
            shown = self._app.get_address(self._path, display=True)
        if shown.address != self.address:
            raise SignerError(f"Ledger: displayed address {shown.address} differs from {self.address}")
        return shown.address

    def sign_transaction(self, tx: UnsignedTx) -> bytes:
        payload = apdu.eip1559_payload(tx)
        log.info(
            "Ledger: confirm on device: chain_id=%d nonce=%d to=%s value_wei=%d data=%d bytes",
            tx.chain_id, tx.nonce, tx.to, tx.value_wei, len(tx.data),
        )
        with self._lock:
            y_parity, r, s = self._app.sign(self._path, payload, has_calldata=bool(tx.data))
        return verified_raw_transaction(tx, y_parity=y_parity, r=r, s=s, device="Ledger", address=self.address)

    def close(self) -> None:
        with self._lock:
            self._app.transport.close()

    def __enter__(self) -> LedgerSigner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
