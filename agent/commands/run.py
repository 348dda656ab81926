"""``rebalancer run [--once] [--dry-run]``: the agent loop.

SIGINT/SIGTERM let the current action finish (or, while it is only waiting for gas, abandon it safely: nothing
was signed), journal the rest of the plan as dropped and exit with 128 + the signal's number (SIGINT 130,
SIGTERM 143); a second signal stops at once (the journal still knows every signed transaction, and the next
start reconciles it). ``run --once`` exits 1 when its plan was dropped or deferred (docs/exit-codes.md).
"""

from __future__ import annotations

import logging
import signal
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from agent.commands.plan import render_cuts, rule_line
from agent.commands.render import Table, console, err_console, fmt_usd, print_json
from agent.errors import SafetyHalt

if TYPE_CHECKING:  # the CLI starts without web3: what a command needs is imported when it runs
    from agent.config.settings import AppConfig
    from agent.cycle.loop import CycleReport
    from agent.ports import Signer

log = logging.getLogger(__name__)


class StopFlag:
    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None

    def __call__(self) -> bool:
        return self.requested

    def install(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            if self.requested:
                raise KeyboardInterrupt
            self.requested, self.signum = True, signum
            err_console.print(f"received {signal.Signals(signum).name}: finishing the current action, then stopping")

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def open_configured_signer(config: AppConfig) -> Signer:
    from agent.config.settings import read_environment
    from agent.signers.factory import open_signer
    from agent.signers.software import default_signer_spec

    env = read_environment()
    return open_signer(default_signer_spec(env), expected_address=config.settings.signer_expected_address, env=env)


def cycle_document(report: CycleReport, config: AppConfig) -> dict[str, Any]:
    from agent.jsonable import jsonable
    from agent.planning.allocation import compute_allocation

    targets = config.settings.targets
    before = compute_allocation(report.snapshot_before, targets)
    after = compute_allocation(report.snapshot_after or report.snapshot_before, targets)
    return {
        "cycle_id": report.cycle_id, "at": report.now.isoformat(), "rebalance": report.decision.rebalance,
        "reasons": list(report.decision.reasons), "decision": jsonable(report.decision.explain()),
        "blocked_chains": report.blocked_chains,
        "dropped_because": report.dropped_because,
        "cuts": [c.as_json() for c in report.plan.cuts] if report.plan else [],
        "disposition": str(report.disposition) if report.disposition else None,
        "partial": report.snapshot_before.partial, "unread": report.snapshot_before.unread,
        "approval": None if report.approval is None else {
            "status": report.approval.status, "approval_id": report.approval.approval_id,
            "expires_at": report.approval.expires_at, "reason": report.approval.reason},
        "actions": [{"kind": a.action.kind, "chain": a.action.chain, "sell": a.action.sell, "buy": a.action.buy,
                     "amount_raw": a.action.amount_raw, "state": a.state, "source": a.quote_source,
                     "error": a.error, "gas_paid_wei": a.gas_paid_wei,
                     "tx_hashes": [o.tx_hash for o in a.result.outcomes] if a.result else []}
                    for a in report.actions],
        "parking": [{"key": r.idempotency_key, "state": r.state,
                     "tx_hashes": [o.tx_hash for o in r.outcomes if o.tx_hash]} for r in report.parking],
        "allocation_before": [{"symbol": a.symbol, "weight_pct": a.weight_pct, "drift_pp": a.drift_pp}
                              for a in before.assets],
        "allocation_after": [{"symbol": a.symbol, "weight_pct": a.weight_pct, "drift_pp": a.drift_pp,
                              "target_pct": a.target_pct, "usd": a.usd} for a in after.assets],
        "chains": [{"chain": c.chain, "chain_id": c.chain_id, "available": c.available, "block": c.block,
                    "error": c.error} for c in (report.snapshot_after or report.snapshot_before).chains],
        "total_usd_after": after.total_usd,
    }


def render_cycle(doc: dict[str, Any]) -> None:
    console.print(f"[bold]cycle {doc['cycle_id']}[/] {doc['at']}: {'rebalance' if doc['rebalance'] else 'hold'}")
    line = rule_line(doc.get("decision"))
    if line:
        console.print(f"  {line}", highlight=False)
    for r in doc["reasons"]:
        console.print(f"  • {r}")
    if doc["actions"]:
        t = Table()
        for col in ("kind", "chain", "sell→buy", "state", "source", "tx", "note"):
            t.add_column(col)
        for a in doc["actions"]:
            t.add_row(a["kind"], a["chain"], f"{a['sell']}→{a['buy']}", a["state"], a["source"] or "",
                      (a["tx_hashes"][-1] or "")[:14] if a["tx_hashes"] else "", a["error"] or "")
        console.print(t)
    if doc["approval"] and not doc["actions"]:
        console.print(f"[yellow]approval:[/] {doc['approval']['reason']}")
    render_cuts(doc["cuts"])
    for p in doc["parking"]:
        console.print(f"  vault: {p['key']} → {p['state']}")
    if doc["dropped_because"]:
        console.print(f"[red]plan dropped:[/] {doc['dropped_because']}")
    drift = ", ".join(f"{a['symbol']} {a['drift_pp']:+.2f} pp" for a in doc["allocation_after"])
    console.print(f"  after: {fmt_usd(doc['total_usd_after'])}; drift {drift}")


def _run_loop(config: AppConfig, *, once: bool, dry_run: bool, json_out: bool) -> None:
    from agent.commands.operate import operator_for, progress_for
    from agent.config.settings import safe_error
    from agent.cycle.compose import build_rpcs, signer_scope
    from agent.cycle.loop import run_cycle
    from agent.journal.store import JournalStore

    stop = StopFlag()
    stop.install()
    rpcs = build_rpcs(config)
    with ExitStack() as owned:
        # the signer (a device, an external signer's HTTP client…) lives as long as the process runs cycles
        signer = None if dry_run else owned.enter_context(signer_scope(open_configured_signer(config)))
        journal = owned.enter_context(JournalStore.open(config.settings.journal_path))
        operator = owned.enter_context(operator_for(config, journal))
        while True:
            try:
                with progress_for(config, journal):
                    report = run_cycle(config, now=datetime.now(UTC), journal=journal, dry_run=dry_run,
                                       signer=signer, rpcs=rpcs, should_stop=stop)
            except SafetyHalt as exc:
                operator.on_halt(safe_error(exc))
                raise
            doc = cycle_document(report, config)
            operator.on_cycle(doc)
            print_json(doc) if json_out else render_cycle(doc)
            if report.snapshot_before.partial:  # never trade blind (#14): one line, non-zero for --once
                typer.echo(f"error: {report.snapshot_before.partial_reason()}", err=True)
                if once or report.snapshot_before.nothing_read:
                    raise SystemExit(1)
            if stop():  # a signal ends the process with 128 + its number (SIGINT 130, SIGTERM 143)
                raise SystemExit(128 + (stop.signum or signal.SIGINT))
            if once and report.dropped_because:  # the plan did not run to its end: say so in the exit code
                raise SystemExit(1)
            if once:
                break
            deadline = time.monotonic() + config.settings.run_interval_s
            while time.monotonic() < deadline and not stop():
                time.sleep(0.5)
            if stop():
                raise SystemExit(128 + (stop.signum or signal.SIGINT))


def register(app: typer.Typer) -> None:
    @app.command()
    def run(once: bool = typer.Option(False, "--once", help="Run one cycle and exit."),
            dry_run: bool = typer.Option(False, "--dry-run", help="Simulate everything; sign and send nothing."),
            json_out: bool = typer.Option(False, "--json", help="Print each cycle as one JSON document.")) -> None:
        """The agent loop: read, decide, plan, quote, wait for gas, execute, journal."""
        from agent.config.settings import load_config
        from agent.cycle.compose import wallet_address
        from agent.journal.lock import AgentLock

        config = load_config()
        # one agent per wallet and journal, for the life of the process (a second run exits naming the PID)
        endpoints = [f"{name}={url.get_secret_value()}" for name, cs in config.chain_settings.items()
                     for url in cs.rpc_urls]
        with AgentLock(config.settings.journal_path, wallet_address(config), endpoints):
            _run_loop(config, once=once, dry_run=dry_run, json_out=json_out)
