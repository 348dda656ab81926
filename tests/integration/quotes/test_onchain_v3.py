"""The on-chain source on a chain with only Uniswap V3 (the sandbox_a config without its V2 router): QuoterV2 quotes
become SwapRouter02 ``exactInputSingle`` transactions that validate and, sent from the wallet (anvil's account 0),
move balances by at least the min-out; tampered calldata is refused by the named check."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from agent.chain.abi import abi
from agent.chain.rpc import ChainRpc, make_web3
from agent.config.chains import ChainConfig
from agent.config.settings import ChainSettings
from agent.errors import QuoteRejected
from agent.quotes.best import fetch_best_quote
from agent.quotes.calldata import V3_EXACT_INPUT_SINGLE
from agent.quotes.models import Quote, QuoteRequest, QuoteTx
from agent.quotes.onchain import OnchainQuoter
from agent.quotes.service import build_request
from agent.quotes.validate import Limits, check_quote

from .conftest import ATTACKER
from .helpers import balance, execute

pytestmark = pytest.mark.anvil
ALLOWANCE = abi("ERC20").fn("allowance")
LIMITS = Limits(max_slippage_bps=50, max_quote_deviation_bps=150, max_swap_gas=1_500_000)


def v3_only(world: Any) -> ChainConfig:
    chain = world.chain.model_copy(update={"uniswap_v2": None})
    assert chain.uniswap_v2 is None and chain.uniswap_v3.swap_router02 == world.swap_router02
    return chain


def quoter(chain: ChainConfig, world: Any) -> OnchainQuoter:
    return OnchainQuoter(chain, ChainRpc(chain, ChainSettings(rpc_urls=(SecretStr(world.rpc_url),))))




def best_onchain(chain: ChainConfig, world: Any, request: QuoteRequest) -> Quote:
    source = quoter(chain, world)
    best = fetch_best_quote(request, chain=chain, sources=[source], reference=source.fetch_reference, limits=LIMITS,
                            timeout_s=15)
    (result,) = best.results
    assert result.valid, result.rejected_because
    assert result.quote is not None and best.best is not None
    return result.quote




@pytest.mark.parametrize(("sell", "buy", "amount"), [("WETH", "USDC", "2"), ("USDC", "WBTC", "5000"),
                                                     ("ETH", "USDC", "1.5")])
def test_v3_only_quote_executes_through_swap_router02(world, sell: str, buy: str, amount: str) -> None:
    chain = v3_only(world)
    w3 = make_web3(world.rpc_url, timeout_s=30)
    request = build_request(chain, sell=sell, buy=buy, amount=amount, taker=world.wallet, slippage_bps=50)
    quote = best_onchain(chain, world, request)
    assert quote.tx is not None and quote.tx.to == world.swap_router02
    assert quote.route.startswith("uniswap_v3 SwapRouter02 exactInputSingle")
    assert quote.spender == (None if request.sells_native else world.swap_router02)
    sell_before, buy_before = balance(w3, request.sell_token, world.wallet), balance(w3, request.buy_token,
                                                                                    world.wallet)
    receipt = execute(w3, request, quote, gas=1_000_000)
    assert receipt["status"] == 1
    bought = balance(w3, request.buy_token, world.wallet) - buy_before
    assert quote.min_buy_amount_raw <= bought == quote.buy_amount_raw  # nothing traded in between
    gas_paid = receipt["gasUsed"] * receipt["effectiveGasPrice"] if request.sells_native else 0
    assert sell_before - balance(w3, request.sell_token, world.wallet) == request.sell_amount_raw + gas_paid
    assert receipt["gasUsed"] <= quote.gas_estimate
    if not request.sells_native:
        allowance = ALLOWANCE.encode(world.wallet, world.swap_router02)
        assert ALLOWANCE.decode_output(bytes(w3.eth.call({"to": request.sell_token, "data": allowance})))[0] == 0


def tampered(quote: Quote, *, recipient: str | None = None, min_out: int | None = None) -> Quote:
    """The quote with its exactInputSingle calldata re-encoded with another recipient or min-out."""
    assert quote.tx is not None
    ((token_in, token_out, fee, to, amount_in, floor, limit),) = V3_EXACT_INPUT_SINGLE.decode_input(quote.tx.data)
    data = V3_EXACT_INPUT_SINGLE.encode((token_in, token_out, fee, recipient or to, amount_in,
                                         floor if min_out is None else min_out, limit))
    return quote.model_copy(update={"tx": QuoteTx(to=quote.tx.to, data=data, value_wei=quote.tx.value_wei)})


@pytest.mark.parametrize(("change", "check"), [
    ({"recipient": ATTACKER}, "recipient"),
    ({"min_out": 1}, "min_out"),
])
def test_tampered_swap_router02_calldata_is_refused(world, change: dict[str, Any], check: str) -> None:
    chain = v3_only(world)
    request = build_request(chain, sell="WETH", buy="USDC", amount="1", taker=world.wallet, slippage_bps=50)
    source = quoter(chain, world)
    quote, reference = source.fetch_quote(request), source.fetch_reference(request)
    check_quote(chain, request, quote, limits=LIMITS, reference=reference)  # the untouched quote passes
    with pytest.raises(QuoteRejected) as info:
        check_quote(chain, request, tampered(quote, **change), limits=LIMITS, reference=reference)
    assert info.value.check == check


def test_buying_the_native_coin_stays_quote_only(world) -> None:
    chain = v3_only(world)
    request = build_request(chain, sell="USDC", buy="ETH", amount="3000", taker=world.wallet, slippage_bps=50)
    source = quoter(chain, world)
    quote = source.fetch_quote(request)
    assert quote.tx is None and quote.buy_amount_raw > 0
    with pytest.raises(QuoteRejected) as info:
        check_quote(chain, request, quote, limits=LIMITS, reference=source.fetch_reference(request))
    assert info.value.check == "executable"
