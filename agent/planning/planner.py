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
from agent.planning.lots import LotBook
from agent.planning.models import KIND_ORDER, Action, Plan, Skipped
from agent.planning.tax import tax_aware_skip
from agent.portfolio.models import Snapshot
from agent.units import to_raw, to_units

HUNDRED = Decimal(100)
BPS = Decimal(10_000)
CENT = Decimal("0.01")


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
    #: TAX_AWARE: the open tax lots (``agent.planning.tax``); a sell whose estimated tax exceeds its drift benefit
    #: (net of its cost) is skipped with the reason. None: taxes are not considered.
    tax_lots: LotBook | None = None


@dataclass
class _Work:
    actions: list[Action] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    hub_free: dict[str, Decimal] = field(default_factory=dict)  # chain -> liquid hub USD available
    hub_vault: dict[str, list[Source]] = field(default_factory=dict)
    #: (chain, token) -> USD depth of its pricing pool; a constant-product pool holds equal value on both
    #: sides, so the same figure serves a buy entering from the stable side.
    depths: dict[tuple[str, str], Decimal | None] = field(default_factory=dict)
    now: datetime | None = None


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
    work = _Work(depths={(c.chain, sym): p.depth_usd for c in snapshot.chains for sym, p in c.prices.items()}, now=now)
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
    actions = _cut_unfunded_sells(actions, alloc, hubs, chains, costs, params, work)
    actions = _cut_unfunded_buys(actions, alloc, hubs, chains, params, work)
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
            if params.tax_lots is not None and work.now is not None and src.price_usd > 0:
                why = tax_aware_skip(params.tax_lots, asset=asset, at=work.now, quantity=usd / src.price_usd, usd=usd,
                                     drift_benefit_usd=drift_benefit_usd(usd, drift, params.drift_value_factor) - cost)
                if why is not None:
                    work.skipped.append(Skipped(what=f"sell {usd:.2f} USD of {src.token} on {chain}", why=why))
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


def _hub_imbalance_usd(actions: list[Action], alloc: Allocation, hubs: Mapping[str, str],
                       chains: Mapping[str, ChainConfig]) -> dict[str, Decimal]:
    """Per hub asset: how far the plan would push it above ``max(target, where it is now)`` (positive, USD) or
    below ``min(target, where it is now)`` (negative). Either means the plan moves drift into the stable."""
    moved: dict[str, Decimal] = {}
    for a in actions:
        if a.kind != "swap" or a.chain not in hubs:
            continue
        hub = hubs[a.chain]
        asset = chains[a.chain].token(hub).asset_symbol
        if a.buy == hub:
            moved[asset] = moved.get(asset, Decimal(0)) + a.amount_usd
        elif a.sell == hub:
            moved[asset] = moved.get(asset, Decimal(0)) - a.amount_usd
    out = {}
    for asset, delta in moved.items():
        held = next((x for x in alloc.assets if x.symbol == asset), None)
        now_usd = held.usd if held else Decimal(0)
        target_usd = (held.target_pct if held else Decimal(0)) / HUNDRED * alloc.total_usd
        after = now_usd + delta
        if after > max(target_usd, now_usd):
            out[asset] = after - max(target_usd, now_usd)
        elif after < min(target_usd, now_usd):
            out[asset] = after - min(target_usd, now_usd)
    return out


