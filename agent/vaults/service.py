"""What the agent loop calls for vaults. Reads and sends happen here; decisions are in ``policy``/``routing``.

Per cycle, after the rebalance plan is known:

1. ``adapt_plan_to_vault_limits(config, plan, ctx_by_chain, journal)`` — before executing the plan: its
   withdrawals are fitted to each vault's fresh ``maxWithdraw`` (routed to other vaults, or the buys they
   fund are reduced); the reasons are journaled.
2. ``execute_vault_action(action, ctx, plan_id=…, key=…)`` — executes one ``withdraw``/``deposit`` action
   of any plan through the pipeline (a whole-position withdrawal becomes ``redeem`` of every share).
3. ``park_idle_stables(config, snapshot, journal, ctx_by_chain, now)`` — after the plan's trades: samples
   every vault's share price into the journal, measures yields, flags vaults whose price fell, plans and
   executes exits, buffer refills and deposits. Balances of the hub stable and of vault shares are re-read
   here, so the cycle's snapshot may predate the trades.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from agent.config.settings import AppConfig, Settings
from agent.errors import ExecutionError, TemporaryError
from agent.execution.intent import ActionResult, TxIntent
from agent.execution.pipeline import ExecutionContext, execute_intent
from agent.journal.store import JournalStore
from agent.planning.costs import ChainCosts
from agent.planning.models import Action, Plan
from agent.portfolio.models import Snapshot
from agent.vaults.adapter import (
    VaultState,
    build_deposit_intent,
    build_redeem_intent,
    build_withdraw_intent,
    down_bps,
    fetch_preview,
    fetch_vault_state,
    fetch_vault_states,
    listed_vault,
    up_bps,
)
from agent.vaults.policy import ParkingParams, ParkingPlan, VaultStats, plan_parking
from agent.vaults.routing import route_withdrawals
from agent.vaults.samples import flag_vault, load_flags, load_samples, record_samples, sample_from_state
from agent.vaults.yields import measure_yield

log = logging.getLogger(__name__)
PLAN_EVENT = "vault_parking"
ROUTE_EVENT = "vault_routing"
FAILED_EVENT = "vault_action_failed"


def parking_params(settings: Settings) -> ParkingParams:
    return ParkingParams(stable_buffer_usd=settings.stable_buffer_usd, stable_buffer_pct=settings.stable_buffer_pct,
                         min_deposit_usd=settings.min_trade_usd, min_tvl_usd=settings.vault_min_tvl_usd,
                         preview_tolerance_bps=settings.vault_preview_tolerance_bps,
                         exit_on_loss=settings.vault_exit_on_loss)


def yield_window(settings: Settings) -> timedelta:
    return timedelta(hours=float(settings.vault_yield_window_hours))


# -------------------------------------------------------------------------------------------- observing
def observe_vaults(ctx_by_chain: Mapping[str, ExecutionContext], journal: JournalStore, *, window: timedelta,
                   cycle_id: int | None = None) -> dict[tuple[str, str], VaultStats]:
    """Read every vault (one aggregate3 per chain), store share-price samples, measure yields, load flags.

    A chain that cannot be read is left out (logged); its vaults are then simply not used this cycle.
    """
    out: dict[tuple[str, str], VaultStats] = {}
    flags = load_flags(journal)
    for name, ctx in ctx_by_chain.items():
        if not ctx.chain.vaults:
            continue
        try:
            states = fetch_vault_states(ctx.rpc, ctx.sender.address)
        except TemporaryError as exc:
            log.warning("chain %s: vaults not read (%s); not parking there this cycle", ctx.chain.chain_id, exc)
            continue
        record_samples(journal, states.values(), cycle_id=cycle_id)
        for vault, st in states.items():
            samples = load_samples(journal, name, vault, since_ts=st.timestamp - int(window.total_seconds()))
            now_sample = sample_from_state(st)
            if now_sample is not None and all(s.block != now_sample.block for s in samples):
                samples.append(now_sample)
            out[(name, vault)] = VaultStats(state=st, measure=measure_yield(samples, window),
                                            flagged=flags.get((name, vault)))
    return out


def refresh_snapshot(snapshot: Snapshot, stats: Mapping[tuple[str, str], VaultStats]) -> Snapshot:
    """``snapshot`` with the vault shares and the vaults' underlying balances replaced by the fresh reads."""
    by_chain: dict[str, list[VaultState]] = {}
    for (chain, _), st in stats.items():
        by_chain.setdefault(chain, []).append(st.state)
    chains = []
    for cs in snapshot.chains:
        states = by_chain.get(cs.chain, [])
        under = {s.expected_asset.lower(): s.underlying_balance_raw for s in states
                 if s.underlying_balance_raw is not None}
        vaults = {s.vault: s for s in states}
        holdings = []
        for h in cs.holdings:
            if h.kind == "token" and h.address and h.address.lower() in under:
                h = h.model_copy(update={"balance_raw": under[h.address.lower()]})
            elif h.kind == "vault" and h.symbol in vaults and vaults[h.symbol].position_assets_raw is not None:
                s = vaults[h.symbol]
                h = h.model_copy(update={"balance_raw": s.shares_raw, "underlying_raw": s.position_assets_raw})
            holdings.append(h)
        chains.append(cs.model_copy(update={"holdings": tuple(holdings)}))
    return snapshot.model_copy(update={"chains": tuple(chains)})


