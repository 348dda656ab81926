"""Every client against responses in its aggregator's real shape, served over real HTTP by a local server:
the request is built as the API documents it, and the normalized quote passes validation."""

from __future__ import annotations

import pytest

from agent.config.chains import NATIVE_PLACEHOLDER

from . import shapes
from .canned import Canned, CannedServer
from .conftest import WALLET
from .helpers import KEYS, client, run, weth_usdc


def serve_good(canned: CannedServer, chain, name: str) -> None:
    if name == "0x":
        canned.on("GET", "/swap/allowance-holder/quote", Canned(body=shapes.zerox(chain)))
    elif name == "1inch":
        canned.on("GET", f"/swap/v6.0/{chain.chain_id}/swap", Canned(body=shapes.oneinch(chain)))
    elif name == "paraswap":
        prices, tx = shapes.paraswap(chain)
        canned.on("GET", "/prices", Canned(body=prices))
        canned.on("POST", f"/transactions/{chain.chain_id}", Canned(body=tx))
    elif name == "odos":
        quote, assembled = shapes.odos(chain)
        canned.on("POST", "/sor/quote/v2", Canned(body=quote))
        canned.on("POST", "/sor/assemble", Canned(body=assembled))
    else:
        routes, build = shapes.kyber(chain)
        canned.on("GET", "/sandbox_a/api/v1/routes", Canned(body=routes))
        canned.on("POST", "/sandbox_a/api/v1/route/build", Canned(body=build))


@pytest.mark.parametrize("name", ["0x", "1inch", "paraswap", "odos", "kyberswap"])
def test_good_response_is_valid_and_normalized(canned, sandbox_chain, reference, limits, name) -> None:
    serve_good(canned, sandbox_chain, name)
    best = run(sandbox_chain, [client(name, canned.url)], weth_usdc(sandbox_chain), reference, limits)
    (result,) = best.results
    assert result.valid, result.rejected_because
    q = result.quote
    assert q is not None and best.best is not None
    assert (q.buy_amount_raw, q.sell_amount_raw, q.gas_estimate) == (shapes.BUY_RAW, shapes.SELL_RAW, 250_000)
    assert q.min_buy_amount_raw == shapes.MIN_RAW
    assert q.spender == q.tx.to == sandbox_chain.aggregators[name].routers[0]
    assert q.price_impact_bps == 30  # Odos reports 0.3%; the others are derived from the reference
    assert result.net_buy_amount_raw == shapes.BUY_RAW - 750_000  # 250k gas at 1 gwei = 0.00025 ETH = 0.75 USDC


def test_zerox_request_shape(canned, sandbox_chain, reference, limits) -> None:
    serve_good(canned, sandbox_chain, "0x")
    run(sandbox_chain, [client("0x", canned.url)], weth_usdc(sandbox_chain), reference, limits)
    (seen,) = canned.requests_to("/swap/allowance-holder/quote")
    assert seen.headers["0x-api-key"] == KEYS["0x"] and seen.headers["0x-version"] == "v2"
    assert seen.params["chainId"] == "31337" and seen.params["taker"] == WALLET
    assert seen.params["sellAmount"] == str(10**18) and seen.params["slippageBps"] == "50"


def test_oneinch_request_shape(canned, sandbox_chain, reference, limits) -> None:
    serve_good(canned, sandbox_chain, "1inch")
    run(sandbox_chain, [client("1inch", canned.url)], weth_usdc(sandbox_chain), reference, limits)
    (seen,) = canned.requests_to("/swap/v6.0/31337/swap")
    assert seen.headers["authorization"] == f"Bearer {KEYS['1inch']}"
    assert seen.params["slippage"] == "0.5"  # percent, not bps
    assert seen.params["from"] == seen.params["receiver"] == WALLET


def test_paraswap_request_shape_native_mixed_case(canned, sandbox_chain, reference, limits) -> None:
    serve_good(canned, sandbox_chain, "paraswap")
    run(sandbox_chain, [client("paraswap", canned.url)], weth_usdc(sandbox_chain, native=True), reference, limits)
    (prices,) = canned.requests_to("/prices")
    assert prices.params["version"] == "6.2" and prices.params["network"] == "31337"
    assert prices.params["srcToken"] == NATIVE_PLACEHOLDER  # exactly the mixed-case form
    assert prices.params["srcDecimals"] == "18" and prices.params["destDecimals"] == "6"
    (tx,) = canned.requests_to("/transactions/31337")
    assert tx.body["slippage"] == 50 and tx.body["priceRoute"]["hmac"] == "ab"  # priceRoute passed back unchanged


def test_odos_request_shape_native_zero(canned, sandbox_chain, reference, limits) -> None:
    serve_good(canned, sandbox_chain, "odos")
    run(sandbox_chain, [client("odos", canned.url)], weth_usdc(sandbox_chain, native=True), reference, limits)
    (quote,) = canned.requests_to("/sor/quote/v2")
    assert quote.body["inputTokens"][0]["tokenAddress"] == "0x0000000000000000000000000000000000000000"
    assert quote.body["slippageLimitPercent"] == 0.5 and quote.headers["x-api-key"] == KEYS["odos"]
    (assemble,) = canned.requests_to("/sor/assemble")
    assert assemble.body["pathId"] == "p1" and assemble.body["userAddr"] == WALLET


def test_kyber_request_shape(canned, sandbox_chain, reference, limits) -> None:
    serve_good(canned, sandbox_chain, "kyberswap")
    run(sandbox_chain, [client("kyberswap", canned.url)], weth_usdc(sandbox_chain), reference, limits)
    (routes,) = canned.requests_to("/sandbox_a/api/v1/routes")
    assert routes.headers["x-client-id"] == KEYS["kyberswap"] and routes.params["amountIn"] == str(10**18)
    (build,) = canned.requests_to("/sandbox_a/api/v1/route/build")
    assert build.body["slippageTolerance"] == 50 and build.body["recipient"] == WALLET
    assert build.body["routeSummary"]["routeID"] == "r1"
