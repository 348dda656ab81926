"""``rebalancer status [--json]``: the portfolio per chain and asset versus target."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer

from agent.commands.render import Table, console, fmt_num, fmt_usd, print_json

if TYPE_CHECKING:  # the CLI starts without web3: what a command needs is imported when it runs
    from agent.config.settings import AppConfig
    from agent.planning.allocation import Allocation
    from agent.portfolio.models import Snapshot


def status_document(snapshot: Snapshot, alloc: Allocation, vaults: list[dict[str, Any]] | None = None,
                    correlation: dict[str, Any] | None = None, decision: dict[str, Any] | None = None,
                    journal: str | None = None) -> dict[str, Any]:
    return {
        "vaults": vaults or [],
        "correlation": correlation,
        "decision": decision,
        "pause": (decision or {}).get("pause"),
        "wallet": snapshot.wallet,
        "journal": journal,
        "total_usd": alloc.total_usd,
        "chains": [{"chain": c.chain, "chain_id": c.chain_id, "available": c.available, "error": c.error,
                    "block": c.block} for c in snapshot.chains],
        "assets": [{"symbol": a.symbol, "balance": a.balance, "usd": a.usd, "weight_pct": a.weight_pct,
                    "target_pct": a.target_pct, "drift_pp": a.drift_pp, "by_chain": a.by_chain,
                    "unpriced": list(a.unpriced)} for a in alloc.assets],
        "holdings": [{"chain": h.chain, "symbol": h.symbol, "asset": h.asset, "kind": h.kind, "address": h.address,
                      "balance": h.balance, "balance_raw": h.balance_raw, "usd": h.usd,
                      "underlying_raw": h.underlying_raw,
                      "price_usd": h.price.usd if h.price else None,
                      "price_source": h.price.source if h.price else None}
                     for h in snapshot.holdings() if h.balance_raw],
    }


def read_status(config: AppConfig) -> tuple[Snapshot, Allocation]:
    from agent.cycle.compose import build_rpcs, wallet_address
    from agent.planning.allocation import compute_allocation
    from agent.portfolio.reader import fetch_snapshot

    snapshot = fetch_snapshot(build_rpcs(config), wallet_address(config))
    return snapshot, compute_allocation(snapshot, config.settings.targets)


def correlation_document(config: AppConfig) -> dict[str, Any]:
    """The correlation monitor on the price history beside the journal (read only): the average pairwise
    correlation of the risky assets' daily returns, the alert threshold and the window."""
    from datetime import UTC, datetime

    from agent.cycle.steps import HISTORY_WINDOW, correlation_of
    from agent.journal.prices import PriceHistory, history_path_for

    s = config.settings.strategy
    out: dict[str, Any] = {"average": None, "threshold": s.correlation_alert, "window_days": s.correlation_window_days,
                           "above": False, "pairs": {}, "note": "too little price history (daily closes of two "
                           "risky assets over the window: see `rebalancer prices backfill`)"}
    path = history_path_for(config.settings.journal_path)
    if not path.exists():
        return out
    now = datetime.now(UTC)
    with PriceHistory.open(path) as prices:
        history = prices.history(sorted(config.settings.targets), until=now, since=now - HISTORY_WINDOW)
    reading = correlation_of(config, history, now)
    return out if reading is None else {**reading.as_json(), "note": None}


def decision_document(config: AppConfig, snapshot: Snapshot) -> dict[str, Any] | None:
    """What the strategy would decide now (``{rule, inputs, pause}``; read only: no price is recorded)."""
    from datetime import UTC, datetime

    from agent.cycle.steps import decide, lots_for
    from agent.journal.store import JournalStore
    from agent.jsonable import jsonable

    path = config.settings.journal_path
    if snapshot.partial or not path.exists():
        return None
    with JournalStore.open(path) as journal:
        decision = decide(config, snapshot, journal, datetime.now(UTC), record_prices=False,
                          lots=lots_for(config, journal))
    return {**jsonable(decision.explain()), "rebalance": decision.rebalance}


