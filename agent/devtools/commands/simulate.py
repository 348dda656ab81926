"""``rebalancer simulate --fork CHAIN [--fork-block N] [--json]``: one full agent cycle on an anvil fork.

The fork is started from ``<CHAIN>_RPC_URL`` (checked: chain id and code at every configured contract), the
wallet — anvil's dev account 0 — is funded off-target on the fork (``anvil_setBalance``; ERC-20 balance slots
found by probing), then one cycle runs with the real chain config, on-chain quotes only, signed by the dev key
and journaled in a throw-away journal. Prints the trades, their costs and the allocation before and after;
the fork's anvil is stopped at the end. Nothing is ever sent to the real network.
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agent.commands.render import Table, console, err_console, fmt_num, fmt_usd, print_json
from agent.errors import SafetyHalt
from agent.units import wei_to_native

if TYPE_CHECKING:  # the CLI starts without web3: what a command needs is imported when it runs
    from agent.config.settings import AppConfig
    from agent.devtools.sandbox.fork import Fork, Funded
    from agent.planning.allocation import Allocation
    from agent.portfolio.models import Snapshot

log = logging.getLogger(__name__)
DEFAULT_FUND_USD = Decimal(100_000)
#: Gas money when the funding gives the wallet no native coin (the cycle must pay for its transactions).
GAS_RESERVE_NATIVE = Decimal("0.1")


@dataclass
class FundedFork:
    """A running fork with the wallet funded, and the config that reads it."""

    fork: Fork
    config: AppConfig
    funded: list[Funded]
    journal_dir: tempfile.TemporaryDirectory[str]

    def close(self) -> None:
        self.fork.stop()
        self.journal_dir.cleanup()


def load_fork_base_config(chain_name: str, environ: dict[str, str] | None = None,
                          env_file: Path | None = None) -> AppConfig:
    """The user's config narrowed to ``chain_name`` (``CHAINS`` replaced; the chain's RPC URL is required)."""
    from agent.config.settings import load_config, read_environment

    env = read_environment(environ, env_file)
    env["CHAINS"] = chain_name
    return load_config(environ=env, env_file=env_file)


def prepare_fork(base: AppConfig, chain_name: str, *, fork_block: int | None = None, fund: str | None = None,
                 fund_usd: Decimal = DEFAULT_FUND_USD) -> FundedFork:
    """Start the fork, verify it, fund the wallet off-target: ready for a cycle (stop it with ``close()``)."""
    from agent.cycle.compose import build_rpcs
    from agent.devtools.sandbox.fork import (
        default_funding,
        fork_config,
        fund_wallet,
        parse_funding,
        start_fork,
        upstream_url,
        verify_fork,
    )
    from agent.devtools.sandbox.spec import WALLET
    from agent.portfolio.reader import fetch_snapshot

    chain = base.chains[chain_name]
    fork = start_fork(chain, upstream_url(base, chain_name), fork_block=fork_block)
    journal_dir = tempfile.TemporaryDirectory(prefix="rebalancer-fork-")
    try:
        w3 = fork.w3()
        verify_fork(w3, chain)
        config = fork_config(base, chain_name, fork.url, wallet=WALLET,
                             journal_path=str(Path(journal_dir.name) / "journal.sqlite"))
        if fund:
            amounts = parse_funding(fund)
        else:
            prices = _prices(fetch_snapshot(build_rpcs(config), WALLET), chain_name)
            amounts = default_funding(chain, base.settings.targets, prices, total_usd=fund_usd)
        if amounts.get(chain.native_symbol, Decimal(0)) < GAS_RESERVE_NATIVE:
            amounts[chain.native_symbol] = GAS_RESERVE_NATIVE
        funded = fund_wallet(w3, chain, WALLET, amounts)
    except BaseException:
        fork.stop()
        journal_dir.cleanup()
        raise
    return FundedFork(fork=fork, config=config, funded=funded, journal_dir=journal_dir)


def _prices(snapshot: Snapshot, chain_name: str) -> dict[str, Decimal]:
    cs = next(c for c in snapshot.chains if c.chain == chain_name)
    if not cs.available:
        raise SafetyHalt(f"fork of {chain_name}: could not read the chain ({cs.error})")
    return {symbol: p.usd for symbol, p in cs.prices.items()}


def allocation_rows(alloc: Allocation) -> list[dict[str, Any]]:
    return [{"symbol": a.symbol, "balance": a.balance, "usd": a.usd, "weight_pct": a.weight_pct,
             "target_pct": a.target_pct, "drift_pp": a.drift_pp} for a in alloc.assets]


def max_drift_pp(alloc: Allocation) -> Decimal:
    return max((abs(a.drift_pp) for a in alloc.assets), default=Decimal(0))


def _native_usd(snapshot: Snapshot, config: AppConfig, chain_name: str) -> Decimal:
    cs = next(c for c in snapshot.chains if c.chain == chain_name)
    price = cs.prices.get(config.chains[chain_name].wrapped_native)
    return price.usd if price else Decimal(0)


def trade_rows(report: Any, native_usd: Decimal) -> list[dict[str, Any]]:
    rows = []
    for a in report.actions:
        act, result = a.action, a.result
        rows.append({
            "kind": act.kind, "chain": act.chain, "sell": act.sell, "buy": act.buy, "amount_raw": act.amount_raw,
            "amount_usd": act.amount_usd, "reason": act.reason, "est_cost_usd": act.est_cost_usd,
            "est_impact_bps": act.est_impact_bps, "state": a.state, "quote_source": a.quote_source, "error": a.error,
            "observed_deltas": {k: str(v) for k, v in (result.observed_deltas if result else {}).items()},
            "txs": [{"purpose": o.purpose, "status": o.status, "tx_hash": o.tx_hash, "nonce": o.nonce,
                     "gas_used": o.gas_used, "fee_paid_wei": o.fee_paid_wei}
                    for o in (result.outcomes if result else ())],
            "gas_paid_wei": a.gas_paid_wei,
            "gas_paid_usd": wei_to_native(a.gas_paid_wei) * native_usd,
        })
    return rows


def plan_document(plan: Any, decision: Any) -> dict[str, Any]:
    return {"rebalance": bool(plan.rebalance) if plan else False, "reasons": list(decision.reasons),
            "actions": [a.as_json() for a in plan.actions] if plan else [],
            "skipped": [s.as_json() for s in plan.skipped] if plan else [],
            "est_cost_usd": plan.est_cost_usd if plan else Decimal(0)}


def run_simulation(base: AppConfig, chain_name: str, *, fork_block: int | None = None, fund: str | None = None,
                   fund_usd: Decimal = DEFAULT_FUND_USD, now: datetime | None = None) -> dict[str, Any]:
    """Fork, fund, run one cycle signed by anvil's dev key 0, stop the fork; the JSON document of it all."""
    from agent.cycle.loop import run_cycle
    from agent.devtools.sandbox.spec import WALLET
    from agent.journal.store import JournalStore
    from agent.planning.allocation import compute_allocation
    from agent.signers.dev import dev_account_key
    from agent.signers.local import LocalKeySigner

    ready = prepare_fork(base, chain_name, fork_block=fork_block, fund=fund, fund_usd=fund_usd)
    try:
        config = ready.config
        signer = LocalKeySigner.from_key(dev_account_key(0), label="anvil dev account 0 (fork)")
        journal = JournalStore.open(config.settings.journal_path)
        try:
            report = run_cycle(config, now=now or datetime.now(UTC), journal=journal, signer=signer)
        finally:
            journal.close()
        targets = config.settings.targets
        before = compute_allocation(report.snapshot_before, targets)
        after = compute_allocation(report.snapshot_after or report.snapshot_before, targets)
        trades = trade_rows(report, _native_usd(report.snapshot_before, config, chain_name))
        return {
            "chain": chain_name, "chain_id": config.chains[chain_name].chain_id, "fork_block": ready.fork.block,
            "wallet": WALLET,
            "funded": {f.symbol: {"amount": f.amount, "amount_raw": f.amount_raw, "how": f.how}
                       for f in ready.funded},
            "decision": {"rebalance": report.decision.rebalance, "reasons": list(report.decision.reasons)},
            "plan": plan_document(report.plan, report.decision),
            "trades": trades,
            "dropped_because": report.dropped_because,
            "allocation_before": allocation_rows(before), "allocation_after": allocation_rows(after),
            "total_usd_before": before.total_usd, "total_usd_after": after.total_usd,
            "max_drift_pp_before": max_drift_pp(before), "max_drift_pp_after": max_drift_pp(after),
            "gas_paid_usd": sum((t["gas_paid_usd"] for t in trades), Decimal(0)),
        }
    finally:
        ready.close()


