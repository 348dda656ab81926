"""``rebalancer plan [--json]``: what the agent would do now and why. Sends nothing, signs nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from agent.commands.render import Table, console, fmt_usd, print_json

if TYPE_CHECKING:  # the CLI starts without web3: what a command needs is imported when it runs
    from agent.planning.models import Plan
    from agent.portfolio.models import Snapshot
    from strategies import Decision


def rule_line(explained: dict[str, Any] | None) -> str | None:
    """The short "rule" line of the text output: which rule decided, on which figures (``decision`` JSON)."""
    if not explained or not explained.get("rule"):
        return None
    inputs = explained.get("inputs") or {}
    bits = []
    if "max_drift_pp" in inputs:
        bits.append(f"max drift {inputs['max_drift_pp']:.2f} pp")
    for symbol, v in (inputs.get("volatility") or {}).items():
        bits.append(f"{symbol} vol {v['vol']:.0%} (×{v['band_scale']:.2f})")
    regime = inputs.get("regime")
    if regime and regime.get("regime"):
        bits.append(f"{regime['asset']} {regime['regime']} ({regime['model']} {regime['figure']:.2f})")
    corr = inputs.get("correlation")
    if corr:
        bits.append(f"corr {corr['average']:.2f}" + (f"/{corr['threshold']:g}" if corr.get("threshold") else ""))
    pause = explained.get("pause")
    if pause:
        bits.append(f"paused: {pause['trigger']}")
    return f"rule: {explained['rule']}" + (f" · {', '.join(bits)}" if bits else "")


def plan_document(decision: Decision, plan: Plan | None, pending: list[str]) -> dict[str, Any]:
    from agent.jsonable import jsonable

    return {
        "rebalance": bool(plan and plan.rebalance),
        "decision": jsonable(decision.explain()),
        "reasons": [*decision.reasons, *(f"action {k} may still be in flight" for k in pending)],
        "urgent": decision.urgent,
        "targets": {k: float(v) for k, v in decision.targets.items()},
        "actions": [a.as_json() for a in plan.actions] if plan else [],
        "skipped": [s.as_json() for s in plan.skipped] if plan else [],
        "cuts": [c.as_json() for c in plan.cuts] if plan else [],
        "est_cost_usd": float(plan.est_cost_usd) if plan else 0.0,
        "total_usd": float(plan.total_usd) if plan else None,
    }


def render_plan(doc: dict[str, Any]) -> None:
    console.print(f"[bold]{'Rebalance' if doc['rebalance'] else 'No rebalance'}[/]")
    line = rule_line(doc.get("decision"))
    if line:
        console.print(f"  {line}", highlight=False)
    for r in doc["reasons"]:
        console.print(f"  • {r}")
    if doc["actions"]:
        t = Table(title=f"Plan — estimated cost {fmt_usd(doc['est_cost_usd'])}")
        for col in ("#", "kind", "chain", "sell", "buy", "amount (USD)", "est. cost", "reason"):
            t.add_column(col)
        for i, a in enumerate(doc["actions"]):
            t.add_row(str(i), a["kind"], a["chain"], a["sell"], a["buy"], f"{a['amount_usd']:,.2f}",
                      fmt_usd(a["est_cost_usd"]), a["reason"])
        console.print(t)
    for s in doc["skipped"]:
        console.print(f"  skipped: {s['what']} — {s['why']}")
    render_cuts(doc.get("cuts", []))


def render_cuts(cuts: list[dict[str, Any]]) -> None:
    """What the spending limits cut, one line per action, and why (once per limit)."""
    said: set[str] = set()
    for c in cuts:
        console.print(f"  cut by {c['limit']}: {c['what']} {c['from_usd']:,.2f} → {c['to_usd']:,.2f} USD")
        if c["why"] not in said:
            console.print(f"    why: {c['why']}")
            said.add(c["why"])


def refuse_partial(snapshot: Snapshot, json_out: bool) -> NoReturn:
    """Never plan on a partial view: one line naming what is unread, ``partial``/``unread[]`` in --json, exit 1."""
    reason = snapshot.partial_reason()
    if json_out:
        print_json({"rebalance": False, "partial": True, "unread": snapshot.unread,
                    "nothing_read": snapshot.nothing_read, "reasons": [reason], "actions": [], "skipped": [],
                    "cuts": [], "est_cost_usd": 0.0, "total_usd": None})
    typer.echo(f"error: {reason}", err=True)
    raise SystemExit(1)


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
        """What the agent would do now and why; sends nothing."""
        from agent.config.settings import load_config
        from agent.cycle.compose import build_rpcs, wallet_address
        from agent.cycle.steps import decide, lots_for, make_plan, spent_last_day, verify_genesis
        from agent.journal.store import JournalStore
        from agent.portfolio.reader import fetch_snapshot

        config = load_config()
        now = datetime.now(UTC)
        rpcs = build_rpcs(config)
        snapshot = fetch_snapshot(rpcs, wallet_address(config))
        if snapshot.partial:
            refuse_partial(snapshot, json_out)
        with JournalStore.open(config.settings.journal_path) as journal:
            verify_genesis(journal, rpcs, record=False)  # plan only reads the journal
            pending = [a.idempotency_key for a in journal.open_actions()]
            blocked = {a.chain: f"action {a.idempotency_key} may still be in flight" for a in journal.open_actions()}
            lots = lots_for(config, journal)
            decision = decide(config, snapshot, journal, now, record_prices=False, lots=lots)
            spent = spent_last_day(journal, now)
        unavailable = {c.chain for c in snapshot.chains if not c.available}
        result = make_plan(config, snapshot, decision, now, exclude_chains=set(blocked) | unavailable,
                           spent=spent, held=blocked, lots=lots) if decision.rebalance else None
        pause = config.settings.execution.pause_file
        doc = {**plan_document(decision, result, pending), "partial": False, "unread": [],
               "paused": bool(pause and pause.exists())}
        if doc["paused"]:
            doc["reasons"].append(f"paused: PAUSE_FILE {pause} exists; `run` sends nothing while it does")
        if json_out:
            print_json(doc)
        else:
            render_plan(doc)