def render_correlation(doc: dict[str, Any] | None) -> None:
    if not doc:
        return
    limit = "no alert set" if doc["threshold"] is None else f"alert at {doc['threshold']:g}"
    if doc["average"] is None:
        console.print(f"correlation: — over {doc['window_days']} d ({limit}): {doc['note']}", highlight=False)
        return
    flag = " [red]ALERT: diversification collapsing[/]" if doc["above"] else ""
    console.print(f"correlation: average {doc['average']:.2f} over {doc['window_days']} d ({limit}){flag}")


def _render(snapshot: Snapshot, alloc: Allocation) -> None:
    chains = Table(title=f"Chains — wallet {snapshot.wallet}")
    for col in ("chain", "chain id", "block", "status"):
        chains.add_column(col)
    for c in snapshot.chains:
        chains.add_row(c.chain, str(c.chain_id), str(c.block or "—"),
                       "[green]ok[/]" if c.available else f"[red]unavailable[/]: {c.error}")
    console.print(chains)
    holdings = Table(title="Holdings")
    for col in ("chain", "token", "balance", "USD", "price source"):
        holdings.add_column(col, justify="right" if col in ("balance", "USD") else "left")
    for h in snapshot.holdings():
        if h.balance_raw:
            holdings.add_row(h.chain, h.symbol + (f" (→{h.underlying_symbol})" if h.kind == "vault" else ""),
                             fmt_num(h.balance), fmt_usd(h.usd), h.price.source if h.price else "no price")
    console.print(holdings)
    assets = Table(title=f"Allocation — total {fmt_usd(alloc.total_usd)}")
    for col in ("asset", "balance", "USD", "weight %", "target %", "drift pp"):
        assets.add_column(col, justify="left" if col == "asset" else "right")
    for a in alloc.assets:
        style = "red" if abs(a.drift_pp) >= 5 else ""
        assets.add_row(a.symbol, fmt_num(a.balance), fmt_usd(a.usd), f"{a.weight_pct:.2f}", f"{a.target_pct:.2f}",
                       f"[{style}]{a.drift_pp:+.2f}[/]" if style else f"{a.drift_pp:+.2f}")
    console.print(assets)


def _vault_rows(config: AppConfig, snapshot: Snapshot) -> list[dict[str, Any]]:
    """Vault positions with their measured yield and flags (from the journal, when there is one)."""
    from agent.journal.store import JournalStore
    from agent.vaults.report import vault_rows
    from agent.vaults.service import yield_window

    path = config.settings.journal_path
    if not path.exists():
        return vault_rows(snapshot, None, window=yield_window(config.settings.vaults))
    with JournalStore.open(path) as journal:
        return vault_rows(snapshot, journal, window=yield_window(config.settings.vaults))


def _render_vaults(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    t = Table(title="Vault positions")
    for col in ("chain", "vault", "underlying", "USD", "share price", "APY %", "flag"):
        t.add_column(col)
    for r in rows:
        apy = "—" if r["apy_pct"] is None else f"{r['apy_pct']:.2f}"
        t.add_row(r["chain"], r["vault"], f"{fmt_num(r['underlying'] or Decimal(0))} {r['underlying_symbol']}",
                  fmt_usd(r["usd"]), f"{r['assets_per_share']:.6f}" if r["assets_per_share"] else "—", apy,
                  r["flagged"] or "")
    console.print(t)


def register(app: typer.Typer) -> None:
    @app.command()
    def status(json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
        """Portfolio per chain and asset versus target, with drift."""
        from agent.config.settings import load_config

        config = load_config()
        snapshot, alloc = read_status(config)
        vaults = _vault_rows(config, snapshot)
        correlation = correlation_document(config)
        decision = decision_document(config, snapshot)
        if json_out:
            print_json(status_document(snapshot, alloc, vaults, correlation, decision,
                                       journal=str(config.settings.journal_path)))
        else:
            console.print(f"journal: {config.settings.journal_path}")
            _render(snapshot, alloc)
            _render_vaults(vaults)
            render_correlation(correlation)
            pause = (decision or {}).get("pause")
            if pause:
                console.print(f"[yellow]paused ({pause['trigger']}):[/] {pause['reason']}; resumes when "
                              f"{pause['resume_when']}")
        if not any(c.available for c in snapshot.chains):
            raise typer.Exit(1)


__all__ = ["read_status", "register", "status_document"]
