"""A Ledger Ethereum-app simulator at the APDU level, backed by a BIP-39 test mnemonic.

Implements GET ETH PUBLIC ADDRESS (INS 02), SIGN ETH TRANSACTION (INS 04, EIP-1559 payloads,
real block reassembly: the end of the payload is found from its RLP header, as the app does)
and GET APP CONFIGURATION (INS 06), answering real status words. Switches simulate the user
refusing, a locked device, another app being open, an app without EIP-1559 support and Blind
signing being off.

Use it directly as an ``ApduTransport`` (``exchange``/``close``), or over TCP with the Speculos
framing via :meth:`LedgerSimulator.serve_tcp`; ``python -m agent.devtools.simulators.ledger_sim``
runs that server in the foreground.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Sequence

import rlp
from eth_keys import keys
from eth_utils import keccak

from agent.devtools.simulators import TEST_MNEMONIC
from agent.devtools.simulators.hd import HARDENED, HDWallet
from agent.devtools.simulators.standalone import serve_until_interrupted

log = logging.getLogger(__name__)

DEFAULT_PATH = (44 | HARDENED, 60 | HARDENED, HARDENED, 0, 0)
SW_OK = 0x9000
SW_TX_TYPE_NOT_SUPPORTED = 0x6501
SW_WRONG_LENGTH = 0x6700
SW_LOCKED = 0x6982
SW_REFUSED = 0x6985
SW_INVALID_DATA = 0x6A80
SW_WRONG_P1_P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00

Reply = tuple[bytes, int]


class LedgerSimulator:
    """The Ethereum app of a Ledger, holding the keys of ``mnemonic``.

    Switches (plain attributes, change them any time): ``refuse`` (the user rejects on device),
    ``locked`` (answers 6982), ``wrong_app`` (answers ``wrong_app_status``, 6D00 by default),
    ``supports_eip1559`` (False answers 6501), ``blind_signing`` (False answers 6A80 to calldata).
    ``received`` records every command APDU in order.
    """

    def __init__(
        self,
        mnemonic: str = TEST_MNEMONIC,
        *,
        version: tuple[int, int, int] = (1, 10, 4),
        blind_signing: bool = True,
    ) -> None:
        self._wallet = HDWallet(mnemonic)
        self.version = version
        self.blind_signing = blind_signing
        self.refuse = False
        self.locked = False
        self.wrong_app = False
        self.wrong_app_status = SW_INS_NOT_SUPPORTED
        self.supports_eip1559 = True
        self.received: list[bytes] = []
        self.signed_payloads: list[bytes] = []
        self._sign_path: tuple[int, ...] | None = None
        self._sign_buffer = bytearray()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LedgerSimulator(address={self.address()})"

    def address(self, path: Sequence[int] = DEFAULT_PATH) -> str:
        return self._wallet.node(path).address

    # -- the transport seam -------------------------------------------------------------
    def exchange(self, apdu: bytes) -> Reply:
        with self._lock:
            self.received.append(bytes(apdu))
            data, sw = self._dispatch(bytes(apdu))
        log.debug("ledger-sim <= %s => %s %04x", apdu.hex(), data.hex(), sw)
        return data, sw

    def close(self) -> None:
        """Nothing to release: the seam's ``close``."""

    def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> LedgerTcpServer:
        """Serve this simulator over TCP with the Speculos framing (port 0: pick a free port)."""
        return LedgerTcpServer(self, host, port)

    # -- APDU dispatch --------------------------------------------------------------------
    def _dispatch(self, apdu: bytes) -> Reply:
        if len(apdu) < 5 or apdu[4] != len(apdu) - 5:
            return b"", SW_WRONG_LENGTH
        cla, ins, p1, p2 = apdu[:4]
        data = apdu[5:]
        if self.locked:
            return b"", SW_LOCKED
        if self.wrong_app:
            return b"", self.wrong_app_status
        if cla != 0xE0:
            return b"", SW_CLA_NOT_SUPPORTED
        if ins == 0x06:
            return self._app_configuration(p1, p2)
        if ins == 0x02:
            return self._get_address(p1, p2, data)
        if ins == 0x04:
            reply, sw = self._sign_block(p1, p2, data)
            if sw != SW_OK or reply:  # refused, failed or signed: the signing session is over
                self._reset_sign()
            return reply, sw
        return b"", SW_INS_NOT_SUPPORTED

    def _app_configuration(self, p1: int, p2: int) -> Reply:
        if p1 or p2:
            return b"", SW_WRONG_P1_P2
        return bytes([0x01 if self.blind_signing else 0x00, *self.version]), SW_OK

    def _get_address(self, p1: int, p2: int, data: bytes) -> Reply:
        if p1 not in (0, 1) or p2 not in (0, 1):
            return b"", SW_WRONG_P1_P2
        path, rest = _parse_path(data)
        if path is None or len(rest) not in (0, 8):  # optional 8-byte chain id
            return b"", SW_INVALID_DATA
        if p1 == 1 and self.refuse:
            return b"", SW_REFUSED
        node = self._wallet.node(path)
        pubkey = b"\x04" + node.public_key.to_bytes()
        ascii_address = node.address[2:].encode("ascii")
        reply = bytes([len(pubkey)]) + pubkey + bytes([len(ascii_address)]) + ascii_address
        if p2 == 1:
            reply += node.chain_code
        return reply, SW_OK

    # -- SIGN: block reassembly -----------------------------------------------------------
    def _reset_sign(self) -> None:
        self._sign_path = None
        self._sign_buffer = bytearray()

    def _sign_block(self, p1: int, p2: int, data: bytes) -> Reply:
        if p2 != 0 or p1 not in (0x00, 0x80):
            return b"", SW_WRONG_P1_P2
        if p1 == 0x00:
            self._reset_sign()
            path, rest = _parse_path(data)
            if path is None:
                return b"", SW_INVALID_DATA
            self._sign_path = path
            self._sign_buffer.extend(rest)
        elif self._sign_path is None:
            return b"", SW_INVALID_DATA  # a continuation block without a first block
        else:
            self._sign_buffer.extend(data)
        return self._progress()

    def _progress(self) -> Reply:
        buf = bytes(self._sign_buffer)
        if not buf:
            return b"", SW_INVALID_DATA
        if buf[0] != 0x02 or not self.supports_eip1559:
            return b"", SW_TX_TYPE_NOT_SUPPORTED  # this simulator only signs type-2 payloads
        if len(buf) > 1 and buf[1] < 0xC0:
            return b"", SW_INVALID_DATA  # the transaction must be an RLP list
        total = _rlp_list_length(buf[1:])
        if total is None or 1 + total > len(buf):
            return b"", SW_OK  # wait for the next block
        if 1 + total < len(buf):
            return b"", SW_INVALID_DATA  # bytes after the end of the transaction
        return self._finish(buf)

    def _finish(self, payload: bytes) -> Reply:
        try:
            fields = rlp.decode(payload[1:])
        except rlp.DecodingError:
            return b"", SW_INVALID_DATA
        if not isinstance(fields, list) or len(fields) != 9 or not isinstance(fields[8], list):
            return b"", SW_INVALID_DATA
        if fields[7] and not self.blind_signing:
            return b"", SW_INVALID_DATA
        if self.refuse:
            return b"", SW_REFUSED
        assert self._sign_path is not None
        key = keys.PrivateKey(self._wallet.node(self._sign_path).private_key)
        signature = key.sign_msg_hash(keccak(payload))
        self.signed_payloads.append(payload)
        reply = bytes([signature.v]) + signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big")
        return reply, SW_OK


