"""The pure-ish steps of a cycle before anything is executed: what is blocked, decide, plan, the plan id.

``decide`` and ``make_plan`` are also what ``rebalancer plan`` runs (with nothing sent)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.chain.rpc import ChainRpc
from agent.config.settings import AppConfig
from agent.cycle.taxlots import JournalLots, journal_lots
from agent.errors import TemporaryError
from agent.execution.fees import PLANNING_TIP_WEI
from agent.execution.reconcile import reconcile
from agent.journal.genesis import check_genesis
from agent.journal.prices import PriceHistory, history_path_for
from agent.journal.store import JournalStore
from agent.jsonable import jsonable
from agent.planning.allocation import compute_allocation
from agent.planning.costs import ChainCosts
from agent.planning.limits import SpendingLimits, Spent, apply_limits
from agent.planning.models import Plan, Skipped
from agent.planning.planner import PlanParams, plan_rebalance
from agent.portfolio.models import Snapshot
from agent.vaults.policy import effective_buffer_usd
from strategies import Decision, Strategy, StrategyContext, load_strategy
from strategies.base import HISTORY_DAYS
from strategies.correlation import CorrelationReading, read_correlation

#: how much recorded price history a decision sees: the same span as in the backtest (``strategies.base``)
HISTORY_WINDOW = timedelta(days=HISTORY_DAYS)

def build_costs(snapshot: Snapshot, chains: dict[str, Any], tip_wei: int = PLANNING_TIP_WEI) -> dict[str, ChainCosts]:
    out = {}
    for cs in snapshot.chains:
        if not cs.available or cs.base_fee_wei is None:
            continue
        native = cs.prices.get(chains[cs.chain].wrapped_native)
        if native is None:
            continue
        out[cs.chain] = ChainCosts(chain=cs.chain, gas_price_wei=cs.base_fee_wei + tip_wei, native_usd=native.usd)
    return out


def plan_id_for(cycle_id: int, now: datetime, plan: Plan) -> str:
    digest = hashlib.sha256(f"{now.isoformat()}|{[a.as_json() for a in plan.actions]}".encode()).hexdigest()
    return f"c{cycle_id}-{digest[:10]}"


def blocked_chains(journal: JournalStore, rpcs: dict[str, ChainRpc], dry_run: bool, *,
                   wait_s: float | None = None) -> dict[str, str]:
    """Chains not to plan on: an action of an earlier run may still be in flight there (after reconciling).

    A crash around a broadcast settles here, in the cycle that restarts: receipts of what is in flight are waited
    for up to ``wait_s`` (default two block times of the slowest chain, at most 30 s)."""
    if dry_run:
        return {}
    if wait_s is None:
        wait_s = min(30.0, max([2.0, *(2 * r.chain.block_time_s for r in rpcs.values())]))
    rep = reconcile(journal, {r.chain.chain_id: r for r in rpcs.values()}, wait_s=wait_s)
    blocked = {}
    for row in journal.open_actions():
        blocked[row.chain] = f"action {row.idempotency_key} may still be in flight; not planning on this chain"
    for chain_id in rep.unreachable_chains:
        name = next((n for n, r in rpcs.items() if r.chain.chain_id == chain_id), str(chain_id))
        blocked[name] = "unresolved transactions on an unreachable chain"
    return blocked


def verify_genesis(journal: JournalStore, rpcs: Iterable[ChainRpc], *, record: bool = True) -> None:
    """Each reachable chain's genesis hash against the journal's (``agent.journal.genesis``): a reset sandbox or a
    wrong RPC URL halts before anything is reconciled, planned or signed. An unreachable chain is compared when
    it answers again (until then the snapshot is partial and nothing trades). One block read per chain per cycle:
    a sandbox reset under a running agent is caught at its next cycle."""
    for rpc in rpcs:
        try:
            genesis = rpc.read(lambda w3: w3.to_hex(w3.eth.get_block(0)["hash"]), what="genesis block")
        except TemporaryError:
            continue
        check_genesis(journal, chain=rpc.chain.name, chain_id=rpc.chain.chain_id, rpc_env=rpc.chain.rpc_env,
                      genesis_hash=str(genesis), record=record)


def asset_prices(config: AppConfig, snapshot: Snapshot) -> dict[str, Decimal]:
    """USD price per asset (``ETH`` from its ``WETH`` pool) as this snapshot read it, first chain that priced it."""
    out: dict[str, Decimal] = {}
    for cs in snapshot.chains:
        if not cs.available or cs.chain not in config.chains:
            continue
        for token in config.chains[cs.chain].tokens:
            price = cs.prices.get(token.symbol)
            if price is not None and price.usd > 0:
                out.setdefault(token.asset_symbol, price.usd)
    return out


def lots_for(config: AppConfig, journal: JournalStore) -> JournalLots | None:
    """The journal's tax lots when a rule needs them (stop-loss / take-profit, ``TAX_AWARE``), else None."""
    s = config.settings.strategy
    if not (s.tax_aware or s.stop_loss_pct is not None or s.take_profit_pct is not None):
        return None
    return journal_lots(journal, s.lot_method, opening=s.tax_opening_lots, chains=config.chains)


def correlation_of(config: AppConfig, history: dict[str, list[tuple[datetime, Decimal]]],
                   now: datetime) -> CorrelationReading | None:
    s = config.settings.strategy
    return read_correlation(history, sorted(config.settings.targets), now, window_days=s.correlation_window_days,
                            threshold=s.correlation_alert)


