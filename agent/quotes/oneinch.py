"""1inch Swap API v6.0: ``GET {base}/{chainId}/swap`` with ``Authorization: Bearer`` (ONEINCH_API_KEY).

``slippage`` is in percent (0–50); ``dstAmount`` is the v6 output field. The response has no min-out: it is
read from the calldata (1inch ``swap`` or the sandbox router shape), else derived from the slippage sent.
The 1inch router is its own spender.
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
    slippage_percent,
)
from agent.quotes.http import as_address, as_bytes, as_int, field
from agent.quotes.models import Quote, QuoteRequest

NAME = "1inch"


class OneInchClient(HttpSource):
    name = NAME

    def __init__(self, options: ClientOptions) -> None:
        headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        super().__init__(options, headers)

    def fetch_quote(self, request: QuoteRequest) -> Quote:
        params = {
            "src": request.sell_token, "dst": request.buy_token, "amount": str(request.sell_amount_raw),
            "from": request.taker, "origin": request.taker, "receiver": request.taker,
            "slippage": slippage_percent(request.slippage_bps), "disableEstimate": "true",
            "includeTokensInfo": "true", "includeGas": "true",
        }
        body = require_dict(self.api.get_json(f"/{request.chain_id}/swap", params), NAME, "swap")
        return parse_swap(request, body)


def _token(body: dict[str, Any], key: str) -> str | None:
    info = body.get(key)
    if isinstance(info, dict) and info.get("address"):
        return as_address(info["address"], NAME, f"{key}.address")
    return None


def parse_swap(request: QuoteRequest, body: dict[str, Any]) -> Quote:
    tx = field(body, NAME, "tx")
    to = as_address(field(tx, NAME, "to"), NAME, "tx.to")
    data = as_bytes(field(tx, NAME, "data"), NAME, "tx.data")
    buy = as_int(field(body, NAME, "dstAmount"), NAME, "dstAmount")
    min_out = calldata_min_out(data)
    return make_quote(
        NAME, request, sell_token=_token(body, "srcToken"), buy_token=_token(body, "dstToken"),
        buy_amount_raw=buy, min_buy_amount_raw=min_out if min_out is not None else min_out_for(
            buy, request.slippage_bps),
        gas_estimate=as_int(field(tx, NAME, "gas"), NAME, "tx.gas"), to=to, data=data,
        value_wei=as_int(field(tx, NAME, "value"), NAME, "tx.value"), spender=to,
    )
