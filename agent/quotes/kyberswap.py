"""KyberSwap aggregator: ``GET /{slug}/api/v1/routes`` then ``POST /{slug}/api/v1/route/build``.

Header ``X-Client-Id`` (KYBERSWAP_CLIENT_ID). The chain is the URL slug (``aggregators.kyberswap.slug`` in the
chain file, else the chain name). ``slippageTolerance`` is in bps and the API defaults it to 0, so it is always
sent. Spender and target = ``routerAddress``.
"""

from __future__ import annotations

import time
from typing import Any

from agent.errors import NoLiquidity, QuoteError
from agent.quotes.base import (
    ClientOptions,
    HttpSource,
    calldata_min_out,
    make_quote,
    min_out_for,
    require_dict,
)
from agent.quotes.http import as_address, as_bytes, as_int, field
from agent.quotes.models import Quote, QuoteRequest

NAME = "kyberswap"
DEADLINE_S = 600
#: KyberSwap's error code for "route not found" (its API answers 4008 when no route serves the pair and amount)
NO_ROUTE_CODES = frozenset({4008})


class KyberSwapClient(HttpSource):
    name = NAME

    def __init__(self, options: ClientOptions, *, slug: str) -> None:
        self.slug = slug
        self.client_id = options.api_key or "rebalancer"
        super().__init__(options, {"X-Client-Id": self.client_id})

    def fetch_quote(self, request: QuoteRequest) -> Quote:
        params = {"tokenIn": request.sell_token, "tokenOut": request.buy_token,
                  "amountIn": str(request.sell_amount_raw), "gasInclude": "true", "origin": request.taker}
        routes = _data(self.api.get_json(f"/{self.slug}/api/v1/routes", params), "routes")
        summary = require_dict(field(routes, NAME, "routeSummary"), NAME, "routeSummary")
        body = {"routeSummary": summary, "sender": request.taker, "recipient": request.taker,
                "origin": request.taker, "slippageTolerance": request.slippage_bps,
                "deadline": int(time.time()) + DEADLINE_S, "source": self.client_id}
        built = _data(self.api.post_json(f"/{self.slug}/api/v1/route/build", body), "route/build")
        return parse(request, summary, built)


def _data(body: Any, what: str) -> dict[str, Any]:
    body = require_dict(body, NAME, what)
    code = body.get("code")
    if code not in (0, None):
        message = str(body.get("message") or "")[:200]
        if code in NO_ROUTE_CODES:
            raise NoLiquidity(NAME, f"no_liquidity: {what} answered code {code}: {message}")
        raise QuoteError.of(NAME, "bad_response", f"{what} answered code {code}: {message}")
    return require_dict(field(body, NAME, "data"), NAME, f"{what} data")


def parse(request: QuoteRequest, summary: dict[str, Any], built: dict[str, Any]) -> Quote:
    data = as_bytes(field(built, NAME, "data"), NAME, "data.data")
    buy = as_int(field(built, NAME, "amountOut"), NAME, "data.amountOut")
    min_out = calldata_min_out(data)
    router = as_address(field(built, NAME, "routerAddress"), NAME, "data.routerAddress")
    return make_quote(
        NAME, request,
        sell_token=as_address(field(summary, NAME, "tokenIn"), NAME, "routeSummary.tokenIn"),
        buy_token=as_address(field(summary, NAME, "tokenOut"), NAME, "routeSummary.tokenOut"),
        sell_amount_raw=as_int(field(built, NAME, "amountIn"), NAME, "data.amountIn"),
        buy_amount_raw=buy,
        min_buy_amount_raw=min_out if min_out is not None else min_out_for(buy, request.slippage_bps),
        gas_estimate=as_int(built.get("gas") or field(summary, NAME, "gas"), NAME, "gas"),
        to=router, data=data, value_wei=as_int(built.get("transactionValue", "0"), NAME, "transactionValue"),
        spender=router, route=str(summary.get("routeID") or ""),
    )
