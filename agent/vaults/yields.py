"""Measured vault yield: share-price samples over a window → annualised growth and drop from the peak (pure).

A sample is the vault's share price (underlying units per share, from ``convertToAssets``) at a block's
timestamp. The yield is the compounded annual rate implied by the growth from the oldest to the newest
sample inside the window; a share price below the window's earlier peak is a loss and flags the vault.
Timestamps are the chain's block timestamps, so a chain whose clock runs ahead (anvil time travel) is
measured on its own clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

FROZEN = ConfigDict(frozen=True, extra="forbid")
SECONDS_PER_YEAR = 365 * 86400
BPS = Decimal(10_000)
#: Relative drops smaller than this are conversion rounding, not a loss.
LOSS_EPSILON = Decimal("1e-9")


class VaultSample(BaseModel):
    model_config = FROZEN

    chain: str
    vault: str
    block: int
    timestamp: int
    assets_per_share: Decimal
    total_assets_raw: int | None = None


class YieldMeasure(BaseModel):
    """What the samples of one vault say. ``apy`` is a fraction (0.05 = 5 %/year), ``None`` when the
    samples span less than the minimum."""

    model_config = FROZEN

    samples: int
    span_s: int
    apy: Decimal | None
    last_assets_per_share: Decimal | None
    peak_assets_per_share: Decimal | None
    drop_bps: Decimal

    @property
    def falling(self) -> bool:
        return self.drop_bps > LOSS_EPSILON * BPS


def measure_yield(samples: Iterable[VaultSample], window: timedelta, *,
                  min_span: timedelta | None = None) -> YieldMeasure:
    """Yield and loss over the ``window`` ending at the newest sample.

    ``min_span`` (default: a 24th of the window) is the shortest time between the oldest and newest sample
    that gives a yield; a shorter span would annualise noise.
    """
    ordered = sorted(samples, key=lambda s: (s.timestamp, s.block))
    if not ordered:
        return YieldMeasure(samples=0, span_s=0, apy=None, last_assets_per_share=None, peak_assets_per_share=None,
                            drop_bps=Decimal(0))
    last = ordered[-1]
    start = last.timestamp - int(window.total_seconds())
    inside = [s for s in ordered if s.timestamp >= start]
    first = inside[0]
    span = last.timestamp - first.timestamp
    earlier = [s.assets_per_share for s in inside[:-1]]
    peak = max(earlier, default=last.assets_per_share)
    drop = (peak - last.assets_per_share) / peak * BPS if peak > 0 and last.assets_per_share < peak else Decimal(0)
    needed = (min_span or window / 24).total_seconds()
    apy = None
    if span > 0 and span >= needed and first.assets_per_share > 0 and last.assets_per_share > 0:
        apy = _annualise(last.assets_per_share / first.assets_per_share, span)
    return YieldMeasure(samples=len(inside), span_s=span, apy=apy, last_assets_per_share=last.assets_per_share,
                        peak_assets_per_share=max(peak, last.assets_per_share), drop_bps=drop)


def _annualise(growth: Decimal, span_s: int) -> Decimal:
    """Compounded yearly rate for ``growth`` over ``span_s`` seconds, bounded to keep it printable."""
    exponent = math.log(float(growth)) * SECONDS_PER_YEAR / span_s
    rate = math.expm1(min(exponent, 50.0))
    return Decimal(repr(rate)).quantize(Decimal("1e-8"))
