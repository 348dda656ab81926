"""refresh_snapshot: fresh vault and underlying balances replace the cycle's (possibly stale) ones."""

from __future__ import annotations

from decimal import Decimal

from agent.vaults.service import refresh_snapshot

from .vault_factory import USDC, snapshot, state, stats, three_vaults

CHAIN = three_vaults()


def test_fresh_reads_replace_vault_and_hub_balances_only() -> None:
    stale = snapshot(CHAIN, usdc=Decimal(10_000), eth=Decimal(2), vaults={"sUSDC": Decimal(5000)})
    fresh_state = state(CHAIN, "sUSDC", shares=7_000 * USDC, price=Decimal("1.1"), liquid=1_000 * USDC)
    got = refresh_snapshot(stale, {("sandbox_a", "sUSDC"): stats(fresh_state)})
    by = {h.symbol: h for h in got.holdings()}
    assert by["USDC"].balance_raw == 1_000 * USDC
    assert by["sUSDC"].balance_raw == 7_000 * USDC and by["sUSDC"].underlying_raw == 7_700 * USDC
    assert by["ETH"] == {h.symbol: h for h in stale.holdings()}["ETH"]
    assert by["vB"].balance_raw == 0  # not read: left as it was
