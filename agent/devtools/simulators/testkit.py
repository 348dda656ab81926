"""Helpers for tests and demos that drive the simulators: test constants, transactions, a wire recorder.

Only public test material lives here (anvil's well-known mnemonic and accounts)."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

from agent.devtools.simulators import TEST_MNEMONIC
from agent.models import UnsignedTx
from agent.signers.ledger_transport import ApduTransport

HARDENED = 0x80000000
DEFAULT_PATH = (44 | HARDENED, 60 | HARDENED, HARDENED, 0, 0)
ANVIL_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil account 1


def calldata(length: int) -> bytes:
    """Deterministic non-trivial bytes (no long runs of zeros)."""
    return bytes((i * 7 + 3) % 256 for i in range(length))


def make_tx(data_len: int = 0, **overrides: object) -> UnsignedTx:
    fields: dict[str, object] = {
        "chain_id": 1,
        "nonce": 7,
        "to": RECIPIENT,
        "value_wei": 10**17,
        "data": calldata(data_len),
        "gas": 21_000 + 16 * data_len + 10_000,
        "max_fee_per_gas_wei": 30 * 10**9,
        "max_priority_fee_per_gas_wei": 2 * 10**9,
    }
    fields.update(overrides)
    return UnsignedTx(**fields)


def anvil_account_0() -> LocalAccount:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(TEST_MNEMONIC, account_path="m/44'/60'/0'/0/0")


def eth_account_raw(account: LocalAccount, tx: UnsignedTx) -> bytes:
    return bytes(account.sign_transaction(tx.as_eth_account_dict()).raw_transaction)


class RecordingTransport:
    """Wraps an APDU transport and records every (command, data, status word) on the wire."""

    def __init__(self, inner: ApduTransport) -> None:
        self.inner = inner
        self.log: list[tuple[bytes, bytes, int]] = []
        self.closed = False

    def exchange(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self.inner.exchange(apdu)
        self.log.append((apdu, data, sw))
        return data, sw

    def close(self) -> None:
        self.closed = True
        self.inner.close()

    def sign_commands(self) -> list[bytes]:
        return [command for command, _, _ in self.log if command[1] == 0x04]
