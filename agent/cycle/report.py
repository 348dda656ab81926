"""What one cycle did: per-action reports and the cycle report, and the plan as journaled JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.errors import Disposition
from agent.execution.intent import ActionResult
from agent.execution.twap import TwapResult
from agent.operator.approvals import Gate
from agent.planning.models import Action, Plan
from agent.portfolio.models import Snapshot
from strategies import Decision


@dataclass
class ActionReport:
    action: Action
    key: str
    state: str
    result: ActionResult | None = None
    quote_source: str | None = None
    error: str | None = None
    #: a swap split into impact-bounded chunks over blocks
    twap: TwapResult | None = None

    @property
    def gas_paid_wei(self) -> int:
        if self.twap is not None:
            return self.twap.gas_paid_wei
        return sum(o.fee_paid_wei for o in self.result.outcomes) if self.result else 0


@dataclass
class CycleReport:
    cycle_id: int
    now: datetime
    decision: Decision
    plan: Plan | None
    snapshot_before: Snapshot
    snapshot_after: Snapshot | None = None
    actions: list[ActionReport] = field(default_factory=list)
    blocked_chains: dict[str, str] = field(default_factory=dict)
    dropped_because: str | None = None
    #: why the rest of the plan did not run: ``drop`` (the plan is dropped) or ``retry`` (the next cycle plans
    #: afresh: a stale price, a gas wait past its deadline, a stop); None when the plan ran to its end
    disposition: Disposition | None = None
    #: vault parking after the trades (deposits of idle stables, exits of flagged vaults)
    parking: list[ActionResult] = field(default_factory=list)
    #: the approval step's word on the plan (APPROVAL=manual|above:USD); None when it was not asked
    approval: Gate | None = None


def plan_detail(plan: Plan) -> dict[str, Any]:
    return {"actions": [a.as_json() for a in plan.actions],
            "skipped": [s.as_json() for s in plan.skipped], "total_usd": str(plan.total_usd)}
