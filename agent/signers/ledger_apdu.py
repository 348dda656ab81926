"""Ledger Ethereum app: APDU encoding/decoding and status words (pure; no I/O).

From the Ethereum app spec (LedgerHQ app-ethereum ``doc/ethapp.adoc``):
GET ETH PUBLIC ADDRESS (INS 02), SIGN ETH TRANSACTION (INS 04), GET APP CONFIGURATION (INS 06).
Only EIP-1559 (type 2) transactions are built here: legacy chunking can make the device sign
without the chain id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import rlp
from eth_utils import to_checksum_address

from agent.errors import SignerError
from agent.models import UnsignedTx

CLA = 0xE0
INS_GET_ADDRESS = 0x02
INS_SIGN = 0x04
INS_GET_APP_CONFIGURATION = 0x06
P1_FIRST_BLOCK = 0x00
P1_MORE_BLOCKS = 0x80
MAX_BLOCK_LEN = 255
MAX_PATH_STEPS = 10
HARDENED = 0x80000000
EIP1559_TX_TYPE = 0x02

SW_OK = 0x9000
SW_REFUSED = 0x6985
SW_LOCKED = 0x6982
SW_LOCKED_OS = 0x5515  # newer firmware: device locked
SW_INVALID_DATA = 0x6A80
SW_WRONG_P1_P2 = 0x6B00
SW_WRONG_LENGTH = 0x6700
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_TX_TYPE_NOT_SUPPORTED = 0x6501
SW_APP_NOT_OPEN = (0x6511, 0x6E01)  # dashboard answers on some firmware versions

APP_FLAG_BLIND_SIGNING = 0x01  # "arbitrary data" / Blind signing enabled in the app settings


@dataclass(frozen=True)
class LedgerAddress:
    public_key: bytes  # 65-byte uncompressed
    address: str  # EIP-55
    chain_code: bytes | None = None


@dataclass(frozen=True)
class AppConfiguration:
    flags: int
    version: tuple[int, int, int]

    @property
    def blind_signing_enabled(self) -> bool:
        return bool(self.flags & APP_FLAG_BLIND_SIGNING)

    @property
    def version_str(self) -> str:
        return ".".join(str(part) for part in self.version)


def format_path(path: Sequence[int]) -> str:
    """``(0x8000002c, 0x8000003c, 0x80000000, 0, 0)`` → ``44'/60'/0'/0/0``."""
    return "/".join(f"{i - HARDENED}'" if i >= HARDENED else str(i) for i in path)


def encode_path(path: Sequence[int]) -> bytes:
    """Number of steps (1 byte) followed by each index as 4 bytes big-endian."""
    if not 1 <= len(path) <= MAX_PATH_STEPS:
        raise ValueError(f"a derivation path has 1 to {MAX_PATH_STEPS} steps, got {len(path)}")
    if any(not 0 <= i <= 0xFFFFFFFF for i in path):
        raise ValueError("derivation path indexes must fit in 32 bits")
    return bytes([len(path)]) + b"".join(i.to_bytes(4, "big") for i in path)


def apdu(ins: int, p1: int, p2: int, data: bytes = b"") -> bytes:
    if len(data) > MAX_BLOCK_LEN:
        raise ValueError(f"APDU data is at most {MAX_BLOCK_LEN} bytes, got {len(data)}")
    return bytes([CLA, ins, p1, p2, len(data)]) + data


def get_address_apdu(path: Sequence[int], *, display: bool = False, chain_code: bool = False) -> bytes:
    return apdu(INS_GET_ADDRESS, int(display), int(chain_code), encode_path(path))


def get_app_configuration_apdu() -> bytes:
    return apdu(INS_GET_APP_CONFIGURATION, 0x00, 0x00)


def sign_apdus(path: Sequence[int], payload: bytes) -> list[bytes]:
    """Split ``payload`` into SIGN blocks: the first carries the path, later ones P1=0x80."""
    first = encode_path(path)
    room = MAX_BLOCK_LEN - len(first)
    blocks = [apdu(INS_SIGN, P1_FIRST_BLOCK, 0x00, first + payload[:room])]
    for start in range(room, len(payload), MAX_BLOCK_LEN):
        blocks.append(apdu(INS_SIGN, P1_MORE_BLOCKS, 0x00, payload[start : start + MAX_BLOCK_LEN]))
    return blocks


