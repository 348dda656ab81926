"""SwapRouter02 calldata: decoded for recipient and min-out, and validated like the V2 router's on a V3-only chain."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from eth_utils import keccak

from agent.config.chains import NATIVE_PLACEHOLDER, ChainConfig, load_chain
from agent.errors import ExecutionError, QuoteRejected
from agent.execution.approvals import allowed_spenders, check_approval
from agent.execution.intent import Approval
from agent.quotes.calldata import V3_EXACT_INPUT, V3_EXACT_INPUT_SINGLE, CalldataError, decode_swap
from agent.quotes.models import Quote, QuoteRequest, QuoteTx, ReferencePrice
from agent.quotes.validate import Limits, check_quote

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER = "0x000000000000000000000000000000000000dEaD"
LIMITS = Limits(max_slippage_bps=50, max_quote_deviation_bps=100, max_swap_gas=1_000_000)
REF = ReferencePrice(buy_per_sell=Decimal(3000))
ARB = load_chain("arbitrum")
ROUTER02 = "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45"
WETH, USDC = ARB.token("WETH").address, ARB.token("USDC").address
OUT, MIN_OUT = 2_991_000_000, 2_976_045_000  # min-out = out at 50 bps


def single(*, recipient: str = WALLET, token_in: str = WETH, token_out: str = USDC, amount_in: int = 10**18,
           min_out: int = MIN_OUT, fee: int = 500) -> bytes:
    return V3_EXACT_INPUT_SINGLE.encode((token_in, token_out, fee, recipient, amount_in, min_out, 0))


def request(*, sell: str = WETH, buy: str = USDC, chain: ChainConfig = ARB) -> QuoteRequest:
    return QuoteRequest(chain_id=chain.chain_id, sell_token=sell, buy_token=buy, sell_decimals=18, buy_decimals=6,
                        sell_amount_raw=10**18, taker=WALLET, slippage_bps=50)


def quote(req: QuoteRequest, *, data: bytes | None = None, to: str = ROUTER02, value: int = 0,
          spender: str | None = ROUTER02) -> Quote:
    return Quote(source="onchain", chain_id=req.chain_id, sell_token=req.sell_token, buy_token=req.buy_token,
                 sell_amount_raw=req.sell_amount_raw, buy_amount_raw=OUT, min_buy_amount_raw=MIN_OUT,
                 gas_estimate=150_000, tx=QuoteTx(to=to, data=data if data is not None else single(), value_wei=value),
                 spender=spender, quoted_at=datetime.now(UTC))


def rejected(q: Quote, req: QuoteRequest, chain: ChainConfig = ARB) -> str:
    with pytest.raises(QuoteRejected) as info:
        check_quote(chain, req, q, limits=LIMITS, reference=REF)
    return info.value.check


def test_selectors_are_swap_router02s() -> None:
    signature = "exactInputSingle((address,address,uint24,address,uint256,uint256,uint160))"
    assert V3_EXACT_INPUT_SINGLE.selector == keccak(text=signature)[:4] == bytes.fromhex("04e45aaf")
    assert V3_EXACT_INPUT.selector == bytes.fromhex("b858183f")


def test_exact_input_single_decodes_recipient_tokens_amount_and_min_out() -> None:
    d = decode_swap(single(recipient=OTHER, min_out=123))
    assert d is not None and d.shape == "uniswap_v3"
    assert (d.recipient, d.token_in, d.token_out, d.amount_in, d.min_out) == (OTHER, WETH, USDC, 10**18, 123)


def test_recipient_address_one_is_the_caller() -> None:
    d = decode_swap(single(recipient="0x0000000000000000000000000000000000000001"))
    assert d is not None and d.recipient is None


def test_exact_input_path_decodes_first_and_last_token() -> None:
    wbtc = ARB.token("WBTC").address
    path = bytes.fromhex(wbtc[2:]) + (500).to_bytes(3, "big") + bytes.fromhex(WETH[2:]) + \
        (500).to_bytes(3, "big") + bytes.fromhex(USDC[2:])
    d = decode_swap(V3_EXACT_INPUT.encode((path, OTHER, 10**8, 7)))
    assert d is not None and (d.recipient, d.token_in, d.token_out, d.amount_in, d.min_out) == (OTHER, wbtc, USDC,
                                                                                                10**8, 7)
    with pytest.raises(CalldataError, match="path"):
        decode_swap(V3_EXACT_INPUT.encode((path[:-1], OTHER, 10**8, 7)))


def test_truncated_exact_input_single_is_a_calldata_error() -> None:
    with pytest.raises(CalldataError, match="exactInputSingle"):
        decode_swap(single()[:100])
    assert rejected(quote(request(), data=single()[:100]), request()) == "calldata_unknown"


def test_well_formed_swap_router02_quote_passes() -> None:
    check_quote(ARB, request(), quote(request()), limits=LIMITS, reference=REF)


def test_recipient_not_our_wallet_is_refused() -> None:
    assert rejected(quote(request(), data=single(recipient=OTHER)), request()) == "recipient"


def test_calldata_min_out_below_the_slippage_floor_is_refused() -> None:
    assert rejected(quote(request(), data=single(min_out=MIN_OUT * 98 // 100)), request()) == "min_out"


def test_other_calldata_mismatches_are_refused() -> None:
    assert rejected(quote(request(), data=single(token_out=ARB.token("DAI").address)), request()) == "calldata"
    assert rejected(quote(request(), data=single(amount_in=10**18 + 1)), request()) == "calldata"
    assert rejected(quote(request(), to=OTHER), request()) == "router"
    assert rejected(quote(request(), spender=OTHER), request()) == "spender"
    assert rejected(quote(request(), value=1), request()) == "value"


def test_native_sell_sends_the_amount_and_names_weth() -> None:
    req = request(sell=NATIVE_PLACEHOLDER)
    check_quote(ARB, req, quote(req, value=10**18, spender=None), limits=LIMITS, reference=REF)
    assert rejected(quote(req, value=0, spender=None), req) == "value"


def test_native_buy_cannot_be_paid_in_weth() -> None:
    req = request(sell=USDC, buy=NATIVE_PLACEHOLDER)
    data = single(token_in=USDC, token_out=WETH, amount_in=10**18)
    assert rejected(quote(req, data=data), req) == "calldata"


def test_without_swap_router02_in_the_config_it_is_not_a_router() -> None:
    assert ARB.uniswap_v3 is not None
    bare = ARB.model_copy(update={"uniswap_v3": ARB.uniswap_v3.model_copy(update={"swap_router02": None})})
    assert rejected(quote(request(chain=bare)), request(chain=bare), chain=bare) == "router"
    assert ROUTER02 not in allowed_spenders(bare)


def test_swap_router02_is_an_allow_listed_spender() -> None:
    assert ROUTER02 in allowed_spenders(ARB)
    check_approval(ARB, Approval(token=WETH, spender=ROUTER02, amount_raw=10**18))
    with pytest.raises(ExecutionError, match="not an allow-listed spender"):
        check_approval(ARB, Approval(token=WETH, spender=OTHER, amount_raw=10**18))
