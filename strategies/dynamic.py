"""Dynamic targets: the weights themselves move with volatility, then threshold bands apply around them.

``DYNAMIC_METHOD``:
- ``inverse_vol`` (risk parity without correlations): risky assets weighted by 1 / their volatility
  (``VOL_HALFLIFE_DAYS`` EWMA), inside ``DYNAMIC_BOUNDS`` (``ETH:10-60,WBTC:10-60``), the stable keeping its
  configured target;
- ``vol_target``: the configured mix, with the stable's share raised so the portfolio's volatility stays near
  ``VOL_TARGET_PCT`` (a share between its configured target and ``DYNAMIC_MAX_STABLE_PCT``), the risky assets
  scaled down pro rata.
Assets without enough history keep their configured targets, and the decision says so. The targets the
decision names are the ones the planner trades to; drift is measured against them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from agent.errors import ConfigError
from agent.planning.allocation import Allocation
from strategies import Decision, StrategyContext
from strategies.signals import (
    closes,
    ewma_volatility,
    inverse_volatility_weights,
    log_returns,
    periods_per_year_of,
    volatility_target_stable_share,
)
from strategies.threshold import ThresholdStrategy
from strategies.threshold import from_settings as threshold_from_settings

MIN_HISTORY_RETURNS = 20
HUNDRED = Decimal(100)


def retarget(allocation: Allocation, targets: Mapping[str, Decimal]) -> Allocation:
    """The same holdings measured against other targets (drift recomputed)."""
    assets = tuple(a.model_copy(update={"target_pct": targets.get(a.symbol, Decimal(0)),
                                        "drift_pp": a.weight_pct - targets.get(a.symbol, Decimal(0))})
                   for a in allocation.assets)
    return allocation.model_copy(update={"assets": assets})


@dataclass(frozen=True)
class DynamicTargetsStrategy:
    base: ThresholdStrategy
    method: str = "inverse_vol"
    stables: frozenset[str] = frozenset({"USDC", "USDT", "DAI"})
    bounds_pct: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    halflife_days: float = 20.0
    vol_target_pct: float = 50.0
    max_stable_pct: float = 80.0
    name: str = "dynamic"

    def vol_of(self, times: list[Any], prices: list[float]) -> float | None:
        """One risky asset's EWMA volatility, or None with too little history."""
        if len(prices) <= MIN_HISTORY_RETURNS:
            return None
        per_year = periods_per_year_of(times)
        return ewma_volatility(log_returns(prices), halflife=self.halflife_days * per_year / 365,
                               periods_per_year=per_year)

    def vols(self, ctx: StrategyContext) -> dict[str, float]:
        out = {}
        for symbol in ctx.targets:
            if symbol not in self.stables:
                vol = self.vol_of(*closes(ctx.price_history.get(symbol, ())))
                if vol is not None:
                    out[symbol] = vol
        return out

    def targets(self, ctx: StrategyContext, vols: Mapping[str, float]) -> dict[str, Decimal]:
        return self.targets_for(ctx.targets, vols)

    def targets_for(self, configured: Mapping[str, Decimal], vols: Mapping[str, float]) -> dict[str, Decimal]:
        """The targets of this bar from the configured ones and the risky assets' volatilities (pure)."""
        risky = [s for s in configured if s not in self.stables]
        if not vols or any(s not in vols for s in risky):
            return dict(configured)
        stable_pct = sum((v for s, v in configured.items() if s in self.stables), Decimal(0))
        if self.method == "inverse_vol":
            room = float(HUNDRED - stable_pct) / 100
            bounds = {s: (lo / 100 / room, hi / 100 / room) for s, (lo, hi) in self.bounds_pct.items() if s in vols}
            weights = inverse_volatility_weights({s: vols[s] for s in risky}, bounds=bounds)
            out = {s: Decimal(str(round(w * room * 100, 4))) for s, w in weights.items()}
        else:
            risky_total = float(HUNDRED - stable_pct)
            mix_vol = math.sqrt(sum((float(configured[s]) / risky_total * vols[s]) ** 2 for s in risky)) \
                if risky_total > 0 else 0.0  # correlation ignored: an upper bound is not needed, a scale is
            share = volatility_target_stable_share(mix_vol, target_vol=self.vol_target_pct / 100,
                                                   min_share=float(stable_pct) / 100,
                                                   max_share=max(self.max_stable_pct, float(stable_pct)) / 100)
            scale = (1 - share) * 100 / risky_total if risky_total > 0 else 0.0
            out = {s: Decimal(str(round(float(configured[s]) * scale, 4))) for s in risky}
            stable_total = HUNDRED - sum(out.values(), Decimal(0))
            for s in configured:
                if s in self.stables:
                    out[s] = (configured[s] / stable_pct * stable_total) if stable_pct > 0 else Decimal(0)
            return out
        for s in configured:
            if s in self.stables:
                out[s] = configured[s]
        return out

    def decide(self, ctx: StrategyContext) -> Decision:
        vols = self.vols(ctx)
        targets = self.targets(ctx, vols)
        moved = ctx.model_copy(update={"targets": targets, "allocation": retarget(ctx.allocation, targets)})
        inner = self.base.decide(moved)
        if targets == dict(ctx.targets):
            line = f"dynamic ({self.method}): too little history for every risky asset: configured targets apply"
        else:
            line = f"dynamic ({self.method}): targets " + ", ".join(f"{s} {v:.1f}%" for s, v in targets.items()) + \
                   " from volatility " + ", ".join(f"{s} {v:.0%}" for s, v in vols.items())
        figures = {"method": self.method, "vols": {k: round(v, 4) for k, v in vols.items()},
                   "targets_pct": {k: round(float(v), 4) for k, v in targets.items()}}
        return inner.model_copy(update={"reasons": (line, *inner.reasons), "targets": targets, "rule": self.name,
                                        "inputs": {**inner.inputs, "dynamic": figures}})


def parse_bounds(text: str) -> dict[str, tuple[float, float]]:
    """``ETH:10-60,WBTC:10-60`` -> {ETH: (10, 60), ...} (percent of the portfolio)."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            symbol, rng = part.split(":")
            lo, hi = (float(x) for x in rng.split("-"))
        except ValueError:
            raise ConfigError(f"DYNAMIC_BOUNDS: {part!r} is not SYMBOL:LOW-HIGH; write e.g. ETH:10-60,WBTC:10-60") \
                from None
        if not 0 <= lo <= hi <= 100:
            raise ConfigError(f"DYNAMIC_BOUNDS: {part!r}: need 0 <= LOW <= HIGH <= 100")
        out[symbol.strip().upper()] = (lo, hi)
    return out


def from_settings(settings: Any) -> DynamicTargetsStrategy:
    method = str(getattr(settings, "dynamic_method", "inverse_vol"))
    if method not in ("inverse_vol", "vol_target"):
        raise ConfigError(f"DYNAMIC_METHOD={method!r}: choose inverse_vol or vol_target")
    return DynamicTargetsStrategy(base=threshold_from_settings(settings), method=method,
                                  bounds_pct=parse_bounds(str(getattr(settings, "dynamic_bounds", "") or "")),
                                  halflife_days=float(getattr(settings, "vol_halflife_days", 20)),
                                  vol_target_pct=float(getattr(settings, "vol_target_pct", 50)),
                                  max_stable_pct=float(getattr(settings, "dynamic_max_stable_pct", 80)))
