"""BIP-32 derivation for the simulators (private keys, chain codes, fingerprints, xpubs).

Built on eth-account's HD helpers; the key at a path equals ``Account.from_mnemonic(..., path)``'s
(a unit test checks it). Keys stay inside the simulator objects and are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_account.hdaccount import seed_from_mnemonic
from eth_account.hdaccount.deterministic import HardNode, SoftNode, derive_child_key
from eth_keys import keys
from eth_keys.datatypes import PublicKey

HARDENED = 0x80000000
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_XPUB_VERSION = bytes.fromhex("0488b21e")


@dataclass(frozen=True, repr=False)
class HDNode:
    """One derived node. ``repr`` hides the private key."""

    private_key: bytes
    chain_code: bytes
    depth: int
    parent_fingerprint: int
    child_num: int

    @property
    def public_key(self) -> PublicKey:
        return keys.PrivateKey(self.private_key).public_key

    @property
    def compressed_public_key(self) -> bytes:
        return self.public_key.to_compressed_bytes()

    @property
    def address(self) -> str:
        return self.public_key.to_checksum_address()

    @property
    def fingerprint(self) -> int:
        """First four bytes of HASH160 of the compressed public key (BIP-32 key identifier)."""
        return int.from_bytes(_hash160(self.compressed_public_key)[:4], "big")

    def xpub(self) -> str:
        raw = (
            _XPUB_VERSION
            + bytes([self.depth])
            + self.parent_fingerprint.to_bytes(4, "big")
            + self.child_num.to_bytes(4, "big")
            + self.chain_code
            + self.compressed_public_key
        )
        return _base58check(raw)

    def __repr__(self) -> str:
        return f"HDNode(depth={self.depth}, address={self.address})"


@dataclass(repr=False)
class HDWallet:
    """A BIP-39 seed with a cache of derived nodes."""

    mnemonic: str
    passphrase: str = ""
    _seed: bytes = field(init=False)
    _cache: dict[tuple[int, ...], HDNode] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._seed = seed_from_mnemonic(self.mnemonic, self.passphrase)

    def __repr__(self) -> str:
        return "HDWallet(<hidden>)"

    def node(self, path: Sequence[int]) -> HDNode:
        key = tuple(path)
        if key not in self._cache:
            self._cache[key] = self._derive(key)
        return self._cache[key]

    def _derive(self, path: tuple[int, ...]) -> HDNode:
        master = hmac.new(b"Bitcoin seed", self._seed, hashlib.sha512).digest()
        node = HDNode(master[:32], master[32:], 0, 0, 0)
        for index in path:
            step = HardNode(index - HARDENED) if index >= HARDENED else SoftNode(index)
            child_key, child_code = derive_child_key(node.private_key, node.chain_code, step)
            node = HDNode(child_key, child_code, node.depth + 1, node.fingerprint, index)
        return node


def _hash160(data: bytes) -> bytes:
    sha = hashlib.sha256(data).digest()
    try:
        return hashlib.new("ripemd160", sha).digest()
    except ValueError:  # OpenSSL 3 without the legacy provider
        from Crypto.Hash import RIPEMD160

        return RIPEMD160.new(sha).digest()


def _base58check(raw: bytes) -> str:
    payload = raw + hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    number = int.from_bytes(payload, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    pad = len(payload) - len(payload.lstrip(b"\x00"))
    return "1" * pad + out
