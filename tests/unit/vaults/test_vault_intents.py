"""Vault intents: exact approval to the vault, the deltas the pipeline checks, allow-list enforced."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent.errors import ExecutionError
from agent.execution.approvals import plan_approval
from agent.vaults.adapter import (
    ERC4626,
    build_deposit_intent,
    build_redeem_intent,
    build_withdraw_intent,
    down_bps,
    up_bps,
)

from .vault_factory import USDC, WALLET, state, three_vaults

CHAIN = three_vaults()
SUSDC = CHAIN.vaults[0].address
USDC_ADDR = CHAIN.token("USDC").address


def test_deposit_approves_exactly_the_amount_to_the_vault() -> None:
    i = build_deposit_intent(CHAIN, "sUSDC", assets_raw=1_234 * USDC, receiver=WALLET, min_shares_raw=1_200 * USDC,
                             plan_id="p", idempotency_key="k")
    assert i.to == SUSDC and i.kind == "deposit" and ERC4626.decode_input(i.data) == (
        "deposit", (1_234 * USDC, WALLET.lower()))
    assert i.approval is not None and (i.approval.token, i.approval.spender, i.approval.amount_raw) == (
        USDC_ADDR, SUSDC, 1_234 * USDC)
    assert [(d.token, d.min_raw, d.max_raw) for d in i.expected_deltas] == [
        (USDC_ADDR, -1_234 * USDC, -1_234 * USDC), (SUSDC, 1_200 * USDC, None)]
    # the pipeline's approval planner accepts the vault as a spender and approves the exact amount only
    [(purpose, data)] = plan_approval(CHAIN, i.approval, current_allowance_raw=0)
    assert purpose == "approve" and int.from_bytes(data[-32:], "big") == 1_234 * USDC


def test_withdraw_and_redeem_bound_the_other_side() -> None:
    w = build_withdraw_intent(CHAIN, "vB", assets_raw=500 * USDC, owner=WALLET, max_shares_raw=490 * USDC,
                              plan_id="p", idempotency_key="k")
    assert w.approval is None and ERC4626.decode_input(w.data) == (
        "withdraw", (500 * USDC, WALLET.lower(), WALLET.lower()))
    assert [(d.min_raw, d.max_raw) for d in w.expected_deltas] == [(500 * USDC, 500 * USDC), (-490 * USDC, 0)]
    r = build_redeem_intent(CHAIN, SUSDC, shares_raw=77, owner=WALLET, min_assets_raw=80, plan_id="p",
                            idempotency_key="k2")
    assert r.kind == "redeem" and ERC4626.decode_input(r.data) == ("redeem", (77, WALLET.lower(), WALLET.lower()))
    assert [(d.min_raw, d.max_raw) for d in r.expected_deltas] == [(-77, -77), (80, None)]


def test_vaults_outside_the_allow_list_are_refused() -> None:
    stranger = "0x1111111111111111111111111111111111111111"
    with pytest.raises(ExecutionError, match="allow-list"):
        build_deposit_intent(CHAIN, stranger, assets_raw=1, receiver=WALLET, min_shares_raw=0, plan_id="p",
                             idempotency_key="k")
    with pytest.raises(ExecutionError, match="allow-list"):
        build_withdraw_intent(CHAIN, "yvUSDC-1", assets_raw=1, owner=WALLET, max_shares_raw=1, plan_id="p",
                              idempotency_key="k")


def test_tolerances_round_in_the_safe_direction() -> None:
    assert down_bps(10_001, 10) == 9_990 and up_bps(10_001, 10) == 10_012
    assert state(CHAIN, "sUSDC", price=Decimal("1.05")).assets_per_share == Decimal("1.05")
    assert state(CHAIN, "vB", preview_gap_bps=20).preview_deviation_bps() == Decimal(20)
