"""The cycle dispatches an action's error on its disposition, never on its text: a stale price (``PriceMoved``)
leaves the rest of the plan for the next cycle, a failed action drops the plan (journaled as dropped), a halt or
bad input stops; waiting for gas is a step of the cycle, before the executor. Hand-built fakes of the ports (the
executors, the sender's gas gate); a real journal (SQLite) and the real event bus."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agent.chain.reads import FeeInputs
from agent.chain.rpc import ChainRpc
from agent.config.settings import AppConfig, load_config
from agent.cycle.events import CycleEvent, CycleEventKind, EventBus
from agent.cycle.executors import EXECUTORS, ActionJob
from agent.cycle.loop import STOPPED, CycleRun, execute_plan
from agent.cycle.report import ActionReport, CycleReport
from agent.cycle.resources import CycleResources
from agent.errors import ConfigError, Disposition, ExecutionError, PriceMoved, SafetyHalt, TemporaryError
from agent.execution.gas_wait import GasGate, GasWaitTimeout
from agent.execution.pipeline import ExecutionContext
from agent.journal.store import JournalStore
from agent.planning.models import Action, Plan
from agent.portfolio.models import Snapshot
from strategies import Decision

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
GWEI = 10**9


class Recorder:
    def __init__(self) -> None:
        self.events: list[CycleEvent] = []

    def on_event(self, event: CycleEvent) -> None:
        self.events.append(event)

    def kinds(self) -> list[CycleEventKind]:
        return [e.kind for e in self.events]


class FakeSender:
    """The sender port as the cycle sees it: a mode, an address and (live) a gas gate."""

    mode = "live"
    address = WALLET

    def __init__(self, gate: GasGate | None) -> None:
        self.gas_gate = gate
        self.progress = None


def _action(kind: str = "swap", sell: str = "USDC", buy: str = "WETH") -> Action:
    return Action(kind=kind, chain="sandbox_a", sell=sell, buy=buy, amount_raw=10**6, amount_usd=Decimal(1),  # type: ignore[arg-type]
                  reason="test", est_cost_usd=Decimal(0), est_gas=100_000)


def _config() -> AppConfig:
    env = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": "http://127.0.0.1:9", "TARGETS": "ETH:100"}
    return load_config(env, env_file=Path("/nonexistent"))


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[JournalStore]:
    with JournalStore.open(tmp_path / "j.sqlite") as j:
        yield j


def _run(journal: JournalStore, recorder: Recorder, executors: dict[str, Any], gate: GasGate | None = None,
         stop_after: int | None = None) -> tuple[CycleRun, CycleReport, Plan]:
    config = _config()
    rpc = ChainRpc(*config.enabled()[0])
    cycle_id = journal.start_cycle(mode="live")
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return stop_after is not None and calls["n"] > stop_after

    run = CycleRun(config=config, cycle_id=cycle_id, now=NOW, journal=journal, dry_run=False, wallet=WALLET,
                   rpcs={"sandbox_a": rpc}, events=EventBus([recorder]),
                   resources=CycleResources(config.settings.aggregators),
                   should_stop=should_stop, executors=executors)
    run.contexts = {"sandbox_a": ExecutionContext(chain=rpc.chain, rpc=rpc, sender=FakeSender(gate),  # type: ignore[arg-type]
                                                  journal=journal, cycle_id=cycle_id)}
    plan = Plan(created_at=NOW, rebalance=True, reasons=("drift",), targets={"ETH": Decimal(100)},
                actions=(_action(), _action("swap", "WETH", "USDC"), _action("deposit", "USDC", "vault")))
    report = CycleReport(cycle_id=cycle_id, now=NOW, plan=plan, snapshot_before=Snapshot(wallet=WALLET, chains=()),
                         decision=Decision(rebalance=True, reasons=("drift",), targets={"ETH": Decimal(100)}))
    return run, report, plan


def _ok(ran: list[int]) -> Any:
    def execute(job: ActionJob) -> ActionReport:
        ran.append(job.index)
        return ActionReport(action=job.action, key=job.key, state="confirmed")
    return execute


def _failing(exc: Exception, ran: list[int]) -> Any:
    def execute(job: ActionJob) -> ActionReport:
        ran.append(job.index)
        raise exc
    return execute


def _dropped(journal: JournalStore) -> list[dict[str, Any]]:
    return [e.detail for e in journal.summary().events if e.kind == "plan_dropped"]


def test_every_action_kind_has_its_executor() -> None:
    assert set(EXECUTORS) == {"wrap", "swap", "deposit", "withdraw"}


def test_a_plan_that_runs_through_emits_a_trade_per_action(journal: JournalStore) -> None:
    ran: list[int] = []
    rec = Recorder()
    run, report, plan = _run(journal, rec, {"swap": _ok(ran), "deposit": _ok(ran)})
    execute_plan(run, report, plan, "p1")
    assert ran == [0, 1, 2]
    assert rec.kinds() == [CycleEventKind.TRADE] * 3
    assert report.disposition is None and report.dropped_because is None
    assert journal.last_event("rebalanced").detail["plan_id"]  # type: ignore[union-attr] == "p1"


def test_price_moved_leaves_the_rest_of_the_plan_for_the_next_cycle(journal: JournalStore) -> None:
    ran: list[int] = []
    rec = Recorder()
    run, report, plan = _run(journal, rec, {"swap": _failing(PriceMoved("min out not met", sent=False), ran),
                                            "deposit": _ok(ran)})
    execute_plan(run, report, plan, "p1")
    assert ran == [0]  # nothing after the stale swap ran
    assert report.disposition == Disposition.RETRY
    assert "waits for the next cycle" in (report.dropped_because or "")
    assert [d["disposition"] for d in _dropped(journal)] == ["retry"]
    assert rec.kinds() == [CycleEventKind.RETRY]
    assert report.actions[0].state == "failed"


def test_a_failed_action_drops_the_plan_and_journals_it_as_dropped(journal: JournalStore) -> None:
    ran: list[int] = []
    rec = Recorder()
    run, report, plan = _run(journal, rec, {"swap": _ok(ran),
                                            "deposit": _failing(ExecutionError("balances off plan"), ran)})
    plan = plan.model_copy(update={"actions": (plan.actions[2], plan.actions[0])})
    report.plan = plan
    execute_plan(run, report, plan, "p2")
    assert ran == [0]
    assert report.disposition == Disposition.DROP and "is dropped" in (report.dropped_because or "")
    assert _dropped(journal) == [{"plan_id": "p2", "reason": report.dropped_because, "disposition": "drop"}]
    assert rec.kinds() == [CycleEventKind.DROP]


def test_the_message_text_decides_nothing(journal: JournalStore) -> None:
    """An ExecutionError whose text reads like a price move is still a drop; a PriceMoved with any text retries."""
    run, report, plan = _run(journal, Recorder(), {"swap": _failing(ExecutionError("INSUFFICIENT_OUTPUT_AMOUNT "
                                                                                   "slippage deadline"), [])})
    execute_plan(run, report, plan, "p3")
    assert report.disposition == Disposition.DROP


@pytest.mark.parametrize("exc", [SafetyHalt("chain id mismatch"), ConfigError("TARGETS: bad")])
def test_halt_and_bad_input_stop_the_agent(journal: JournalStore, exc: Exception) -> None:
    ran: list[int] = []
    run, report, plan = _run(journal, Recorder(), {"swap": _failing(exc, ran)})
    with pytest.raises(type(exc)):
        execute_plan(run, report, plan, "p4")
    assert ran == [0] and _dropped(journal) == []


def test_a_stop_between_actions_defers_the_rest(journal: JournalStore) -> None:
    ran: list[int] = []
    run, report, plan = _run(journal, Recorder(), {"swap": _ok(ran), "deposit": _ok(ran)}, stop_after=1)
    execute_plan(run, report, plan, "p5")
    assert ran == [0] and report.dropped_because == STOPPED and report.disposition == Disposition.RETRY


class FakeFees:
    """The chain's fee feed: one new block per read, at the given base fees (then the last one repeats)."""

    def __init__(self, *base_fees_gwei: float) -> None:
        self.fees = list(base_fees_gwei)
        self.block = 100
        self.clock_s = 0.0

    def fetch(self) -> FeeInputs:
        self.block += 1
        fee = self.fees.pop(0) if len(self.fees) > 1 else self.fees[0]
        return FeeInputs(block_number=self.block, base_fee_wei=int(fee * GWEI), priority_fee_wei=GWEI // 10)

    def sleep(self, s: float) -> None:
        self.clock_s += s


def _gate(fees: FakeFees, *, deadline_s: float) -> GasGate:
    return GasGate(fees.fetch, limit_wei=5 * GWEI, hard_cap_wei=50 * GWEI, deadline_s=deadline_s, poll_s=1.0,
                   clock=lambda: fees.clock_s, sleep=fees.sleep)


def test_the_cycle_waits_for_gas_before_the_executor_runs(journal: JournalStore) -> None:
    fees = FakeFees(9, 8, 4)  # above the 5 gwei limit twice, then below
    rec = Recorder()
    seen_at: list[int] = []

    def execute(job: ActionJob) -> ActionReport:
        seen_at.append(fees.block)
        return ActionReport(action=job.action, key=job.key, state="confirmed")

    run, report, plan = _run(journal, rec, {"swap": execute, "deposit": execute}, gate=_gate(fees, deadline_s=60))
    plan = plan.model_copy(update={"actions": plan.actions[:1]})
    report.plan = plan
    execute_plan(run, report, plan, "p6")
    assert seen_at == [103]  # the executor ran only once the block at 4 gwei came
    waits = [e.detail for e in journal.summary().events if e.kind == "gas_wait"]
    assert sorted(w["state"] for w in waits) == ["done", "waiting"] and {w["plan_id"] for w in waits} == {"p6"}
    assert rec.kinds() == [CycleEventKind.GAS_WAIT, CycleEventKind.GAS_WAIT, CycleEventKind.TRADE]
    assert [e.detail["state"] for e in rec.events[:2]] == ["waiting", "done"]


def test_a_gas_wait_past_its_deadline_retries_next_cycle_without_executing(journal: JournalStore) -> None:
    ran: list[int] = []
    run, report, plan = _run(journal, Recorder(), {"swap": _ok(ran)}, gate=_gate(FakeFees(30), deadline_s=3))
    execute_plan(run, report, plan, "p7")
    assert ran == []
    assert report.disposition == Disposition.RETRY and "GasWaitTimeout" in (report.dropped_because or "")
    assert issubclass(GasWaitTimeout, TemporaryError)


def test_an_observer_that_raises_does_not_break_the_cycle(journal: JournalStore) -> None:
    class Broken:
        def on_event(self, event: CycleEvent) -> None:
            raise RuntimeError("notifier down")

    ran: list[int] = []
    run, report, plan = _run(journal, Recorder(), {"swap": _ok(ran), "deposit": _ok(ran)})
    run.events = EventBus([Broken()])
    execute_plan(run, report, plan, "p8")
    assert ran == [0, 1, 2]
