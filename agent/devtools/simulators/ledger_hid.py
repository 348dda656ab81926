"""The Ledger simulator behind USB HID framing, as a stand-in for the ``hid`` (hidapi) module.

HID framing (from the Ledger transport spec): 64-byte packets, each ``channel 0101 ‖ tag 05 ‖
u16 sequence``; the first packet of a message then carries the u16 length of the APDU (commands)
or of ``data ‖ sw`` (responses). Hosts write a 65-byte report (report id 0 first).

:class:`FakeHidModule` offers the slice of hidapi's API that ``ledgercomm`` uses (``enumerate``,
``device`` with ``open_path``/``set_nonblocking``/``write``/``read``/``close``), so ledgercomm's
real HID code path runs against the simulator. ``unplugged = True`` makes I/O fail like a
removed device.
"""

from __future__ import annotations

from typing import Any

from agent.devtools.simulators.ledger_sim import LedgerSimulator

PACKET = 64
CHANNEL = b"\x01\x01"
TAG_APDU = 0x05


def frame_hid(message: bytes) -> list[bytes]:
    """Cut ``message`` into 64-byte HID packets (u16 length prefix in the first one)."""
    stream = len(message).to_bytes(2, "big") + message
    body = PACKET - 5
    packets = []
    for seq, start in enumerate(range(0, len(stream), body)):
        header = CHANNEL + bytes([TAG_APDU]) + seq.to_bytes(2, "big")
        packets.append((header + stream[start : start + body]).ljust(PACKET, b"\x00"))
    return packets


class LedgerHidDevice:
    """One opened HID device: reassembles command packets, answers with response packets."""

    def __init__(self, simulator: LedgerSimulator) -> None:
        self.simulator = simulator
        self.unplugged = False
        self.packets_in: list[bytes] = []
        self._buffer = bytearray()
        self._expected: int | None = None
        self._next_seq = 0
        self._outbox: list[bytes] = []

    # hidapi's device API ----------------------------------------------------------------
    def open_path(self, path: bytes) -> None:
        if self.unplugged:
            raise OSError("open failed")

    def set_nonblocking(self, flag: bool | int) -> int:
        return 0

    def write(self, report: bytes | list[int]) -> int:
        if self.unplugged:
            raise OSError("write error")
        packet = bytes(report)[1:]  # drop the report id
        if len(packet) != PACKET:
            packet = packet.ljust(PACKET, b"\x00")
        self.packets_in.append(packet)
        self._feed(packet)
        return len(report)

    def read(self, max_length: int, timeout_ms: int = 0) -> list[int]:
        if self.unplugged:
            raise OSError("read error")
        if not self._outbox:
            return []
        return list(self._outbox.pop(0)[:max_length])

    def close(self) -> None:
        pass

    # framing --------------------------------------------------------------------------
    def _feed(self, packet: bytes) -> None:
        if packet[:2] != CHANNEL or packet[2] != TAG_APDU:
            raise OSError(f"bad HID packet header {packet[:5].hex()}")
        seq = int.from_bytes(packet[3:5], "big")
        if seq != self._next_seq:
            raise OSError(f"HID sequence {seq}, expected {self._next_seq}")
        if seq == 0:
            self._expected = int.from_bytes(packet[5:7], "big")
            self._buffer = bytearray(packet[7:])
        else:
            self._buffer.extend(packet[5:])
        self._next_seq += 1
        assert self._expected is not None
        if len(self._buffer) >= self._expected:
            apdu = bytes(self._buffer[: self._expected])
            self._next_seq, self._expected = 0, None
            data, sw = self.simulator.exchange(apdu)
            self._outbox.extend(frame_hid(data + sw.to_bytes(2, "big")))


class FakeHidModule:
    """Replaces the ``hid`` module for ledgercomm: one Ledger (vendor 0x2c97) backed by the simulator."""

    def __init__(self, simulator: LedgerSimulator) -> None:
        self.simulator = simulator
        self.opened: list[LedgerHidDevice] = []
        self.present = True

    def enumerate(self, vendor_id: int = 0, product_id: int = 0) -> list[dict[str, Any]]:
        if not self.present or vendor_id not in (0, 0x2C97):
            return []
        return [{"path": b"sim-ledger", "vendor_id": 0x2C97, "interface_number": 0, "usage_page": 0xFFA0}]

    def device(self) -> LedgerHidDevice:
        dev = LedgerHidDevice(self.simulator)
        self.opened.append(dev)
        return dev
