"""Odos SOR v2: ``POST /sor/quote/v2`` then ``POST /sor/assemble`` (``x-api-key`` from ODOS_API_KEY if set).

The native coin is the zero address; slippage is ``slippageLimitPercent``. Odos is the one API that
reports price impact (percent). Spender = ``transaction.to`` (the Odos router); min-out lives in calldata,
so it is the slippage-derived floor unless the calldata shape is readable.
"""

from __future__ import annotations

from typing import Any

from agent.quotes.base import (
    ClientOptions,
    HttpSource,
    calldata_min_out,
    make_quote,
    min_out_for,
    require_dict,
)
from agent.quotes.http import as_address, as_bytes, as_int, field
from agent.quotes.models import Quote, QuoteRequest, is_native

NAME = "odos"
ODOS_NATIVE = "0x0000000000000000000000000000000000000000"


def to_odos(address: str) -> str:
    return ODOS_NATIVE if is_native(address) else address


def from_odos(address: Any, what: str) -> str:
    from agent.config.chains import NATIVE_PLACEHOLDER

    if isinstance(address, str) and address.lower() == ODOS_NATIVE:
        return NATIVE_PLACEHOLDER
    return as_address(address, NAME, what)


class OdosClient(HttpSource):
    name = NAME

    def __init__(self, options: ClientOptions) -> None:
        super().__init__(options, {"x-api-key": options.api_key} if options.api_key else {})

    def fetch_quote(self, request: QuoteRequest) -> Quote:
        body = {
            "chainId": request.chain_id,
            "inputTokens": [{"tokenAddress": to_odos(request.sell_token), "amount": str(request.sell_amount_raw)}],
            "outputTokens": [{"tokenAddress": to_odos(request.buy_token), "proportion": 1}],
            "userAddr": request.taker, "slippageLimitPercent": request.slippage_bps / 100,
            "disableRFQs": True, "compact": True,
        }
        quote = require_dict(self.api.post_json("/sor/quote/v2", body), NAME, "quote")
        path_id = field(quote, NAME, "pathId")
        assembled = require_dict(self.api.post_json(
            "/sor/assemble", {"userAddr": request.taker, "pathId": path_id, "simulate": False,
                              "receiver": request.taker}), NAME, "assemble")
        return parse(request, quote, assembled)


def _impact_bps(value: Any) -> int | None:
    try:
        return round(abs(float(value)) * 100) if value is not None else None
    except (TypeError, ValueError):
        return None


def parse(request: QuoteRequest, quote: dict[str, Any], assembled: dict[str, Any]) -> Quote:
    tx = field(assembled, NAME, "transaction")
    data = as_bytes(field(tx, NAME, "data"), NAME, "transaction.data")
    buy = as_int(field(quote, NAME, "outAmounts", 0), NAME, "outAmounts[0]")
    min_out = calldata_min_out(data)
    gas = as_int(tx.get("gas") or field(quote, NAME, "gasEstimate"), NAME, "gas")
    to = as_address(field(tx, NAME, "to"), NAME, "transaction.to")
    block = quote.get("blockNumber")
    return make_quote(
        NAME, request, chain_id=as_int(tx.get("chainId", request.chain_id), NAME, "transaction.chainId"),
        sell_token=from_odos(field(quote, NAME, "inTokens", 0), "inTokens[0]"),
        buy_token=from_odos(field(quote, NAME, "outTokens", 0), "outTokens[0]"),
        sell_amount_raw=as_int(field(quote, NAME, "inAmounts", 0), NAME, "inAmounts[0]"),
        buy_amount_raw=buy,
        min_buy_amount_raw=min_out if min_out is not None else min_out_for(buy, request.slippage_bps),
        gas_estimate=gas, to=to, data=data,
        value_wei=as_int(field(tx, NAME, "value"), NAME, "transaction.value"), spender=to,
        block_number=as_int(block, NAME, "blockNumber") if block is not None else None,
        price_impact_bps=_impact_bps(quote.get("priceImpact")),
    )
