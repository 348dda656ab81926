"""The pure-ish steps of a cycle before anything is executed: what is blocked, decide, plan, the plan id.

``decide`` and ``make_plan`` are also what ``rebalancer plan`` runs (with nothing sent)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.chain.rpc import ChainRpc
from agent.config.settings import AppConfig
from agent.errors import TemporaryError
from agent.execution.fees import PLANNING_TIP_WEI
from agent.execution.reconcile import reconcile
from agent.journal.genesis import check_genesis
from agent.journal.prices import PriceHistory, history_path_for
from agent.journal.store import JournalStore
from agent.planning.allocation import compute_allocation
from agent.planning.costs import ChainCosts
from agent.planning.limits import SpendingLimits, Spent, apply_limits
from agent.planning.models import Plan
from agent.planning.planner import PlanParams, plan_rebalance
from agent.portfolio.models import Snapshot
from agent.vaults.policy import effective_buffer_usd
from strategies import Decision, Strategy, StrategyContext, load_strategy

#: how much recorded price history a decision sees (the longest look-back any rule reads: a year of volatility)
HISTORY_WINDOW = timedelta(days=400)

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


def blocked_chains(journal: JournalStore, rpcs: dict[str, ChainRpc], dry_run: bool) -> dict[str, str]:
    """Chains not to plan on: an action of an earlier run may still be in flight there (after reconciling)."""
    if dry_run:
        return {}
    rep = reconcile(journal, {r.chain.chain_id: r for r in rpcs.values()})
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


def decide(config: AppConfig, snapshot: Snapshot, journal: JournalStore, now: datetime,
           strategy: Strategy | None = None, *, record_prices: bool = True) -> Decision:
    """The strategy's decision on this snapshot. The prices read are recorded in the price history beside the
    journal (``record_prices``; ``plan`` only reads) and the strategy sees that history up to ``now``."""
    s = config.settings
    alloc = compute_allocation(snapshot, s.targets)
    last = journal.last_event("rebalanced")
    last_at = datetime.fromisoformat(str(last.detail["at"])) if last else None
    strategy = strategy or load_strategy(s.strategy.name, s.strategy)
    with PriceHistory.open(history_path_for(Path(journal.path))) as prices:
        if record_prices:
            prices.record_cycle(now, asset_prices(config, snapshot))
        history = prices.history(sorted(s.targets), until=now, since=now - HISTORY_WINDOW)
    return strategy.decide(StrategyContext(allocation=alloc, targets=dict(s.targets), now=now,
                                           last_rebalance_at=last_at, price_history=history))


def make_plan(config: AppConfig, snapshot: Snapshot, decision: Decision, now: datetime,
              exclude_chains: frozenset[str] | set[str] = frozenset(), spent: Spent | None = None) -> Plan:
    """The planner's plan for ``decision``, cut to the spending limits (``spent``: the last 24 h, journaled)."""
    plan = _plan_rebalance(config, snapshot, decision, now, exclude_chains)
    return apply_limits(plan, SpendingLimits.from_settings(config.settings.execution), spent or Spent(),
                        min_trade_usd=config.settings.strategy.min_trade_usd)


def spent_last_day(journal: JournalStore, now: datetime) -> Spent:
    from agent.journal.spending import spent_since

    trades, gas = spent_since(journal, now - timedelta(hours=24))
    return Spent(trades_usd=trades, gas_usd=gas)


def _plan_rebalance(config: AppConfig, snapshot: Snapshot, decision: Decision, now: datetime,
                    exclude_chains: frozenset[str] | set[str]) -> Plan:
    s = config.settings
    costs = {c: v for c, v in build_costs(snapshot, config.chains).items() if c not in exclude_chains}
    buffer = effective_buffer_usd(buffer_usd=s.strategy.stable_buffer_usd, buffer_pct=s.strategy.stable_buffer_pct,
                                  total_usd=compute_allocation(snapshot, s.targets).total_usd)
    direct = {(cs.chain, key.partition("/")[0], key.partition("/")[2]): depth
              for cs in snapshot.chains for key, depth in cs.pair_depths_usd.items()}
    params = PlanParams(min_trade_usd=s.strategy.min_trade_usd, stable_buffer_usd=buffer, direct_pairs=direct)
    return plan_rebalance(snapshot=snapshot, chains=config.chains, targets=decision.targets, costs=costs,
                          params=params, now=now, reasons=decision.reasons)
