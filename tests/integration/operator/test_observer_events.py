"""The operator as an observer of the cycle's event bus: halts, stress pauses (start and end, once each, across a
restart) and correlation alerts reach a local webhook; the cycle's document arrives with ``cycle_end``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.cycle.events import CycleEventKind, EventBus
from agent.journal.store import JournalStore
from agent.operator.notify import Notifier
from agent.operator.observer import Operator
from tests.integration.operator.test_notify import HASH, Inbox, inbox  # noqa: F401  (the fixture)

PAUSE = {"trigger": "crash", "reason": "ETH fell 22% in 24 h (limit 15%)", "resume_when": "24 h without a crash"}


def _titles(box: Inbox) -> list[str]:
    return [r["doc"]["title"] for r in box.received]


def test_pause_correlation_halt_and_cycle_end_through_the_bus(inbox: tuple[Inbox, int],  # noqa: F811
                                                              journal: JournalStore) -> None:
    box, port = inbox
    op = Operator(journal, notifier=Notifier([f"json://127.0.0.1:{port}/op"], backoff_s=0.05))
    bus = EventBus([op])
    c1 = journal.start_cycle()
    decision = {"rule": "stress_pause", "inputs": {}, "pause": PAUSE}
    bus.emit(CycleEventKind.DECISION, c1, rebalance=False, reasons=[], urgent=False, decision=decision)
    bus.emit(CycleEventKind.DECISION, c1, rebalance=False, reasons=[], urgent=False, decision=decision)  # still
    bus.emit("correlation_alert", c1, state="above", average=0.93, threshold=0.9,  # type: ignore[arg-type]
             window_days=30, pairs={"ETH/WBTC": 0.93})
    doc = {"cycle_id": c1, "at": "2026-06-01T12:00:00+00:00", "total_usd_after": 1000.0, "dropped_because": None,
           "approval": None, "chains": [],
           "actions": [{"kind": "swap", "chain": "sandbox_a", "sell": "WETH", "buy": "USDC", "amount_raw": "5",
                        "state": "confirmed", "tx_hashes": [HASH], "gas_paid_wei": "21000"}],
           "allocation_after": [{"symbol": "WETH", "weight_pct": 50, "drift_pp": 1.5, "target_pct": 48.5,
                                 "usd": 500}]}
    bus.emit(CycleEventKind.CYCLE_END, c1, status="ok", document=doc)
    bus.emit(CycleEventKind.HALT, c1, error="SafetyHalt: balance moved unexpectedly")
    op.close()
    titles = _titles(box)
    assert sum("stress pause (crash)" in t for t in titles) == 1, titles  # announced once while it holds
    pause = next(r["doc"]["message"] for r in box.received if "stress pause (crash)" in r["doc"]["title"])
    assert "ETH fell 22%" in pause and "resumes when 24 h without a crash" in pause
    corr = next(r["doc"] for r in box.received if "correlation alert" in r["doc"]["title"])
    assert "0.93" in corr["message"] and "ETH/WBTC" in corr["message"]
    assert any("trade(s) confirmed" in t for t in titles) and any("HALTED" in t for t in titles)
    assert journal.events("allocation")[-1]["detail"]["cycle_id"] == c1

    # a restarted agent (a new operator on the same journal) does not repeat the pause; its end is announced
    box.received.clear()
    op2 = Operator(journal, notifier=Notifier([f"json://127.0.0.1:{port}/op"], backoff_s=0.05))
    bus2 = EventBus([op2])
    c2 = journal.start_cycle()
    bus2.emit(CycleEventKind.DECISION, c2, rebalance=False, reasons=[], urgent=False, decision=decision)
    bus2.emit(CycleEventKind.DECISION, c2, rebalance=True, reasons=[], urgent=False,
              decision={"rule": "threshold", "inputs": {}, "pause": None})
    # the cycle's own shape (agent/cycle/loop.py): ``pause`` beside the decision's reasons
    bus2.emit(CycleEventKind.DECISION, c2, rebalance=False, reasons=[], urgent=False,
              pause={**PAUSE, "trigger": "depeg", "reason": "USDC at 0.95 (floor 0.98)"})
    op2.close()
    assert _titles(box) == ["rebalancer: stress pause over (crash), cycle 2",
                            "rebalancer: stress pause (depeg), cycle 2"]


def test_a_broken_document_never_reaches_the_cycle(journal: JournalStore) -> None:
    op = Operator(journal)
    bus = EventBus([op])
    bus.emit(CycleEventKind.CYCLE_END, journal.start_cycle(), status="ok", document={"cycle_id": 1})  # no keys
    bus.emit(CycleEventKind.DECISION, 1, decision={"pause": "not a dict"})
    assert journal.events("allocation") == []  # the broken document was not recorded, and nothing raised


@pytest.mark.anvil
def test_a_paused_cycle_on_anvil_notifies_the_operator(world: Any, tmp_path: Path,
                                                        inbox: tuple[Inbox, int]) -> None:  # noqa: F811
    """run_cycle itself: a strategy's stress pause reaches the operator through the cycle's ``decision`` event."""
    from agent.config.settings import load_config
    from agent.cycle.loop import run_cycle
    from strategies.base import Decision, PauseState

    class Paused:
        name = "paused"

        def decide(self, ctx: Any) -> Decision:
            return Decision(rebalance=False, reasons=("paused (crash): ETH fell 22% in 24 h",),
                            targets=dict(ctx.targets), rule="stress_pause",
                            pause=PauseState(trigger="crash", reason="ETH fell 22% in 24 h (limit 15%)",
                                             resume_when="24 h without a crash"))

    box, port = inbox
    config = load_config({"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": world.rpc_url,
                          "TARGETS": "ETH:40,WBTC:30,USDC:30", "JOURNAL_PATH": str(tmp_path / "j.sqlite"),
                          "WALLET_ADDRESS": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"},
                         env_file=Path("/nonexistent"))
    with JournalStore.open(tmp_path / "j.sqlite") as journal:
        op = Operator(journal, notifier=Notifier([f"json://127.0.0.1:{port}/op"], backoff_s=0.05))
        report = run_cycle(config, now=datetime.now(UTC), journal=journal, dry_run=True,
                           strategy=Paused(), observers=[op])  # type: ignore[arg-type]
        op.close()
        assert report.decision.pause is not None and not report.actions
        assert journal.events("allocation")  # the cycle's document arrived with cycle_end
    assert any("stress pause (crash)" in t for t in _titles(box)), _titles(box)
