"""Helpers shared by the aggregator clients: client options, building a ``Quote`` from parsed fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from agent.errors import QuoteError
from agent.quotes.calldata import CalldataError, decode_swap
from agent.quotes.http import HttpApi, RetryPolicy
from agent.quotes.models import Quote, QuoteRequest, QuoteTx


@dataclass(frozen=True)
class ClientOptions:
    """Where an aggregator lives and how to authenticate (``api_key`` never leaves the headers)."""

    base_url: str
    api_key: str | None = None
    timeout_s: float = 8.0
    retry: RetryPolicy | None = None


class HttpSource:
    """Base of the HTTP clients: owns the ``HttpApi``; subclasses set ``name`` and implement ``fetch_quote``."""

    name = "?"

    def __init__(self, options: ClientOptions, headers: dict[str, str] | None = None) -> None:
        self.options = options
        self.api = HttpApi(self.name, options.base_url, headers=headers, timeout_s=options.timeout_s,
                           retry=options.retry)

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> HttpSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_quote(self, request: QuoteRequest) -> Quote:  # pragma: no cover - abstract
        raise NotImplementedError


def min_out_for(amount_raw: int, slippage_bps: int) -> int:
    return amount_raw * (10_000 - slippage_bps) // 10_000


def calldata_min_out(data: bytes) -> int | None:
    """The min-out written in the calldata where its shape is known (the contract enforces that one)."""
    try:
        decoded = decode_swap(data)
    except CalldataError:
        return None
    return decoded.min_out if decoded else None


def slippage_percent(bps: int) -> str:
    """Basis points as a percent string without float noise: 50 → "0.5", 100 → "1"."""
    whole, frac = divmod(bps, 100)
    return str(whole) if not frac else f"{whole}.{frac:02d}".rstrip("0")


def require_dict(body: Any, source: str, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise QuoteError.of(source, "bad_response", f"{what} is not a JSON object")
    return body


def make_quote(source: str, request: QuoteRequest, *, chain_id: int | None = None, sell_token: str | None = None,
               buy_token: str | None = None, sell_amount_raw: int | None = None, buy_amount_raw: int,
               min_buy_amount_raw: int, gas_estimate: int, to: str, data: bytes, value_wei: int,
               spender: str | None, block_number: int | None = None, price_impact_bps: int | None = None,
               route: str = "") -> Quote:
    """Assemble a ``Quote``; values the model refuses (negative amounts, bad addresses) become ``bad_response``."""
    try:
        return Quote(
            source=source, chain_id=request.chain_id if chain_id is None else chain_id,
            sell_token=sell_token or request.sell_token, buy_token=buy_token or request.buy_token,
            sell_amount_raw=request.sell_amount_raw if sell_amount_raw is None else sell_amount_raw,
            buy_amount_raw=buy_amount_raw, min_buy_amount_raw=min_buy_amount_raw,
            price_impact_bps=price_impact_bps, gas_estimate=gas_estimate,
            tx=QuoteTx(to=to, data=data, value_wei=value_wei),
            spender=None if request.sells_native else spender, block_number=block_number,
            quoted_at=datetime.now(UTC), route=route,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise QuoteError.of(source, "bad_response", f"{where}: {first['msg']}") from None