def _render(doc: dict[str, Any]) -> None:
    console.print(f"[bold]simulate[/] fork of {doc['chain']} (chain id {doc['chain_id']}) at block "
                  f"{doc['fork_block']}, wallet {doc['wallet']}")
    funded = Table(title="Funded on the fork")
    for col in ("holding", "amount", "how"):
        funded.add_column(col)
    for sym, f in doc["funded"].items():
        if f["amount"]:
            funded.add_row(sym, fmt_num(f["amount"], 8), f["how"])
    console.print(funded)
    console.print(f"decision: {'rebalance' if doc['decision']['rebalance'] else 'no rebalance'} — "
                  + "; ".join(doc["decision"]["reasons"]))
    trades = Table(title=f"Trades — gas paid {fmt_usd(doc['gas_paid_usd'])}")
    for col in ("kind", "sell → buy", "amount USD", "est cost", "gas paid", "state", "source", "tx"):
        trades.add_column(col, justify="right" if col in ("amount USD", "est cost", "gas paid") else "left")
    for t in doc["trades"]:
        tx = next((o["tx_hash"] for o in t["txs"] if o["purpose"] == "main"), None) or (t["error"] or "—")
        trades.add_row(t["kind"], f"{t['sell']} → {t['buy']}", fmt_usd(t["amount_usd"]), fmt_usd(t["est_cost_usd"]),
                       fmt_usd(t["gas_paid_usd"]), t["state"], t["quote_source"] or "—", str(tx)[:20])
    console.print(trades)
    if doc["dropped_because"]:
        err_console.print(f"[red]plan dropped[/]: {doc['dropped_because']}")
    alloc = Table(title=f"Allocation — {fmt_usd(doc['total_usd_before'])} before, {fmt_usd(doc['total_usd_after'])} "
                        "after")
    for col in ("asset", "target %", "before %", "after %", "drift before pp", "drift after pp"):
        alloc.add_column(col, justify="left" if col == "asset" else "right")
    after = {a["symbol"]: a for a in doc["allocation_after"]}
    for a in doc["allocation_before"]:
        b = after.get(a["symbol"], a)
        alloc.add_row(a["symbol"], f"{a['target_pct']:.2f}", f"{a['weight_pct']:.2f}", f"{b['weight_pct']:.2f}",
                      f"{a['drift_pp']:+.2f}", f"{b['drift_pp']:+.2f}")
    console.print(alloc)


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        fork: str = typer.Option(..., "--fork", help="Chain to fork (its <CHAIN>_RPC_URL is the upstream)."),
        fork_block: int | None = typer.Option(None, "--fork-block", help="Fork at this block (default: latest)."),
        fund: str | None = typer.Option(None, help="Wallet funding in token units, e.g. ETH:30,WBTC:0.2,USDC:10000 "
                                        "(default: an off-target mix of the TARGETS worth --fund-usd)."),
        fund_usd: float = typer.Option(float(DEFAULT_FUND_USD), help="Portfolio value of the default funding."),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """One full agent cycle on an anvil fork of CHAIN: trades, their costs and the final allocation."""
        if not math.isfinite(fund_usd) or fund_usd <= 0:  # bad input: one line, exit 2, before anything starts
            from agent.errors import ConfigError

            raise ConfigError(f"--fund-usd must be a positive number of USD (got {fund_usd:g}); "
                              "write e.g. --fund-usd 250000")
        base = load_fork_base_config(fork.lower())
        doc = run_simulation(base, fork.lower(), fork_block=fork_block, fund=fund, fund_usd=Decimal(str(fund_usd)))
        if json_out:
            print_json(doc)
        else:
            _render(doc)


__all__ = ["FundedFork", "load_fork_base_config", "prepare_fork", "register", "run_simulation"]
