"""Plans: ordered actions with their reasons and estimated costs (pure data)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agent.jsonable import jsonable

FROZEN = ConfigDict(frozen=True, extra="forbid")

ActionKind = Literal["withdraw", "wrap", "swap", "deposit"]
KIND_ORDER = {"withdraw": 0, "wrap": 1, "swap": 2, "deposit": 3}


class Action(BaseModel):
    """One step of a plan. ``sell``/``buy`` are token symbols on ``chain`` (a vault's name for withdraw/deposit;
    ``ETH``-like native symbol for wrap). ``amount_raw`` is what is sold, in the sell token's raw units."""

    model_config = FROZEN

    kind: ActionKind
    chain: str
    sell: str
    buy: str
    amount_raw: int
    amount_usd: Decimal
    reason: str
    est_cost_usd: Decimal
    est_gas: int
    est_impact_bps: Decimal = Decimal(0)
    #: phase 0 = unlock funds (withdraw, wrap), 1 = sells into the hub stable or direct swaps, 2 = buys.
    phase: int = 1

    def as_json(self) -> dict[str, Any]:
        """The one serialisation of an action (CLI documents, journal details, plan ids): every field,
        ``amount_raw`` as a string, USD and bps as numbers (``agent.jsonable``)."""
        return jsonable(self)


class Skipped(BaseModel):
    model_config = FROZEN

    what: str
    why: str

    def as_json(self) -> dict[str, Any]:
        return jsonable(self)


class Cut(BaseModel):
    """What a spending limit cut from a plan (``agent.planning.limits``): an action, from and to USD, why."""

    model_config = FROZEN

    what: str
    limit: str
    from_usd: Decimal
    to_usd: Decimal
    why: str

    def as_json(self) -> dict[str, Any]:
        return jsonable(self)


class Plan(BaseModel):
    model_config = FROZEN

    created_at: datetime
    rebalance: bool
    reasons: tuple[str, ...]
    targets: dict[str, Decimal]
    actions: tuple[Action, ...]
    skipped: tuple[Skipped, ...] = ()
    total_usd: Decimal = Decimal(0)
    #: what the spending limits cut (MAX_TRADE_USD, MAX_CYCLE_USD, MAX_DAILY_USD, MAX_DAILY_GAS_USD)
    cuts: tuple[Cut, ...] = ()

    @property
    def est_cost_usd(self) -> Decimal:
        return sum((a.est_cost_usd for a in self.actions), Decimal(0))
