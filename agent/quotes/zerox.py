"""0x Swap API v2, allowance-holder flow: ``GET /swap/allowance-holder/quote``.

Headers ``0x-api-key`` (ZEROX_API_KEY) and ``0x-version: v2``; the chain is the ``chainId`` query. The spender
is ``issues.allowance.spender`` (AllowanceHolder); the Settler (``exec``'s target) is never approved.
"""

from __future__ import annotations

from agent.errors import NoLiquidity
from agent.quotes.base import ClientOptions, HttpSource, make_quote, require_dict
from agent.quotes.http import as_address, as_bytes, as_int, field
from agent.quotes.models import Quote, QuoteRequest

NAME = "0x"


class ZeroExClient(HttpSource):
    name = NAME

    def __init__(self, options: ClientOptions) -> None:
        headers = {"0x-version": "v2"}
        if options.api_key:
            headers["0x-api-key"] = options.api_key
        super().__init__(options, headers)

    def fetch_quote(self, request: QuoteRequest) -> Quote:
        params = {
            "chainId": request.chain_id, "sellToken": request.sell_token, "buyToken": request.buy_token,
            "sellAmount": str(request.sell_amount_raw), "taker": request.taker,
            "slippageBps": request.slippage_bps,
        }
        body = require_dict(self.api.get_json("/swap/allowance-holder/quote", params), NAME, "quote")
        return parse_quote(request, body)


def _spender(body: dict[str, object], tx_to: str) -> str:
    issues = body.get("issues")
    allowance = issues.get("allowance") if isinstance(issues, dict) else None
    if isinstance(allowance, dict) and allowance.get("spender"):
        return as_address(allowance["spender"], NAME, "issues.allowance.spender")
    if body.get("allowanceTarget"):
        return as_address(body["allowanceTarget"], NAME, "allowanceTarget")
    return tx_to  # allowance-holder flow: AllowanceHolder is both the target and the spender


def parse_quote(request: QuoteRequest, body: dict[str, object]) -> Quote:
    if body.get("liquidityAvailable") is False:
        raise NoLiquidity(NAME, "no_liquidity: liquidityAvailable is false for this pair and amount")
    tx = field(body, NAME, "transaction")
    to = as_address(field(tx, NAME, "to"), NAME, "transaction.to")
    block = body.get("blockNumber")
    return make_quote(
        NAME, request,
        sell_token=as_address(field(body, NAME, "sellToken"), NAME, "sellToken"),
        buy_token=as_address(field(body, NAME, "buyToken"), NAME, "buyToken"),
        sell_amount_raw=as_int(field(body, NAME, "sellAmount"), NAME, "sellAmount"),
        buy_amount_raw=as_int(field(body, NAME, "buyAmount"), NAME, "buyAmount"),
        min_buy_amount_raw=as_int(field(body, NAME, "minBuyAmount"), NAME, "minBuyAmount"),
        gas_estimate=as_int(field(tx, NAME, "gas"), NAME, "transaction.gas"),
        to=to, data=as_bytes(field(tx, NAME, "data"), NAME, "transaction.data"),
        value_wei=as_int(field(tx, NAME, "value"), NAME, "transaction.value"),
        spender=_spender(body, to),
        block_number=as_int(block, NAME, "blockNumber") if block is not None else None,
        route=_route(body),
    )


def _route(body: dict[str, object]) -> str:
    route = body.get("route")
    fills = route.get("fills") if isinstance(route, dict) else None
    if not isinstance(fills, list):
        return ""
    parts = [f"{f.get('source')} {int(f.get('proportionBps', 0)) / 100:g}%" for f in fills if isinstance(f, dict)]
    return ", ".join(parts)
