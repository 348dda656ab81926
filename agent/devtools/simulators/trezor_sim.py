"""A Trezor simulator speaking wire protocol v1 (64-byte HID-style chunks, protobuf), test keys only.

Frames are built and reassembled here from the protocol (first chunk ``?##`` + u16 type + u32
length, continuation chunks ``?``); message bodies use trezorlib's protobuf classes. It answers
what trezorlib 0.20 sends to open a session and to use Ethereum: Cancel (the v1 probe),
Initialize, GetFeatures, GetPublicKey (root fingerprint), Ping, EndSession, EthereumGetAddress
and EthereumSignTxEIP1559 with ButtonRequest/ButtonAck confirmations and EthereumTxRequest/
EthereumTxAck streaming of calldata in 1024-byte pieces.

Switches: ``refuse`` (the user cancels on device), ``locked`` (PIN required: PinMatrixRequest;
the right ``pin`` unlocks). Plug it into trezorlib with :class:`SimulatorTransport`, or serve
it over UDP like the Trezor emulator (:meth:`TrezorSimulator.serve_udp`, path ``udp:HOST:PORT``).
Importing this module needs trezorlib (``rebalancer[trezor]``).
"""

from __future__ import annotations

import logging
import secrets
import socket
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any

from eth_account.typed_transactions import TypedTransaction
from eth_keys import keys
from trezorlib import messages as m
from trezorlib.mapping import DEFAULT_MAPPING
from trezorlib.protobuf import MessageType
from trezorlib.transport import Timeout, Transport

from agent.devtools.simulators import TEST_MNEMONIC
from agent.devtools.simulators.hd import HARDENED, HDWallet
from agent.devtools.simulators.standalone import serve_until_interrupted

log = logging.getLogger(__name__)

CHUNK = 64
DEFAULT_PATH = (44 | HARDENED, 60 | HARDENED, HARDENED, 0, 0)
DATA_PIECE = 1024
_HEADER = struct.Struct(">HL")


def encode_frames(msg_type: int, payload: bytes) -> list[bytes]:
    """Protocol v1: ``?##`` + u16 type + u32 length + payload, cut into ``?``-prefixed 64-byte chunks."""
    stream = b"##" + _HEADER.pack(msg_type, len(payload)) + payload
    return [(b"?" + stream[i : i + CHUNK - 1]).ljust(CHUNK, b"\x00") for i in range(0, len(stream), CHUNK - 1)]


class FrameReassembler:
    """Collects 64-byte chunks until a whole message has arrived."""

    def __init__(self) -> None:
        self._type: int | None = None
        self._length = 0
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> tuple[int, bytes] | None:
        if len(chunk) != CHUNK or chunk[:1] != b"?":
            raise ValueError(f"bad protocol-v1 chunk: {chunk[:8].hex()}")
        if self._type is None:
            if chunk[1:3] != b"##":
                raise ValueError("first chunk of a message lacks '?##'")
            self._type, self._length = _HEADER.unpack(chunk[3:9])
            self._buffer = bytearray(chunk[9:])
        else:
            self._buffer.extend(chunk[1:])
        if len(self._buffer) < self._length:
            return None
        message = (self._type, bytes(self._buffer[: self._length]))
        self._type = None
        return message


Handler = Callable[[Any], MessageType]


