"""Backfill of USD price history from an HTTP price source speaking the CoinGecko API shape.

``GET {PRICE_FEED_URL}/coins/{id}/market_chart?vs_currency=usd&days=N`` answers
``{"prices": [[unix_ms, price], ...], ...}``; an optional key goes in the ``x-cg-demo-api-key`` header
(``x-cg-pro-api-key`` when the URL is the pro host), never in the URL, so it is never logged with it.
Bodies are capped, every point is checked (finite, positive, in time order) and a malformed answer is one
clear error naming the source; nothing is written from a body that did not parse whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from agent.errors import ConfigError, TemporaryError

DEFAULT_URL = "https://api.coingecko.com/api/v3"
MAX_BODY_BYTES = 8 * 1024 * 1024
#: the feed's coin ids for the symbols the chains list (extend with PRICE_FEED_IDS=SYMBOL:id,...)
COIN_IDS = {"ETH": "ethereum", "WETH": "ethereum", "WBTC": "wrapped-bitcoin", "BTC": "bitcoin", "USDC": "usd-coin",
            "USDT": "tether", "DAI": "dai", "LINK": "chainlink", "UNI": "uniswap", "AAVE": "aave",
            "MATIC": "matic-network", "POL": "polygon-ecosystem-token", "ARB": "arbitrum", "OP": "optimism"}


class PriceFeedError(TemporaryError):
    """The price source failed or answered something we cannot use (retry later)."""


@dataclass(frozen=True)
class PriceFeed:
    base_url: str = DEFAULT_URL
    api_key: str | None = None
    timeout_s: float = 10.0
    #: symbol -> the feed's coin id (``COIN_IDS`` plus ``PRICE_FEED_IDS``)
    coin_ids: Mapping[str, str] = field(default_factory=lambda: dict(COIN_IDS))

    def host(self) -> str:
        """The source's scheme and host only (what may be printed: a path or query could carry a key)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")

    def _headers(self) -> dict[str, str]:
        if not self.api_key:
            return {}
        header = "x-cg-pro-api-key" if "pro-api" in self.base_url else "x-cg-demo-api-key"
        return {header: self.api_key}

    def fetch_history(self, client: httpx.Client, symbol: str, *, days: int) -> list[tuple[datetime, Decimal]]:
        coin = self.coin_ids.get(symbol.upper())
        if coin is None:
            raise ConfigError(f"price feed: no coin id for {symbol}; add it with PRICE_FEED_IDS={symbol}:<coin-id>")
        if not 1 <= days <= 3650:
            raise ConfigError(f"price feed: days must be 1..3650, got {days}")
        url = f"{self.base_url.rstrip('/')}/coins/{coin}/market_chart"
        try:
            with client.stream("GET", url, params={"vs_currency": "usd", "days": str(days)},
                               headers=self._headers(), timeout=self.timeout_s) as response:
                if response.status_code != 200:
                    raise PriceFeedError(f"price feed: HTTP {response.status_code} for {symbol} history")
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise PriceFeedError(f"price feed: the {symbol} history is over {MAX_BODY_BYTES} bytes")
        except httpx.HTTPError as exc:
            raise PriceFeedError(f"price feed: {exc.__class__.__name__} fetching {symbol} history") from None
        return parse_market_chart(symbol, body)


def parse_market_chart(symbol: str, body: bytes) -> list[tuple[datetime, Decimal]]:
    import json

    try:
        doc: Any = json.loads(body)
    except ValueError:
        raise PriceFeedError(f"price feed: the {symbol} history is not JSON") from None
    rows = doc.get("prices") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise PriceFeedError(f"price feed: the {symbol} history has no 'prices' list")
    points: list[tuple[datetime, Decimal]] = []
    last_ms = -1
    for row in rows:
        if not (isinstance(row, list) and len(row) == 2 and all(isinstance(v, int | float) for v in row)):
            raise PriceFeedError(f"price feed: a {symbol} point is not [unix_ms, price]: {str(row)[:60]}")
        ms, price = row
        if not (math.isfinite(price) and price > 0 and ms > last_ms and 0 < ms < 4102444800000):
            raise PriceFeedError(f"price feed: a {symbol} point is out of order, non-positive or not finite")
        last_ms = ms
        points.append((datetime.fromtimestamp(ms / 1000, UTC), Decimal(repr(float(price)))))
    return points
