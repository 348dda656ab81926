"""Volatility-adaptive bands: each asset's threshold band scaled by its current volatility against its own
reference volatility.

``band = base band × (EWMA vol / reference vol) ** VOL_BANDS_EXPONENT``, clipped into
[``VOL_BANDS_MIN_SCALE``, ``VOL_BANDS_MAX_SCALE``]. A positive exponent widens the bands when markets are
wild (fewer trades into noise), a negative one narrows them (rebalance more when dispersion is high). The
current volatility is an EWMA with half-life ``VOL_HALFLIFE_DAYS``; the reference is the realised volatility
over the last ``VOL_REFERENCE_DAYS``. With too little history the base bands apply, and the decision says so.
Everything read is known at ``now`` (the history the context carries).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from strategies import Decision, StrategyContext
from strategies.signals import closes, ewma_volatility, log_returns, periods_per_year_of, realised_volatility
from strategies.threshold import ThresholdStrategy
from strategies.threshold import from_settings as threshold_from_settings

MIN_HISTORY_RETURNS = 20


@dataclass(frozen=True)
class VolScale:
    symbol: str
    current_vol: float
    reference_vol: float
    scale: float


@dataclass(frozen=True)
class VolBandsStrategy:
    base: ThresholdStrategy
    halflife_days: float = 20.0
    reference_days: float = 365.0
    exponent: float = 1.0
    min_scale: float = 0.5
    max_scale: float = 3.0
    name: str = "vol_bands"

    def scales(self, ctx: StrategyContext) -> dict[str, VolScale]:
        out = {}
        for a in ctx.allocation.assets:
            times, prices = closes(ctx.price_history.get(a.symbol, ()))
            if len(prices) <= MIN_HISTORY_RETURNS:
                continue
            per_year = periods_per_year_of(times)
            per_day = per_year / 365
            returns = log_returns(prices)
            reference = realised_volatility(returns[-max(2, round(self.reference_days * per_day)):],
                                            periods_per_year=per_year)
            current = ewma_volatility(returns, halflife=self.halflife_days * per_day, periods_per_year=per_year)
            if reference <= 0 or current <= 0:
                continue  # a pegged stable: its band stays as set
            scale = min(max((current / reference) ** self.exponent, self.min_scale), self.max_scale)
            out[a.symbol] = VolScale(a.symbol, current, reference, scale)
        return out

    def decide(self, ctx: StrategyContext) -> Decision:
        scales = self.scales(ctx)
        bands = {a.symbol: self.base.band_for(a.symbol, a.target_pct) * Decimal(str(round(scales[a.symbol].scale, 4)))
                 for a in ctx.allocation.assets if a.symbol in scales}
        scaled = ThresholdStrategy(band_pp=self.base.band_pp, band_rel_pct=Decimal(0),
                                   emergency_band_pp=self.base.emergency_band_pp,
                                   asset_bands_pp={**{a.symbol: self.base.band_for(a.symbol, a.target_pct)
                                                      for a in ctx.allocation.assets}, **bands})
        inner = scaled.decide(ctx)
        lines = tuple(f"vol_bands: {s.symbol} volatility {s.current_vol:.0%} vs reference {s.reference_vol:.0%}: "
                      f"band ×{s.scale:.2f} = ±{bands[s.symbol]:.2f} pp" for s in scales.values())
        if not scales:
            lines = (f"vol_bands: fewer than {MIN_HISTORY_RETURNS + 1} prices in the history: base bands apply",)
        inputs = {s.symbol: {"vol": round(s.current_vol, 4), "reference_vol": round(s.reference_vol, 4),
                             "band_scale": round(s.scale, 4)} for s in scales.values()}
        return inner.model_copy(update={"reasons": lines + inner.reasons, "rule": self.name,
                                        "inputs": {**inner.inputs, "volatility": inputs}})


def from_settings(settings: Any) -> VolBandsStrategy:
    return VolBandsStrategy(base=threshold_from_settings(settings),
                            halflife_days=float(getattr(settings, "vol_halflife_days", 20)),
                            reference_days=float(getattr(settings, "vol_reference_days", 365)),
                            exponent=float(getattr(settings, "vol_bands_exponent", 1.0)),
                            min_scale=float(getattr(settings, "vol_bands_min_scale", 0.5)),
                            max_scale=float(getattr(settings, "vol_bands_max_scale", 3.0)))
