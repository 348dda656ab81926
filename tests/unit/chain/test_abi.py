"""The one ABI mechanism: shipped ABIs by name, calls/returns/errors/events by function name."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from agent.chain.abi import SOLIDITY_ERRORS, AbiDecodeError, abi
from agent.chain.abis import available_abis
from agent.errors import ConfigError

SPENDER = "0x" + "ab" * 20
OWNER = "0x" + "cd" * 20

#: Selectors as published for the real contracts (facts checked against the protocols' interfaces).
KNOWN_SELECTORS = {
    ("ERC20", "transfer"): "a9059cbb",
    ("ERC20", "approve"): "095ea7b3",
    ("ERC20", "balanceOf"): "70a08231",
    ("ERC20", "allowance"): "dd62ed3e",
    ("ERC4626", "deposit"): "6e553f65",
    ("ERC4626", "redeem"): "ba087652",
    ("Multicall3", "aggregate3"): "82ad56cb",
    ("UniswapV2Router02", "getAmountsOut"): "d06ca61f",
    ("UniswapV2Router02", "swapExactTokensForTokens"): "38ed1739",
    ("QuoterV2", "quoteExactInputSingle"): "c6a5026a",
    ("SwapRouter02", "exactInputSingle"): "04e45aaf",
    ("SwapRouter02", "exactInput"): "b858183f",
    ("WETH9", "deposit"): "d0e30db0",
    ("AllowanceHolder", "exec"): "2213bc0b",
    ("Settler", "execute"): "1fff991f",
    ("AggregationRouterV6", "swap"): "07ed2379",
}


@pytest.mark.parametrize(("name", "fn"), list(KNOWN_SELECTORS))
def test_selectors_match_the_published_ones(name: str, fn: str) -> None:
    assert abi(name).selector(fn).hex() == KNOWN_SELECTORS[(name, fn)]


def test_encode_is_selector_then_standard_abi_arguments() -> None:
    data = abi("ERC20").encode("approve", SPENDER, 1_234_567)
    assert data == bytes.fromhex("095ea7b3") + encode(["address", "uint256"], [SPENDER, 1_234_567])


def test_decode_input_round_trips_a_struct_argument() -> None:
    params = (SPENDER, OWNER, 500, SPENDER, 10**18, 2_900 * 10**6, 0)
    data = abi("SwapRouter02").encode("exactInputSingle", params)
    name, (decoded,) = abi("SwapRouter02").decode_input(data)
    assert name == "exactInputSingle"
    assert decoded == params


def test_decode_output_by_function_name() -> None:
    returned = encode(["uint256[]"], [[10**18, 3_000 * 10**6]])
    assert abi("UniswapV2Router02").decode_output("getAmountsOut", returned) == ((10**18, 3_000 * 10**6),)


def test_unknown_selector_is_a_decode_error_naming_the_abi() -> None:
    with pytest.raises(AbiDecodeError, match="0xdeadbeef is not a function of ERC20"):
        abi("ERC20").decode_input(bytes.fromhex("deadbeef") + b"\0" * 64)
    assert abi("ERC20").find(bytes.fromhex("deadbeef")) is None


def test_truncated_arguments_are_a_decode_error() -> None:
    data = abi("ERC20").encode("approve", SPENDER, 5)[:-10]
    with pytest.raises(AbiDecodeError, match="approve calldata does not decode"):
        abi("ERC20").decode_input(data)


def test_wrong_selector_for_a_function_is_refused() -> None:
    data = abi("ERC20").encode("transfer", SPENDER, 5)
    with pytest.raises(AbiDecodeError, match="is not 0x095ea7b3"):
        abi("ERC20").fn("approve").decode_input(data)


def test_unknown_function_names_what_the_abi_has() -> None:
    with pytest.raises(KeyError, match=r"has no function 'nope'.*balanceOf"):
        abi("ERC20").fn("nope")


def test_overloaded_name_needs_the_full_signature() -> None:
    with pytest.raises(KeyError, match="overloaded"):
        abi("Permit2").fn("permit")
    signatures = [f.signature for f in abi("Permit2").functions if f.name == "permit"]
    assert len(signatures) == 2
    assert abi("Permit2").fn(signatures[0]).signature == signatures[0]


def test_unknown_abi_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no ABI 'Nope'"):
        abi("Nope")


def test_solidity_errors_decode_error_and_panic() -> None:
    errors = abi(SOLIDITY_ERRORS)
    error = bytes.fromhex("08c379a0") + encode(["string"], ["insufficient allowance"])
    panic = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
    assert errors.decode_error(error) == ("Error", ("insufficient allowance",))
    assert errors.decode_error(panic) == ("Panic", (0x11,))
    assert errors.decode_error(bytes.fromhex("12345678")) is None


def test_event_topic_is_keccak_of_the_canonical_signature() -> None:
    expected = keccak(text="Swap(address,uint256,uint256,uint256,uint256,address)")
    assert abi("UniswapV2Pair").event_topic("Swap") == expected


def test_every_shipped_abi_loads_and_its_selectors_are_unique() -> None:
    for name in available_abis():
        functions = abi(name).functions
        assert len({f.selector for f in functions}) == len(functions), name
