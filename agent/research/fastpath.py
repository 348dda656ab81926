"""Fast paths for the signal strategies: vol_bands, regime (rule and HMM) and dynamic targets in the vectorised engine.

Their signals read only prices, never the portfolio, so each bar's effective bands and targets can be computed once
per price path — by the live strategies' own functions (``scale_of``/``scaled_band``, ``classify_rule``,
``vol_of``/``targets_for``) on exactly the closes ``decide`` sees in the backtest (the ``HISTORY_BARS`` bars up to and
including the bar) — and then every start date and window reuses them. The engine's "signal" kind applies the threshold
rule (``breaches``) to those per-bar bands and targets. ``tests/unit/test_fastpath.py`` checks that the trades equal
those of the same strategy deciding bar by bar through ``decide``. The HMM regime fits once per block of bars (its
fits are cached), so its per-bar regimes cost one fit a week of daily bars. The overlays stay bar by bar.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from agent.research.engine import Market, Spec
from agent.research.live import HISTORY_BARS, bar_time
from strategies.dynamic import DynamicTargetsStrategy
from strategies.regime import TREND, RegimeStrategy
from strategies.threshold import effective_bands
from strategies.vol_bands import VolBandsStrategy


def fast(strategy: Any) -> bool:
    """Has ``strategy`` a fast path?"""
    return isinstance(strategy, VolBandsStrategy | DynamicTargetsStrategy | RegimeStrategy)


def prepare(spec: Spec, market: Market) -> Spec:
    """A custom spec of a fast-path strategy as a "signal" spec with its per-bar bands and targets; else as is."""
    if spec.kind != "custom" or not fast(spec.strategy):
        return spec
    cols = [a for a in market.assets if a in spec.targets]
    targets = {a: Decimal(repr(float(spec.targets[a]))) for a in cols}
    times = [bar_time(market.times, t, market.hours_per_bar) for t in range(market.bars)]
    bands, tgts = [], []
    for p in range(market.closes.shape[0]):
        b, g = _path(spec.strategy, market, p, cols, targets, times)
        bands.append(b)
        tgts.append(g)
    return spec.with_(kind="signal", bands_by_bar=np.stack(bands), targets_by_bar=np.stack(tgts))


def window(spec: Spec, lo: int, hi: int) -> Spec:
    """The spec on the bars [lo, hi) of its market (its per-bar arrays cut likewise)."""
    if spec.bands_by_bar is None:
        return spec
    return replace(spec, bands_by_bar=spec.bands_by_bar[:, lo:hi], targets_by_bar=spec.targets_by_bar[:, lo:hi])


def _path(strategy: Any, market: Market, p: int, cols: list[str], targets: dict[str, Decimal],
          times: list[datetime]) -> tuple[np.ndarray, np.ndarray]:
    T, A = market.bars, len(market.assets)
    closes = {a: [float(x) for x in market.closes[p, :, market.assets.index(a)]] for a in cols}
    tgt_row = np.array([float(targets.get(a, Decimal(0))) for a in market.assets])
    bands, tgts = np.full((T, A), np.inf), np.tile(tgt_row, (T, 1))
    for t in range(T):
        lo = max(0, t - HISTORY_BARS + 1)
        hist = {a: closes[a][lo:t + 1] for a in cols}
        stamps = times[lo:t + 1]
        if isinstance(strategy, VolBandsStrategy):
            row = _vol_bands(strategy, hist, stamps, targets)
        elif isinstance(strategy, RegimeStrategy):
            row = _regime(strategy, hist, stamps, targets)
        else:
            row, now = _dynamic(strategy, hist, stamps, targets)
            tgts[t] = [float(now.get(a, Decimal(0))) for a in market.assets]
        bands[t] = [row.get(a, math.inf) for a in market.assets]
    return bands, tgts


def _vol_bands(s: VolBandsStrategy, hist: dict[str, list[float]], stamps: list[datetime],
               targets: dict[str, Decimal]) -> dict[str, float]:
    out = {}
    for a, pct in targets.items():
        got = s.scale_of(stamps, hist[a])
        band = s.scaled_band(a, pct, got[2]) if got is not None else s.base.band_for(a, pct)
        out[a] = float(band)  # decide: a threshold with these absolute bands and no relative band
    return out


def _regime(s: RegimeStrategy, hist: dict[str, list[float]], stamps: list[datetime],
            targets: dict[str, Decimal]) -> dict[str, float]:
    ranked = [a for a in targets if len(hist[a]) > 1]
    asset = s.asset or (max(ranked, key=lambda a: (targets[a], a)) if ranked else "")
    prices = hist.get(asset, [])
    regime, _ = s.classify(stamps[len(stamps) - len(prices):], prices)
    band = s.base.band_pp if regime is None else (s.trend_band_pp if regime == TREND else s.range_band_pp)
    return {a: float(effective_bands(band, s.base.band_rel_pct, pct)) for a, pct in targets.items()}


def _dynamic(s: DynamicTargetsStrategy, hist: dict[str, list[float]], stamps: list[datetime],
             targets: dict[str, Decimal]) -> tuple[dict[str, float], dict[str, Decimal]]:
    vols = {}
    for a in targets:
        if a not in s.stables:
            vol = s.vol_of(stamps, hist[a])
            if vol is not None:
                vols[a] = vol
    now = s.targets_for(targets, vols)
    base = s.base
    return ({a: float(effective_bands(base.asset_bands_pp.get(a, base.band_pp), base.band_rel_pct,
                                      now.get(a, Decimal(0)))) for a in targets}, now)
