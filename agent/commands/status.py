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
                    journal: str | None = None) -> dict[str, Any]:
    return {
        "vaults": vaults or [],
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
        if json_out:
            print_json(status_document(snapshot, alloc, vaults, journal=str(config.settings.journal_path)))
        else:
            console.print(f"journal: {config.settings.journal_path}")
            _render(snapshot, alloc)
            _render_vaults(vaults)
        if not any(c.available for c in snapshot.chains):
            raise typer.Exit(1)


__all__ = ["read_status", "register", "status_document"]
