"""Drift → the cheapest ordered set of trades (pure: no I/O, no clock).

Overweight assets are sold into each chain's hub stablecoin on the chains where that is cheapest; the
proceeds (plus idle hub stables, withdrawing from a vault only as much as needed) buy the underweight
assets on chains that list them. A sell and a buy on the same chain become one direct swap when the chain
has a direct pool for the pair. Trades below ``min_trade_usd`` or whose estimated cost (gas, LP fee,
impact) exceeds the value of the drift they remove are skipped, with the reason recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from agent.config.chains import ChainConfig
from agent.planning.allocation import Allocation, compute_allocation
from agent.planning.costs import ChainCosts, swap_cost_usd
from agent.planning.inventory import KIND_PREFERENCE, Source, build_sources
from agent.planning.models import KIND_ORDER, Action, Plan, Skipped
from agent.portfolio.models import Snapshot
from agent.units import to_raw, to_units

HUNDRED = Decimal(100)
BPS = Decimal(10_000)


@dataclass(frozen=True)
class PlanParams:
    min_trade_usd: Decimal = Decimal(50)
    stable_buffer_usd: Decimal = Decimal(0)
    gas_reserve_native: Decimal = Decimal("0.05")
    #: USD value of removing 1 pp of drift on $1 traded (benefit = trade × drift_pp/100 × factor).
    drift_value_factor: Decimal = Decimal(1)
    #: Direct pools and their USD depth: (chain, token a, token b) -> depth, either order. A sell and a buy
    #: on one chain are merged into one swap through the direct pool when that is estimated cheaper.
    direct_pairs: Mapping[tuple[str, str, str], Decimal] = field(default_factory=dict)


@dataclass
class _Work:
    actions: list[Action] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    hub_free: dict[str, Decimal] = field(default_factory=dict)  # chain -> liquid hub USD available
    hub_vault: dict[str, list[Source]] = field(default_factory=dict)
    #: (chain, token) -> USD depth of its pricing pool; a constant-product pool holds equal value on both
    #: sides, so the same figure serves a buy entering from the stable side.
    depths: dict[tuple[str, str], Decimal | None] = field(default_factory=dict)


def _cheapest_first(chains: list[str], costs: Mapping[str, ChainCosts]) -> list[str]:
    return sorted(chains, key=lambda c: (costs[c].gas_usd(costs[c].swap_gas), c))


def _raw(usd: Decimal, src: Source) -> int:
    return min(src.raw, to_raw(usd / src.price_usd, src.decimals))


def plan_rebalance(*, snapshot: Snapshot, chains: Mapping[str, ChainConfig], targets: Mapping[str, Decimal],
                   costs: Mapping[str, ChainCosts], params: PlanParams, now: datetime,
                   reasons: tuple[str, ...] = ()) -> Plan:
    alloc = compute_allocation(snapshot, targets)
    hubs = {c: chains[c].usd_stable for c in costs}
    hub_assets = {chains[c].token(hubs[c]).asset_symbol for c in costs}
    sources = build_sources(snapshot, dict(chains), params.gas_reserve_native)
    work = _Work(depths={(c.chain, sym): p.depth_usd for c in snapshot.chains for sym, p in c.prices.items()})
    for src in sources:
        if src.token == hubs.get(src.chain) and src.chain in costs:
            if src.kind == "token":
                work.hub_free[src.chain] = work.hub_free.get(src.chain, Decimal(0)) + src.usd
            elif src.kind == "vault":
                work.hub_vault.setdefault(src.chain, []).append(src)
    deltas = _deltas(alloc, targets, params, work)
    for asset, delta in sorted(deltas.items(), key=lambda kv: kv[1]):
        if delta < 0 and asset not in hub_assets:
            _plan_sell(asset, -delta, alloc, sources, chains, costs, params, work)
    for asset, delta in sorted(deltas.items(), key=lambda kv: -kv[1]):
        if delta > 0 and asset not in hub_assets:
            _plan_buy(asset, delta, alloc, chains, costs, params, work)
    actions = _merge_withdrawals(_merge_direct(work.actions, params, costs))
    actions.sort(key=lambda a: (a.phase, KIND_ORDER[a.kind], a.chain))
    return Plan(created_at=now, rebalance=bool(actions), reasons=reasons, targets=dict(targets),
                actions=tuple(actions), skipped=tuple(work.skipped), total_usd=alloc.total_usd)


def _deltas(alloc: Allocation, targets: Mapping[str, Decimal], params: PlanParams, work: _Work) -> dict[str, Decimal]:
    out = {}
    for a in alloc.assets:
        delta = a.target_pct / HUNDRED * alloc.total_usd - a.usd
        if abs(delta) < params.min_trade_usd:
            if delta != 0:
                work.skipped.append(Skipped(what=f"{a.symbol} {delta:+.2f} USD",
                                            why=f"below MIN_TRADE_USD {params.min_trade_usd}"))
            continue
        out[a.symbol] = delta
    return out


def drift_benefit_usd(trade_usd: Decimal, drift_pp: Decimal, factor: Decimal = Decimal(1)) -> Decimal:
    """What removing ``drift_pp`` of drift with a ``trade_usd`` trade is worth (USD): a leg costing more is skipped."""
    return trade_usd * abs(drift_pp) / HUNDRED * factor


def _plan_sell(asset: str, need: Decimal, alloc: Allocation, sources: list[Source],
               chains: Mapping[str, ChainConfig], costs: Mapping[str, ChainCosts], params: PlanParams,
               work: _Work) -> None:
    drift = alloc.asset(asset).drift_pp
    mine = [s for s in sources if s.asset == asset and s.chain in costs and s.kind != "vault"]
    order = _cheapest_first(sorted({s.chain for s in mine}), costs)
    for chain in order:
        hub = chains[chain].usd_stable
        for src in sorted((s for s in mine if s.chain == chain), key=lambda s: KIND_PREFERENCE[s.kind]):
            if need < params.min_trade_usd:
                return
            usd = min(need, src.usd)
            if usd < params.min_trade_usd:
                continue
            cost, gas, imp = swap_cost_usd(costs[chain], usd, src.depth_usd)
            if src.kind == "native":
                cost += costs[chain].gas_usd(costs[chain].wrap_gas)
            if cost > drift_benefit_usd(usd, drift, params.drift_value_factor):
                work.skipped.append(Skipped(what=f"sell {usd:.2f} USD of {src.token} on {chain}",
                                            why=f"estimated cost {cost:.2f} USD exceeds the drift benefit"))
                continue
            raw = _raw(usd, src)
            usd = to_units(raw, src.decimals) * src.price_usd  # what the rounded-down amount is worth
            if src.kind == "native":
                work.actions.append(Action(kind="wrap", chain=chain, sell=chains[chain].native_symbol, buy=src.token,
                                           amount_raw=raw, amount_usd=usd, reason=f"wrap to sell {asset}",
                                           est_cost_usd=costs[chain].gas_usd(costs[chain].wrap_gas),
                                           est_gas=costs[chain].wrap_gas, phase=0))
                cost -= costs[chain].gas_usd(costs[chain].wrap_gas)
            work.actions.append(Action(
                kind="swap", chain=chain, sell=src.token, buy=hub, amount_raw=raw, amount_usd=usd,
                reason=f"{asset} is {drift:+.2f} pp from target: sell {usd:.2f} USD into {hub}",
                est_cost_usd=cost, est_gas=gas, est_impact_bps=imp, phase=1))
            proceeds = usd * (1 - (costs[chain].lp_fee_bps + imp) / BPS)
            work.hub_free[chain] = work.hub_free.get(chain, Decimal(0)) + proceeds
            need -= usd


def _plan_buy(asset: str, need: Decimal, alloc: Allocation, chains: Mapping[str, ChainConfig],
              costs: Mapping[str, ChainCosts], params: PlanParams, work: _Work) -> None:
    drift = alloc.asset(asset).drift_pp
    listing = [c for c in costs if _token_for_asset(chains[c], asset) is not None]
    for chain in _cheapest_first(listing, costs):
        if need < params.min_trade_usd:
            return
        token = _token_for_asset(chains[chain], asset)
        assert token is not None
        available = work.hub_free.get(chain, Decimal(0)) + sum(
            (v.usd for v in work.hub_vault.get(chain, [])), Decimal(0))
        usd = min(need, available)
        free = work.hub_free.get(chain, Decimal(0))
        if 0 < usd - free < 1:
            usd = free  # a vault withdrawal for less than a dollar costs more than it brings
        if usd < params.min_trade_usd:
            continue
        cost, gas, imp = swap_cost_usd(costs[chain], usd, work.depths.get((chain, token)))
        if cost > drift_benefit_usd(usd, drift, params.drift_value_factor):
            work.skipped.append(Skipped(what=f"buy {usd:.2f} USD of {token} on {chain}",
                                        why=f"estimated cost {cost:.2f} USD exceeds the drift benefit"))
            continue
        _unlock_hub(chain, usd, chains[chain], costs[chain], params, work)
        hub = chains[chain].usd_stable
        hub_raw = to_raw(usd, chains[chain].token(hub).decimals)
        work.actions.append(Action(
            kind="swap", chain=chain, sell=hub, buy=token, amount_raw=hub_raw,
            amount_usd=usd, reason=f"{asset} is {drift:+.2f} pp from target: buy {usd:.2f} USD with {hub}",
            est_cost_usd=cost, est_gas=gas, est_impact_bps=imp, phase=2))
        need -= usd
    if need >= params.min_trade_usd:
        work.skipped.append(Skipped(what=f"buy {need:.2f} USD of {asset}",
                                    why="no chain listing it has enough stablecoins (cross-chain moves are not made)"))


def _token_for_asset(chain: ChainConfig, asset: str) -> str | None:
    for t in chain.tokens:
        if t.asset_symbol == asset or t.symbol == asset:
            return t.symbol
    return None


def _unlock_hub(chain: str, usd: Decimal, cfg: ChainConfig, costs: ChainCosts, params: PlanParams,
                work: _Work) -> None:
    """Spend liquid hub stables, withdrawing from vault positions just enough that the liquid balance left on
    this chain stays at ``stable_buffer_usd`` (or everything, when less than that remains)."""
    free = work.hub_free.get(chain, Decimal(0))
    want = usd + params.stable_buffer_usd - free
    for vault in work.hub_vault.get(chain, []):
        if want <= 0:
            break
        # round up to whole raw units so the withdrawal covers the need exactly
        raw = min(vault.raw, to_raw(want / vault.price_usd, vault.decimals, rounding=ROUND_CEILING))
        if raw <= 0:
            continue
        amount = to_units(raw, vault.decimals) * vault.price_usd
        work.actions.append(Action(
            kind="withdraw", chain=chain, sell=vault.vault or "", buy=cfg.usd_stable, amount_raw=raw,
            amount_usd=amount, reason=f"withdraw {amount:.2f} USD from {vault.vault} to fund buys",
            est_cost_usd=costs.gas_usd(costs.vault_gas), est_gas=costs.vault_gas, phase=0))
        vault.raw -= raw
        free += amount
        want -= amount
    work.hub_free[chain] = free - usd


def _merge_withdrawals(actions: list[Action]) -> list[Action]:
    """One withdrawal per vault and chain: the buys it funds are listed in its reason."""
    merged: dict[tuple[str, str], Action] = {}
    out: list[Action] = []
    for a in actions:
        key = (a.chain, a.sell)
        if a.kind != "withdraw":
            out.append(a)
        elif key not in merged:
            merged[key] = a
            out.append(a)
        else:
            first = merged[key]
            total = first.amount_usd + a.amount_usd
            combined = first.model_copy(update={
                "amount_raw": first.amount_raw + a.amount_raw, "amount_usd": total,
                "reason": f"withdraw {total:.2f} USD from {a.sell} to fund buys"})
            out[out.index(first)] = combined
            merged[key] = combined
    return out


def _direct_depth(params: PlanParams, chain: str, a: str, b: str) -> Decimal | None:
    return params.direct_pairs.get((chain, a, b), params.direct_pairs.get((chain, b, a)))


def _merge_direct(actions: list[Action], params: PlanParams, costs: Mapping[str, ChainCosts]) -> list[Action]:
    """sell S→hub and buy hub→B on one chain become one S→B swap through a direct pool for the overlap,
    when one leg through that pool is estimated cheaper than the two legs through the hub."""
    if not params.direct_pairs:
        return actions
    out = list(actions)
    for sell in [a for a in actions if a.kind == "swap" and a.phase == 1]:
        for buy in [a for a in out if a.kind == "swap" and a.phase == 2 and a.chain == sell.chain]:
            depth = _direct_depth(params, sell.chain, sell.sell, buy.buy)
            if depth is None or sell not in out or buy.amount_usd > sell.amount_usd:
                continue
            c = costs[sell.chain]
            direct_cost, gas, imp = swap_cost_usd(c, buy.amount_usd, depth)
            share = buy.amount_usd / sell.amount_usd
            via_hub = sell.est_cost_usd * share + buy.est_cost_usd
            if direct_cost >= via_hub:
                continue
            direct_raw = int(Decimal(sell.amount_raw) * share)
            out.remove(buy)
            out.remove(sell)
            out.append(Action(kind="swap", chain=sell.chain, sell=sell.sell, buy=buy.buy, amount_raw=direct_raw,
                              amount_usd=buy.amount_usd,
                              reason=f"{sell.reason}; {buy.reason} "
                                     f"(direct pool, {via_hub - direct_cost:.2f} USD cheaper)",
                              est_cost_usd=direct_cost, est_gas=gas, est_impact_bps=imp, phase=1))
            rest_usd = sell.amount_usd - buy.amount_usd
            if rest_usd >= params.min_trade_usd:
                rest_imp = sell.est_impact_bps * rest_usd / sell.amount_usd
                rest_cost = c.gas_usd(c.swap_gas + c.approve_gas) + rest_usd * (c.lp_fee_bps + rest_imp) / BPS
                out.append(sell.model_copy(update={"amount_raw": sell.amount_raw - direct_raw, "amount_usd": rest_usd,
                                                   "est_cost_usd": rest_cost, "est_impact_bps": rest_imp}))
            break
    return out