# ------------------------------------------------------------------------------------------- executing
def build_action_intent(action: Action, ctx: ExecutionContext, state: VaultState, *, plan_id: str, key: str,
                        tolerance_bps: int) -> TxIntent:
    """The intent for a ``deposit`` or ``withdraw`` action, bounded by a fresh on-chain preview."""
    chain, owner = ctx.chain, ctx.sender.address
    if action.kind == "deposit":
        v = listed_vault(chain, action.buy)
        if v.asset != action.sell:
            raise ExecutionError(f"chain {chain.name}: {v.name} takes {v.asset}, not {action.sell}")
        if state.max_deposit_raw is not None and action.amount_raw > state.max_deposit_raw:
            raise ExecutionError(f"chain {chain.name}: {v.name} maxDeposit {state.max_deposit_raw} < "
                                 f"{action.amount_raw}; nothing was sent")
        shares = fetch_preview(ctx.rpc, v.name, "deposit", action.amount_raw)
        return build_deposit_intent(chain, v.name, assets_raw=action.amount_raw, receiver=owner,
                                    min_shares_raw=down_bps(shares, tolerance_bps), plan_id=plan_id,
                                    idempotency_key=key, description=action.reason)
    if action.kind != "withdraw":
        raise ExecutionError(f"not a vault action: {action.kind}")
    v = listed_vault(chain, action.sell)
    if v.asset != action.buy:
        raise ExecutionError(f"chain {chain.name}: {v.name} pays {v.asset}, not {action.buy}")
    whole = state.position_assets_raw is not None and action.amount_raw >= state.position_assets_raw
    if whole and state.shares_raw > 0 and (state.max_redeem_raw or 0) >= state.shares_raw:
        assets = fetch_preview(ctx.rpc, v.name, "redeem", state.shares_raw)
        return build_redeem_intent(chain, v.name, shares_raw=state.shares_raw, owner=owner,
                                   min_assets_raw=down_bps(assets, tolerance_bps), plan_id=plan_id,
                                   idempotency_key=key, description=action.reason)
    if state.max_withdraw_raw is not None and action.amount_raw > state.max_withdraw_raw:
        raise ExecutionError(f"chain {chain.name}: {v.name} maxWithdraw {state.max_withdraw_raw} < "
                             f"{action.amount_raw}; nothing was sent (route the plan with adapt_plan_to_vault_limits)")
    shares = fetch_preview(ctx.rpc, v.name, "withdraw", action.amount_raw)
    return build_withdraw_intent(chain, v.name, assets_raw=action.amount_raw, owner=owner,
                                 max_shares_raw=up_bps(shares, tolerance_bps), plan_id=plan_id,
                                 idempotency_key=key, description=action.reason)


def execute_vault_action(action: Action, ctx: ExecutionContext, *, plan_id: str, key: str,
                         tolerance_bps: int = 10) -> ActionResult:
    """Execute one vault action of any plan (fresh state and preview, then the pipeline, at most once per key)."""
    vault = action.buy if action.kind == "deposit" else action.sell
    state = fetch_vault_state(ctx.rpc, vault, ctx.sender.address)
    intent = build_action_intent(action, ctx, state, plan_id=plan_id, key=key, tolerance_bps=tolerance_bps)
    return execute_intent(intent, ctx)


def adapt_plan_to_vault_limits(config: AppConfig, plan: Plan, ctx_by_chain: Mapping[str, ExecutionContext],
                               journal: JournalStore, *, cycle_id: int | None = None) -> Plan:
    """``plan`` with its withdrawals fitted to the vaults' current ``maxWithdraw`` (reasons journaled)."""
    chains = {a.chain for a in plan.actions if a.kind == "withdraw" and a.chain in ctx_by_chain}
    states: dict[tuple[str, str], VaultState] = {}
    for chain in sorted(chains):
        ctx = ctx_by_chain[chain]
        states.update({(chain, n): s for n, s in fetch_vault_states(ctx.rpc, ctx.sender.address).items()})
    routed, notes = route_withdrawals(plan, chains=config.chains, states=states,
                                      min_trade_usd=config.settings.min_trade_usd)
    if notes:
        journal.record_event(ROUTE_EVENT, {"notes": [n.model_dump() for n in notes],
                                           "actions": [a.as_json() for a in routed.actions]},
                             cycle_id=cycle_id)
        for n in notes:
            log.info("vault routing on %s: %s %s: %s", n.chain, n.vault, n.status, n.reason)
    return routed


