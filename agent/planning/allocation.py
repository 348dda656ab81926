"""Current allocation versus targets, per asset across chains (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from agent.portfolio.models import Holding, Snapshot
from agent.units import to_units

FROZEN = ConfigDict(frozen=True, extra="forbid")
HUNDRED = Decimal(100)


class AssetAllocation(BaseModel):
    model_config = FROZEN

    symbol: str
    balance: Decimal
    usd: Decimal
    weight_pct: Decimal
    target_pct: Decimal
    drift_pp: Decimal
    #: Per-chain breakdown: chain → USD value of this asset there (vault positions included).
    by_chain: dict[str, Decimal]
    unpriced: tuple[str, ...] = ()


class Allocation(BaseModel):
    model_config = FROZEN

    total_usd: Decimal
    assets: tuple[AssetAllocation, ...]
    untargeted_usd: Decimal

    def asset(self, symbol: str) -> AssetAllocation:
        return next(a for a in self.assets if a.symbol == symbol)

    @property
    def max_drift_pp(self) -> Decimal:
        return max((abs(a.drift_pp) for a in self.assets), default=Decimal(0))


def resolve_target_symbol(symbol: str, holdings: list[Holding]) -> str:
    """A target may name an asset (ETH) or one of its tokens (WETH); holdings are grouped by asset."""
    for h in holdings:
        if h.symbol == symbol and h.kind != "vault":
            return h.asset
    return symbol


def _units(h: Holding) -> Decimal:
    if h.kind == "vault":
        if h.underlying_raw is None or h.underlying_decimals is None:
            return Decimal(0)
        return to_units(h.underlying_raw, h.underlying_decimals)
    return h.balance


def compute_allocation(snapshot: Snapshot, targets: Mapping[str, Decimal]) -> Allocation:
    """Weights of each asset in the priced total, and drift from target in percentage points.

    Assets held but not targeted count towards the total (their target is 0). Holdings whose price
    could not be read are listed as unpriced and left out of the total rather than guessed.
    """
    holdings = snapshot.holdings()
    resolved = {resolve_target_symbol(s, holdings): pct for s, pct in targets.items()}
    balance: dict[str, Decimal] = {s: Decimal(0) for s in resolved}
    usd: dict[str, Decimal] = {s: Decimal(0) for s in resolved}
    by_chain: dict[str, dict[str, Decimal]] = {s: {} for s in resolved}
    unpriced: dict[str, list[str]] = {}
    for h in holdings:
        if h.balance_raw == 0:
            continue
        balance[h.asset] = balance.get(h.asset, Decimal(0)) + _units(h)
        value = h.usd
        if value is None:
            unpriced.setdefault(h.asset, []).append(f"{h.chain}:{h.symbol}")
            continue
        usd[h.asset] = usd.get(h.asset, Decimal(0)) + value
        chains = by_chain.setdefault(h.asset, {})
        chains[h.chain] = chains.get(h.chain, Decimal(0)) + value
    total = sum(usd.values(), Decimal(0))
    assets = []
    for sym in sorted(usd, key=lambda s: (s not in resolved, s)):
        weight = usd[sym] / total * HUNDRED if total else Decimal(0)
        target = resolved.get(sym, Decimal(0))
        assets.append(AssetAllocation(symbol=sym, balance=balance.get(sym, Decimal(0)), usd=usd[sym],
                                      weight_pct=weight, target_pct=target, drift_pp=weight - target,
                                      by_chain=by_chain.get(sym, {}), unpriced=tuple(unpriced.get(sym, ()))))
    untargeted = sum((a.usd for a in assets if a.symbol not in resolved), Decimal(0))
    return Allocation(total_usd=total, assets=tuple(assets), untargeted_usd=untargeted)