class TrezorSimulator:
    """A Trezor (model T, firmware 2.8) holding the keys of ``mnemonic``."""

    def __init__(self, mnemonic: str = TEST_MNEMONIC, *, pin: str | None = None, locked: bool = False) -> None:
        self._wallet = HDWallet(mnemonic)
        self.pin = pin
        self.locked = locked
        self.refuse = False
        self.chunks_in: list[bytes] = []
        self.chunks_out: list[bytes] = []
        self.received: list[str] = []  # message names, in order
        self.button_requests = 0
        self._outbox: list[bytes] = []
        self._reassembler = FrameReassembler()
        self._waiting: tuple[type[MessageType], Handler] | None = None
        self._session_id = secrets.token_bytes(32)
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"TrezorSimulator(locked={self.locked}, refuse={self.refuse})"

    def address(self, path: Sequence[int] = DEFAULT_PATH) -> str:
        return self._wallet.node(path).address

    # -- wire level -----------------------------------------------------------------------
    def write_chunk(self, chunk: bytes) -> None:
        with self._guard:
            self.chunks_in.append(bytes(chunk))
            whole = self._reassembler.feed(bytes(chunk))
            if whole is None:
                return
            msg = DEFAULT_MAPPING.decode(*whole)
            self.received.append(type(msg).__name__)
            reply = self._handle(msg)
            log.debug("trezor-sim: %s -> %s", type(msg).__name__, type(reply).__name__)
            frames = encode_frames(*DEFAULT_MAPPING.encode(reply))
            self.chunks_out.extend(frames)
            self._outbox.extend(frames)

    def read_chunk(self) -> bytes | None:
        with self._guard:
            return self._outbox.pop(0) if self._outbox else None

    def serve_udp(self, host: str = "127.0.0.1", port: int = 0) -> TrezorUdpServer:
        return TrezorUdpServer(self, host, port)

    # -- message level --------------------------------------------------------------------
    def _handle(self, msg: Any) -> MessageType:
        if isinstance(msg, m.Cancel):
            self._waiting = None
            return m.Failure(code=m.FailureType.ActionCancelled, message="Cancelled")
        if self._waiting is not None:
            expected, then = self._waiting
            self._waiting = None
            if isinstance(msg, expected):
                return then(msg)
            return _failure(m.FailureType.UnexpectedMessage, "Unexpected message")
        handler = self._handlers().get(type(msg))
        if handler is None:
            return _failure(m.FailureType.UnexpectedMessage, "Unexpected message")
        return handler(msg)

    def _handlers(self) -> dict[type[MessageType], Handler]:
        return {
            m.Initialize: self._initialize,
            m.GetFeatures: lambda _msg: self._features(),
            m.Ping: lambda msg: m.Success(message=msg.message),
            m.EndSession: lambda _msg: m.Success(),
            m.GetPublicKey: lambda msg: self._unlocked(lambda: self._public_key(msg)),
            m.EthereumGetAddress: lambda msg: self._unlocked(lambda: self._get_address(msg)),
            m.EthereumSignTxEIP1559: lambda msg: self._unlocked(lambda: self._sign_start(msg)),
        }

    def _expect(self, expected: type[MessageType], then: Handler) -> None:
        self._waiting = (expected, then)

    def _initialize(self, msg: Any) -> MessageType:
        if msg.session_id != self._session_id:
            self._session_id = secrets.token_bytes(32)
        return self._features()

    def _features(self) -> m.Features:
        return m.Features(
            vendor="trezor.io", major_version=2, minor_version=8, patch_version=1,
            model="T", internal_model="T2T1", device_id="REBALANCERSIM0001", label="rebalancer simulator",
            initialized=True, bootloader_mode=False, pin_protection=self.pin is not None,
            passphrase_protection=False, unlocked=not self.locked, session_id=self._session_id,
            capabilities=[m.Capability.Bitcoin, m.Capability.Crypto, m.Capability.Ethereum],
        )

    def _unlocked(self, then: Callable[[], MessageType]) -> MessageType:
        if not self.locked:
            return then()

        def on_pin(ack: Any) -> MessageType:
            if self.pin is None or ack.pin != self.pin:
                return _failure(m.FailureType.PinInvalid, "PIN invalid")
            self.locked = False
            return then()

        self._expect(m.PinMatrixAck, on_pin)
        return m.PinMatrixRequest(type=m.PinMatrixRequestType.Current)

    def _confirm(self, codes: list[m.ButtonRequestType], then: Callable[[], MessageType]) -> MessageType:
        """One ButtonRequest per screen; the user presses confirm (or cancel when ``refuse``)."""
        if not codes:
            if self.refuse:
                return _failure(m.FailureType.ActionCancelled, "Cancelled")
            return then()
        self.button_requests += 1
        self._expect(m.ButtonAck, lambda _ack: self._confirm(codes[1:], then))
        return m.ButtonRequest(code=codes[0])

    def _public_key(self, msg: Any) -> MessageType:
        node = self._wallet.node(msg.address_n)
        hd = m.HDNodeType(
            depth=node.depth, fingerprint=node.parent_fingerprint, child_num=node.child_num,
            chain_code=node.chain_code, public_key=node.compressed_public_key,
        )
        return m.PublicKey(node=hd, xpub=node.xpub(), root_fingerprint=self._wallet.node([]).fingerprint)

    def _get_address(self, msg: Any) -> MessageType:
        address = self._wallet.node(msg.address_n).address

        def reply() -> MessageType:
            return m.EthereumAddress(address=address)

        return self._confirm([m.ButtonRequestType.Address], reply) if msg.show_display else reply()

    # -- EthereumSignTxEIP1559 ------------------------------------------------------------
    def _sign_start(self, msg: Any) -> MessageType:
        first = bytes(msg.data_initial_chunk or b"")
        if len(first) > DATA_PIECE or len(first) > msg.data_length:
            return _failure(m.FailureType.DataError, "Invalid size of initial chunk")
        if msg.access_list:
            return _failure(m.FailureType.DataError, "Access lists are not supported by this simulator")
        state = {"msg": msg, "data": bytearray(first)}
        screens = [m.ButtonRequestType.SignTx, m.ButtonRequestType.SignTx]  # recipient+amount, fees
        return self._confirm(screens, lambda: self._stream(state))

    def _stream(self, state: dict[str, Any]) -> MessageType:
        msg, data = state["msg"], state["data"]
        remaining = msg.data_length - len(data)
        if remaining > 0:
            def on_ack(ack: Any) -> MessageType:
                if len(ack.data_chunk) != min(DATA_PIECE, remaining):
                    return _failure(m.FailureType.DataError, "Invalid data chunk")
                data.extend(ack.data_chunk)
                return self._stream(state)

            self._expect(m.EthereumTxAck, on_ack)
            return m.EthereumTxRequest(data_length=min(DATA_PIECE, remaining))
        return self._sign(msg, bytes(data))

    def _sign(self, msg: Any, data: bytes) -> MessageType:
        fields = {
            "type": 2, "chainId": msg.chain_id, "nonce": _int(msg.nonce), "to": msg.to or b"",
            "value": _int(msg.value), "data": data, "gas": _int(msg.gas_limit),
            "maxFeePerGas": _int(msg.max_gas_fee), "maxPriorityFeePerGas": _int(msg.max_priority_fee),
            "accessList": [],
        }
        try:
            digest = TypedTransaction.from_dict(fields).hash()
        except (TypeError, ValueError) as exc:
            return _failure(m.FailureType.DataError, f"Invalid transaction: {exc}")
        key = keys.PrivateKey(self._wallet.node(msg.address_n).private_key)
        sig = key.sign_msg_hash(digest)
        return m.EthereumTxRequest(
            signature_v=sig.v, signature_r=sig.r.to_bytes(32, "big"), signature_s=sig.s.to_bytes(32, "big")
        )


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _failure(code: m.FailureType, message: str) -> m.Failure:
    return m.Failure(code=code, message=message)


