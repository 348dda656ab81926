"""Validation is pure: hand-built quotes against the chain allow-lists and a fixed reference."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from agent.config.chains import NATIVE_PLACEHOLDER, load_chain
from agent.errors import QuoteRejected
from agent.quotes.calldata import ONEINCH_SWAP, SETTLER_EXECUTE, ZEROX_EXEC, decode_swap, encode_sandbox_swap
from agent.quotes.models import Quote, QuoteRequest, QuoteTx, ReferencePrice
from agent.quotes.validate import Limits, check_quote

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER = "0x000000000000000000000000000000000000dEaD"
SETTLER = "0x0d0E364aa7852291883C162B22D6D81f6355428F"
LIMITS = Limits(max_slippage_bps=50, max_quote_deviation_bps=100, max_swap_gas=1_000_000)
REF = ReferencePrice(buy_per_sell=Decimal(3000))
ETH = load_chain("ethereum")
SANDBOX = load_chain("sandbox_a")
WETH, USDC = ETH.token("WETH").address, ETH.token("USDC").address
ALLOWANCE_HOLDER = ETH.aggregators["0x"].routers[0]
ONEINCH_ROUTER = ETH.aggregators["1inch"].routers[0]


def request(chain=ETH, sell: str | None = None) -> QuoteRequest:
    return QuoteRequest(chain_id=chain.chain_id, sell_token=sell or chain.token("WETH").address,
                        buy_token=chain.token("USDC").address, sell_decimals=18, buy_decimals=6,
                        sell_amount_raw=10**18, taker=WALLET, slippage_bps=50)


def zerox_data(recipient: str = WALLET, min_out: int = 2_980_000_000, target: str = SETTLER) -> bytes:
    inner = SETTLER_EXECUTE.encode((recipient, USDC, min_out), [], b"\0" * 32)
    return ZEROX_EXEC.encode(target, WETH, 10**18, target, inner)


def quote(req: QuoteRequest, source: str = "0x", **changes: object) -> Quote:
    fields: dict[str, object] = dict(
        source=source, chain_id=req.chain_id, sell_token=req.sell_token, buy_token=req.buy_token,
        sell_amount_raw=req.sell_amount_raw, buy_amount_raw=2_991_000_000, min_buy_amount_raw=2_980_000_000,
        gas_estimate=200_000, tx=QuoteTx(to=ALLOWANCE_HOLDER, data=zerox_data(), value_wei=0),
        spender=ALLOWANCE_HOLDER, quoted_at=datetime.now(UTC))
    fields.update(changes)
    return Quote(**fields)  # type: ignore[arg-type]


def rejected(q: Quote, req: QuoteRequest | None = None, chain=ETH, ref=REF) -> str:
    with pytest.raises(QuoteRejected) as info:
        check_quote(chain, req or request(chain), q, limits=LIMITS, reference=ref)
    return info.value.check


def test_good_zerox_quote_passes() -> None:
    check_quote(ETH, request(), quote(request()), limits=LIMITS, reference=REF)


def test_zerox_exec_calldata_decodes_recipient_min_out_and_settler() -> None:
    d = decode_swap(zerox_data(recipient=OTHER, min_out=7))
    assert d is not None and (d.recipient, d.min_out, d.target, d.amount_in) == (OTHER, 7, SETTLER, 10**18)


def test_spender_equal_to_settler_target_is_refused_even_if_listed() -> None:
    assert rejected(quote(request(), spender=SETTLER)) == "spender"


def test_zerox_recipient_and_calldata_min_out() -> None:
    req = request()
    assert rejected(quote(req, tx=QuoteTx(to=ALLOWANCE_HOLDER, data=zerox_data(recipient=OTHER), value_wei=0))) \
        == "recipient"
    # the response claims a good min-out but the calldata (what the contract enforces) allows 100% slippage
    assert rejected(quote(req, tx=QuoteTx(to=ALLOWANCE_HOLDER, data=zerox_data(min_out=1), value_wei=0))) == "min_out"


def test_oneinch_swap_shape() -> None:
    req = request()
    desc = (WETH, USDC, OTHER, OTHER, 10**18, 2_980_000_000, 0)
    data = ONEINCH_SWAP.encode(OTHER, desc, b"")
    q = quote(req, source="1inch", tx=QuoteTx(to=ONEINCH_ROUTER, data=data, value_wei=0), spender=ONEINCH_ROUTER)
    assert rejected(q) == "recipient"
    zero_receiver = ONEINCH_SWAP.encode(OTHER, (WETH, USDC, OTHER, "0x" + "00" * 20, 10**18, 2_980_000_000, 0), b"")
    ok = quote(req, source="1inch", tx=QuoteTx(to=ONEINCH_ROUTER, data=zero_receiver, value_wei=0),
               spender=ONEINCH_ROUTER)
    check_quote(ETH, req, ok, limits=LIMITS, reference=REF)  # zero dstReceiver pays msg.sender: us


@pytest.mark.parametrize(("changes", "check"), [
    ({"chain_id": 8453}, "chain"),
    ({"buy_token": "0x6B175474E89094C44Da98b954EedeAC495271d0F"}, "token"),
    ({"sell_amount_raw": 2 * 10**18}, "amount"),
    ({"tx": None}, "executable"),
    ({"gas_estimate": 5_000_000}, "gas"),
    ({"min_buy_amount_raw": 2_900_000_000}, "min_out"),
    ({"buy_amount_raw": 2_850_000_000, "min_buy_amount_raw": 2_840_000_000}, "price_deviation"),
    ({"buy_amount_raw": 3_200_000_000, "min_buy_amount_raw": 3_190_000_000}, "price_deviation"),
    ({"spender": OTHER}, "spender"),
])
def test_each_check(changes: dict[str, object], check: str) -> None:
    req = request()
    if "min_buy_amount_raw" in changes and "tx" not in changes:
        changes["tx"] = QuoteTx(to=ALLOWANCE_HOLDER, data=zerox_data(min_out=int(changes["min_buy_amount_raw"])),
                                value_wei=0)
    assert rejected(quote(req, **changes)) == check


def test_sandbox_router_calldata_must_decode_and_match() -> None:
    req = request(SANDBOX)
    router = SANDBOX.aggregators["sandbox"].routers[0]
    weth, usdc = SANDBOX.token("WETH").address, SANDBOX.token("USDC").address

    def sandbox_quote(data: bytes, value: int = 0) -> Quote:
        return quote(req, "sandbox", tx=QuoteTx(to=router, data=data, value_wei=value), spender=router)

    good = encode_sandbox_swap(token_in=weth, token_out=usdc, amount_in=10**18, min_out=2_980_000_000,
                               recipient=WALLET, legs=[(10**18, [OTHER])])
    check_quote(SANDBOX, req, sandbox_quote(good), limits=LIMITS, reference=REF)
    assert rejected(sandbox_quote(b"\x12\x34\x56\x78" + good[4:]), req, SANDBOX) == "calldata_unknown"
    assert rejected(sandbox_quote(good[:40]), req, SANDBOX) == "calldata_unknown"
    assert rejected(sandbox_quote(good, value=1), req, SANDBOX) == "value"
    # the same calldata sent as another source's (whose router has no such entry point) is refused
    as_zerox = quote(req, tx=QuoteTx(to=router, data=good, value_wei=0), spender=router)
    assert rejected(as_zerox, req, SANDBOX) == "calldata_unknown"


def test_native_sell_value_must_equal_amount_and_needs_no_spender() -> None:
    req = request(sell=NATIVE_PLACEHOLDER)
    data = zerox_data()
    ok = quote(req, tx=QuoteTx(to=ALLOWANCE_HOLDER, data=data, value_wei=10**18), spender=None)
    with pytest.raises(QuoteRejected) as info:  # the calldata sells WETH, the request native ETH
        check_quote(ETH, req, ok, limits=LIMITS, reference=REF)
    assert info.value.check == "calldata"
    assert rejected(quote(req, tx=QuoteTx(to=ALLOWANCE_HOLDER, data=data, value_wei=0), spender=None), req) == "value"


def test_unlisted_source_and_missing_reference() -> None:
    req = request()
    assert rejected(quote(req, source="kyberswap")) == "router"
    assert rejected(quote(req), ref=None) == "price_deviation"