def _cut_unfunded_buys(actions: list[Action], alloc: Allocation, hubs: Mapping[str, str],
                       chains: Mapping[str, ChainConfig], params: PlanParams, work: _Work) -> list[Action]:
    """A buy paid from the hub stable beyond what the sells bring and the stable can spare (the sells that
    would fund it were below the minimum or too costly) would only move drift into the stable: reduce such
    buys, last planned first, and skip those left below ``min_trade_usd``."""
    short = {k: -v for k, v in _hub_imbalance_usd(actions, alloc, hubs, chains).items() if v < 0}
    if not short:
        return actions
    out = list(actions)
    for buy in reversed([a for a in actions if a.kind == "swap" and a.phase == 2 and a.sell == hubs.get(a.chain)]):
        asset = chains[buy.chain].token(hubs[buy.chain]).asset_symbol
        cut = min(short.get(asset, Decimal(0)), buy.amount_usd)
        if cut < CENT:  # a shortfall below a cent is rounding, not a reason to change the buy
            continue
        keep = buy.amount_usd - cut
        why = f"the sells that would fund it were skipped: buying {cut:.2f} USD more would draw " \
              f"{hubs[buy.chain]} below its target"
        if keep < params.min_trade_usd:
            cut = buy.amount_usd
            out.remove(buy)
            work.skipped.append(Skipped(what=f"buy {buy.amount_usd:.2f} USD of {buy.buy} on {buy.chain}",
                                        why=why.replace(f"buying {cut:.2f} USD more", "buying it")))
        else:
            share = keep / buy.amount_usd
            out[out.index(buy)] = buy.model_copy(update={
                "amount_raw": int(Decimal(buy.amount_raw) * share), "amount_usd": keep,
                "est_cost_usd": buy.est_cost_usd * share, "reason": f"{buy.reason} (cut by {cut:.2f} USD)"})
            work.skipped.append(Skipped(what=f"buy {cut:.2f} USD of {buy.buy} on {buy.chain}", why=why))
        short[asset] -= cut
    return out


def _cut_unfunded_sells(actions: list[Action], alloc: Allocation, hubs: Mapping[str, str],
                        chains: Mapping[str, ChainConfig], costs: Mapping[str, ChainCosts], params: PlanParams,
                        work: _Work) -> list[Action]:
    """A sell into the hub stable whose proceeds no buy spends (the buy was skipped) would only move drift
    into the stable: reduce such sells, last planned first, so the stable ends no further above its target
    than it is now, and skip those left below ``min_trade_usd`` (with the reason). Only proceeds left idle
    on a chain after its buys are cut, so every buy stays funded."""
    excess = {k: v for k, v in _hub_imbalance_usd(actions, alloc, hubs, chains).items() if v > 0}
    if not excess:
        return actions
    idle = {c: max(Decimal(0), work.hub_free.get(c, Decimal(0))
                   - (params.stable_buffer_usd if any(a.kind == "withdraw" and a.chain == c for a in actions) else 0))
            for c in hubs}
    out = list(actions)
    for sell in reversed([a for a in actions if a.kind == "swap" and a.phase == 1 and a.buy == hubs.get(a.chain)]):
        asset = chains[sell.chain].token(hubs[sell.chain]).asset_symbol
        kept_share = 1 - (costs[sell.chain].lp_fee_bps + sell.est_impact_bps) / BPS  # proceeds per USD sold
        idle_sold = idle[sell.chain] / kept_share  # the USD of this sell whose proceeds would sit idle
        cut = min(excess.get(asset, Decimal(0)), idle_sold, sell.amount_usd)
        if cut <= 0:
            continue
        keep = sell.amount_usd - cut
        index = out.index(sell)
        wrap = next((a for a in out if a.kind == "wrap" and a.chain == sell.chain and a.buy == sell.sell
                     and a.amount_raw == sell.amount_raw), None)
        why = f"the buys its proceeds would fund were skipped: selling {cut:.2f} USD more only moves drift into " \
              f"{hubs[sell.chain]}"
        if keep < params.min_trade_usd:
            if sell.amount_usd > idle_sold + 1:
                continue  # part of its proceeds fund a buy: it stays whole
            cut = sell.amount_usd
            out.pop(index)
            if wrap is not None:
                out.remove(wrap)
            work.skipped.append(Skipped(what=f"sell {sell.amount_usd:.2f} USD of {sell.sell} on {sell.chain}",
                                        why=why.replace(f"selling {cut:.2f} USD more", "selling it")))
        else:
            share = keep / sell.amount_usd
            raw = int(Decimal(sell.amount_raw) * share)
            out[index] = sell.model_copy(update={
                "amount_raw": raw, "amount_usd": keep, "est_cost_usd": sell.est_cost_usd * share,
                "reason": f"{sell.reason} (cut by {cut:.2f} USD: {why.split(': ', 1)[0]})"})
            if wrap is not None:
                out[out.index(wrap)] = wrap.model_copy(update={"amount_raw": raw,
                                                               "amount_usd": wrap.amount_usd * share})
            work.skipped.append(Skipped(what=f"sell {cut:.2f} USD of {sell.sell} on {sell.chain}", why=why))
        excess[asset] -= cut
        idle[sell.chain] -= cut * kept_share
    return out


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
