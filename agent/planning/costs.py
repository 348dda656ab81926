"""Cost estimates for a swap: gas, LP fee and price impact on a constant-product curve (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from agent.amm import impact_bps
from agent.units import gas_cost_native

FROZEN = ConfigDict(frozen=True, extra="forbid")


class ChainCosts(BaseModel):
    """What a transaction costs on one chain right now."""

    model_config = FROZEN

    chain: str
    gas_price_wei: int
    native_usd: Decimal
    swap_gas: int = 180_000
    approve_gas: int = 50_000
    wrap_gas: int = 50_000
    vault_gas: int = 120_000
    lp_fee_bps: Decimal = Decimal(30)

    def gas_usd(self, gas: int) -> Decimal:
        return gas_cost_native(gas, self.gas_price_wei) * self.native_usd


def leg_cost_usd(trade_usd: Any, gas_usd: Any, lp_fee_bps: Any, depth_usd: Any) -> Any:
    """``swap_cost_usd``'s formula on plain numbers or arrays (the backtest prices many legs at once): gas + LP fee +
    constant-product impact Δ/(x+Δ) on the notional; an infinite depth has no impact."""
    return gas_usd + trade_usd * (lp_fee_bps / 10_000 + trade_usd / (depth_usd + trade_usd))


def swap_cost_usd(costs: ChainCosts, trade_usd: Decimal, depth_usd: Decimal | None,
                  *, with_approval: bool = True) -> tuple[Decimal, int, Decimal]:
    """(total cost in USD, gas units, impact in bps) of one swap leg."""
    gas = costs.swap_gas + (costs.approve_gas if with_approval else 0)
    imp = impact_bps(trade_usd, depth_usd)
    total = costs.gas_usd(gas) + trade_usd * (costs.lp_fee_bps + imp) / Decimal(10_000)
    return total, gas, imp
