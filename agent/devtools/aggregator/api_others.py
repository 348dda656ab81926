"""The ParaSwap/Velora (v6.2), Odos v2 and KyberSwap shapes, answered from the sandbox pools.

ParaSwap and KyberSwap build calls carry the route back (``priceRoute`` / ``routeSummary``); this server signs
the route it hands out (``hmac`` / ``checksum``) and refuses an altered one. Odos keeps the quote by ``pathId``.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from agent.config.chains import NATIVE_PLACEHOLDER
from agent.devtools.aggregator import shapes
from agent.devtools.aggregator.engine import ZERO, ApiError, Engine, min_out
from agent.models import checksum

PARASWAP_VERSION = "6.2"


def _legs_payload(legs: list[tuple[int, list[str]]]) -> str:
    return json.dumps([[a, [p.lower() for p in pairs]] for a, pairs in legs])


def _sig_payload(chain_id: int, sell: str, buy: str, amount_in: int, amount_out: int,
                 legs: list[tuple[int, list[str]]]) -> str:
    return f"{chain_id}|{sell.lower()}|{buy.lower()}|{amount_in}|{amount_out}|{_legs_payload(legs)}"


def _paraswap_error(message: str, status: int = 400) -> ApiError:
    return ApiError(status, {"error": message})


def paraswap_prices(engine: Engine, params: dict[str, str]) -> dict[str, Any]:
    for name in ("srcToken", "destToken", "amount", "srcDecimals", "destDecimals"):
        if not params.get(name):
            raise _paraswap_error(f"Validation failed: {name} is required")
    if params.get("version") != PARASWAP_VERSION:
        raise _paraswap_error(f"this sandbox serves version={PARASWAP_VERSION} only")
    if params.get("side", "SELL") != "SELL":
        raise _paraswap_error("only side=SELL is supported")
    for name in ("srcToken", "destToken"):
        value = params[name]
        if value.lower() in (NATIVE_PLACEHOLDER.lower(), ZERO) and value != NATIVE_PLACEHOLDER:
            raise _paraswap_error(f"Invalid {name}: write the native coin as {NATIVE_PLACEHOLDER}")
    view = engine.chain(params.get("network", "1"))
    sell = engine.token(view, params["srcToken"], "srcToken")
    buy = engine.token(view, params["destToken"], "destToken")
    priced = engine.price(view, sell, buy, engine.amount(params["amount"], "amount"))
    if priced is None:
        raise _paraswap_error("No routes found with enough liquidity")
    legs = [(leg.amount_in, list(leg.pairs)) for leg in priced.route.legs]
    cid = view.config.chain_id
    best_route = [{"percent": leg.amount_in * 100 / priced.amount_in, "swaps": [
        {"srcToken": leg.tokens[i], "destToken": leg.tokens[i + 1], "swapExchanges": [
            {"exchange": "SandboxV2", "srcAmount": str(leg.amount_in) if i == 0 else "0", "percent": 100,
             "poolAddresses": [pair], "data": {"router": view.router}}]}
        for i, pair in enumerate(leg.pairs)]} for leg in priced.route.legs]
    route = {
        "blockNumber": priced.block, "network": cid, "srcToken": sell, "srcDecimals": int(params["srcDecimals"]),
        "srcAmount": str(priced.amount_in), "destToken": buy, "destDecimals": int(params["destDecimals"]),
        "destAmount": str(priced.amount_out), "bestRoute": best_route, "gasCostUSD": "0", "gasCost": str(priced.gas),
        "side": "SELL", "version": PARASWAP_VERSION, "contractAddress": view.router_for("paraswap"),
        "tokenTransferProxy": view.router_for("paraswap"), "contractMethod": "swapExactAmountIn", "partnerFee": 0,
        "srcUSD": "0", "destUSD": "0", "partner": "anon", "maxImpactReached": False,
        "hmac": engine.sign(_sig_payload(cid, sell, buy, priced.amount_in, priced.amount_out, legs)),
    }
    return {"priceRoute": route}


def _route_legs(best_route: Any) -> list[tuple[int, list[str]]]:
    try:
        return [(int(r["swaps"][0]["swapExchanges"][0]["srcAmount"]),
                 [checksum(s["swapExchanges"][0]["poolAddresses"][0]) for s in r["swaps"]]) for r in best_route]
    except (KeyError, IndexError, TypeError, ValueError):
        raise _paraswap_error("priceRoute.bestRoute is malformed") from None


def paraswap_transactions(engine: Engine, network: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("priceRoute"), dict):
        raise _paraswap_error("Validation failed: priceRoute is required")
    route = body["priceRoute"]
    view = engine.chain(network)
    sell, buy = engine.token(view, route.get("srcToken"), "srcToken"), engine.token(view, route.get("destToken"),
                                                                                    "destToken")
    amount_in, amount_out = int(route.get("srcAmount", 0)), int(route.get("destAmount", 0))
    legs = _route_legs(route.get("bestRoute"))
    engine.verify(_sig_payload(view.config.chain_id, sell, buy, amount_in, amount_out, legs), route.get("hmac"))
    if str(body.get("srcAmount", amount_in)) != str(amount_in):
        raise _paraswap_error("srcAmount does not match priceRoute.srcAmount")
    user = engine.token(view, body.get("userAddress"), "userAddress")
    recipient = engine.token(view, body.get("receiver") or user, "receiver")
    slippage = int(body.get("slippage", 100))
    data = shapes.paraswap(router=view.router_for("paraswap"), sell=sell, buy=buy, amount=amount_in,
                           min_out=min_out(amount_out, slippage), quoted=amount_out, recipient=recipient, legs=legs)
    value = amount_in if sell == NATIVE_PLACEHOLDER else 0
    return {"from": user, "to": view.router_for("paraswap"), "value": str(value),
            "data": "0x" + data.hex(), "gasPrice": str(view.gas_price()), "chainId": view.config.chain_id,
            "gas": str(route.get("gasCost", "0"))}


def _odos_error(detail: str, code: int = 4000) -> ApiError:
    return ApiError(400, {"detail": detail, "traceId": secrets.token_hex(8), "errorCode": code})


def odos_quote(engine: Engine, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _odos_error("body must be a JSON object")
    view = engine.chain(body.get("chainId"))
    ins, outs = body.get("inputTokens") or [], body.get("outputTokens") or []
    if len(ins) != 1 or len(outs) != 1:
        raise _odos_error("the sandbox routes one input token to one output token")
    sell = engine.token(view, ins[0].get("tokenAddress"), "inputTokens[0].tokenAddress")
    buy = engine.token(view, outs[0].get("tokenAddress"), "outputTokens[0].tokenAddress")
    priced = engine.price(view, sell, buy, engine.amount(ins[0].get("amount"), "inputTokens[0].amount"))
    if priced is None:
        raise _odos_error("No viable path found", 2000)
    slippage_bps = round(float(body.get("slippageLimitPercent", 0.3)) * 100)
    path_id = engine.remember_path(priced, f"{body.get('userAddr', '')}|{slippage_bps}")

    def odos(a: str) -> str:
        return ZERO if a == NATIVE_PLACEHOLDER else a.lower()

    return {"inTokens": [odos(sell)], "outTokens": [odos(buy)], "inAmounts": [str(priced.amount_in)],
            "outAmounts": [str(priced.amount_out)], "gasEstimate": float(priced.gas), "dataGasEstimate": 0,
            "gweiPerGas": priced.gas_price / 1e9, "gasEstimateValue": 0.0, "inValues": [0.0], "outValues": [0.0],
            "netOutValue": 0.0, "priceImpact": -round(priced.impact_pct, 4), "percentDiff": 0.0,
            "partnerFeePercent": 0.0, "pathId": path_id, "pathViz": None, "blockNumber": priced.block}


def odos_assemble(engine: Engine, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _odos_error("body must be a JSON object")
    priced, memo = engine.recall_path(body.get("pathId"))
    user, _, slippage = memo.partition("|")
    if str(body.get("userAddr", "")).lower() != user.lower():
        raise _odos_error("userAddr does not match the quote", 4002)
    recipient = engine.token(priced.view, body.get("receiver") or user, "receiver")
    low = min_out(priced.amount_out, int(slippage))
    view = priced.view
    router = view.router_for("odos")
    data = shapes.odos(router=router, sell=priced.sell, buy=priced.buy, amount=priced.amount_in, min_out=low,
                       quoted=priced.amount_out, recipient=recipient,
                       legs=[(leg.amount_in, list(leg.pairs)) for leg in priced.route.legs])
    return {
        "deprecated": None, "blockNumber": priced.block, "gasEstimate": priced.gas, "gasEstimateValue": 0.0,
        "inputTokens": [{"tokenAddress": priced.sell, "amount": str(priced.amount_in)}],
        "outputTokens": [{"tokenAddress": priced.buy, "amount": str(priced.amount_out)}],
        "netOutValue": 0.0, "outValues": ["0"],
        "transaction": {"gas": priced.gas, "gasPrice": priced.gas_price, "value": str(priced.value),
                        "to": router, "from": user, "data": "0x" + data.hex(), "nonce": 0,
                        "chainId": view.config.chain_id},
        "simulation": None,
    }


def _kyber_error(message: str, code: int = 4000, status: int = 400) -> ApiError:
    return ApiError(status, {"code": code, "message": message, "requestId": secrets.token_hex(8)})


def kyber_routes(engine: Engine, slug: str, params: dict[str, str]) -> dict[str, Any]:
    view = engine.chain_by_slug(slug)
    for name in ("tokenIn", "tokenOut", "amountIn"):
        if not params.get(name):
            raise _kyber_error(f"{name} is required", 4001)
    sell = engine.token(view, params["tokenIn"], "tokenIn")
    buy = engine.token(view, params["tokenOut"], "tokenOut")
    priced = engine.price(view, sell, buy, engine.amount(params["amountIn"], "amountIn"))
    if priced is None:
        raise _kyber_error("route not found", 4008)
    legs = [(leg.amount_in, list(leg.pairs)) for leg in priced.route.legs]
    summary = {
        "tokenIn": sell, "amountIn": str(priced.amount_in), "amountInUsd": "0", "tokenOut": buy,
        "amountOut": str(priced.amount_out), "amountOutUsd": "0", "gas": str(priced.gas),
        "gasPrice": str(priced.gas_price), "gasUsd": "0", "extraFee": {"feeAmount": "0", "chargeFeeBy": "",
                                                                     "isInBps": False, "feeReceiver": ""},
        "route": [[{"pool": pair, "tokenIn": leg.tokens[i], "tokenOut": leg.tokens[i + 1],
                    "swapAmount": str(leg.amount_in) if i == 0 else "0", "amountOut": "0",
                    "exchange": "sandbox-v2", "poolType": "uniswap-v2"} for i, pair in enumerate(leg.pairs)]
                  for leg in priced.route.legs],
        "routeID": secrets.token_hex(8), "timestamp": int(time.time()),
    }
    summary["checksum"] = engine.sign(_sig_payload(view.config.chain_id, sell, buy, priced.amount_in,
                                                   priced.amount_out, legs))
    return {"code": 0, "message": "successfully", "data": {"routeSummary": summary,
                                                             "routerAddress": view.router_for("kyberswap")},
            "requestId": secrets.token_hex(8)}


def kyber_build(engine: Engine, slug: str, body: Any) -> dict[str, Any]:
    view = engine.chain_by_slug(slug)
    summary = body.get("routeSummary") if isinstance(body, dict) else None
    if not isinstance(summary, dict):
        raise _kyber_error("routeSummary is required", 4001)
    try:
        legs = [(int(leg[0]["swapAmount"]), [checksum(h["pool"]) for h in leg]) for leg in summary["route"]]
        sell, buy = engine.token(view, summary["tokenIn"], "tokenIn"), engine.token(view, summary["tokenOut"],
                                                                                    "tokenOut")
        amount_in, amount_out = int(summary["amountIn"]), int(summary["amountOut"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise _kyber_error("routeSummary is malformed", 4002) from None
    engine.verify(_sig_payload(view.config.chain_id, sell, buy, amount_in, amount_out, legs), summary.get("checksum"))
    if "slippageTolerance" not in body:
        raise _kyber_error("slippageTolerance is required by this sandbox (the real API defaults it to 0)", 4001)
    slippage = int(body["slippageTolerance"])
    if not 0 <= slippage <= 2000:
        raise _kyber_error("slippageTolerance must be in [0, 2000]", 4001)
    recipient = engine.token(view, body.get("recipient") or body.get("sender"), "recipient")
    data = shapes.kyber(core=view.router, sell=sell, buy=buy, amount=amount_in, min_out=min_out(amount_out, slippage),
                        recipient=recipient, legs=legs)
    return {"code": 0, "message": "successfully", "data": {
        "amountIn": str(amount_in), "amountInUsd": "0", "amountOut": str(amount_out), "amountOutUsd": "0",
        "gas": summary.get("gas", "0"), "gasUsd": "0", "outputChange": {"amount": "0", "percent": 0, "level": 0},
        "data": "0x" + data.hex(), "routerAddress": view.router_for("kyberswap"),
        "transactionValue": str(amount_in if sell == NATIVE_PLACEHOLDER else 0)}, "requestId": secrets.token_hex(8)}
