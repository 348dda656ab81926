"""Ways to reach a Ledger: the APDU transport seam, USB HID (ledgercomm) and TCP (Speculos framing).

Selection follows ledgerblue: when ``LEDGER_PROXY_ADDRESS`` and ``LEDGER_PROXY_PORT`` are set,
APDUs go over TCP to that proxy (Speculos, ledgerblue's proxy, or the simulator in
``agent.devtools.simulators.ledger_sim``); otherwise over USB HID.

TCP framing: ``>I len ‖ APDU`` out; ``>I len(data) ‖ data ‖ >H sw`` back.
"""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from agent.errors import ConfigError, SignerError

log = logging.getLogger(__name__)

ENV_PROXY_ADDRESS = "LEDGER_PROXY_ADDRESS"
ENV_PROXY_PORT = "LEDGER_PROXY_PORT"
#: A signature waits for a person to press buttons; give them time.
DEFAULT_TIMEOUT_S = 300.0
_INSTALL_HINT = "install rebalancer[ledger] (and hidapi for USB: pip install 'ledgercomm[hid]')"


@runtime_checkable
class ApduTransport(Protocol):
    """Sends one command APDU and returns ``(response_data, status_word)``."""

    def exchange(self, apdu: bytes) -> tuple[bytes, int]: ...

    def close(self) -> None: ...


class TcpApduTransport:
    """APDUs over TCP with the Speculos / ledgerblue proxy framing."""

    def __init__(self, host: str, port: int, *, timeout_s: float | None = DEFAULT_TIMEOUT_S) -> None:
        self.host, self.port = host, port
        try:
            self._sock: socket.socket | None = socket.create_connection((host, port), timeout=10.0)
        except OSError as exc:
            raise SignerError(
                f"Ledger: no device found at {ENV_PROXY_ADDRESS}={host} {ENV_PROXY_PORT}={port} ({exc}): "
                "start Speculos or the proxy, or unset both to use USB"
            ) from exc
        self._sock.settimeout(timeout_s)

    def __repr__(self) -> str:
        return f"TcpApduTransport({self.host}:{self.port})"

    def exchange(self, apdu: bytes) -> tuple[bytes, int]:
        if self._sock is None:
            raise SignerError("Ledger: the TCP transport is closed")
        try:
            self._sock.sendall(struct.pack(">I", len(apdu)) + apdu)
            (length,) = struct.unpack(">I", self._recv_exact(4))
            data = self._recv_exact(length)
            (sw,) = struct.unpack(">H", self._recv_exact(2))
        except TimeoutError as exc:
            raise SignerError(f"Ledger: no answer from {self.host}:{self.port} in time; retry") from exc
        except OSError as exc:
            raise SignerError(
                f"Ledger: connection to {self.host}:{self.port} lost ({exc}): reconnect the device and retry"
            ) from exc
        return data, sw

    def _recv_exact(self, n: int) -> bytes:
        assert self._sock is not None
        buf = bytearray()
        while len(buf) < n:
            part = self._sock.recv(n - len(buf))
            if not part:
                raise ConnectionResetError("closed by peer")
            buf.extend(part)
        return bytes(buf)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class HidApduTransport:
    """APDUs over USB HID through ``ledgercomm`` (64-byte packets, channel 0101, tag 05)."""

    def __init__(self, *, _ledgercomm: Any = None) -> None:
        module = _ledgercomm if _ledgercomm is not None else _import_ledgercomm()
        try:
            self._transport: Any = module.Transport(interface="hid")
        except ImportError as exc:  # ledgercomm without the `hid` package
            raise SignerError(f"Ledger: USB HID support is missing: {_INSTALL_HINT}") from exc
        except Exception as exc:  # ledgercomm raises bare Exception subclasses / OSError here
            raise SignerError(
                f"Ledger: no device found over USB ({type(exc).__name__}: {exc}): plug it in, unlock it "
                "and close Ledger Live"
            ) from exc

    def exchange(self, apdu: bytes) -> tuple[bytes, int]:
        try:
            sw, data = self._transport.exchange_raw(apdu)
        except (OSError, ValueError, AssertionError) as exc:
            raise SignerError(
                f"Ledger: USB communication failed ({type(exc).__name__}: {exc}): was the device "
                "unplugged? reconnect it and retry"
            ) from exc
        return bytes(data), int(sw)

    def close(self) -> None:
        try:
            self._transport.close()
        except OSError as exc:  # already gone (unplugged)
            log.debug("closing the Ledger HID transport failed: %s", exc)


def _import_ledgercomm() -> Any:
    try:
        import ledgercomm
    except ImportError as exc:
        raise SignerError(f"Ledger support is not installed: {_INSTALL_HINT}") from exc
    return ledgercomm


def proxy_from_env(env: Mapping[str, str]) -> tuple[str, int] | None:
    """``(host, port)`` when both proxy variables are set, ``None`` when neither is."""
    host = env.get(ENV_PROXY_ADDRESS, "").strip()
    port_text = env.get(ENV_PROXY_PORT, "").strip()
    if not host and not port_text:
        return None
    if not host or not port_text:
        raise ConfigError(
            f"{ENV_PROXY_ADDRESS} and {ENV_PROXY_PORT} go together: set both (e.g. 127.0.0.1 and 9999) "
            "or neither (USB)"
        )
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"{ENV_PROXY_PORT}={port_text!r} is not a TCP port: use a number from 1 to 65535")
    return host, int(port_text)


def open_ledger_transport(env: Mapping[str, str]) -> ApduTransport:
    """TCP when ``LEDGER_PROXY_ADDRESS``/``LEDGER_PROXY_PORT`` are set, else USB HID."""
    proxy = proxy_from_env(env)
    if proxy is not None:
        log.info("Ledger: using the APDU proxy at %s:%d", *proxy)
        return TcpApduTransport(*proxy)
    return HidApduTransport()
