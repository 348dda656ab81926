"""After-tax results of a backtest run, through the same tax lots the agent keeps live (``agent.planning.lots``).

The opening allocation opens one lot per risky asset at the first bar's close (the engine buys it without cost); each
rebalance's legs then trade at that bar's close as the engine traded them: a sell of ``usd`` consumes lots by the
method (proceeds ``usd`` less the leg's cost), a buy of ``usd`` opens a lot of ``(usd - cost) / price`` units costing
``usd``. Stablecoins are cash and open no lots. Realised gains are taxed per calendar year at the short- and long-term
rates (``TaxRates``: 37 % / 20 % by default); a year's net loss is carried forward against later years' tax. The tax is
taken out of the final value (not out of the portfolio when due: the compounding it would forgo is not modelled), and
``liquidation_after_tax_usd`` also pays the tax on the gains still unrealised at the end (everything sold at the last
close), so buy and hold and an active strategy compare on the same footing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from agent.planning.lots import Disposal, LotBook, LotMethod, TaxRates, Term, holding_term

ZERO = Decimal(0)


def _d(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def _at(day: date) -> datetime:
    return day if isinstance(day, datetime) else datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True)
class TaxedTrade:
    """One leg as the engine traded it: at ``price`` (the bar's close), ``usd`` gross, ``cost_usd`` of costs."""

    day: date
    asset: str
    side: str  # "sell" | "buy"
    usd: float
    cost_usd: float
    price: float


def yearly_tax(disposals: Sequence[Disposal], rates: TaxRates) -> tuple[dict[int, dict[str, float]], Decimal]:
    """Per year the short/long-term gains and the tax paid (after losses carried forward); the credit left over."""
    years: dict[int, dict[str, Decimal]] = {}
    for d in disposals:
        y = years.setdefault(d.disposed_at.year, {"short": ZERO, "long": ZERO})
        y["short" if d.term is Term.SHORT else "long"] += d.gain_usd
    out, credit = {}, ZERO
    for year in sorted(years):
        g = years[year]
        due = g["short"] * rates.short + g["long"] * rates.long - credit
        paid = max(due, ZERO)
        credit = max(-due, ZERO)
        out[year] = {"short_term_gain_usd": round(float(g["short"]), 2),
                     "long_term_gain_usd": round(float(g["long"]), 2), "tax_usd": round(float(paid), 2)}
    return out, credit


def after_tax(*, trades: Sequence[TaxedTrade], opening: Mapping[str, tuple[float, float]], start: date, end: date,
              final_usd: float, last_close: Mapping[str, float], stables: frozenset[str],
              method: LotMethod = LotMethod.FIFO, rates: TaxRates | None = None) -> dict[str, Any]:
    """``opening``: asset -> (units, price) bought at ``start``; ``trades`` in time order; ``last_close`` prices the
    lots still open at ``end``."""
    rates = rates or TaxRates()
    book = LotBook(method=method, rates=rates)
    for asset, (units, price) in opening.items():
        if asset not in stables and units > 0:
            book.buy(asset=asset, at=_at(start), quantity=_d(units), usd=_d(units * price))
    disposals: list[Disposal] = []
    for t in trades:
        price = t.price
        if t.asset in stables or price <= 0:
            continue
        if t.side == "sell":
            qty = min(_d(t.usd / price), book.held(t.asset))  # never more than the lots hold (float rounding)
            if qty > 0:
                disposals += book.sell(asset=t.asset, at=_at(t.day), quantity=qty, usd=_d(t.usd),
                                       fee_usd=_d(t.cost_usd))
        elif t.usd > t.cost_usd:
            book.buy(asset=t.asset, at=_at(t.day), quantity=_d((t.usd - t.cost_usd) / price), usd=_d(t.usd))
    by_year, credit = yearly_tax(disposals, rates)
    tax = sum((Decimal(repr(y["tax_usd"])) for y in by_year.values()), ZERO)
    unrealised_tax = ZERO
    for asset, lots in book.lots.items():
        price = last_close.get(asset, 0.0)
        for lot in lots:
            gain = _d(float(lot.quantity) * price) - lot.cost_usd
            unrealised_tax += gain * rates.of(_term(lot.acquired_at, end))
    liquidation = max(unrealised_tax - credit, ZERO) if unrealised_tax > 0 else ZERO
    return {"method": str(method), "short_rate": float(rates.short), "long_rate": float(rates.long),
            "short_term_gain_usd": round(sum(y["short_term_gain_usd"] for y in by_year.values()), 2),
            "long_term_gain_usd": round(sum(y["long_term_gain_usd"] for y in by_year.values()), 2),
            "tax_usd": round(float(tax), 2), "final_after_tax_usd": round(final_usd - float(tax), 2),
            "liquidation_after_tax_usd": round(final_usd - float(tax) - float(liquidation), 2),
            "loss_carried_forward_usd": round(float(credit), 2), "by_year": by_year}


def _term(acquired: datetime, end: date) -> Term:
    return holding_term(acquired, _at(end))


def run_after_tax(run: Any, market: Any, spec: Any, method: LotMethod = LotMethod.FIFO,
                  rates: TaxRates | None = None) -> dict[str, Any]:
    """``after_tax`` of one backtest ``Run`` (``agent.research.backtest``) on its market row and window."""
    closes = market.closes[spec.path if market.closes.shape[0] > 1 else 0]
    lo = spec.start
    cols = [j for j, a in enumerate(market.assets) if a in spec.targets]
    stables = frozenset(a for j, a in enumerate(market.assets) if market.stables[j])
    initial = run.values[0]
    opening = {market.assets[j]: (initial * spec.targets[market.assets[j]] / 100 / float(closes[lo, j]),
                                  float(closes[lo, j])) for j in cols}
    index = {a: j for j, a in enumerate(market.assets)}
    trades = []
    for e in run.events:
        bar = e.bar if e.bar is not None else lo
        for g in e.legs:
            trades.append(TaxedTrade(e.day, g.asset, g.side, g.usd, g.cost_usd, float(closes[bar, index[g.asset]])))
    end_bar = lo + len(run.values) - 1
    return after_tax(trades=trades, opening=opening, start=run.dates[0], end=run.dates[-1], final_usd=run.values[-1],
                     last_close={a: float(closes[end_bar, index[a]]) for a in spec.targets if a in index},
                     stables=stables, method=method, rates=rates)


__all__ = ["TaxedTrade", "after_tax", "run_after_tax", "yearly_tax"]
