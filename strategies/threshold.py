"""Drift-threshold bands: rebalance when any asset leaves its band.

An asset is out of band when its absolute drift exceeds its percentage-point band (``BAND_PP``, or a
per-asset override in ``ASSET_BANDS_PP``) or its drift relative to its target exceeds ``BAND_REL_PCT``
percent of that target (the "5/25" rule: 5 pp absolute or 25% relative, whichever trips first). Checked
often, traded rarely (opportunistic rebalancing). Drift beyond ``EMERGENCY_BAND_PP`` marks it urgent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from strategies import Decision, StrategyContext, drift_line


def effective_bands(band_pp: Any, band_rel_pct: Any, target_pct: Any) -> np.ndarray:
    """The effective absolute band (pp) of each asset: the tighter of its absolute band and ``band_rel_pct`` % of its
    target (a relative band of 0 is off). Arrays broadcast (runs × assets in the backtest, one row live)."""
    rel = np.asarray(band_rel_pct, dtype=float) * np.asarray(target_pct, dtype=float) / 100
    absolute = np.asarray(band_pp, dtype=float)
    return np.where(rel > 0, np.minimum(absolute, rel), absolute)


def breaches(drift_pp: Any, bands: Any) -> np.ndarray:
    """The decision rule: which assets are outside their band (any one is a rebalance)."""
    return np.abs(np.asarray(drift_pp, dtype=float)) > bands


@dataclass(frozen=True)
class ThresholdStrategy:
    band_pp: Decimal
    band_rel_pct: Decimal
    emergency_band_pp: Decimal
    asset_bands_pp: Mapping[str, Decimal] = field(default_factory=dict)
    name: str = "threshold"

    def band_for(self, symbol: str, target_pct: Decimal) -> Decimal:
        """The effective absolute band (pp) of an asset: the tighter of its absolute and relative bands."""
        band = effective_bands(self.asset_bands_pp.get(symbol, self.band_pp), self.band_rel_pct, target_pct)
        return Decimal(repr(float(band)))

    def out_of_band(self, ctx: StrategyContext) -> list[str]:
        assets = ctx.allocation.assets
        bands = effective_bands([self.asset_bands_pp.get(a.symbol, self.band_pp) for a in assets],
                                self.band_rel_pct, [a.target_pct for a in assets])
        out_mask = breaches([a.drift_pp for a in assets], bands)
        return [f"{drift_line(a.symbol, a.weight_pct, a.target_pct)} is outside its ±{band:.2f} pp band"
                for a, band, out in zip(assets, bands, out_mask, strict=True) if out]

    def inputs(self, ctx: StrategyContext) -> dict[str, Any]:
        """What the rule read: each asset's drift and effective band (pp), and the largest drift."""
        return {"max_drift_pp": round(float(ctx.allocation.max_drift_pp), 4),
                "emergency_band_pp": float(self.emergency_band_pp),
                "drift": {a.symbol: {"drift_pp": round(float(a.drift_pp), 4),
                                     "band_pp": round(float(self.band_for(a.symbol, a.target_pct)), 4)}
                          for a in ctx.allocation.assets}}

    def decide(self, ctx: StrategyContext) -> Decision:
        if ctx.allocation.total_usd <= 0:
            return Decision(rebalance=False, reasons=("nothing priced to rebalance",), targets=ctx.targets,
                            rule=self.name)
        reasons = self.out_of_band(ctx)
        urgent = ctx.allocation.max_drift_pp > self.emergency_band_pp
        inputs = self.inputs(ctx)
        if not reasons:
            worst = max(ctx.allocation.assets, key=lambda a: abs(a.drift_pp))
            return Decision(rebalance=False, targets=ctx.targets, rule=self.name, inputs=inputs, reasons=(
                f"every asset is within its band (largest drift: {worst.symbol} {worst.drift_pp:+.2f} pp)",))
        if urgent:
            reasons.append(f"drift {ctx.allocation.max_drift_pp:.2f} pp exceeds the emergency band "
                           f"{self.emergency_band_pp} pp: urgent")
        return Decision(rebalance=True, reasons=tuple(reasons), targets=ctx.targets, urgent=urgent, rule=self.name,
                        inputs=inputs)


def from_settings(settings: Any) -> ThresholdStrategy:
    return ThresholdStrategy(band_pp=settings.band_pp, band_rel_pct=settings.band_rel_pct,
                             emergency_band_pp=settings.emergency_band_pp,
                             asset_bands_pp=dict(getattr(settings, "asset_bands_pp", {}) or {}))
