"""Route a plan's vault withdrawals around paused or limited vaults (pure: no I/O, no clock).

The planner withdraws from a vault just in time for a buy, without knowing the vault's limits.
``route_withdrawals`` checks each ``withdraw`` action against the vault's fresh ``maxWithdraw``: what the
vault cannot pay now is taken from the wallet's other vaults over the same token on that chain (within
their limits), and whatever is still missing is taken off that chain's buys paid in that token (a buy that
falls below the minimum trade is dropped). Every change is recorded as a ``Skipped`` entry of the plan and
returned as a ``VaultNote`` for the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from agent.config.chains import ChainConfig
from agent.planning.models import KIND_ORDER, Action, Plan, Skipped
from agent.vaults.adapter import VaultState
from agent.vaults.policy import VaultNote


def _available(state: VaultState | None) -> int | None:
    """What can be withdrawn from the vault now (None = unknown: leave the action to simulation)."""
    if state is None or state.max_withdraw_raw is None:
        return None
    return min(state.max_withdraw_raw, state.position_assets_raw or 0) if state.position_assets_raw is not None \
        else state.max_withdraw_raw


def _scaled(a: Action, raw: int, **update: object) -> Action:
    usd = a.amount_usd * Decimal(raw) / Decimal(a.amount_raw) if a.amount_raw else Decimal(0)
    return a.model_copy(update={"amount_raw": raw, "amount_usd": usd, **update})


def route_withdrawals(plan: Plan, *, chains: Mapping[str, ChainConfig],
                      states: Mapping[tuple[str, str], VaultState],
                      min_trade_usd: Decimal) -> tuple[Plan, list[VaultNote]]:
    """``plan`` with its withdrawals fitted to the vaults' limits; unchanged when every vault can pay."""
    notes: list[VaultNote] = []
    skipped: list[Skipped] = []
    used: dict[tuple[str, str], int] = {}
    out: list[Action] = []
    short: dict[tuple[str, str], int] = {}  # (chain, token) -> raw the vaults cannot pay
    for a in plan.actions:
        if a.kind != "withdraw":
            out.append(a)
            continue
        key = (a.chain, a.sell)
        avail = _available(states.get(key))
        if avail is None or a.amount_raw <= avail - used.get(key, 0):
            used[key] = used.get(key, 0) + a.amount_raw
            out.append(a)
            continue
        take = max(0, avail - used.get(key, 0))
        why = f"{a.sell} can pay {take} raw {a.buy} now (maxWithdraw {states[key].max_withdraw_raw}), " \
              f"the plan needs {a.amount_raw}"
        notes.append(VaultNote(chain=a.chain, vault=a.sell, status="limited", reason=why))
        skipped.append(Skipped(what=f"withdraw {a.amount_raw} raw {a.buy} from {a.sell} on {a.chain}", why=why))
        if take > 0:
            out.append(_scaled(a, take, reason=f"{a.reason} (limited to maxWithdraw)"))
            used[key] = used.get(key, 0) + take
        rest = a.amount_raw - take
        rest = _reroute(a, rest, chains[a.chain], states, used, out, notes)
        if rest > 0:
            short[(a.chain, a.buy)] = short.get((a.chain, a.buy), 0) + rest
    for (chain, token), raw in short.items():
        out = _shrink_buys(out, chain, token, raw, min_trade_usd, skipped, notes)
    out.sort(key=lambda x: (x.phase, KIND_ORDER[x.kind], x.chain))
    if not notes:
        return plan, notes
    return plan.model_copy(update={"actions": tuple(out), "rebalance": bool(out),
                                   "skipped": plan.skipped + tuple(skipped)}), notes


def _reroute(a: Action, rest: int, chain: ChainConfig, states: Mapping[tuple[str, str], VaultState],
             used: dict[tuple[str, str], int], out: list[Action], notes: list[VaultNote]) -> int:
    """Take ``rest`` from the chain's other vaults over ``a.buy``; returns what is still missing."""
    for v in chain.vaults:
        if rest <= 0:
            break
        key = (chain.name, v.name)
        if v.name == a.sell or v.asset != a.buy:
            continue
        avail = _available(states.get(key))
        free = (avail or 0) - used.get(key, 0)
        if free <= 0:
            continue
        take = min(rest, free)
        out.append(_scaled(a, take, sell=v.name,
                           reason=f"withdraw from {v.name} instead of the limited {a.sell} to fund buys"))
        notes.append(VaultNote(chain=chain.name, vault=v.name, status="parked",
                               reason=f"routed {take} raw {a.buy} of the withdrawal around {a.sell}"))
        used[key] = used.get(key, 0) + take
        rest -= take
    return rest


def _shrink_buys(actions: list[Action], chain: str, token: str, raw: int, min_trade_usd: Decimal,
                 skipped: list[Skipped], notes: list[VaultNote]) -> list[Action]:
    """Take ``raw`` of ``token`` off the chain's buys paid in it, smallest buys first (whole buys dropped)."""
    buys = sorted((a for a in actions if a.kind == "swap" and a.chain == chain and a.sell == token and a.phase == 2),
                  key=lambda a: (a.amount_raw, a.buy))
    out = list(actions)
    for buy in buys:
        if raw <= 0:
            break
        cut = min(raw, buy.amount_raw)
        out.remove(buy)
        raw -= cut
        smaller = _scaled(buy, buy.amount_raw - cut)
        if smaller.amount_raw > 0 and smaller.amount_usd >= min_trade_usd:
            out.append(smaller.model_copy(update={
                "reason": f"{buy.reason} (reduced by {cut} raw {token}: vault withdrawal limited)",
                "est_cost_usd": buy.est_cost_usd}))
            what = f"{cut} raw {token} of the buy of {buy.buy} on {chain}"
        else:
            what = f"buy of {buy.buy} on {chain} ({buy.amount_usd:.2f} USD)"
        why = "not enough could be withdrawn from the chain's vaults (maxWithdraw / paused)"
        skipped.append(Skipped(what=what, why=why))
        notes.append(VaultNote(chain=chain, vault="*", status="limited", reason=f"dropped {what}: {why}"))
    return out
