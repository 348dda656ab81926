"""Spending limits (#14 item 8): a plan over a hot-wallet limit is cut, and says what was cut and why (pure).

The limits (``ExecutionSettings``; unset: none):

* ``MAX_TRADE_USD``: the largest swap of a plan;
* ``MAX_CYCLE_USD``: the swaps of one cycle together;
* ``MAX_DAILY_USD``: the swaps executed in the last 24 hours (rolling, from the journal) plus this plan's;
* ``MAX_DAILY_GAS_USD``: the gas paid in the last 24 hours plus this plan's estimate.

Trades are the swaps; wraps and vault moves change only the form the wallet holds its value in. A trade limit
scales *every* action of the plan by one factor, so each sell and the buys it funds stay in step and the plan
still only moves the portfolio towards its targets (a per-action cut could leave a buy without its funding or
a sell without its buy). Nothing left to spend (the daily budget used up, the gas budget exceeded) cuts the
whole plan. Every cut is a ``Cut`` on the plan (``plan``/``run`` show them in text and JSON).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from agent.planning.models import Action, Cut, Plan

ZERO = Decimal(0)


@dataclass(frozen=True)
class SpendingLimits:
    max_trade_usd: Decimal | None = None
    max_cycle_usd: Decimal | None = None
    max_daily_usd: Decimal | None = None
    max_daily_gas_usd: Decimal | None = None

    @classmethod
    def from_settings(cls, execution: object) -> SpendingLimits:
        return cls(**{name: getattr(execution, name, None) for name in
                      ("max_trade_usd", "max_cycle_usd", "max_daily_usd", "max_daily_gas_usd")})

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.max_trade_usd, self.max_cycle_usd, self.max_daily_usd,
                                           self.max_daily_gas_usd))


@dataclass(frozen=True)
class Spent:
    """What the journal says was spent in the last 24 hours (USD)."""

    trades_usd: Decimal = ZERO
    gas_usd: Decimal = ZERO


def _what(a: Action) -> str:
    return f"{a.kind} {a.sell}>{a.buy} on {a.chain}"


def _usd(v: Decimal) -> str:
    return f"{v:,.2f} USD"


def _cut_all(plan: Plan, limit: str, why: str) -> Plan:
    cuts = tuple(Cut(what=_what(a), limit=limit, from_usd=a.amount_usd, to_usd=ZERO, why=why) for a in plan.actions)
    return plan.model_copy(update={"actions": (), "rebalance": False, "cuts": (*plan.cuts, *cuts),
                                   "reasons": (*plan.reasons, f"plan cut by {limit}: {why}")})


def _scale(a: Action, factor: Decimal) -> Action:
    raw = int((Decimal(a.amount_raw) * factor).to_integral_value(rounding=ROUND_DOWN))
    return a.model_copy(update={"amount_raw": raw, "amount_usd": (a.amount_usd * factor).quantize(Decimal("0.01")),
                                "est_impact_bps": a.est_impact_bps * factor,
                                "reason": f"{a.reason} (cut to {factor:.4f} by the spending limits)"})


def _binding(swaps: Iterable[Action], limits: SpendingLimits, spent: Spent) -> tuple[Decimal, str, str] | None:
    """The smallest factor the trade limits allow (with the limit's name and why), or None when none binds."""
    swaps = list(swaps)
    total = sum((a.amount_usd for a in swaps), ZERO)
    largest = max((a.amount_usd for a in swaps), default=ZERO)
    options: list[tuple[Decimal, str, str]] = []
    if limits.max_trade_usd is not None and largest > limits.max_trade_usd:
        options.append((limits.max_trade_usd / largest, "MAX_TRADE_USD",
                        f"the largest trade ({_usd(largest)}) is above MAX_TRADE_USD={limits.max_trade_usd}"))
    if limits.max_cycle_usd is not None and total > limits.max_cycle_usd:
        options.append((limits.max_cycle_usd / total, "MAX_CYCLE_USD",
                        f"the cycle's trades ({_usd(total)}) are above MAX_CYCLE_USD={limits.max_cycle_usd}"))
    if limits.max_daily_usd is not None:
        left = limits.max_daily_usd - spent.trades_usd
        if total > left:
            options.append((max(left, ZERO) / total, "MAX_DAILY_USD",
                            f"{_usd(spent.trades_usd)} traded in the last 24 h + this plan's {_usd(total)} is "
                            f"above MAX_DAILY_USD={limits.max_daily_usd} ({_usd(max(left, ZERO))} left)"))
    return min(options, key=lambda o: o[0]) if options else None


def apply_limits(plan: Plan, limits: SpendingLimits, spent: Spent = Spent(), min_trade_usd: Decimal = ZERO) -> Plan:
    """``plan`` within the spending limits; what was cut is in ``plan.cuts`` (and a line in its reasons).
    A cut that leaves every trade below ``min_trade_usd`` cuts the whole plan (dust costs more than it moves)."""
    if not limits.any or not plan.actions:
        return plan
    if limits.max_daily_gas_usd is not None and spent.gas_usd + plan.est_cost_usd > limits.max_daily_gas_usd:
        return _cut_all(plan, "MAX_DAILY_GAS_USD",
                        f"gas paid in the last 24 h ({_usd(spent.gas_usd)}) + this plan's estimate "
                        f"({_usd(plan.est_cost_usd)}) is above MAX_DAILY_GAS_USD={limits.max_daily_gas_usd}; "
                        "nothing is sent until the 24 h window has room")
    swaps = [a for a in plan.actions if a.kind == "swap"]
    bound = _binding(swaps, limits, spent)
    if bound is None:
        return plan
    factor, limit, why = bound
    if factor <= 0:
        return _cut_all(plan, limit, why + "; nothing is traded until the 24 h window has room")
    scaled = tuple(_scale(a, factor) for a in plan.actions)
    if max((a.amount_usd for a in scaled if a.kind == "swap"), default=ZERO) < max(min_trade_usd, Decimal("0.01")):
        return _cut_all(plan, limit, f"{why}; what is left of each trade is below MIN_TRADE_USD={min_trade_usd}")
    why = f"{why}: every action scaled by {factor:.4f} so each sell and the buys it funds stay in step"
    cuts = tuple(Cut(what=_what(old), limit=limit, from_usd=old.amount_usd, to_usd=new.amount_usd, why=why)
                 for old, new in zip(plan.actions, scaled, strict=True))
    return plan.model_copy(update={"actions": scaled, "cuts": (*plan.cuts, *cuts),
                                   "reasons": (*plan.reasons, f"plan cut by {limit}: {why}")})
