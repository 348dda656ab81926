"""RPC failures are classified by HTTP status and JSON-RPC code, once (``agent.chain.rpc``), against a real local
HTTP server speaking JSON-RPC: what is retried, what moves to the next URL, what reaches the caller as a typed
error with its disposition."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import encode
from web3.exceptions import Web3RPCError

from agent.chain.reads import Call, simulate, simulate_bundle
from agent.chain.rpc import ChainRpc
from agent.config.settings import load_config
from agent.errors import (
    BroadcastUnknown,
    ChainUnavailable,
    Disposition,
    EndpointRefused,
    PriceMoved,
    RateLimited,
    SimulationFailed,
    TransientRpc,
    TxRejected,
)
from tests.integration.chain.jsonrpc_server import error, http, jsonrpc_server, result, slow

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CALL = Call(WALLET, WALLET, b"\x12\x34\x56\x78")


def rpc_for(*urls: str, attempts: int = 3, timeout_s: float = 2.0) -> ChainRpc:
    env = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": ",".join(urls), "TARGETS": "ETH:100"}
    cfg = load_config(env, env_file=Path("/nonexistent"))
    return ChainRpc(*cfg.enabled()[0], timeout_s=timeout_s, attempts=attempts, backoff_s=0.01)


def block_number(rpc: ChainRpc) -> int:
    return rpc.read(lambda w3: w3.eth.block_number, what="eth_blockNumber")


def revert_data(reason: str) -> str:
    return "0x08c379a0" + encode(["string"], [reason]).hex()


@pytest.mark.parametrize(("answer", "cls"), [
    (error(-32005, "limit exceeded"), RateLimited),
    (http(429), RateLimited),
    (error(-32005, "daily request count exceeded", status=429), RateLimited),
    (error(-32603, "internal error"), TransientRpc),
    (error(-32002, "resource unavailable"), TransientRpc),
    (http(503), TransientRpc),
    (http(502, {"message": "bad gateway"}), TransientRpc),
    ((200, None, 0.0), TransientRpc),  # a reply that is not JSON
])
def test_transient_failures_are_retried_then_the_next_url_answers(answer, cls) -> None:  # type: ignore[no-untyped-def]
    with jsonrpc_server(answer) as (bad_url, bad), jsonrpc_server(result("0x2a")) as (good_url, good):
        rpc = rpc_for(bad_url, good_url, attempts=3)
        assert block_number(rpc) == 42
        assert len(bad.requests) == 3  # every attempt on the first URL, then the fallback
        assert len(good.requests) == 1
        assert issubclass(cls, TransientRpc) and cls.disposition == Disposition.RETRY


def test_a_transient_failure_that_clears_is_retried_on_the_same_url() -> None:
    with jsonrpc_server(error(-32603, "internal error"), result("0x7")) as (url, script):
        assert block_number(rpc_for(url)) == 7
        assert len(script.requests) == 2


def test_rate_limited_everywhere_is_chain_unavailable_after_the_retries() -> None:
    with jsonrpc_server(http(429)) as (url, script):
        with pytest.raises(ChainUnavailable, match="RateLimited") as info:
            block_number(rpc_for(url, attempts=2))
        assert len(script.requests) == 2
        assert info.value.disposition == Disposition.RETRY


@pytest.mark.parametrize("status", [401, 403, 404])
def test_http_4xx_is_not_retried_on_that_url_but_the_next_url_is_tried(status: int) -> None:
    with jsonrpc_server(http(status)) as (bad_url, bad), jsonrpc_server(result("0x1")) as (good_url, _):
        assert block_number(rpc_for(bad_url, good_url)) == 1
        assert len(bad.requests) == 1


def test_http_401_alone_says_endpoint_refused_and_names_no_key() -> None:
    with jsonrpc_server(http(401)) as (url, _):
        rpc = rpc_for(url + "/v2/SECRETKEY")
        with pytest.raises(ChainUnavailable) as info:
            block_number(rpc)
        assert "EndpointRefused" in str(info.value) and "SECRETKEY" not in str(info.value)
        assert EndpointRefused.disposition == Disposition.RETRY


def test_a_timeout_is_transient() -> None:
    with jsonrpc_server(slow(result("0x1"), 1.0)) as (slow_url, slow_script), jsonrpc_server(result("0x5")) as (
            good_url, _):
        assert block_number(rpc_for(slow_url, good_url, attempts=2, timeout_s=0.2)) == 5
        assert len(slow_script.requests) == 2


def test_a_node_answer_that_is_not_transient_reaches_the_caller_unretried() -> None:
    with jsonrpc_server(error(-32602, "invalid params")) as (url, script):
        with pytest.raises(Web3RPCError):
            block_number(rpc_for(url))
        assert len(script.requests) == 1


def test_a_revert_with_a_price_guard_reason_is_price_moved() -> None:
    data = revert_data("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT")
    with jsonrpc_server(error(3, "execution reverted", data)) as (url, script):
        with pytest.raises(PriceMoved, match="nothing was sent") as info:
            simulate(rpc_for(url), CALL, what="swap")
        assert info.value.disposition == Disposition.RETRY and not info.value.sent
        assert len(script.requests) == 1  # a revert is an answer, never retried


def test_any_other_revert_is_simulation_failed_and_drops_the_plan() -> None:
    data = revert_data("ERC20: transfer amount exceeds balance")
    with jsonrpc_server(error(3, "execution reverted", data)) as (url, _):
        with pytest.raises(SimulationFailed, match="exceeds balance") as info:
            simulate(rpc_for(url), CALL, what="swap")
        assert not isinstance(info.value, PriceMoved)
        assert info.value.disposition == Disposition.DROP


def test_a_price_guard_custom_error_selector_is_price_moved() -> None:
    from eth_utils import keccak

    data = "0x" + (keccak(text="V3TooLittleReceived()")[:4]).hex()
    with jsonrpc_server(error(3, "execution reverted", data)) as (url, _), pytest.raises(PriceMoved):
        simulate(rpc_for(url), CALL, what="swap")


@pytest.mark.parametrize("code", [-32601, -32004])
def test_simulate_bundle_on_a_node_without_the_method_is_none(code: int) -> None:
    with jsonrpc_server(error(code, "the method eth_simulateV1 does not exist/is not available")) as (url, _):
        assert simulate_bundle(rpc_for(url), [("swap", CALL)], margin=1.2) is None


def test_simulate_bundle_with_another_error_fails_the_simulation() -> None:
    # "not found" in the text decides nothing: only the code says the method is missing
    with jsonrpc_server(error(-32602, "not found: block")) as (url, _), pytest.raises(SimulationFailed):
        simulate_bundle(rpc_for(url), [("swap", CALL)], margin=1.2)


@pytest.mark.parametrize(("code", "message", "reason", "disposition"), [
    (-32000, "already known", "already_known", Disposition.RETRY),
    (-32003, "transaction already imported", "already_known", Disposition.RETRY),  # anvil
    (-32000, "nonce too low: next nonce 5, tx nonce 4", "nonce_too_low", Disposition.RETRY),
    (-32003, "nonce too low", "nonce_too_low", Disposition.RETRY),
    (-32000, "insufficient funds for gas * price + value", "insufficient_funds", Disposition.DROP),
    (-32003, "Insufficient funds for gas * price + value", "insufficient_funds", Disposition.DROP),
    (-32000, "transaction underpriced", "underpriced", Disposition.RETRY),
    (-32000, "replacement transaction underpriced", "replacement_underpriced", Disposition.RETRY),
    (-32003, "max fee per gas less than block base fee", "underpriced", Disposition.RETRY),
    (-32000, "intrinsic gas too low", "intrinsic_gas_too_low", Disposition.RETRY),
    (-32000, "invalid sender", "invalid_sender", Disposition.RETRY),
    (-32010, "Transaction gas limit exceeds block gas limit", "gas_limit", Disposition.RETRY),
    (-32000, "txpool is full", "pool_full", Disposition.RETRY),
])
def test_node_refusals_of_a_raw_transaction_are_typed(code: int, message: str, reason: str,
                                                       disposition: Disposition) -> None:
    with jsonrpc_server(error(code, message)) as (url, script):
        with pytest.raises(TxRejected) as info:
            rpc_for(url).send_raw_transaction(b"\x02\xf8", what="swap")
        assert info.value.reason == reason
        assert info.value.disposition == disposition
        assert len(script.requests) == 1  # a broadcast is never retried by the RPC layer


@pytest.mark.parametrize("answer", [
    error(-32000, "request failed"),          # a generic -32000 explains nothing: the node may have it
    error(-32000, "internal error"),
    error(-32603, "internal error"),
    error(-32602, "nonce too low"),           # a refusal's text under a code that is not the txpool's
    error(-32000, "nonce too low", status=502),
    http(502),
    http(503),
    http(429),
    http(403),
    (200, None, 0.0),                         # a reply that is not JSON
])
def test_a_broadcast_without_an_explained_refusal_is_maybe(answer: tuple) -> None:  # type: ignore[type-arg]
    with jsonrpc_server(answer) as (url, script):
        with pytest.raises(BroadcastUnknown) as info:
            rpc_for(url).send_raw_transaction(b"\x02\xf8")
        assert isinstance(info.value, TransientRpc)  # the tree: retry, never "rejected"
        assert len(script.requests) == 1


def test_a_broadcast_timing_out_is_maybe() -> None:
    with jsonrpc_server(slow(result("0x" + "00" * 32), 2.0)) as (url, script):
        with pytest.raises(BroadcastUnknown):
            rpc_for(url, timeout_s=0.3).send_raw_transaction(b"\x02\xf8")
        assert len(script.requests) == 1