# -------------------------------------------------------------------------------------------- parking
def park_idle_stables(config: AppConfig, snapshot: Snapshot, journal: JournalStore,
                      ctx_by_chain: Mapping[str, ExecutionContext], now: datetime, *,
                      costs: Mapping[str, ChainCosts] | None = None,
                      cycle_id: int | None = None) -> list[ActionResult]:
    """Observe the vaults, plan parking and execute it: exits and refills first, deposits last, per chain.

    A chain with a journaled action still pending is left alone (its funds may be moving). An
    ``ExecutionError`` stops that chain's remaining vault actions (journaled as ``vault_action_failed``);
    other errors propagate.
    """
    settings = config.settings
    if not settings.vault_parking:
        return []
    ready = {n: c for n, c in ctx_by_chain.items() if not journal.open_actions(c.chain.chain_id)}
    for name in sorted(set(ctx_by_chain) - set(ready)):
        journal.record_event(PLAN_EVENT, {"chain": name, "skipped": "an action on this chain is still pending"},
                             cycle_id=cycle_id)
    stats = observe_vaults(ready, journal, window=yield_window(settings), cycle_id=cycle_id)
    fresh = refresh_snapshot(snapshot, stats)
    fresh = fresh.model_copy(update={"chains": tuple(c for c in fresh.chains if c.chain in ready)})
    plan = plan_parking(snapshot=fresh, chains=config.chains, vault_stats=stats, params=parking_params(settings),
                        now=now, costs=costs)
    _journal_plan(journal, plan, stats, cycle_id)
    results: list[ActionResult] = []
    for name, ctx in ready.items():
        ctx_actions = [a for a in plan.actions if a.chain == name]
        block = next((s.state.block for (c, _), s in stats.items() if c == name), 0)
        for i, action in enumerate(sorted(ctx_actions, key=lambda a: a.phase)):
            key = f"park:{name}:{block}:{i}:{action.kind}:{action.sell}:{action.buy}"
            try:
                results.append(execute_vault_action(action, ctx, plan_id=f"park-{name}-{block}", key=key,
                                                    tolerance_bps=settings.vault_preview_tolerance_bps))
            except ExecutionError as exc:
                journal.record_event(FAILED_EVENT, {"chain": name, "key": key, "action": action.as_json(),
                                                    "error": str(exc)}, cycle_id=cycle_id)
                log.warning("chain %s: vault action %s failed (%s); no more vault actions there this cycle",
                            ctx.chain.chain_id, key, exc)
                break
    return results


def _journal_plan(journal: JournalStore, plan: ParkingPlan, stats: Mapping[tuple[str, str], VaultStats],
                  cycle_id: int | None) -> None:
    known = load_flags(journal)
    for n in plan.flagged():
        key = (n.chain, n.vault)
        if key not in known and not n.reason.startswith("flagged in the journal"):
            st = stats.get(key)
            extra: dict[str, Any] = {}
            if st is not None:
                extra = {"block": st.state.block, "drop_bps": st.measure.drop_bps,
                         "assets_per_share": st.state.assets_per_share}
            flag_vault(journal, n.chain, n.vault, n.reason, cycle_id=cycle_id, **extra)
            log.warning("vault %s on %s flagged: %s", n.vault, n.chain, n.reason)
    detail = {"buffer_usd": str(plan.buffer_usd), "actions": [a.as_json() for a in plan.actions],
              "notes": [n.model_dump() for n in plan.notes],
              "yields": {f"{c}:{v}": _yield_view(s) for (c, v), s in stats.items()}}
    journal.record_event(PLAN_EVENT, detail, cycle_id=cycle_id)
    for a in plan.actions:
        log.info("vault parking: chain %s %s %s → %s %s raw: %s", a.chain, a.kind, a.sell, a.buy, a.amount_raw,
                 a.reason)


def _yield_view(st: VaultStats) -> dict[str, Any]:
    m = st.measure
    return {"apy": None if m.apy is None else str(m.apy), "samples": m.samples, "span_s": m.span_s,
            "drop_bps": str(m.drop_bps), "assets_per_share": str(st.state.assets_per_share),
            "max_deposit_raw": str(st.state.max_deposit_raw), "max_withdraw_raw": str(st.state.max_withdraw_raw),
            "flagged": st.flagged}

