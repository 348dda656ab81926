"""Ledger Ethereum-app APDU encoding (pure): exact bytes, block boundaries, payload, signatures."""

from __future__ import annotations

import pytest
from eth_account.typed_transactions import TypedTransaction
from hypothesis import given
from hypothesis import strategies as st

from agent.devtools.simulators.testkit import DEFAULT_PATH, HARDENED, make_tx
from agent.errors import SignerError
from agent.signers import ledger_apdu as apdu

PATH_BYTES = 1 + 4 * len(DEFAULT_PATH)  # 21


def test_get_address_apdu_exact_bytes() -> None:
    assert apdu.get_address_apdu(DEFAULT_PATH).hex() == "e002000015058000002c8000003c800000000000000000000000"


def test_get_address_apdu_display_and_chain_code_flags() -> None:
    command = apdu.get_address_apdu(DEFAULT_PATH, display=True, chain_code=True)
    assert command[:5] == bytes([0xE0, 0x02, 0x01, 0x01, 0x15])


def test_get_app_configuration_apdu() -> None:
    assert apdu.get_app_configuration_apdu().hex() == "e006000000"


@pytest.mark.parametrize("path", [(), tuple(range(11))])
def test_encode_path_refuses_bad_lengths(path: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        apdu.encode_path(path)


def test_format_path() -> None:
    assert apdu.format_path(DEFAULT_PATH) == "44'/60'/0'/0/0"


def test_payload_is_what_eth_account_hashes() -> None:
    from eth_utils import keccak

    for n in (0, 1, 300):
        tx = make_tx(n)
        payload = apdu.eip1559_payload(tx)
        assert payload[0] == 0x02
        assert keccak(payload) == TypedTransaction.from_dict(tx.as_eth_account_dict()).hash()


def test_value_zero_and_large_nonce_encode_like_eth_account() -> None:
    from eth_utils import keccak

    tx = make_tx(0, value_wei=0, nonce=2**40, chain_id=8453)
    assert keccak(apdu.eip1559_payload(tx)) == TypedTransaction.from_dict(tx.as_eth_account_dict()).hash()


@pytest.mark.parametrize("data_len", [0, 254, 255, 256, 1000, 1025, 4000])
def test_sign_blocks_boundaries_and_p1(data_len: int) -> None:
    payload = apdu.eip1559_payload(make_tx(data_len))
    blocks = apdu.sign_apdus(DEFAULT_PATH, payload)
    assert all(len(b) <= 255 + 5 for b in blocks)
    assert [b[2] for b in blocks] == [0x00] + [0x80] * (len(blocks) - 1)
    assert all(b[:2] == b"\xe0\x04" and b[3] == 0 and b[4] == len(b) - 5 for b in blocks)
    first = blocks[0][5:]
    assert first[:PATH_BYTES] == apdu.encode_path(DEFAULT_PATH)
    assert first[PATH_BYTES:] + b"".join(b[5:] for b in blocks[1:]) == payload
    # every block but the last is full
    assert all(len(b) == 260 for b in blocks[:-1])
    expected_blocks = 1 + max(0, -(-(len(payload) - (255 - PATH_BYTES)) // 255))
    assert len(blocks) == expected_blocks


def test_payload_exactly_filling_the_first_block_needs_no_second() -> None:
    payload = bytes(255 - PATH_BYTES)
    assert len(apdu.sign_apdus(DEFAULT_PATH, payload)) == 1
    assert len(apdu.sign_apdus(DEFAULT_PATH, payload + b"\x01")) == 2


@given(st.binary(min_size=1, max_size=3000), st.integers(min_value=1, max_value=10))
def test_sign_blocks_reassemble_for_any_payload(payload: bytes, depth: int) -> None:
    path = tuple(HARDENED | i for i in range(depth))
    blocks = apdu.sign_apdus(path, payload)
    data = b"".join(b[5:] for b in blocks)
    assert data == apdu.encode_path(path) + payload
    assert all(len(b) <= 260 for b in blocks)


def test_signed_tx_equals_eth_account(anvil_account) -> None:  # type: ignore[no-untyped-def]
    tx = make_tx(40)
    signed = anvil_account.sign_transaction(tx.as_eth_account_dict())
    raw = apdu.eip1559_signed(tx, y_parity=signed.v, r=signed.r, s=signed.s)
    assert raw == bytes(signed.raw_transaction)


def test_parse_signature_parity() -> None:
    r, s = (1).to_bytes(32, "big"), (2).to_bytes(32, "big")
    assert apdu.parse_signature(b"\x01" + r + s) == (1, 1, 2)
    assert apdu.parse_signature(b"\x1b" + r + s)[0] == 0  # 27 → 0
    with pytest.raises(SignerError, match="unexpected v"):
        apdu.parse_signature(b"\x25" + r + s)
    with pytest.raises(SignerError, match="65"):
        apdu.parse_signature(b"\x00" + r)


def test_parse_address_reply_rejects_truncated_data() -> None:
    with pytest.raises(SignerError, match="malformed"):
        apdu.parse_address_reply(b"\x41" + bytes(10))


@pytest.mark.parametrize(
    ("sw", "fragment"),
    [
        (0x6985, "refused on device"),
        (0x6982, "locked"),
        (0x5515, "locked"),
        (0x6D00, "open the Ethereum app on the Ledger"),
        (0x6E00, "open the Ethereum app on the Ledger"),
        (0x6501, "not supported"),
        (0x6F00, "status word 0x6F00"),
    ],
)
def test_status_words_become_clear_errors(sw: int, fragment: str) -> None:
    message = str(apdu.status_error(sw, action="transaction"))
    assert fragment in message
    assert "\n" not in message


def test_invalid_data_with_calldata_mentions_blind_signing() -> None:
    assert "Blind signing" in str(apdu.status_error(0x6A80, action="transaction", has_calldata=True))
    assert "0x6A80" in str(apdu.status_error(0x6A80, action="transaction"))
