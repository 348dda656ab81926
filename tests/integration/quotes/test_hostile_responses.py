"""Hostile and broken aggregator responses, served over real HTTP: each is refused with its own reason (the check
name is asserted) and no quote survives to be signed (``best`` is None)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from agent.config.chains import ChainConfig

from . import shapes
from .canned import Canned, CannedServer
from .conftest import ATTACKER
from .helpers import client, run, weth_usdc

Q0X = "/swap/allowance-holder/quote"
Setup = Callable[[CannedServer, ChainConfig], None]


def zerox_with(change: Callable[[dict[str, Any], ChainConfig], None]) -> Setup:
    def setup(canned: CannedServer, chain: ChainConfig) -> None:
        body = shapes.zerox(chain)
        change(body, chain)
        canned.on("GET", Q0X, Canned(body=body))
    return setup


def zerox_raw(*answers: Canned) -> Setup:
    def setup(canned: CannedServer, _chain: ChainConfig) -> None:
        canned.on("GET", Q0X, *answers)
    return setup


def _wrong_to(b: dict[str, Any], _c: ChainConfig) -> None:
    b["transaction"]["to"] = ATTACKER


def _recipient(b: dict[str, Any], c: ChainConfig) -> None:
    b["transaction"]["data"] = shapes.calldata(c, recipient=ATTACKER)


def _value(b: dict[str, Any], _c: ChainConfig) -> None:
    b["transaction"]["value"] = "1000000000000000000"


def _min_out(b: dict[str, Any], c: ChainConfig) -> None:
    b["minBuyAmount"] = "1"
    b["transaction"]["data"] = shapes.calldata(c, min_out=1)


def _price_off(b: dict[str, Any], c: ChainConfig) -> None:
    buy = 2_850_000_000  # 5% under the 3000 USDC reference, with a consistent min-out
    b["buyAmount"], b["minBuyAmount"] = str(buy), str(buy * 9950 // 10_000)
    b["transaction"]["data"] = shapes.calldata(c, min_out=buy * 9950 // 10_000)


def _missing(b: dict[str, Any], _c: ChainConfig) -> None:
    del b["transaction"]


def _gas(b: dict[str, Any], _c: ChainConfig) -> None:
    b["transaction"]["gas"] = "30000000"


def _wrong_token(b: dict[str, Any], c: ChainConfig) -> None:
    b["buyToken"] = c.token("DAI").address.lower()


def _no_liquidity(b: dict[str, Any], _c: ChainConfig) -> None:
    for key in list(b):
        if key not in ("zid",):
            del b[key]
    b["liquidityAvailable"] = False


def _settler(b: dict[str, Any], _c: ChainConfig) -> None:
    b["issues"]["allowance"]["spender"] = shapes.SETTLER


def _calldata_amount(b: dict[str, Any], c: ChainConfig) -> None:
    b["transaction"]["data"] = shapes.calldata(c, amount_in=10 * 10**18)


def _paraswap_wrong_chain(canned: CannedServer, chain: ChainConfig) -> None:
    prices, tx = shapes.paraswap(chain)
    prices["priceRoute"]["network"] = 1
    tx["chainId"] = 1
    canned.on("GET", "/prices", Canned(body=prices))
    canned.on("POST", f"/transactions/{chain.chain_id}", Canned(body=tx))


def _odos_wrong_chain(canned: CannedServer, chain: ChainConfig) -> None:
    quote, assembled = shapes.odos(chain)
    assembled["transaction"]["chainId"] = 8453
    canned.on("POST", "/sor/quote/v2", Canned(body=quote))
    canned.on("POST", "/sor/assemble", Canned(body=assembled))


def _oneinch_recipient(canned: CannedServer, chain: ChainConfig) -> None:
    body = shapes.oneinch(chain)
    body["tx"]["data"] = shapes.calldata(chain, "1inch", recipient=ATTACKER)
    canned.on("GET", f"/swap/v6.0/{chain.chain_id}/swap", Canned(body=body))


def _kyber_error_code(canned: CannedServer, chain: ChainConfig) -> None:
    canned.on("GET", "/sandbox_a/api/v1/routes", Canned(body={"code": 4008, "message": "route not found"}))


def _kyber_value(canned: CannedServer, chain: ChainConfig) -> None:
    routes, build = shapes.kyber(chain)
    build["data"]["transactionValue"] = "5"
    canned.on("GET", "/sandbox_a/api/v1/routes", Canned(body=routes))
    canned.on("POST", "/sandbox_a/api/v1/route/build", Canned(body=build))


HTML_502 = Canned(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html",
                  headers={"retry-after": "0"})

CASES: list[tuple[str, str, Setup, str]] = [
    ("wrong_to", "0x", zerox_with(_wrong_to), "router"),
    ("recipient_not_us", "0x", zerox_with(_recipient), "recipient"),
    ("value_on_token_sell", "0x", zerox_with(_value), "value"),
    ("min_out_too_low", "0x", zerox_with(_min_out), "min_out"),
    ("price_5pct_off", "0x", zerox_with(_price_off), "price_deviation"),
    ("malformed_json", "0x", zerox_raw(Canned(body=b'{"buyAmount": "29')), "malformed_json"),
    ("html_502", "0x", zerox_raw(HTML_502), "http_status"),
    ("timeout", "0x", zerox_raw(Canned(body=b"{}", delay_s=1.5)), "timeout"),
    ("429_storm", "0x", zerox_raw(Canned(429, {"message": "slow down"}, headers={"retry-after": "1"})),
     "rate_limited"),
    ("missing_fields", "0x", zerox_with(_missing), "missing_field"),
    ("absurd_gas", "0x", zerox_with(_gas), "gas"),
    ("wrong_token", "0x", zerox_with(_wrong_token), "token"),
    ("wrong_chain_paraswap", "paraswap", _paraswap_wrong_chain, "chain"),
    ("wrong_chain_odos", "odos", _odos_wrong_chain, "chain"),
    ("liquidity_unavailable", "0x", zerox_with(_no_liquidity), "no_liquidity"),
    ("spender_is_settler", "0x", zerox_with(_settler), "spender"),
    ("calldata_sells_more", "0x", zerox_with(_calldata_amount), "calldata"),
    ("oneinch_recipient_not_us", "1inch", _oneinch_recipient, "recipient"),
    ("kyber_error_code", "kyberswap", _kyber_error_code, "no_liquidity"),
    ("kyber_value_on_token_sell", "kyberswap", _kyber_value, "value"),
    ("not_json_object", "0x", zerox_raw(Canned(body=[1, 2, 3])), "bad_response"),
    ("negative_amount", "0x", zerox_with(lambda b, _c: b.update(buyAmount="-5")), "bad_response"),
]


@pytest.mark.parametrize(("source", "setup", "check"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_response_is_refused(canned, sandbox_chain, reference, limits, source, setup, check) -> None:
    setup(canned, sandbox_chain)
    best = run(sandbox_chain, [client(source, canned.url, timeout_s=0.5)], weth_usdc(sandbox_chain), reference,
               limits)
    (result,) = best.results
    assert best.best is None and not result.valid
    assert result.check == check, result.rejected_because
    assert result.rejected_because and result.rejected_because.startswith(f"{check}:")


def test_each_case_has_its_own_reason() -> None:
    assert len(CASES) >= 15
    assert len({c[0] for c in CASES}) == len(CASES)


def test_429_storm_is_retried_then_given_up(canned, sandbox_chain, reference, limits) -> None:
    canned.on("GET", Q0X, Canned(429, {"message": "slow down"}, headers={"retry-after": "1"}))
    run(sandbox_chain, [client("0x", canned.url)], weth_usdc(sandbox_chain), reference, limits)
    assert len(list(canned.requests_to(Q0X))) == 3  # the retry policy's attempts, then it stops


def test_retry_after_is_honoured_then_succeeds(canned, sandbox_chain, reference, limits) -> None:
    from agent.quotes.http import RetryPolicy

    good = Canned(body=shapes.zerox(sandbox_chain))
    canned.on("GET", Q0X, Canned(429, {"message": "slow down"}, headers={"retry-after": "1"}), good)
    start = time.monotonic()
    best = run(sandbox_chain, [client("0x", canned.url, retry=RetryPolicy(attempts=3, backoff_s=0.01,
                                                                           max_wait_s=5, budget_s=5))],
               weth_usdc(sandbox_chain), reference, limits)
    assert time.monotonic() - start >= 0.95  # waited the server's Retry-After, not the 10 ms backoff
    assert best.best is not None and best.best.source == "0x"


def test_api_key_never_in_reason(canned, sandbox_chain, reference, limits) -> None:
    canned.on("GET", Q0X, Canned(401, {"message": "invalid api key"}))
    best = run(sandbox_chain, [client("0x", canned.url)], weth_usdc(sandbox_chain), reference, limits)
    (result,) = best.results
    assert result.check == "http_status" and "401" in (result.rejected_because or "")
    assert "SECRET" not in (result.rejected_because or "")


def test_failing_source_never_blocks_the_others(canned, sandbox_chain, reference, limits) -> None:
    slow, good = CannedServer().start(), canned
    try:
        slow.on("GET", Q0X, Canned(body=shapes.zerox(sandbox_chain), delay_s=3))
        good.on("GET", f"/swap/v6.0/{sandbox_chain.chain_id}/swap", Canned(body=shapes.oneinch(sandbox_chain)))
        start = time.monotonic()
        best = run(sandbox_chain, [client("0x", slow.url, timeout_s=10), client("1inch", good.url)],
                   weth_usdc(sandbox_chain), reference, limits, timeout_s=0.8)
        assert time.monotonic() - start < 2.0
    finally:
        slow.stop()
    by_source = {r.source: r for r in best.results}
    assert by_source["0x"].check == "timeout" and not by_source["0x"].valid
    assert best.best is not None and best.best.source == "1inch"


def test_native_sell_needs_value_equal_to_amount(canned, sandbox_chain, reference, limits) -> None:
    body = shapes.zerox(sandbox_chain)
    body["sellToken"] = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    body["transaction"]["value"] = "1"  # should be the full 1e18
    body["transaction"]["data"] = "0x" + bytes.fromhex(body["transaction"]["data"][2:]).hex()
    canned.on("GET", Q0X, Canned(body=body))
    best = run(sandbox_chain, [client("0x", canned.url)], weth_usdc(sandbox_chain, native=True), reference, limits)
    (result,) = best.results
    assert result.check == "value", result.rejected_because


def test_no_reference_means_no_valid_quote(canned, sandbox_chain, limits) -> None:
    canned.on("GET", Q0X, Canned(body=shapes.zerox(sandbox_chain)))
    best = run(sandbox_chain, [client("0x", canned.url)], weth_usdc(sandbox_chain), None, limits)
    assert best.best is None and best.results[0].check == "price_deviation"