class SimulatorTransport(Transport):
    """A trezorlib ``Transport`` whose chunks go straight to a :class:`TrezorSimulator`."""

    PATH_PREFIX = "sim"
    CHUNK_SIZE = CHUNK
    ENABLED = False  # never picked by trezorlib's own enumeration

    def __init__(self, simulator: TrezorSimulator) -> None:
        self.simulator = simulator
        self._is_open = False
        super().__init__()

    def get_path(self) -> str:
        return "sim:trezor"

    def is_open(self) -> bool:
        return self._is_open

    def _open(self) -> None:
        self._is_open = True

    def _close(self) -> None:
        self._is_open = False

    def write_chunk(self, chunk: bytes, /) -> None:
        self.simulator.write_chunk(chunk)

    def read_chunk(self, *, timeout: float | None = None) -> bytes:
        chunk = self.simulator.read_chunk()
        if chunk is None:  # the device answers synchronously: nothing queued means nothing to say
            raise Timeout("simulator has no pending chunk")
        return chunk


class TrezorUdpServer:
    """Serves a :class:`TrezorSimulator` over UDP as the Trezor emulator does (PINGPING/PONGPONG)."""

    def __init__(self, simulator: TrezorSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.1)
        self.host, self.port = self._sock.getsockname()[:2]
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="trezor-sim-udp", daemon=True)
        self._thread.start()

    @property
    def path(self) -> str:
        """The trezorlib device path (``TREZOR_PATH``) of this server."""
        return f"udp:{self.host}:{self.port}"

    def banner(self) -> list[str]:
        """Its device path and address, and the variable to export (the standalone simulator prints them)."""
        return [f"Trezor simulator on {self.path}, m/44h/60h/0h/0/0 is {self.simulator.address()} (test mnemonic)",
                f"export TREZOR_PATH={self.path}"]

    def _loop(self) -> None:
        while not self._closed.is_set():
            try:
                packet, peer = self._sock.recvfrom(CHUNK)
            except TimeoutError:
                continue
            except OSError:
                return
            if packet == b"PINGPING":
                self._sock.sendto(b"PONGPONG", peer)
                continue
            try:
                self.simulator.write_chunk(packet)
            except ValueError as exc:
                log.warning("trezor-sim: dropped a malformed packet: %s", exc)
                continue
            while (chunk := self.simulator.read_chunk()) is not None:
                self._sock.sendto(chunk, peer)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> TrezorUdpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: list[str] | None = None) -> None:
    serve_until_interrupted(argv, description="Trezor wire-protocol-v1 simulator over UDP (emulator-style)",
                            default_port=21324, start=lambda host, port: TrezorSimulator().serve_udp(host, port))


if __name__ == "__main__":
    main()
