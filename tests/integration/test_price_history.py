"""Price history for live decisions: backfill over real HTTP from a CoinGecko-shaped server into SQLite,
strategies see only rows known at ``now``, and hostile answers write nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from agent.devtools.pricefeed import PriceFeedServer
from agent.journal.prices import PriceHistory, PricePoint, history_path_for
from agent.portfolio.price_feed import MAX_BODY_BYTES, PriceFeed, PriceFeedError

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ETH = [(T0 + timedelta(days=i), 2000.0 + 10 * i) for i in range(60)]


def test_backfill_then_read_only_what_was_known_at_now(tmp_path: Path) -> None:
    with PriceFeedServer({"ethereum": ETH}) as server, httpx.Client() as client, \
            PriceHistory.open(history_path_for(tmp_path / "journal.sqlite")) as store:
        points = PriceFeed(base_url=server.url).fetch_history(client, "ETH", days=30)
        written = store.record(PricePoint(symbol="ETH", at=t, usd=p, source="feed") for t, p in points)
        assert written == 31  # day 29 .. day 59 inclusive
        assert store.record(PricePoint(symbol="ETH", at=t, usd=p, source="feed") for t, p in points) == 0
        now = T0 + timedelta(days=40, hours=6)
        seen = store.history(["ETH"], until=now)["ETH"]
        assert seen[-1] == (T0 + timedelta(days=40), Decimal("2400.0"))
        assert all(t <= now for t, _ in seen)
        assert store.path.name == "journal.prices.sqlite"


def test_a_cycle_reading_wins_over_a_backfilled_one_at_the_same_time(tmp_path: Path) -> None:
    with PriceHistory.open(tmp_path / "p.sqlite") as store:
        at = T0 + timedelta(days=3)
        store.record([PricePoint("ETH", at, Decimal(2000), "feed")])
        store.record_cycle(at, {"ETH": Decimal(2011)})
        assert store.history(["ETH"], until=at)["ETH"] == [(at, Decimal(2011))]


def test_the_api_key_travels_in_a_header_never_in_the_url() -> None:
    with PriceFeedServer({"ethereum": ETH}) as server, httpx.Client() as client:
        PriceFeed(base_url=server.url, api_key="CG-secret-123").fetch_history(client, "ETH", days=2)
        [request] = server.seen
        assert request["headers"]["x-cg-demo-api-key"] == "CG-secret-123"
        assert "secret" not in request["path"] + json.dumps(request["query"])


@pytest.mark.parametrize(("body", "fragment"), [
    (b"<html>", "not JSON"),
    (b'{"error": "rate limited"}', "no 'prices' list"),
    (b'{"prices": [[1700000000000, -5]]}', "non-positive"),
    (b'{"prices": [[1700000000000, 1e999]]}', "not finite"),
    (b'{"prices": [[1700000000000, 10], [1600000000000, 11]]}', "out of order"),
    (b'{"prices": [["x", 10]]}', r"not \[unix_ms, price\]"),
    (b'{"prices": [' + b"[1, 1]," * (MAX_BODY_BYTES // 6) + b"[2, 2]]}", "bytes"),
])
def test_a_hostile_answer_is_one_clear_error_and_writes_nothing(tmp_path: Path, body: bytes, fragment: str) -> None:
    with PriceFeedServer({}, bodies={"ethereum": body}) as server, httpx.Client() as client, \
            PriceHistory.open(tmp_path / "p.sqlite") as store:
        with pytest.raises(PriceFeedError, match=fragment):
            store.record(PricePoint("ETH", t, p, "feed")
                         for t, p in PriceFeed(base_url=server.url).fetch_history(client, "ETH", days=30))
        assert store.history(["ETH"], until=T0 + timedelta(days=9999))["ETH"] == []


def test_http_errors_are_temporary_and_name_the_status() -> None:
    with PriceFeedServer({"ethereum": ETH}, status=429) as server, httpx.Client() as client, \
            pytest.raises(PriceFeedError, match="HTTP 429"):
        PriceFeed(base_url=server.url).fetch_history(client, "ETH", days=2)
