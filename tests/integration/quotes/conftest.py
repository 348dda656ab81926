"""Fixtures for the quote-client tests: a canned HTTP server, the local aggregator server on the sandbox chain,
the sandbox_a chain file, a fixed reference."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from agent.config.chains import ChainConfig, load_chain
from agent.devtools.aggregator import AggregatorServer, SandboxChain
from agent.quotes.models import ReferencePrice
from agent.quotes.validate import Limits

from .canned import CannedServer

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ATTACKER = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def canned() -> Iterator[CannedServer]:
    server = CannedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sandbox_chain() -> ChainConfig:
    return load_chain("sandbox_a")


@pytest.fixture
def reference() -> ReferencePrice:
    """3000 USDC per WETH, gas at 1 gwei."""
    return ReferencePrice(buy_per_sell=Decimal(3000), buy_per_native=Decimal(3000), gas_price_wei=10**9,
                          source="fixed test reference")


@pytest.fixture
def limits() -> Limits:
    return Limits(max_slippage_bps=50, max_quote_deviation_bps=100, max_swap_gas=1_500_000)


@pytest.fixture(scope="module")
def aggregator_server(sandbox_session: tuple[Any, Any]) -> Iterator[AggregatorServer]:
    """The local aggregator server (five API shapes) over the sandbox_a world on anvil."""
    _anvil, world = sandbox_session
    srv = AggregatorServer([SandboxChain(world.chain, world.rpc_url, (world.addresses.sushi_factory,))]).start()
    try:
        yield srv
    finally:
        srv.stop()
