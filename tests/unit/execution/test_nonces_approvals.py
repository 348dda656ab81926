"""Nonce choice and gap detection; exact approvals to allow-listed spenders only."""

from __future__ import annotations

import pytest
from eth_abi import decode

from agent.config.chains import load_chain
from agent.errors import ExecutionError
from agent.execution.approvals import allowed_spenders, plan_approval
from agent.execution.intent import Approval, BalanceDelta
from agent.execution.nonces import plan_nonce


def test_fresh_wallet_uses_the_chain_nonce() -> None:
    assert plan_nonce(chain_latest=7, chain_pending=7, journal_highest=None).nonce == 7


def test_a_journaled_nonce_is_never_reused_even_when_the_node_forgot_it() -> None:
    # Sent nonce 7 through a private endpoint: the read node's pending count still says 7.
    plan = plan_nonce(chain_latest=7, chain_pending=7, journal_highest=7, in_flight={7})
    assert plan.nonce == 8 and plan.gaps == ()


def test_gap_detected_when_a_journaled_nonce_is_neither_mined_nor_in_flight() -> None:
    plan = plan_nonce(chain_latest=5, chain_pending=5, journal_highest=7, in_flight={7})
    assert plan.nonce == 8 and plan.gaps == (5, 6)


def test_transactions_sent_outside_the_agent_are_noticed() -> None:
    plan = plan_nonce(chain_latest=10, chain_pending=11, journal_highest=3)
    assert plan.nonce == 11 and plan.external and plan.gaps == ()


@pytest.fixture(scope="module")
def ethereum():  # type: ignore[no-untyped-def]
    return load_chain("ethereum")


def _token(chain, symbol: str) -> str:  # type: ignore[no-untyped-def]
    return chain.token(symbol).address


def test_approval_skipped_when_the_allowance_suffices(ethereum) -> None:  # type: ignore[no-untyped-def]
    spender = ethereum.uniswap_v2.router
    a = Approval(token=_token(ethereum, "USDC"), spender=spender, amount_raw=1_000)
    assert plan_approval(ethereum, a, current_allowance_raw=1_000) == []


def test_exact_amount_approved_never_unlimited(ethereum) -> None:  # type: ignore[no-untyped-def]
    spender = ethereum.uniswap_v2.router
    a = Approval(token=_token(ethereum, "USDC"), spender=spender, amount_raw=1_234_567)
    [(purpose, data)] = plan_approval(ethereum, a, current_allowance_raw=5)
    assert purpose == "approve" and data[:4].hex() == "095ea7b3"
    assert decode(["address", "uint256"], data[4:]) == (spender.lower(), 1_234_567)


def test_reset_to_zero_first_for_tokens_that_need_it(ethereum) -> None:  # type: ignore[no-untyped-def]
    usdt = next(t for t in ethereum.tokens if t.approve_requires_zero)
    a = Approval(token=usdt.address, spender=ethereum.uniswap_v2.router, amount_raw=50)
    calls = plan_approval(ethereum, a, current_allowance_raw=10)
    assert [p for p, _ in calls] == ["approve-reset", "approve"]
    assert decode(["address", "uint256"], calls[0][1][4:])[1] == 0
    assert [p for p, _ in plan_approval(ethereum, a, current_allowance_raw=0)] == ["approve"]


def test_unlisted_spender_is_refused(ethereum) -> None:  # type: ignore[no-untyped-def]
    stranger = "0x000000000000000000000000000000000000dEaD"
    assert stranger not in allowed_spenders(ethereum)
    a = Approval(token=_token(ethereum, "USDC"), spender=stranger, amount_raw=1)
    with pytest.raises(ExecutionError, match="not an allow-listed spender"):
        plan_approval(ethereum, a, current_allowance_raw=0)


def test_allow_list_holds_aggregator_spenders_router_and_vaults(ethereum) -> None:  # type: ignore[no-untyped-def]
    allowed = allowed_spenders(ethereum)
    assert ethereum.uniswap_v2.router in allowed
    assert {v.address for v in ethereum.vaults} <= allowed
    for allow in ethereum.aggregators.values():
        assert set(allow.spenders) - set(allow.never_approve) <= allowed
        assert not set(allow.never_approve) & allowed


def test_balance_delta_bounds() -> None:
    sell = BalanceDelta(token="native", min_raw=-5, max_raw=-5)
    assert sell.accepts(-5) and not sell.accepts(-6) and not sell.accepts(-4)
    buy = BalanceDelta(token="native", min_raw=100)
    assert buy.accepts(10**30) and not buy.accepts(99)
