"""Trezor signer through trezorlib 0.20 (``get_address``, ``sign_tx_eip1559``), imported lazily.

The transport is any trezorlib ``Transport``: by default trezorlib finds the device (USB, or the
path in ``TREZOR_PATH`` such as ``udp:127.0.0.1:21324`` for an emulator or the simulator in
``agent.devtools.simulators.trezor_sim``). The device's standard wallet (no passphrase) is used.
Each signature is rebuilt into the raw type-2 transaction and checked to recover to the device
address before it is returned.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from eth_utils import to_checksum_address

from agent.errors import SignerError
from agent.models import UnsignedTx
from agent.signers.signed import verified_raw_transaction

log = logging.getLogger(__name__)

APP_NAME = "rebalancer"
ENV_TREZOR_PATH = "TREZOR_PATH"
_INSTALL_HINT = "install rebalancer[trezor]"
HARDENED = 0x80000000


@dataclass
class _Trezorlib:
    client: ModuleType
    ethereum: ModuleType
    exceptions: ModuleType
    transport: ModuleType


def _trezorlib() -> _Trezorlib:
    try:
        from trezorlib import client, ethereum, exceptions, transport
    except ImportError as exc:
        raise SignerError(f"Trezor support is not installed: {_INSTALL_HINT}") from exc
    return _Trezorlib(client=client, ethereum=ethereum, exceptions=exceptions, transport=transport)


def format_path(path: Sequence[int]) -> str:
    return "m/" + "/".join(f"{i - HARDENED}h" if i >= HARDENED else str(i) for i in path)


class _Interaction:
    """Device prompts during a call: PIN requests end the call (an unattended agent has no PIN)."""

    def __init__(self, exceptions: ModuleType) -> None:
        self._exceptions = exceptions
        self.pin_requested = False

    def on_pin(self, _request: object) -> str:
        self.pin_requested = True
        raise self._exceptions.Cancelled()  # trezorlib sends Cancel to the device, then re-raises

    def on_button(self, request: Any) -> None:
        log.info("Trezor: confirm on the device (%s)", getattr(request.code, "name", request.code))


@contextmanager
def _translated(tl: _Trezorlib, interaction: _Interaction, action: str) -> Iterator[None]:
    """Turn trezorlib errors into one-line ``SignerError``s."""
    exc_mod = tl.exceptions
    try:
        yield
    except SignerError:
        raise
    except exc_mod.Cancelled as exc:
        if interaction.pin_requested:
            interaction.pin_requested = False
            raise SignerError("Trezor: device is locked: unlock it with its PIN and retry") from exc
        raise SignerError(f"Trezor: {action} refused on device") from exc
    except exc_mod.PinException as exc:
        raise SignerError("Trezor: device is locked (PIN rejected): unlock it on the device and retry") from exc
    except exc_mod.OutdatedFirmwareError as exc:
        raise SignerError("Trezor: firmware is too old for trezorlib 0.20: update it with Trezor Suite") from exc
    except exc_mod.TrezorFailure as exc:
        raise SignerError(f"Trezor: {action} failed on device: {exc.message or exc.code}") from exc
    except tl.transport.TransportException as exc:
        raise SignerError(
            f"Trezor: no device reachable or connection lost ({exc}): plug it in, close Trezor Suite, "
            f"or set {ENV_TREZOR_PATH}"
        ) from exc
    except (exc_mod.TrezorException, OSError) as exc:
        raise SignerError(f"Trezor: {action} failed ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("usb1", "hid"):  # raw USB errors (unplugged)
            raise SignerError(f"Trezor: USB communication failed ({exc}): reconnect and retry") from exc
        raise


class TrezorSigner:
    """A :class:`agent.ports.Signer` backed by a Trezor (standard wallet, no passphrase).

    Build it with :meth:`connect` (an explicit trezorlib ``Transport`` or device path) or
    :meth:`open` (``TREZOR_PATH`` from ``env``); the address is read from the device on connect.
    """

    def __init__(self, tl: _Trezorlib, session: Any, path: Sequence[int], interaction: _Interaction) -> None:
        self._tl = tl
        self._session = session
        self._path = list(path)
        self._interaction = interaction
        self._lock = threading.Lock()
        with _translated(tl, interaction, "reading the address"):
            self._address: str = to_checksum_address(tl.ethereum.get_address(session, self._path))
        log.info("Trezor connected: path %s, address %s", format_path(self._path), self._address)

    @classmethod
    def connect(
        cls, path: Sequence[int], *, transport: Any | None = None, device_path: str | None = None
    ) -> TrezorSigner:
        tl = _trezorlib()
        interaction = _Interaction(tl.exceptions)
        with _translated(tl, interaction, "connecting"):
            if transport is None:
                transport = tl.transport.get_transport(device_path, prefix_search=True)
            client = tl.client.get_default_client(
                APP_NAME, transport, pin_callback=interaction.on_pin, button_callback=interaction.on_button
            )
            session = client.get_session(passphrase=tl.client.PassphraseSetting.STANDARD_WALLET)
        return cls(tl, session, path, interaction)

    @classmethod
    def open(cls, path: Sequence[int], *, env: Mapping[str, str]) -> TrezorSigner:
        return cls.connect(path, device_path=env.get(ENV_TREZOR_PATH) or None)

    @property
    def address(self) -> str:
        return self._address

    @property
    def path(self) -> tuple[int, ...]:
        return tuple(self._path)

    def show_address(self) -> str:
        """Display the address on the device for the user to compare; returns it once confirmed."""
        with self._lock, _translated(self._tl, self._interaction, "address confirmation"):
            shown = to_checksum_address(self._tl.ethereum.get_address(self._session, self._path, show_display=True))
        if shown != self._address:
            raise SignerError(f"Trezor: displayed address {shown} differs from {self._address}")
        return shown

    def sign_transaction(self, tx: UnsignedTx) -> bytes:
        log.info(
            "Trezor: confirm on device: chain_id=%d nonce=%d to=%s value_wei=%d data=%d bytes",
            tx.chain_id, tx.nonce, tx.to, tx.value_wei, len(tx.data),
        )
        with self._lock, _translated(self._tl, self._interaction, "transaction"):
            v, r, s = self._tl.ethereum.sign_tx_eip1559(
                self._session, self._path,
                nonce=tx.nonce, gas_limit=tx.gas, to=tx.to, value=tx.value_wei, data=tx.data,
                chain_id=tx.chain_id, max_gas_fee=tx.max_fee_per_gas_wei,
                max_priority_fee=tx.max_priority_fee_per_gas_wei,
            )
        y_parity = v - 27 if v in (27, 28) else v
        return verified_raw_transaction(tx, y_parity=y_parity, r=_int(r), s=_int(s), device="Trezor",
                                        address=self._address)

    def close(self) -> None:
        with self._lock:
            try:
                self._session.close()
                self._session.client.transport.close()
            except Exception as exc:  # closing must never mask the reason we are closing
                log.debug("closing the Trezor session failed: %s", exc)

    def __enter__(self) -> TrezorSigner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _int(value: bytes | int) -> int:
    return value if isinstance(value, int) else int.from_bytes(value, "big")
