"""The 0x Swap API v2 (allowance-holder) and 1inch Swap API v6.0 shapes, answered from the sandbox pools."""

from __future__ import annotations

import secrets
from typing import Any

from agent.config.chains import NATIVE_PLACEHOLDER
from agent.devtools.aggregator import shapes
from agent.devtools.aggregator.chain_state import ChainView
from agent.devtools.aggregator.engine import ApiError, Engine, Priced, min_out


def _zerox_invalid(field: str, reason: str) -> ApiError:
    return ApiError(400, {"name": "INPUT_INVALID", "message": "Validation Failed",
                          "data": {"details": [{"field": field, "reason": reason}]}})


def _required(params: dict[str, str], names: tuple[str, ...], err: Any) -> None:
    for name in names:
        if not params.get(name):
            raise err(name, "required")


def zerox(engine: Engine, action: str, params: dict[str, str]) -> dict[str, Any]:
    """``GET /swap/allowance-holder/{price|quote}``."""
    _required(params, ("chainId", "sellToken", "buyToken", "sellAmount") + (("taker",) if action == "quote" else ()),
              _zerox_invalid)
    view = engine.chain(params["chainId"])
    sell = engine.token(view, params["sellToken"], "sellToken")
    buy = engine.token(view, params["buyToken"], "buyToken")
    amount = engine.amount(params["sellAmount"], "sellAmount")
    slippage = int(params.get("slippageBps", "100"))
    if not 0 <= slippage <= 10_000:
        raise _zerox_invalid("slippageBps", "must be between 0 and 10000")
    priced = engine.price(view, sell, buy, amount)
    zid = "0x" + secrets.token_hex(12)
    if priced is None:
        return {"liquidityAvailable": False, "zid": zid}
    low = min_out(priced.amount_out, slippage)
    taker = params.get("taker")
    allowance = None
    if sell != NATIVE_PLACEHOLDER and taker:
        actual = view.allowance(sell, taker)
        allowance = {"actual": str(actual), "spender": view.router_for("0x")} if actual < amount else None
    out: dict[str, Any] = {
        "blockNumber": str(priced.block), "buyAmount": str(priced.amount_out), "buyToken": buy.lower(),
        "fees": {"integratorFee": None, "zeroExFee": None, "gasFee": None},
        "issues": {"allowance": allowance, "balance": None, "simulationIncomplete": False,
                   "invalidSourcesPassed": []},
        "liquidityAvailable": True, "minBuyAmount": str(low),
        "route": {"fills": _fills(priced), "tokens": [{"address": t, "symbol": ""} for t in (sell, buy)]},
        "sellAmount": str(amount), "sellToken": sell.lower(),
        "totalNetworkFee": str(priced.gas * priced.gas_price), "zid": zid,
    }
    if action == "quote":
        data = shapes.zerox(sell=sell, buy=buy, amount=amount, min_out=low, recipient=taker or "",
                            legs=_legs(priced), zid=bytes.fromhex(zid[2:]))
        out["transaction"] = {"to": view.router_for("0x"), "data": "0x" + data.hex(), "gas": str(priced.gas),
                              "gasPrice": str(priced.gas_price), "value": str(priced.value)}
    else:
        out.update(gas=str(priced.gas), gasPrice=str(priced.gas_price))
    return out


def _legs(priced: Priced) -> list[tuple[int, list[str]]]:
    return [(leg.amount_in, list(leg.pairs)) for leg in priced.route.legs]


def _fills(priced: Priced) -> list[dict[str, Any]]:
    total = priced.amount_in
    return [{"from": leg.tokens[0], "to": leg.tokens[-1], "source": "Sandbox_V2",
             "proportionBps": str(leg.amount_in * 10_000 // total)} for leg in priced.route.legs]


def _oneinch_error(status: int, description: str) -> ApiError:
    return ApiError(status, {"error": "Bad Request" if status == 400 else "Error", "description": description,
                             "statusCode": status, "requestId": secrets.token_hex(8), "meta": []})


def _token_info(view: ChainView, address: str) -> dict[str, Any]:
    if address == NATIVE_PLACEHOLDER:
        return {"address": address.lower(), "symbol": view.config.native_symbol, "name": "Ether",
                "decimals": view.config.native_decimals, "logoURI": "", "tags": ["native"]}
    token = view.config.token_by_address(address)
    return {"address": address.lower(), "symbol": token.symbol if token else "", "name": token.symbol if token else "",
            "decimals": token.decimals if token else 18, "logoURI": "", "tags": ["tokens"]}


def oneinch(engine: Engine, chain_id: str, action: str, params: dict[str, str]) -> dict[str, Any]:
    """``GET /swap/v6.0/{chainId}/{quote|swap|approve/spender|approve/allowance}``."""
    try:
        view = engine.chain(chain_id)
    except ApiError:
        raise _oneinch_error(400, f"chain {chain_id} is not supported") from None
    router = view.router_for("1inch")
    if action == "approve/spender":
        return {"address": router}
    if action == "approve/allowance":
        token = engine.token(view, params.get("tokenAddress"), "tokenAddress")
        owner = engine.token(view, params.get("walletAddress"), "walletAddress")
        return {"allowance": str(view.allowance(token, owner, router))}
    if action not in ("quote", "swap"):
        raise _oneinch_error(404, f"unknown endpoint {action}")
    needed = ("src", "dst", "amount") + (("from", "slippage") if action == "swap" else ())
    for name in needed:
        if not params.get(name):
            raise _oneinch_error(400, f"{name} is required")
    sell = engine.token(view, params["src"], "src")
    buy = engine.token(view, params["dst"], "dst")
    priced = engine.price(view, sell, buy, engine.amount(params["amount"], "amount"))
    if priced is None:
        raise _oneinch_error(400, "insufficient liquidity")
    out: dict[str, Any] = {"dstAmount": str(priced.amount_out)}
    if params.get("includeTokensInfo") == "true":
        out.update(srcToken=_token_info(view, sell), dstToken=_token_info(view, buy))
    if params.get("includeProtocols") == "true":
        out["protocols"] = [[[{"name": "SANDBOX_V2", "part": leg.amount_in * 100 // priced.amount_in,
                               "fromTokenAddress": leg.tokens[0].lower(), "toTokenAddress": leg.tokens[-1].lower()}]]
                            for leg in priced.route.legs]
    if action == "quote":
        if params.get("includeGas") == "true":
            out["gas"] = priced.gas
        return out
    try:
        slippage_bps = round(float(params["slippage"]) * 100)
    except ValueError:
        raise _oneinch_error(400, "slippage must be a number (percent)") from None
    if not 0 <= slippage_bps <= 5000:
        raise _oneinch_error(400, "slippage must be between 0 and 50")
    recipient = params.get("receiver") or params["from"]
    low = min_out(priced.amount_out, slippage_bps)
    data = shapes.oneinch(router=router, sell=sell, buy=buy, amount=priced.amount_in, min_out=low,
                          recipient=engine.token(view, recipient, "receiver"), legs=_legs(priced))
    out["tx"] = {"from": params["from"].lower(), "to": router.lower(), "data": "0x" + data.hex(),
                 "value": str(priced.value), "gas": priced.gas, "gasPrice": str(priced.gas_price)}
    return out
