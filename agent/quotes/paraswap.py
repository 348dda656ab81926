"""ParaSwap / Velora market API, version 6.2: ``GET /prices`` then ``POST /transactions/{network}``.

Keyless. The native coin is ``0xEeee…`` in exactly its mixed case; slippage is in bps. The spender is
``priceRoute.tokenTransferProxy``; the min-out is what the slippage allows (or the calldata's, where readable).
"""

from __future__ import annotations

from typing import Any

from agent.quotes.base import (
    HttpSource,
    calldata_min_out,
    make_quote,
    min_out_for,
    require_dict,
)
from agent.quotes.http import as_address, as_bytes, as_int, field
from agent.quotes.models import Quote, QuoteRequest

NAME = "paraswap"
VERSION = "6.2"


class ParaSwapClient(HttpSource):
    name = NAME

    def fetch_quote(self, request: QuoteRequest) -> Quote:
        params = {
            "srcToken": request.sell_token, "destToken": request.buy_token, "amount": str(request.sell_amount_raw),
            "srcDecimals": request.sell_decimals, "destDecimals": request.buy_decimals, "side": "SELL",
            "network": request.chain_id, "version": VERSION, "userAddress": request.taker,
        }
        prices = require_dict(self.api.get_json("/prices", params), NAME, "prices")
        route = require_dict(field(prices, NAME, "priceRoute"), NAME, "priceRoute")
        body = {
            "srcToken": request.sell_token, "destToken": request.buy_token,
            "srcAmount": str(request.sell_amount_raw), "slippage": request.slippage_bps,
            "priceRoute": route, "userAddress": request.taker, "receiver": request.taker,
            "srcDecimals": request.sell_decimals, "destDecimals": request.buy_decimals,
        }
        tx = require_dict(self.api.post_json(f"/transactions/{request.chain_id}", body,
                                             params={"ignoreChecks": "true"}), NAME, "transaction")
        return parse(request, route, tx)


def _chain_id(request: QuoteRequest, route: dict[str, Any], tx: dict[str, Any]) -> int:
    """The chain the response is for: any id in it that differs from ours wins (so it gets refused)."""
    ids = [as_int(v, NAME, k) for k, v in (("priceRoute.network", route.get("network")),
                                          ("chainId", tx.get("chainId"))) if v is not None]
    return next((i for i in ids if i != request.chain_id), request.chain_id)


def parse(request: QuoteRequest, route: dict[str, Any], tx: dict[str, Any]) -> Quote:
    data = as_bytes(field(tx, NAME, "data"), NAME, "data")
    buy = as_int(field(route, NAME, "destAmount"), NAME, "priceRoute.destAmount")
    min_out = calldata_min_out(data)
    gas = tx.get("gas") or field(route, NAME, "gasCost")
    block = route.get("blockNumber")
    return make_quote(
        NAME, request, chain_id=_chain_id(request, route, tx),
        sell_token=as_address(field(route, NAME, "srcToken"), NAME, "priceRoute.srcToken"),
        buy_token=as_address(field(route, NAME, "destToken"), NAME, "priceRoute.destToken"),
        sell_amount_raw=as_int(field(route, NAME, "srcAmount"), NAME, "priceRoute.srcAmount"),
        buy_amount_raw=buy,
        min_buy_amount_raw=min_out if min_out is not None else min_out_for(buy, request.slippage_bps),
        gas_estimate=as_int(gas, NAME, "gas"),
        to=as_address(field(tx, NAME, "to"), NAME, "to"), data=data,
        value_wei=as_int(field(tx, NAME, "value"), NAME, "value"),
        spender=as_address(field(route, NAME, "tokenTransferProxy"), NAME, "priceRoute.tokenTransferProxy"),
        block_number=as_int(block, NAME, "priceRoute.blockNumber") if block is not None else None,
        route=str(route.get("contractMethod") or ""),
    )
