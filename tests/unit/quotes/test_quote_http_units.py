"""Small pure helpers of the quote layer: Retry-After parsing, unit conversions, request building."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent.config.chains import NATIVE_PLACEHOLDER, load_chain
from agent.errors import ConfigError, QuoteError
from agent.quotes.base import slippage_percent
from agent.quotes.http import as_int, field, parse_retry_after
from agent.quotes.service import build_request, to_raw


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)


def test_slippage_percent_strings() -> None:
    assert [slippage_percent(b) for b in (50, 100, 5, 125, 0)] == ["0.5", "1", "0.05", "1.25", "0"]


def test_amount_parsing() -> None:
    assert as_int("0x10", "s", "x") == 16 and as_int(250000.7, "s", "x") == 250000 and as_int("12", "s", "x") == 12
    with pytest.raises(QuoteError, match="bad_response"):
        as_int(True, "s", "x")
    with pytest.raises(QuoteError, match=r"missing_field: response has no a\.b"):
        field({"a": {}}, "s", "a", "b")


def test_to_raw_and_request() -> None:
    assert to_raw("1.5", 6, "USDC") == 1_500_000
    with pytest.raises(ConfigError, match="more decimals"):
        to_raw("0.0000001", 6, "USDC")
    with pytest.raises(ConfigError, match="positive"):
        to_raw("-1", 6, "USDC")
    chain = load_chain("ethereum")
    req = build_request(chain, sell="eth", buy="usdc", amount=Decimal("2"), taker=chain.token("WETH").address,
                        slippage_bps=50)
    assert req.sell_token == NATIVE_PLACEHOLDER and req.sell_amount_raw == 2 * 10**18 and req.buy_decimals == 6
    with pytest.raises(ConfigError, match="not on chain ethereum"):
        build_request(chain, sell="DOGE", buy="USDC", amount="1", taker=chain.token("WETH").address, slippage_bps=50)