def _eip1559_fields(tx: UnsignedTx) -> list[object]:
    return [
        tx.chain_id,
        tx.nonce,
        tx.max_priority_fee_per_gas_wei,
        tx.max_fee_per_gas_wei,
        tx.gas,
        bytes.fromhex(tx.to[2:]),
        tx.value_wei,
        tx.data,
        [],  # access list
    ]


def eip1559_payload(tx: UnsignedTx) -> bytes:
    """``0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, [] ])``."""
    return bytes([EIP1559_TX_TYPE]) + rlp.encode(_eip1559_fields(tx))


def eip1559_signed(tx: UnsignedTx, *, y_parity: int, r: int, s: int) -> bytes:
    """The raw signed transaction ``0x02 ‖ rlp([... , yParity, r, s])``."""
    if y_parity not in (0, 1):
        raise ValueError(f"y parity must be 0 or 1, got {y_parity}")
    return bytes([EIP1559_TX_TYPE]) + rlp.encode([*_eip1559_fields(tx), y_parity, r, s])


def parse_address_reply(data: bytes, *, with_chain_code: bool = False) -> LedgerAddress:
    """``pubkey_len(1) pubkey address_len(1) address_ascii [chain_code(32)]``."""
    try:
        key_len = data[0]
        public_key = data[1 : 1 + key_len]
        addr_len = data[1 + key_len]
        addr_ascii = data[2 + key_len : 2 + key_len + addr_len].decode("ascii")
        rest = data[2 + key_len + addr_len :]
    except (IndexError, UnicodeDecodeError) as exc:
        raise SignerError(f"Ledger: malformed GET ADDRESS reply ({len(data)} bytes)") from exc
    if len(public_key) != 65 or len(addr_ascii) != 40:
        raise SignerError(f"Ledger: malformed GET ADDRESS reply ({len(data)} bytes)")
    chain_code = rest[:32] if with_chain_code else None
    if with_chain_code and len(rest) != 32:
        raise SignerError("Ledger: GET ADDRESS reply lacks the requested chain code")
    return LedgerAddress(public_key, to_checksum_address("0x" + addr_ascii), chain_code)


def parse_app_configuration(data: bytes) -> AppConfiguration:
    if len(data) < 4:
        raise SignerError(f"Ledger: malformed GET APP CONFIGURATION reply ({data.hex()})")
    return AppConfiguration(flags=data[0], version=(data[1], data[2], data[3]))


def parse_signature(data: bytes) -> tuple[int, int, int]:
    """``v(1) r(32) s(32)`` → ``(y_parity, r, s)``. Typed transactions answer the parity (0/1)."""
    if len(data) != 65:
        raise SignerError(f"Ledger: signature reply has {len(data)} bytes, expected 65")
    v = data[0]
    if v in (27, 28):  # some app versions add 27 even for typed transactions
        v -= 27
    if v not in (0, 1):
        raise SignerError(f"Ledger: unexpected v={data[0]} in a type-2 signature")
    return v, int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:65], "big")


def status_error(sw: int, *, action: str, has_calldata: bool = False) -> SignerError:
    """One clear line for a non-9000 status word."""
    if sw == SW_REFUSED:
        return SignerError(f"Ledger: {action} refused on device (status 0x6985)")
    if sw in (SW_LOCKED, SW_LOCKED_OS):
        return SignerError(f"Ledger: device is locked (status 0x{sw:04X}): unlock it with its PIN and retry")
    if sw in (SW_INS_NOT_SUPPORTED, SW_CLA_NOT_SUPPORTED, *SW_APP_NOT_OPEN):
        return SignerError(f"Ledger: wrong app (status 0x{sw:04X}): open the Ethereum app on the Ledger")
    if sw == SW_TX_TYPE_NOT_SUPPORTED:
        return SignerError(
            "Ledger: transaction type not supported by this Ethereum app (status 0x6501): "
            "update the Ethereum app to sign EIP-1559 transactions"
        )
    if sw == SW_INVALID_DATA and has_calldata:
        return SignerError(
            "Ledger: invalid data (status 0x6A80): enable 'Blind signing' in the Ethereum app settings "
            "to sign contract calls"
        )
    return SignerError(f"Ledger: {action} failed with status word 0x{sw:04X}")
