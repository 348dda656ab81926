"""Honest about luck: the deflated Sharpe ratio and the probability of backtest overfitting (pure).

- Deflated Sharpe ratio (Bailey & López de Prado, "The Deflated Sharpe Ratio", 2014): the probability that the true
  Sharpe exceeds the best one expected by luck among ``n_trials`` variants whose Sharpes vary by ``var_sr``,
  ``SR0 = √V · ((1−γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))``, corrected for the returns' skew and kurtosis:
  ``DSR = Φ((SR − SR0) √(T−1) / √(1 − γ₃ SR + (γ₄ − 1)/4 SR²))``, Sharpes per bar (not annualised).
- PBO by combinatorially symmetric cross-validation (Bailey, Borwein, López de Prado & Zhu, 2016): the bars are cut
  into S blocks; for every half of them as in-sample, the variant best in-sample is ranked out of sample among all
  variants, ω = rank/(N+1), λ = ln(ω/(1−ω)); PBO is the share of splits with λ ≤ 0 (the in-sample winner at or
  below the out-of-sample median).
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np

EULER_GAMMA = 0.5772156649015329
_N = NormalDist()


def expected_max_sharpe(var_sr: float, n_trials: int) -> float:
    """The Sharpe the best of ``n_trials`` unskilled variants is expected to show (same units as √var_sr)."""
    if n_trials < 2 or var_sr <= 0:
        return 0.0
    return math.sqrt(var_sr) * ((1 - EULER_GAMMA) * _N.inv_cdf(1 - 1 / n_trials)
                                + EULER_GAMMA * _N.inv_cdf(1 - 1 / (n_trials * math.e)))


def deflated_sharpe(sr: float, n_obs: int, skew: float, kurtosis: float, sr0: float) -> float:
    """P(true Sharpe > ``sr0``) given an observed per-bar ``sr`` over ``n_obs`` bars (kurtosis: not excess)."""
    denom = 1 - skew * sr + (kurtosis - 1) / 4 * sr * sr
    if denom <= 0 or n_obs < 2:
        return float("nan")
    return _N.cdf((sr - sr0) * math.sqrt(n_obs - 1) / math.sqrt(denom))


def moments(rets: np.ndarray) -> tuple[float, float, float]:
    """(per-bar Sharpe, skewness, kurtosis) of a return series (population moments)."""
    sd = float(np.std(rets))
    if sd == 0:
        return 0.0, 0.0, 3.0
    z = (rets - rets.mean()) / sd
    return float(rets.mean() / sd), float(np.mean(z ** 3)), float(np.mean(z ** 4))


def dsr_of_best(returns: np.ndarray) -> dict[str, float]:
    """The deflated Sharpe of the best column of ``returns`` (bars × variants), every column counted as a trial."""
    stats = [moments(returns[:, j]) for j in range(returns.shape[1])]
    srs = np.array([s[0] for s in stats])
    best = int(np.argmax(srs))
    sr0 = expected_max_sharpe(float(np.var(srs, ddof=1)) if len(srs) > 1 else 0.0, len(srs))
    sr, skew, kurt = stats[best]
    return {"best": best, "trials": len(srs), "sharpe_per_bar": sr, "expected_max_sharpe_per_bar": sr0,
            "deflated_sharpe": deflated_sharpe(sr, returns.shape[0], skew, kurt, sr0)}


def _perf(k: int, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Per-bar Sharpe of each variant from its count, sum and sum of squares (population deviation)."""
    mean = s1 / k
    sd = np.sqrt(np.maximum(s2 / k - mean * mean, 0.0))
    return np.where(sd > 0, mean / np.where(sd > 0, sd, 1), 0.0)


def pbo(returns: np.ndarray, blocks: int = 16) -> dict[str, float]:
    """Probability of backtest overfitting of the variants in ``returns`` (bars × variants) over ``blocks`` blocks."""
    n_bars, n = returns.shape
    if blocks % 2 or blocks < 2 or n < 2:
        raise ValueError("PBO needs an even number of blocks and at least two variants")
    size = n_bars // blocks
    parts = returns[:size * blocks].reshape(blocks, size, n)
    s1, s2 = parts.sum(axis=1), (parts ** 2).sum(axis=1)  # (blocks, variants)
    t1, t2 = s1.sum(axis=0), s2.sum(axis=0)
    k = size * blocks // 2
    lambdas = []
    for ins in itertools.combinations(range(blocks), blocks // 2):
        i1, i2 = s1[list(ins)].sum(axis=0), s2[list(ins)].sum(axis=0)
        star = int(np.argmax(_perf(k, i1, i2)))
        oos = _perf(k, t1 - i1, t2 - i2)
        rank = int(np.sum(oos <= oos[star]))  # 1 = worst … n = best
        omega = rank / (n + 1)
        lambdas.append(math.log(omega / (1 - omega)))
    lam = np.array(lambdas)
    return {"pbo": float(np.mean(lam <= 0)), "splits": len(lam), "blocks": blocks,
            "median_logit": float(np.median(lam))}
