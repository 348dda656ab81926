"""One conformance class for the ``QuoteSource`` port: each aggregator client against the local aggregator
server (the fake behind all five API shapes) and the on-chain source, on the same sandbox chain.

Every source must answer the same request with a quote of the same shape that passes the validator, and the
aggregator server must price within a few bps of the chain itself (its routes are the same pools, split), so
the fake cannot drift from the chain the agent really trades on.
"""

from __future__ import annotations

from typing import Any

import pytest

from agent.devtools.aggregator import AggregatorServer
from agent.quotes.models import Quote, QuoteRequest, QuoteSource
from agent.quotes.onchain import OnchainQuoter
from agent.quotes.service import build_request
from agent.quotes.validate import Limits, allow_list, check_quote

from .helpers import client, world_rpc

pytestmark = pytest.mark.anvil
LIMITS = Limits(max_slippage_bps=50, max_quote_deviation_bps=150, max_swap_gas=1_500_000)
SOURCES = ("0x", "1inch", "paraswap", "odos", "kyberswap", "onchain")


def _request(world: Any, amount: str) -> QuoteRequest:
    return build_request(world.chain, sell="WETH", buy="USDC", amount=amount, taker=world.wallet, slippage_bps=50)


@pytest.fixture(params=SOURCES)
def source(request: pytest.FixtureRequest, world: Any) -> QuoteSource:
    if request.param == "onchain":
        return OnchainQuoter(world.chain, world_rpc(world))
    server: AggregatorServer = request.getfixturevalue("aggregator_server")
    return client(request.param, server.url, timeout_s=10)


class TestQuoteSourceConformance:
    def test_is_a_quote_source_named_as_configured(self, source: QuoteSource) -> None:
        assert isinstance(source, QuoteSource)
        assert source.name in SOURCES

    def test_quote_answers_the_request_and_passes_validation(self, source: QuoteSource, world: Any) -> None:
        request = _request(world, "1")
        quote = source.fetch_quote(request)
        assert isinstance(quote, Quote) and quote.source == source.name
        assert (quote.chain_id, quote.sell_token, quote.buy_token) == (
            world.chain.chain_id, request.sell_token, request.buy_token)
        assert quote.sell_amount_raw == request.sell_amount_raw
        assert 0 < quote.min_buy_amount_raw <= quote.buy_amount_raw
        assert quote.buy_amount_raw * (10_000 - 50) // 10_000 <= quote.min_buy_amount_raw  # the asked slippage
        assert quote.tx is not None and quote.gas_estimate > 0
        routers, _spenders, _ = allow_list(world.chain, source.name)
        assert quote.tx.to in routers
        reference = OnchainQuoter(world.chain, world_rpc(world)).fetch_reference(request)
        check_quote(world.chain, request, quote, limits=LIMITS, reference=reference)  # raises when it would not sign

    def test_prices_like_the_chain_and_feels_the_depth(self, source: QuoteSource, world: Any) -> None:
        onchain = OnchainQuoter(world.chain, world_rpc(world))
        small, large = source.fetch_quote(_request(world, "1")), source.fetch_quote(_request(world, "50"))
        chain_small = onchain.fetch_quote(_request(world, "1"))
        # the aggregator server routes through the same pools (split when better): never far from the chain
        assert abs(small.buy_amount_raw - chain_small.buy_amount_raw) * 10_000 <= 100 * chain_small.buy_amount_raw
        assert small.buy_amount_raw * 50 > large.buy_amount_raw > small.buy_amount_raw  # price impact, not linear
