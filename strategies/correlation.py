"""The correlation monitor: the rolling correlation matrix of the risky assets' daily returns, its average, and
whether that average is at or above the alert threshold (pure: history in, a reading out; no clock, no I/O).

A rebalance sells what rose to buy what fell; that only diversifies while the assets do not move as one. When the
average pairwise correlation over ``CORRELATION_WINDOW_DAYS`` reaches ``CORRELATION_ALERT`` the diversification
the strategy relies on is collapsing: ``status`` shows the reading, the cycle journals a ``correlation_alert`` event
and tells its observers each time the average crosses the threshold (up: ``above``, back down: ``below``). The
stress pause's correlation trigger (``PAUSE_CORRELATION``) reads the same figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from strategies.signals import correlation_matrix, log_returns

#: daily returns an asset needs in the window before a correlation is computed
MIN_RETURNS = 10
DEFAULT_STABLES = frozenset({"USDC", "USDT", "DAI"})


def daily_closes(history: Sequence[tuple[datetime, Any]], days: int, now: datetime) -> dict[date, float]:
    """The last close of each day over the last ``days`` days up to ``now`` (only what is known at ``now``)."""
    by_day: dict[date, float] = {}
    for t, p in history:
        if now - timedelta(days=days + 1) <= t <= now and float(p) > 0:
            by_day[t.date()] = float(p)
    return by_day


def daily_returns(history: Sequence[tuple[datetime, Any]], days: int, now: datetime) -> list[float]:
    """Log returns of the daily closes over the last ``days`` days up to ``now``."""
    by_day = daily_closes(history, days, now)
    return log_returns([by_day[d] for d in sorted(by_day)]) if len(by_day) > 2 else []


@dataclass(frozen=True)
class CorrelationReading:
    average: float
    threshold: float | None
    window_days: int
    #: "A/B" -> correlation of the pair's daily returns over the window
    pairs: dict[str, float]

    @property
    def above(self) -> bool:
        return self.threshold is not None and self.average >= self.threshold

    def as_json(self) -> dict[str, Any]:
        return {"average": round(self.average, 4), "threshold": self.threshold, "window_days": self.window_days,
                "above": self.above, "pairs": {k: round(v, 4) for k, v in self.pairs.items()}}


def read_correlation(history: Mapping[str, Sequence[tuple[datetime, Any]]], assets: Sequence[str], now: datetime, *,
                     window_days: int, threshold: float | None,
                     stables: frozenset[str] = DEFAULT_STABLES) -> CorrelationReading | None:
    """The reading at ``now`` over the risky ``assets``; None with fewer than two of them with enough history."""
    risky = [a for a in assets if a not in stables]
    closes = {a: daily_closes(history.get(a, ()), window_days, now) for a in risky}
    closes = {a: c for a, c in closes.items() if len(c) > MIN_RETURNS}
    if len(closes) < 2:
        return None
    days = sorted(set.intersection(*(set(c) for c in closes.values())))  # returns of the same days, pair by pair
    if len(days) <= MIN_RETURNS:
        return None
    returns = {a: log_returns([c[d] for d in days]) for a, c in closes.items()}
    matrix = correlation_matrix(returns, window_days)
    average = sum(matrix.values()) / len(matrix)
    return CorrelationReading(average=average, threshold=threshold, window_days=window_days,
                              pairs={f"{a}/{b}": v for (a, b), v in matrix.items()})


__all__ = ["CorrelationReading", "daily_returns", "read_correlation"]
