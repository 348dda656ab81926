"""Regime-switching bands: classify the market as trending or ranging, and use the band set of that regime.

Two classifiers, chosen by ``REGIME_MODEL``:
- ``rule`` (default): Kaufman's efficiency ratio of the reference asset (``REGIME_ASSET``, default the
  largest risky target) over ``REGIME_WINDOW_DAYS``; above ``REGIME_ER_TREND`` the market trends.
- ``hmm``: a two-state Gaussian hidden Markov model (hmmlearn) on daily log returns and their rolling
  absolute size, fitted only on the history known at ``now`` (once per block of 7 bars anchored in time, on
  the last 250 features up to the block's start); the state whose mean return is larger against its volatility
  is "trend".
In a trend the bands are ``REGIME_TREND_BAND_PP`` (wider: let the move run), in a range
``REGIME_RANGE_BAND_PP``; the relative band and emergency band of the threshold rule still apply.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from agent.errors import ConfigError
from strategies import Decision, StrategyContext
from strategies.signals import closes, efficiency_ratio, log_returns, periods_per_year_of
from strategies.threshold import ThresholdStrategy
from strategies.threshold import from_settings as threshold_from_settings

TREND = "trend"
RANGE = "range"
HMM_MIN_RETURNS = 120
#: features an HMM is fitted on (and decodes): about eight months of daily bars
HMM_FIT_BARS = 250


@dataclass(frozen=True)
class RegimeReading:
    regime: str | None  # None: too little history to say
    model: str
    figure: float  # efficiency ratio (rule) or the trend state's probability (hmm)
    asset: str


def classify_rule(prices: list[float], *, window: int, er_trend: float) -> tuple[str | None, float]:
    if len(prices) < window + 1:
        return None, 0.0
    er = efficiency_ratio(prices, window)
    return (TREND if er > er_trend else RANGE), er


def _hmm_features(prices: list[float], vol_window: int) -> list[list[float]]:
    returns = log_returns(prices)
    feats = []
    for i in range(vol_window, len(returns)):
        recent = returns[i - vol_window:i]
        feats.append([returns[i], math.sqrt(sum(r * r for r in recent) / vol_window)])
    return feats


@functools.lru_cache(maxsize=64)
def _fit_hmm(feats: tuple[tuple[float, float], ...], seed: int) -> Any:
    try:
        from hmmlearn.hmm import GaussianHMM
    except ImportError:
        raise ConfigError("REGIME_MODEL=hmm needs hmmlearn: pip install 'rebalancer[hmm]' (or use REGIME_MODEL=rule)") \
            from None
    import numpy as np

    x = np.asarray(feats)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = GaussianHMM(n_components=2, covariance_type="diag", n_iter=50, random_state=seed)
    model.fit(x / scale)
    return model, scale


def _fit_end(times: Sequence[datetime] | None, n_feats: int, refit_every: int) -> int:
    """How many of the features the fit may use: those up to the last block boundary. With ``times`` the blocks are
    ``refit_every`` bars of the median spacing counted from the epoch, so every bar of a block — live or in the
    backtest, whatever the window's start — fits on the same features (one fit per block); without, by count."""
    if not times or len(times) < 2:
        return n_feats - n_feats % max(1, refit_every)
    gaps = sorted((b - a).total_seconds() for a, b in itertools.pairwise(times))
    block = max(gaps[len(gaps) // 2], 1.0) * max(1, refit_every)
    anchor = math.floor(times[-1].timestamp() / block) * block
    feat_times = times[len(times) - n_feats:]  # feature k describes the return into price k + vol_window + 1
    return sum(1 for t in feat_times if t.timestamp() <= anchor)


def classify_hmm(prices: list[float], *, vol_window: int = 10, refit_every: int = 7, seed: int = 7,
                 times: Sequence[datetime] | None = None) -> tuple[str | None, float]:
    """Fit a 2-state Gaussian HMM on (return, rolling vol) of the past only — on the last ``HMM_FIT_BARS``
    features up to the latest block boundary (refitted once per ``refit_every`` bars; ``times`` anchor the blocks in
    time) —; the trend state is the one with the larger |mean return| / mean vol. Returns the regime of the newest
    bar and its trend-state probability."""
    feats = _hmm_features(prices, vol_window)
    end = _fit_end(times, len(feats), refit_every)
    if end < HMM_MIN_RETURNS:
        return None, 0.0
    import numpy as np

    model, scale = _fit_hmm(tuple(tuple(f) for f in feats[max(0, end - HMM_FIT_BARS):end]), seed)
    means = model.means_ * scale
    trend_state = max(range(2), key=lambda s: abs(means[s][0]) / max(means[s][1], 1e-12))
    posterior = model.predict_proba(np.asarray(feats[-HMM_FIT_BARS:]) / scale)[-1]
    state = int(posterior.argmax())
    return (TREND if state == trend_state else RANGE), float(posterior[trend_state])


@dataclass(frozen=True)
class RegimeStrategy:
    base: ThresholdStrategy
    trend_band_pp: Decimal = Decimal(10)
    range_band_pp: Decimal = Decimal(5)
    model: str = "rule"
    asset: str | None = None
    window_days: float = 30.0
    er_trend: float = 0.3
    name: str = "regime"

    def reference_asset(self, ctx: StrategyContext) -> str:
        if self.asset:
            return self.asset
        risky = [a for a in ctx.allocation.assets if len(ctx.price_history.get(a.symbol, ())) > 1]
        return max(risky, key=lambda a: (a.target_pct, a.symbol)).symbol if risky else ""

    def classify(self, times: Sequence[datetime], prices: list[float]) -> tuple[str | None, float]:
        """The regime of the newest bar of this history, and the figure it rests on (live, backtest, fast path)."""
        if self.model == "hmm":
            return classify_hmm(prices, times=times)
        window = max(2, round(self.window_days * periods_per_year_of(times) / 365))
        return classify_rule(prices, window=window, er_trend=self.er_trend)

    def read(self, ctx: StrategyContext) -> RegimeReading:
        asset = self.reference_asset(ctx)
        times, prices = closes(ctx.price_history.get(asset, ()))
        regime, figure = self.classify(times, prices)
        return RegimeReading(regime=regime, model=self.model, figure=figure, asset=asset)

    def decide(self, ctx: StrategyContext) -> Decision:
        reading = self.read(ctx)
        band = self.trend_band_pp if reading.regime == TREND else self.range_band_pp
        if reading.regime is None:
            band = self.base.band_pp
            line = f"regime ({reading.model}): too little {reading.asset or 'price'} history to classify: " \
                   f"base band ±{band} pp"
        else:
            what = "efficiency ratio" if reading.model == "rule" else "trend-state probability"
            line = f"regime ({reading.model}): {reading.asset} {what} {reading.figure:.2f} -> {reading.regime}: " \
                   f"band ±{band} pp"
        inner = replace(self.base, band_pp=band, asset_bands_pp={}).decide(ctx)
        return inner.model_copy(update={
            "reasons": (line, *inner.reasons), "rule": self.name,
            "inputs": {**inner.inputs, "regime": {"model": reading.model, "asset": reading.asset,
                                                  "regime": reading.regime, "figure": round(reading.figure, 4),
                                                  "band_pp": str(band)}}})


def from_settings(settings: Any) -> RegimeStrategy:
    model = str(getattr(settings, "regime_model", "rule"))
    if model not in ("rule", "hmm"):
        raise ConfigError(f"REGIME_MODEL={model!r}: choose rule or hmm")
    return RegimeStrategy(base=threshold_from_settings(settings),
                          trend_band_pp=Decimal(str(getattr(settings, "regime_trend_band_pp", 10))),
                          range_band_pp=Decimal(str(getattr(settings, "regime_range_band_pp", 5))),
                          model=model, asset=getattr(settings, "regime_asset", None) or None,
                          window_days=float(getattr(settings, "regime_window_days", 30)),
                          er_trend=float(getattr(settings, "regime_er_trend", 0.3)))


__all__ = ["RANGE", "TREND", "RegimeStrategy", "classify_hmm", "classify_rule", "from_settings"]
