"""Build a client against a local URL and run the full fetch → validate → rank path for one request; read
balances and execute a winning quote on the sandbox chain."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import SecretStr
from web3 import Web3

from agent.chain.abi import abi
from agent.chain.rpc import ChainRpc
from agent.config.chains import NATIVE_PLACEHOLDER, ChainConfig
from agent.config.settings import ChainSettings
from agent.quotes.base import ClientOptions, HttpSource
from agent.quotes.best import fetch_best_quote
from agent.quotes.http import RetryPolicy
from agent.quotes.kyberswap import KyberSwapClient
from agent.quotes.models import BestQuote, Quote, QuoteRequest, ReferencePrice
from agent.quotes.odos import OdosClient
from agent.quotes.oneinch import OneInchClient
from agent.quotes.paraswap import ParaSwapClient
from agent.quotes.validate import Limits
from agent.quotes.zerox import ZeroExClient

from .conftest import WALLET

FAST_RETRY = RetryPolicy(attempts=3, backoff_s=0.01, max_wait_s=0.05, budget_s=3.0)
KEYS = {"0x": "zx-SECRET-key", "1inch": "1inch-SECRET-key", "odos": "odos-SECRET-key", "kyberswap": "kyber-client"}


def client(name: str, url: str, *, timeout_s: float = 2.0, retry: RetryPolicy = FAST_RETRY,
           slug: str = "sandbox_a") -> HttpSource:
    options = ClientOptions(url, KEYS.get(name), timeout_s, retry)
    if name == "0x":
        return ZeroExClient(options)
    if name == "1inch":
        return OneInchClient(ClientOptions(url + "/swap/v6.0", KEYS["1inch"], timeout_s, retry))
    if name == "paraswap":
        return ParaSwapClient(options)
    if name == "odos":
        return OdosClient(options)
    return KyberSwapClient(options, slug=slug)


def weth_usdc(chain: ChainConfig, *, native: bool = False, amount_raw: int = 10**18,
              slippage_bps: int = 50) -> QuoteRequest:
    sell = NATIVE_PLACEHOLDER if native else chain.token("WETH").address
    return QuoteRequest(chain_id=chain.chain_id, sell_token=sell, buy_token=chain.token("USDC").address,
                        sell_decimals=18, buy_decimals=6, sell_amount_raw=amount_raw, taker=WALLET,
                        slippage_bps=slippage_bps, sell_symbol="ETH" if native else "WETH", buy_symbol="USDC")


def run(chain: ChainConfig, sources: list[HttpSource], request: QuoteRequest, reference: ReferencePrice | None,
        limits: Limits, timeout_s: float = 5.0) -> BestQuote:
    try:
        return fetch_best_quote(request, chain=chain, sources=sources,
                                reference=(lambda _r: reference) if reference else None, limits=limits,
                                timeout_s=timeout_s)
    finally:
        for s in sources:
            s.close()


def reference_3000() -> ReferencePrice:
    return ReferencePrice(buy_per_sell=Decimal(3000), buy_per_native=Decimal(3000), gas_price_wei=10**9)


APPROVE = abi("ERC20").fn("approve")
BALANCE_OF = abi("ERC20").fn("balanceOf")


def balance(w3: Web3, token: str, holder: str) -> int:
    """A token balance, or the native balance for the 0xEeee… placeholder."""
    if token.lower() == NATIVE_PLACEHOLDER.lower():
        return int(w3.eth.get_balance(holder))
    return int(BALANCE_OF.decode_output(bytes(w3.eth.call({"to": token, "data": BALANCE_OF.encode(holder)})))[0])


def execute(w3: Web3, request: QuoteRequest, quote: Quote, *, gas: int = 2_000_000) -> dict[str, Any]:
    """Approve exactly the amount to the quote's spender, send the quoted transaction, return the receipt."""
    assert quote.tx is not None
    if quote.spender is not None:
        h = w3.eth.send_transaction({"from": request.taker, "to": request.sell_token,
                                     "data": APPROVE.encode(quote.spender, request.sell_amount_raw)})
        assert w3.eth.wait_for_transaction_receipt(h)["status"] == 1
    h = w3.eth.send_transaction({"from": request.taker, "to": quote.tx.to, "data": quote.tx.data,
                                 "value": quote.tx.value_wei, "gas": gas})
    return dict(w3.eth.wait_for_transaction_receipt(h))


def world_rpc(world: Any) -> ChainRpc:
    """A ChainRpc to the sandbox world's anvil."""
    return ChainRpc(world.chain, ChainSettings(rpc_urls=(SecretStr(world.rpc_url),)))
