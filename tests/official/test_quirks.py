"""What the official contracts reveal about the agent: each test fails on the code the Vyper stand-ins hid it from."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent.devtools.contracts import official_at
from agent.devtools.protocols import create_v3_pool, mint_position, transact
from agent.errors import QuoteError, SimulationFailed
from agent.execution.intent import Approval, BalanceDelta, TxIntent
from agent.execution.pipeline import execute_intent
from agent.quotes.calldata import V3_EXACT_INPUT_SINGLE
from agent.quotes.models import QuoteRequest
from agent.quotes.onchain import OnchainQuoter
from tests.integration.execution.helpers import live_context

from .conftest import MAX, OWNER, USER, Official, chain_config, chain_rpc, mint, v3_pool

pytestmark = pytest.mark.anvil


def _request(chain: Official, sell: str, buy: str, amount_raw: int, decimals: tuple[int, int]) -> QuoteRequest:
    return QuoteRequest(chain_id=31337, sell_token=sell, buy_token=buy, sell_decimals=decimals[0],
                        buy_decimals=decimals[1], sell_amount_raw=amount_raw, taker=USER, slippage_bps=50)


def test_a_partial_fill_from_quoter_v2_is_refused_for_that_size(chain: Official) -> None:
    v3_pool(chain, 500)  # about 2M of depth in two positions
    config = chain_config(chain)
    quoter = OnchainQuoter(config, chain_rpc(chain, config))
    fits = quoter.fetch_quote(_request(chain, chain.usdc, chain.dai, 10_000 * 10**6, (6, 18)))
    assert fits.tx is not None and 9_950 * 10**18 < fits.buy_amount_raw < 10_000 * 10**18
    with pytest.raises(QuoteError, match=r"partial_fill.*fee\(s\) \[500\]"):
        quoter.fetch_quote(_request(chain, chain.usdc, chain.dai, 50_000_000 * 10**6, (6, 18)))


def _usdt_usdc_pool(chain: Official) -> None:
    w3, v3 = chain.w3, chain.v3
    mint(w3, chain.usdc, "FiatTokenV2_2", OWNER, 1_000_000 * 10**6)
    mint(w3, chain.usdt, "TetherToken", OWNER, 1_000_000 * 10**6)
    transact(w3, official_at(w3, "FiatTokenV2_2", chain.usdc).functions.approve(v3.position_manager, MAX), OWNER)
    transact(w3, official_at(w3, "TetherToken", chain.usdt).functions.approve(v3.position_manager, MAX), OWNER)
    _pool, token0, token1 = create_v3_pool(w3, v3, token_a=chain.usdt, token_b=chain.usdc, fee=100,
                                           price_b_per_a=Decimal(1), sender=OWNER)
    mint_position(w3, v3, token0=token0, token1=token1, fee=100, tick_lower=-50, tick_upper=50,
                  amount0=1_000_000 * 10**6, amount1=1_000_000 * 10**6, sender=OWNER)


def _v3_swap(chain: Official, *, key: str, sell: str, buy: str, amount: int, min_out: int) -> TxIntent:
    data = V3_EXACT_INPUT_SINGLE.encode((sell, buy, 100, USER, amount, min_out, 0))
    return TxIntent(chain="official", plan_id=f"plan-{key}", idempotency_key=key, to=chain.v3.swap_router02,
                    data=data, approval=Approval(token=sell, spender=chain.v3.swap_router02, amount_raw=amount),
                    expected_deltas=(BalanceDelta(token=sell, min_raw=-amount, max_raw=-amount),
                                     BalanceDelta(token=buy, min_raw=min_out)), max_gas=1_500_000)


def test_an_unflagged_usdt_like_token_with_a_stale_allowance_is_reset_first(chain: Official, tmp_path: Path) -> None:
    """The chain file does not say approve_requires_zero: the direct approve's simulated revert does."""
    _usdt_usdc_pool(chain)
    config = chain_config(chain)
    assert not config.token("USDT").approve_requires_zero
    usdt = official_at(chain.w3, "TetherToken", chain.usdt)
    mint(chain.w3, chain.usdt, "TetherToken", USER, 500 * 10**6)
    transact(chain.w3, usdt.functions.approve(chain.v3.swap_router02, 7), USER)  # a stale non-zero allowance
    intent = _v3_swap(chain, key="usdt-usdc", sell=chain.usdt, buy=chain.usdc, amount=300 * 10**6,
                      min_out=299 * 10**6)
    result = execute_intent(intent, live_context(config, chain.anvil.url, tmp_path / "j.sqlite"))
    assert result.state == "confirmed"
    assert [o.purpose for o in result.outcomes] == ["approve-reset", "approve", "main"]
    assert usdt.functions.balanceOf(USER).call() == 200 * 10**6
    assert usdt.functions.allowance(USER, chain.v3.swap_router02).call() == 0


def test_a_blacklisted_sender_is_refused_by_simulation_with_the_reason(chain: Official, tmp_path: Path) -> None:
    _usdt_usdc_pool(chain)
    mint(chain.w3, chain.usdc, "FiatTokenV2_2", USER, 500 * 10**6)
    transact(chain.w3, official_at(chain.w3, "FiatTokenV2_2", chain.usdc).functions.blacklist(USER), OWNER)
    intent = _v3_swap(chain, key="blacklisted", sell=chain.usdc, buy=chain.usdt, amount=100 * 10**6,
                      min_out=99 * 10**6)
    nonce = chain.w3.eth.get_transaction_count(USER)
    with pytest.raises(SimulationFailed, match=r"blacklisted.*nothing was sent"):
        execute_intent(intent, live_context(chain_config(chain), chain.anvil.url, tmp_path / "j.sqlite"))
    assert chain.w3.eth.get_transaction_count(USER) == nonce
