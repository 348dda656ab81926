"""Fees always capped: every chain has a default hard cap, replacements never exceed it, a cap below the
base-fee limit is refused at start-up."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent.config.chains import load_chain
from agent.config.settings import load_config
from agent.errors import ConfigError
from agent.execution.gas import GWEI, plan_fees, plan_replacement
from agent.execution.sender import SendPolicy

CHAINS = ("ethereum", "arbitrum", "base", "optimism", "polygon", "sandbox_a", "sandbox_b")
BASE = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": "http://127.0.0.1:8545", "TARGETS": "ETH:100"}


@pytest.mark.parametrize("name", CHAINS)
def test_every_chain_file_has_a_default_hard_cap(name: str) -> None:
    assert load_chain(name).default_hard_cap_gwei > 0


def test_unset_cap_falls_back_to_the_chain_default() -> None:
    cfg = load_config(BASE, env_file=Path("/nonexistent"))
    (chain, settings), = cfg.enabled()
    assert settings.hard_cap_gwei == chain.default_hard_cap_gwei == Decimal(150)
    assert SendPolicy.from_config(cfg.settings, settings, chain).hard_cap_wei == 150 * GWEI


def test_cap_below_the_base_fee_limit_is_refused_at_start_up() -> None:
    env = {**BASE, "SANDBOX_A_MAX_BASE_FEE_GWEI": "50", "SANDBOX_A_HARD_CAP_GWEI": "40"}
    with pytest.raises(ConfigError, match="SANDBOX_A_HARD_CAP_GWEI=40 is below SANDBOX_A_MAX_BASE_FEE_GWEI=50"):
        load_config(env, env_file=Path("/nonexistent"))
    ok = load_config({**env, "SANDBOX_A_HARD_CAP_GWEI": "60"}, env_file=Path("/nonexistent"))
    assert ok.enabled()[0][1].hard_cap_gwei == Decimal(60)


def test_replacements_never_climb_above_the_cap() -> None:
    cap = 150 * GWEI
    fees = plan_fees(base_fee_wei=20 * GWEI, priority_fee_wei=2 * GWEI, limit_wei=None, hard_cap_wei=cap)
    max_fee, tip, seen = fees.max_fee_per_gas_wei, fees.max_priority_fee_per_gas_wei, 0
    base = 20 * GWEI
    while True:  # the base fee keeps rising 12.5% a block and the transaction stays stuck
        base = base * 9 // 8
        nxt = plan_replacement(old_max_fee_wei=max_fee, old_tip_wei=tip, base_fee_wei=base, priority_fee_wei=tip,
                               hard_cap_wei=cap)
        if nxt is None:
            break
        assert nxt.max_fee_per_gas_wei <= cap and nxt.max_priority_fee_per_gas_wei <= nxt.max_fee_per_gas_wei
        max_fee, tip, seen = nxt.max_fee_per_gas_wei, nxt.max_priority_fee_per_gas_wei, seen + 1
    assert seen >= 3 and max_fee <= cap
