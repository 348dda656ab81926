"""The one Multicall3 aggregate3 codec (pure: encode, decode, failures as None)."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode

from agent.chain.abi import AbiDecodeError, abi
from agent.chain.multicall import Call, decode_aggregate3, encode_aggregate3

TOKEN = "0x" + "11" * 20
WALLET = "0x" + "22" * 20
BALANCE_OF = abi("ERC20").fn("balanceOf")
GET_BLOCK = abi("Multicall3").fn("getBlockNumber")


def test_encode_carries_each_call_with_allow_failure() -> None:
    data = encode_aggregate3([Call(TOKEN, BALANCE_OF, (WALLET,)), Call(TOKEN, GET_BLOCK)])
    assert data[:4].hex() == "82ad56cb"
    (calls,) = decode(["(address,bool,bytes)[]"], data[4:])
    assert calls == ((TOKEN, True, BALANCE_OF.encode(WALLET)), (TOKEN, True, GET_BLOCK.encode()))


def _returned(*results: tuple[bool, bytes]) -> bytes:
    return encode(["(bool,bytes)[]"], [list(results)])


def test_decode_gives_values_and_none_for_failed_or_garbled_results() -> None:
    calls = [Call(TOKEN, BALANCE_OF, (WALLET,)), Call(TOKEN, BALANCE_OF, (WALLET,)), Call(TOKEN, GET_BLOCK)]
    data = _returned((True, encode(["uint256"], [42])), (False, b"reverted"), (True, b""))
    assert decode_aggregate3(calls, data) == [(42,), None, None]


def test_decode_refuses_a_result_count_that_does_not_match() -> None:
    data = _returned((True, encode(["uint256"], [1])))
    with pytest.raises(AbiDecodeError, match="1 results for 2 calls"):
        decode_aggregate3([Call(TOKEN, GET_BLOCK), Call(TOKEN, GET_BLOCK)], data)