def decide(config: AppConfig, snapshot: Snapshot, journal: JournalStore, now: datetime,
           strategy: Strategy | None = None, *, record_prices: bool = True,
           lots: JournalLots | None = None) -> Decision:
    """The strategy's decision on this snapshot. The prices read are recorded in the price history beside the
    journal (``record_prices``; ``plan`` and ``status`` only read, and add them in memory) and the strategy sees that
    history up to ``now``, and the cost
    basis of the journal's tax lots (``lots``). The decision's inputs also carry the correlation monitor's reading
    and what the lots could not explain."""
    s = config.settings
    alloc = compute_allocation(snapshot, s.targets)
    last = journal.last_event("rebalanced")
    last_at = datetime.fromisoformat(str(last.detail["at"])) if last else None
    strategy = strategy or load_strategy(s.strategy.name, s.strategy)
    read = asset_prices(config, snapshot)
    with PriceHistory.open(history_path_for(Path(journal.path))) as prices:
        if record_prices:
            prices.record_cycle(now, read)
        history = prices.history(sorted(s.targets), until=now, since=now - HISTORY_WINDOW)
    if not record_prices:  # the prices just read are known at ``now`` too (kept in memory only)
        for symbol, usd in read.items():
            rows = history.get(symbol)
            if rows is not None and (not rows or rows[-1][0] < now):
                rows.append((now, usd))
    basis = lots.cost_basis() if lots is not None else {}
    decision = strategy.decide(StrategyContext(allocation=alloc, targets=dict(s.targets), now=now,
                                               last_rebalance_at=last_at, price_history=history, cost_basis=basis))
    extra: dict[str, Any] = {}
    reading = correlation_of(config, history, now)
    if reading is not None:
        extra["correlation"] = reading.as_json()
    reasons = decision.reasons
    if lots is not None:
        extra["lots"] = {"method": str(lots.method), "cost_basis_usd": jsonable(basis), "warnings": lots.warnings}
        if lots.book is None:
            reasons = (*reasons, "tax lots unusable: no cost basis for stop-loss/take-profit and no TAX_AWARE "
                                 "estimate this cycle (see decision.inputs.lots.warnings)")
    return decision.model_copy(update={"inputs": {**decision.inputs, **extra}, "reasons": reasons}) \
        if extra else decision


def make_plan(config: AppConfig, snapshot: Snapshot, decision: Decision, now: datetime,
              exclude_chains: frozenset[str] | set[str] = frozenset(), spent: Spent | None = None,
              held: Mapping[str, str] | None = None, lots: JournalLots | None = None) -> Plan:
    """The planner's plan for ``decision``, cut to the spending limits (``spent``: the last 24 h, journaled); with
    ``TAX_AWARE`` and usable ``lots`` a sell whose estimated tax exceeds its drift benefit is skipped, with why.
    ``held``: blocked chains (chain → why); while any is blocked every trade is held (``hold_plan``)."""
    plan = _plan_rebalance(config, snapshot, decision, now, exclude_chains, lots)
    plan = apply_limits(plan, SpendingLimits.from_settings(config.settings.execution), spent or Spent(),
                        min_trade_usd=config.settings.strategy.min_trade_usd)
    return hold_plan(plan, held) if held else plan


def spent_last_day(journal: JournalStore, now: datetime) -> Spent:
    from agent.journal.spending import spent_since

    trades, gas = spent_since(journal, now - timedelta(hours=24))
    return Spent(trades_usd=trades, gas_usd=gas)


def hold_plan(plan: Plan, held: Mapping[str, str]) -> Plan:
    """Hold every action while a chain is blocked (a transaction there may still be in flight, #14).

    The blocked chain's balances are not settled, so the global allocation is not known: the rest of the
    rebalance is not moved onto the other chains. Each held action is listed in ``skipped`` with the reason."""
    why = "; ".join(f"chain {chain}: {reason}" for chain, reason in sorted(held.items()))
    hold = (f"held: {why}; the global rebalance waits until that settles (it is not moved onto the other "
            "chains)")
    skipped = tuple(Skipped(what=f"{a.kind} {a.sell}>{a.buy} on {a.chain} ({a.amount_usd:.2f} USD)", why=hold)
                    for a in plan.actions)
    return plan.model_copy(update={"rebalance": False, "actions": (), "skipped": (*plan.skipped, *skipped),
                                   "reasons": (*plan.reasons, hold)})


def _plan_rebalance(config: AppConfig, snapshot: Snapshot, decision: Decision, now: datetime,
                    exclude_chains: frozenset[str] | set[str], lots: JournalLots | None = None) -> Plan:
    s = config.settings
    costs = {c: v for c, v in build_costs(snapshot, config.chains).items() if c not in exclude_chains}
    buffer = effective_buffer_usd(buffer_usd=s.strategy.stable_buffer_usd, buffer_pct=s.strategy.stable_buffer_pct,
                                  total_usd=compute_allocation(snapshot, s.targets).total_usd)
    direct = {(cs.chain, key.partition("/")[0], key.partition("/")[2]): depth
              for cs in snapshot.chains for key, depth in cs.pair_depths_usd.items()}
    book = lots.book if lots is not None and s.strategy.tax_aware else None
    params = PlanParams(min_trade_usd=s.strategy.min_trade_usd, stable_buffer_usd=buffer, direct_pairs=direct,
                        tax_lots=book)
    return plan_rebalance(snapshot=snapshot, chains=config.chains, targets=decision.targets, costs=costs,
                          params=params, now=now, reasons=decision.reasons)
