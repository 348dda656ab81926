"""Fee policy per chain (pure): when to send, which EIP-1559 fees to offer, and how to bump a stuck one.

* ``plan_fees`` — base fee of the latest block and a fee-history tip in; a decision out: send now with
  ``maxFeePerGas = min(2·base + tip, hard cap)``, or wait because the base fee is above
  ``<CHAIN>_MAX_BASE_FEE_GWEI`` (urgent actions may go above the limit, never above the hard cap).
* ``plan_replacement`` — fees for a same-nonce replacement: tip and max fee each at least +12.5%
  (geth wants +10%), within the cap; ``None`` when the cap leaves no room.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from agent.units import WEI_PER_GWEI, format_gwei

GWEI = WEI_PER_GWEI
#: A tip floor so a replacement can always be bumped and empty fee histories still pay something.
MIN_TIP_WEI = 1_000_000  # 0.001 gwei
#: The tip the planner prices gas at when it weighs a trade's cost (the sender uses the fee history's tip).
PLANNING_TIP_WEI = WEI_PER_GWEI
BUMP_NUMERATOR, BUMP_DENOMINATOR = 9, 8  # +12.5%


def bump(value_wei: int) -> int:
    """``value`` raised by at least 12.5% and at least 1 wei (rounded up)."""
    return max(value_wei + 1, -(-value_wei * BUMP_NUMERATOR // BUMP_DENOMINATOR))


class FeeDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    send: bool
    base_fee_wei: int
    max_fee_per_gas_wei: int
    max_priority_fee_per_gas_wei: int
    reason: str


def plan_fees(*, base_fee_wei: int, priority_fee_wei: int, limit_wei: int | None, hard_cap_wei: int | None,
              urgent: bool = False) -> FeeDecision:
    """Send now (and with which fees) or wait. ``maxFeePerGas`` never exceeds ``hard_cap_wei``."""
    tip = max(priority_fee_wei, MIN_TIP_WEI)
    max_fee = 2 * base_fee_wei + tip
    if hard_cap_wei is not None:
        if base_fee_wei + MIN_TIP_WEI > hard_cap_wei:
            return FeeDecision(send=False, base_fee_wei=base_fee_wei, max_fee_per_gas_wei=0,
                               max_priority_fee_per_gas_wei=0,
                               reason=f"base fee {_g(base_fee_wei)} gwei is at the hard cap {_g(hard_cap_wei)} gwei")
        tip = min(tip, hard_cap_wei - base_fee_wei)
        max_fee = min(2 * base_fee_wei + tip, hard_cap_wei)
    over_limit = limit_wei is not None and base_fee_wei > limit_wei
    if over_limit and not urgent:
        return FeeDecision(send=False, base_fee_wei=base_fee_wei, max_fee_per_gas_wei=0,
                           max_priority_fee_per_gas_wei=0,
                           reason=f"base fee {_g(base_fee_wei)} gwei is above the limit {_g(limit_wei)} gwei")
    if over_limit:
        reason = f"urgent: base fee {_g(base_fee_wei)} gwei above the limit {_g(limit_wei)} gwei, within the cap"
    else:
        reason = f"base fee {_g(base_fee_wei)} gwei" + (f" ≤ limit {_g(limit_wei)} gwei" if limit_wei else "")
    return FeeDecision(send=True, base_fee_wei=base_fee_wei, max_fee_per_gas_wei=max_fee,
                       max_priority_fee_per_gas_wei=tip, reason=reason)


def plan_replacement(*, old_max_fee_wei: int, old_tip_wei: int, base_fee_wei: int, priority_fee_wei: int,
                     hard_cap_wei: int | None) -> FeeDecision | None:
    """Fees for re-sending at the same nonce: both raised ≥ 12.5% and enough for the current base fee."""
    tip = max(bump(old_tip_wei), priority_fee_wei)
    max_fee = max(bump(old_max_fee_wei), 2 * base_fee_wei + tip)
    if hard_cap_wei is not None and max_fee > hard_cap_wei:
        max_fee = hard_cap_wei
        if max_fee < bump(old_max_fee_wei) or tip > max_fee:
            return None
    return FeeDecision(send=True, base_fee_wei=base_fee_wei, max_fee_per_gas_wei=max_fee,
                       max_priority_fee_per_gas_wei=tip,
                       reason=f"replacement: max fee {_g(old_max_fee_wei)} → {_g(max_fee)} gwei, "
                              f"tip {_g(old_tip_wei)} → {_g(tip)} gwei")


def next_base_fee(base_fee_wei: int, gas_used: int, gas_limit: int) -> int:
    """EIP-1559: the next block's base fee (elasticity 2, change denominator 8)."""
    target = gas_limit // 2
    if gas_used == target:
        return base_fee_wei
    if gas_used > target:
        return base_fee_wei + max(base_fee_wei * (gas_used - target) // target // 8, 1)
    return base_fee_wei - base_fee_wei * (target - gas_used) // target // 8


def gwei_str(wei: int | None) -> str:
    """``agent.units.format_gwei``, with a dash for an unknown fee."""
    return "—" if wei is None else format_gwei(wei)


_g = gwei_str
