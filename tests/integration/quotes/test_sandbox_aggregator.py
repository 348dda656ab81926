"""The local aggregator server on a real sandbox chain (anvil): every client quotes through it over HTTP, and the
winning quote, executed from the wallet, moves balances as quoted (at least the min-out)."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from agent.chain.rpc import make_web3
from agent.devtools.sandbox.anvil import free_port
from agent.quotes.best import fetch_best_quote
from agent.quotes.calldata import decode_swap
from agent.quotes.models import QuoteRequest
from agent.quotes.onchain import OnchainQuoter
from agent.quotes.service import build_request
from agent.quotes.validate import Limits

from .helpers import balance, client, execute, world_rpc

pytestmark = pytest.mark.anvil
LIMITS = Limits(max_slippage_bps=50, max_quote_deviation_bps=150, max_swap_gas=1_500_000)
SOURCES = ("0x", "1inch", "paraswap", "odos", "kyberswap")








REAL_SHAPE = {"0x": "0x_allowance_holder", "1inch": "1inch_swap", "paraswap": "velora_generic", "odos": "odos_swap",
              "kyberswap": "kyberswap_swap"}


def _request(world: Any, sell: str, buy: str, amount: str) -> QuoteRequest:
    return build_request(world.chain, sell=sell, buy=buy, amount=amount, taker=world.wallet, slippage_bps=50)


@pytest.mark.parametrize("name", SOURCES)
def test_client_quote_executes_for_at_least_min_out(world, aggregator_server, name) -> None:
    request = _request(world, "WETH", "USDC", "10")
    best = fetch_best_quote(request, chain=world.chain, sources=[client(name, aggregator_server.url, timeout_s=10)],
                            reference=OnchainQuoter(world.chain, world_rpc(world)).fetch_reference, limits=LIMITS,
                            timeout_s=15)
    (result,) = best.results
    assert result.valid, result.rejected_because
    quote = result.quote
    # the calldata is in the real router's shape (the same decoder the real API's answers go through)
    decoded = decode_swap(quote.tx.data)
    assert decoded is not None and decoded.shape == REAL_SHAPE[name]
    assert decoded.recipient in (None, world.wallet) and decoded.min_out == quote.min_buy_amount_raw
    w3 = make_web3(world.rpc_url, timeout_s=30)
    before = balance(w3, request.buy_token, world.wallet), balance(w3, request.sell_token, world.wallet)
    receipt = execute(w3, request, quote)
    assert receipt["status"] == 1
    got = balance(w3, request.buy_token, world.wallet) - before[0]
    assert got >= quote.min_buy_amount_raw and got == quote.buy_amount_raw  # nobody traded in between
    assert before[1] - balance(w3, request.sell_token, world.wallet) == request.sell_amount_raw
    assert receipt["gasUsed"] <= quote.gas_estimate


def test_best_of_all_sources_executes_and_split_beats_single_pool(world, aggregator_server) -> None:
    request = _request(world, "WETH", "USDC", "15")  # the wallet holds 20 WETH
    rpc = world_rpc(world)
    onchain = OnchainQuoter(world.chain, rpc)
    sources = [onchain, *(client(n, aggregator_server.url, timeout_s=10) for n in SOURCES)]
    best = fetch_best_quote(request, chain=world.chain, sources=sources, reference=onchain.fetch_reference,
                            limits=LIMITS, timeout_s=15)
    by_source = {r.source: r for r in best.results}
    assert all(r.valid for r in best.results), [r.rejected_because for r in best.results]
    # the server splits between the uniswap and sushi WETH/USDC pools; one pool alone pays less
    assert by_source["0x"].quote.buy_amount_raw > by_source["onchain"].quote.buy_amount_raw
    assert best.best is not None and best.best.source != "onchain"
    w3 = make_web3(world.rpc_url, timeout_s=30)
    before = balance(w3, request.buy_token, world.wallet)
    assert execute(w3, request, best.best.quote)["status"] == 1
    assert balance(w3, request.buy_token, world.wallet) - before >= best.best.quote.min_buy_amount_raw


@pytest.mark.parametrize(("sell", "buy", "amount", "name"),
                         [("ETH", "USDC", "2", "0x"), ("USDC", "ETH", "5000", "1inch"),
                          ("WBTC", "LINK", "0.1", "kyberswap")])
def test_native_and_multi_hop_orders_execute(world, aggregator_server, sell, buy, amount, name) -> None:
    request = _request(world, sell, buy, amount)
    best = fetch_best_quote(request, chain=world.chain, sources=[client(name, aggregator_server.url, timeout_s=10)],
                            reference=OnchainQuoter(world.chain, world_rpc(world)).fetch_reference, limits=LIMITS,
                            timeout_s=15)
    result = best.results[0]
    assert result.valid, result.rejected_because
    w3 = make_web3(world.rpc_url, timeout_s=30)
    before = balance(w3, request.buy_token, world.wallet)
    receipt = execute(w3, request, result.quote)
    assert receipt["status"] == 1
    assert balance(w3, request.buy_token, world.wallet) - before >= result.quote.min_buy_amount_raw


def test_onchain_quote_executes(world) -> None:
    request = _request(world, "USDC", "WBTC", "1000")
    onchain = OnchainQuoter(world.chain, world_rpc(world))
    best = fetch_best_quote(request, chain=world.chain, sources=[onchain], reference=onchain.fetch_reference,
                            limits=LIMITS, timeout_s=15)
    assert best.best is not None, best.results[0].rejected_because
    w3 = make_web3(world.rpc_url, timeout_s=30)
    before = balance(w3, request.buy_token, world.wallet)
    assert execute(w3, request, best.best.quote)["status"] == 1
    assert balance(w3, request.buy_token, world.wallet) - before == best.best.quote.buy_amount_raw


def test_server_errors_in_api_shapes(aggregator_server, world) -> None:
    weth, usdc = world.token("WETH"), world.token("USDC")
    r = httpx.get(aggregator_server.url + "/swap/allowance-holder/quote", params={"chainId": 31337, "sellToken": weth})
    assert r.status_code == 400 and r.json()["name"] == "INPUT_INVALID"
    r = httpx.get(aggregator_server.url + "/prices", params={"srcToken": "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
                                                  "destToken": usdc, "amount": "1", "srcDecimals": 18,
                                                  "destDecimals": 6, "network": 31337, "version": "6.2"})
    assert r.status_code == 400 and "native" in r.json()["error"]
    r = httpx.get(aggregator_server.url + "/swap/v6.0/31337/approve/spender")
    assert r.json() == {"address": world.chain.aggregators["1inch"].routers[0]}  # its Shape adapter
    assert world.chain.aggregators["1inch"].routers[0] != world.aggregator_router
    r = httpx.get(aggregator_server.url + "/swap/allowance-holder/quote",
                  params={"chainId": 31337, "sellToken": weth, "buyToken": "0x" + "12" * 20, "sellAmount": "1",
                          "taker": world.wallet})
    assert r.json()["liquidityAvailable"] is False


def test_kyber_build_refuses_an_altered_route(aggregator_server, world) -> None:
    params = {"tokenIn": world.token("WETH"), "tokenOut": world.token("USDC"), "amountIn": str(10**18)}
    routes = httpx.get(aggregator_server.url + "/sandbox_a/api/v1/routes", params=params).json()
    summary = routes["data"]["routeSummary"]
    summary["amountOut"] = str(int(summary["amountOut"]) * 2)
    r = httpx.post(aggregator_server.url + "/sandbox_a/api/v1/route/build",
                   json={"routeSummary": summary, "sender": world.wallet, "recipient": world.wallet,
                         "slippageTolerance": 50})
    assert r.status_code == 400


def test_process_entry_serves_and_stops(world) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "agent.devtools.aggregator", "--port", str(port), "--chain",
                             f"sandbox_a={world.rpc_url}", "--log-level", "WARNING"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        assert r.json()["chains"] == [31337]
        r = httpx.get(f"http://127.0.0.1:{port}/swap/allowance-holder/price",
                      params={"chainId": 31337, "sellToken": world.token("WETH"), "buyToken": world.token("USDC"),
                              "sellAmount": str(10**18)})
        assert r.status_code == 200 and int(r.json()["buyAmount"]) > 0
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