def _parse_path(data: bytes) -> tuple[tuple[int, ...] | None, bytes]:
    if not data or not 1 <= data[0] <= 10 or len(data) < 1 + 4 * data[0]:
        return None, b""
    count = data[0]
    path = tuple(int.from_bytes(data[1 + 4 * i : 5 + 4 * i], "big") for i in range(count))
    return path, data[1 + 4 * count :]


def _rlp_list_length(buf: bytes) -> int | None:
    """Total encoded length of the RLP list starting ``buf``, or None until enough header arrived."""
    if not buf:
        return None
    head = buf[0]
    if head <= 0xF7:
        return 1 + head - 0xC0
    size_len = head - 0xF7
    if len(buf) < 1 + size_len:
        return None
    return 1 + size_len + int.from_bytes(buf[1 : 1 + size_len], "big")


class LedgerTcpServer:
    """Speculos-framed TCP server for a :class:`LedgerSimulator`, on a background thread.

    ``drop_after_apdus``: close every connection after that many APDUs were received in total,
    without answering the last one (a cable pulled mid-sign).
    """

    def __init__(self, simulator: LedgerSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self.drop_after_apdus: int | None = None
        self._count = 0
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.05)  # lets the accept loop notice close()
        self.host, self.port = self._listener.getsockname()[:2]
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        self._guard = threading.Lock()
        self._accepter = threading.Thread(target=self._accept_loop, name="ledger-sim-tcp", daemon=True)
        self._accepter.start()

    @property
    def env(self) -> dict[str, str]:
        """The variables that point the Ledger signer (and ledgerblue) at this server."""
        return {"LEDGER_PROXY_ADDRESS": self.host, "LEDGER_PROXY_PORT": str(self.port)}

    def banner(self) -> list[str]:
        """Where it listens, and the variables to export (the standalone simulator prints them)."""
        return [f"Ledger simulator on {self.host}:{self.port}, address {self.simulator.address()} (test mnemonic)",
                f"export LEDGER_PROXY_ADDRESS={self.host} LEDGER_PROXY_PORT={self.port}"]

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._guard:
                self._conns.add(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            while True:
                header = _recv_exact(conn, 4)
                if header is None:
                    return
                apdu = _recv_exact(conn, struct.unpack(">I", header)[0])
                if apdu is None:
                    return
                with self._guard:
                    self._count += 1
                    drop = self.drop_after_apdus is not None and self._count >= self.drop_after_apdus
                if drop:
                    return
                data, sw = self.simulator.exchange(apdu)
                conn.sendall(struct.pack(">I", len(data)) + data + struct.pack(">H", sw))
        except OSError:
            return
        finally:
            with self._guard:
                self._conns.discard(conn)
            conn.close()

    def close(self) -> None:
        self._closed.set()
        self._accepter.join(timeout=5)
        self._listener.close()
        with self._guard:
            for conn in list(self._conns):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> LedgerTcpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        part = conn.recv(n - len(buf))
        if not part:
            return None
        buf.extend(part)
    return bytes(buf)


def main(argv: Sequence[str] | None = None) -> None:
    serve_until_interrupted(argv, description="Ledger Ethereum-app simulator (Speculos TCP framing)",
                            default_port=9999, start=lambda host, port: LedgerSimulator().serve_tcp(host, port))


if __name__ == "__main__":
    main()
