"""Tax lots: every buy opens a lot at its USD cost, every sell consumes lots by a method (pure, no I/O).

``FIFO`` oldest first, ``LIFO`` newest first, ``HIFO`` highest unit cost first, ``min-tax`` the lots whose
sale costs the least tax at the sale price first (losses before gains, long-term gains before short-term
ones at the default rates). Fees are part of the cost of a buy and are deducted from the proceeds of a sell,
spread over the lots it consumes in proportion to quantity. A holding is long-term when it is sold after
the first anniversary of its purchase (held more than one year).

The same book runs on the journal's executed trades (``rebalancer tax``), in the backtest and in the
tax-aware planner (:func:`estimate_sale`), so the three cannot disagree.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

ZERO = Decimal(0)
#: Default marginal rates for ``min-tax`` ordering and tax estimates (override per user: TAX_*_RATE).
DEFAULT_SHORT_RATE = Decimal("0.37")
DEFAULT_LONG_RATE = Decimal("0.20")
OPENING_LOT_COLUMNS = ("asset", "acquired_at", "quantity", "cost_usd")


class LotMethod(StrEnum):
    FIFO = "fifo"
    LIFO = "lifo"
    HIFO = "hifo"
    MIN_TAX = "min-tax"


class Term(StrEnum):
    SHORT = "short"
    LONG = "long"


class LotError(ValueError):
    """A sell the lots cannot cover, or an opening-lots file that does not parse."""


@dataclass(frozen=True)
class Lot:
    lot_id: str
    asset: str
    acquired_at: datetime
    quantity: Decimal
    cost_usd: Decimal  # total, fees included

    @property
    def unit_cost(self) -> Decimal:
        return self.cost_usd / self.quantity


@dataclass(frozen=True)
class Disposal:
    """One lot (or part of one) consumed by a sell."""

    lot_id: str
    asset: str
    acquired_at: datetime
    disposed_at: datetime
    quantity: Decimal
    cost_usd: Decimal
    proceeds_usd: Decimal
    term: Term

    @property
    def gain_usd(self) -> Decimal:
        return self.proceeds_usd - self.cost_usd


@dataclass(frozen=True)
class TaxRates:
    short: Decimal = DEFAULT_SHORT_RATE
    long: Decimal = DEFAULT_LONG_RATE

    def of(self, term: Term) -> Decimal:
        return self.short if term is Term.SHORT else self.long


def holding_term(acquired_at: datetime, disposed_at: datetime) -> Term:
    """Long-term when sold after the first anniversary of the purchase (29 February rolls to 1 March)."""
    start = acquired_at.date()
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:
        anniversary = date(start.year + 1, 3, 1)
    return Term.LONG if disposed_at.date() > anniversary else Term.SHORT


def _order(lots: list[Lot], method: LotMethod, *, at: datetime, unit_price: Decimal, rates: TaxRates) -> list[Lot]:
    if method is LotMethod.FIFO:
        return sorted(lots, key=lambda lot: (lot.acquired_at, lot.lot_id))
    if method is LotMethod.LIFO:
        return sorted(lots, key=lambda lot: (lot.acquired_at, lot.lot_id), reverse=True)
    if method is LotMethod.HIFO:
        return sorted(lots, key=lambda lot: (-lot.unit_cost, lot.acquired_at, lot.lot_id))

    def tax_per_unit(lot: Lot) -> Decimal:
        return (unit_price - lot.unit_cost) * rates.of(holding_term(lot.acquired_at, at))

    return sorted(lots, key=lambda lot: (tax_per_unit(lot), lot.acquired_at, lot.lot_id))


@dataclass
class LotBook:
    """Open lots per asset. ``buy`` opens a lot, ``sell`` consumes lots and returns the disposals."""

    method: LotMethod = LotMethod.FIFO
    rates: TaxRates = field(default_factory=TaxRates)
    lots: dict[str, list[Lot]] = field(default_factory=dict)
    _counter: int = 0

    def open_lot(self, lot: Lot) -> None:
        if lot.quantity <= 0:
            raise LotError(f"lot {lot.lot_id}: quantity must be positive, got {lot.quantity}")
        self.lots.setdefault(lot.asset, []).append(lot)

    def buy(self, *, asset: str, at: datetime, quantity: Decimal, usd: Decimal, fee_usd: Decimal = ZERO,
            lot_id: str | None = None) -> Lot:
        self._counter += 1
        lot = Lot(lot_id=lot_id or f"{asset}-{self._counter}", asset=asset, acquired_at=at, quantity=quantity,
                  cost_usd=usd + fee_usd)
        self.open_lot(lot)
        return lot

    def held(self, asset: str) -> Decimal:
        return sum((lot.quantity for lot in self.lots.get(asset, [])), ZERO)

    def sell(self, *, asset: str, at: datetime, quantity: Decimal, usd: Decimal, fee_usd: Decimal = ZERO,
             method: LotMethod | None = None) -> list[Disposal]:
        disposals, remaining = self._match(asset, at=at, quantity=quantity, usd=usd, fee_usd=fee_usd,
                                           method=method or self.method)
        self.lots[asset] = remaining
        return disposals

    def _match(self, asset: str, *, at: datetime, quantity: Decimal, usd: Decimal, fee_usd: Decimal,
               method: LotMethod) -> tuple[list[Disposal], list[Lot]]:
        if quantity <= 0:
            raise LotError(f"sell of {asset}: quantity must be positive, got {quantity}")
        held = self.held(asset)
        if quantity > held:
            raise LotError(f"sell of {quantity} {asset} on {at:%Y-%m-%d} but the lots hold only {held}: import "
                           "the opening lots (TAX_OPENING_LOTS or rebalancer tax --lots FILE.csv, columns "
                           f"{','.join(OPENING_LOT_COLUMNS)})")
        net_per_unit = (usd - fee_usd) / quantity
        ordered = _order(self.lots.get(asset, []), method, at=at, unit_price=usd / quantity, rates=self.rates)
        disposals: list[Disposal] = []
        remaining: list[Lot] = []
        left = quantity
        for lot in ordered:
            if left <= 0:
                remaining.append(lot)
                continue
            take = min(left, lot.quantity)
            cost = lot.cost_usd if take == lot.quantity else lot.unit_cost * take
            disposals.append(Disposal(lot_id=lot.lot_id, asset=asset, acquired_at=lot.acquired_at, disposed_at=at,
                                      quantity=take, cost_usd=cost, proceeds_usd=net_per_unit * take,
                                      term=holding_term(lot.acquired_at, at)))
            if take < lot.quantity:
                remaining.append(replace(lot, quantity=lot.quantity - take, cost_usd=lot.cost_usd - cost))
            left -= take
        remaining.sort(key=lambda lot: (lot.acquired_at, lot.lot_id))
        return disposals, remaining

    def estimate_sale(self, *, asset: str, at: datetime, quantity: Decimal, usd: Decimal,
                      fee_usd: Decimal = ZERO) -> SaleEstimate:
        """What selling would realise and cost in tax, without changing the book (the tax-aware planner)."""
        disposals, _ = self._match(asset, at=at, quantity=quantity, usd=usd, fee_usd=fee_usd, method=self.method)
        tax = sum((d.gain_usd * self.rates.of(d.term) for d in disposals), ZERO)
        return SaleEstimate(disposals=tuple(disposals), tax_usd=tax)


@dataclass(frozen=True)
class SaleEstimate:
    disposals: tuple[Disposal, ...]
    #: tax due (negative: a loss that offsets other gains, valued at the same rates)
    tax_usd: Decimal

    @property
    def gain_usd(self) -> Decimal:
        return sum((d.gain_usd for d in self.disposals), ZERO)


@dataclass(frozen=True)
class YearSummary:
    year: int
    short_term_gain_usd: Decimal
    long_term_gain_usd: Decimal
    disposals: tuple[Disposal, ...]

    @property
    def total_gain_usd(self) -> Decimal:
        return self.short_term_gain_usd + self.long_term_gain_usd


def summarise_year(disposals: Iterable[Disposal], year: int) -> YearSummary:
    chosen = tuple(d for d in disposals if d.disposed_at.year == year)
    short = sum((d.gain_usd for d in chosen if d.term is Term.SHORT), ZERO)
    long_ = sum((d.gain_usd for d in chosen if d.term is Term.LONG), ZERO)
    return YearSummary(year=year, short_term_gain_usd=short, long_term_gain_usd=long_, disposals=chosen)


def read_opening_lots(path: Path) -> list[Lot]:
    """Opening lots from a CSV with the header ``asset,acquired_at,quantity,cost_usd`` (ISO dates)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LotError(f"opening lots {path}: cannot read it ({exc.__class__.__name__}); give a UTF-8 CSV file") \
            from None
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or set(OPENING_LOT_COLUMNS) - set(rows[0]):
        raise LotError(f"opening lots {path}: the header must name {','.join(OPENING_LOT_COLUMNS)}")
    lots = []
    for number, row in enumerate(rows, start=2):
        try:
            acquired = datetime.fromisoformat(row["acquired_at"])
            acquired = acquired if acquired.tzinfo else acquired.replace(tzinfo=UTC)
            lot = Lot(lot_id=f"open-{number - 1}", asset=row["asset"].strip().upper(), acquired_at=acquired,
                      quantity=Decimal(row["quantity"]), cost_usd=Decimal(row["cost_usd"]))
        except (ValueError, ArithmeticError) as exc:
            raise LotError(f"opening lots {path} line {number}: {exc}; write e.g. ETH,2023-01-31,1.5,2400") from None
        if not (lot.quantity.is_finite() and lot.cost_usd.is_finite()) or lot.quantity <= 0 or lot.cost_usd < 0:
            raise LotError(f"opening lots {path} line {number}: quantity must be > 0 and cost_usd >= 0")
        lots.append(lot)
    return lots
