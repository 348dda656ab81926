"""Tax lots, hand-checked: each method on the same three lots, partial lots, fees, terms, opening-lot files."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from agent.planning.lots import (
    LotBook,
    LotError,
    LotMethod,
    TaxRates,
    Term,
    holding_term,
    read_opening_lots,
    summarise_year,
)


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, tzinfo=UTC)


def three_lots(method: LotMethod) -> LotBook:
    """1 ETH at 1000 (2022-01-10), 1 ETH at 3000 (2023-03-01), 1 ETH at 2000 (2023-06-01)."""
    book = LotBook(method=method)
    book.buy(asset="ETH", at=at(2022, 1, 10), quantity=D(1), usd=D(1000), lot_id="a")
    book.buy(asset="ETH", at=at(2023, 3, 1), quantity=D(1), usd=D(3000), lot_id="b")
    book.buy(asset="ETH", at=at(2023, 6, 1), quantity=D(1), usd=D(2000), lot_id="c")
    return book


SALE = {"asset": "ETH", "at": at(2023, 9, 1), "quantity": D("1.5"), "usd": D(3750)}  # 2500 per ETH


@pytest.mark.parametrize(("method", "lots", "gain"), [
    # FIFO: a (1000, long) + half of b (1500): proceeds 2500 + 1250 -> 1500 - 250
    (LotMethod.FIFO, ["a", "b"], D(1250)),
    # LIFO: c (2000) + half of b (1500): 500 - 250
    (LotMethod.LIFO, ["c", "b"], D(250)),
    # HIFO: b (3000) + half of c (1000): -500 + 250
    (LotMethod.HIFO, ["b", "c"], D(-250)),
    # min-tax at 2500: b is a loss (-500 x short rate) first, then c (+500 short), a (+1500 long) last
    (LotMethod.MIN_TAX, ["b", "c"], D(-250)),
])
def test_each_method_consumes_the_lots_it_names(method: LotMethod, lots: list[str], gain: D) -> None:
    disposals = three_lots(method).sell(**SALE)
    assert [d.lot_id for d in disposals] == lots
    assert sum(d.gain_usd for d in disposals) == gain


def test_a_partial_lot_keeps_the_rest_at_its_unit_cost() -> None:
    book = three_lots(LotMethod.FIFO)
    book.sell(**SALE)
    rest = {lot.lot_id: (lot.quantity, lot.cost_usd) for lot in book.lots["ETH"]}
    assert rest == {"b": (D("0.5"), D(1500)), "c": (D(1), D(2000))}


def test_fees_raise_the_cost_of_a_buy_and_cut_the_proceeds_of_a_sell() -> None:
    book = LotBook()
    book.buy(asset="WBTC", at=at(2024, 1, 1), quantity=D(2), usd=D(80000), fee_usd=D(40), lot_id="x")
    [d] = book.sell(asset="WBTC", at=at(2024, 2, 1), quantity=D(1), usd=D(45000), fee_usd=D(30))
    assert (d.cost_usd, d.proceeds_usd, d.gain_usd) == (D(40020), D(44970), D(4950))


def test_min_tax_prefers_a_long_term_gain_to_a_short_term_one_of_the_same_size() -> None:
    book = LotBook(method=LotMethod.MIN_TAX, rates=TaxRates(short=D("0.4"), long=D("0.15")))
    book.buy(asset="ETH", at=at(2023, 8, 1), quantity=D(1), usd=D(1000), lot_id="short")
    book.buy(asset="ETH", at=at(2022, 1, 1), quantity=D(1), usd=D(1000), lot_id="long")
    [d] = book.sell(asset="ETH", at=at(2024, 1, 2), quantity=D(1), usd=D(2000))
    assert (d.lot_id, d.term) == ("long", Term.LONG)


@pytest.mark.parametrize(("bought", "sold", "term"), [
    (at(2023, 1, 31), at(2024, 1, 31), Term.SHORT),  # exactly one year: not more than one year
    (at(2023, 1, 31), at(2024, 2, 1), Term.LONG),
    (at(2024, 2, 29), at(2025, 3, 1), Term.SHORT),  # leap day rolls its anniversary to 1 March
    (at(2024, 2, 29), at(2025, 3, 2), Term.LONG),
])
def test_holding_term_counts_more_than_one_year(bought: datetime, sold: datetime, term: Term) -> None:
    assert holding_term(bought, sold) is term


def test_selling_more_than_the_lots_hold_names_the_fix_and_changes_nothing() -> None:
    book = three_lots(LotMethod.FIFO)
    with pytest.raises(LotError, match="import the opening lots"):
        book.sell(asset="ETH", at=at(2024, 1, 1), quantity=D(4), usd=D(8000))
    assert book.held("ETH") == D(3)


def test_an_estimate_leaves_the_book_unchanged_and_values_the_tax() -> None:
    book = three_lots(LotMethod.FIFO)
    estimate = book.estimate_sale(**SALE)
    # a: +1500 long at 20% = 300; half of b: -250 short at 37% = -92.5
    assert estimate.tax_usd == D("207.5")
    assert book.held("ETH") == D(3)


def test_year_summary_splits_short_and_long_term_gains() -> None:
    book = three_lots(LotMethod.FIFO)
    disposals = book.sell(**SALE)
    disposals += book.sell(asset="ETH", at=at(2024, 3, 1), quantity=D("0.5"), usd=D(2000))
    y2023 = summarise_year(disposals, 2023)
    assert (y2023.short_term_gain_usd, y2023.long_term_gain_usd) == (D(-250), D(1500))
    assert summarise_year(disposals, 2024).total_gain_usd == D(500)  # half of b: 2000 - 1500


def test_opening_lots_are_read_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "lots.csv"
    path.write_text("asset,acquired_at,quantity,cost_usd\neth,2021-05-01,2,5000\nWBTC,2020-03-12T00:00:00+00:00,0.1,500\n")
    lots = read_opening_lots(path)
    assert [(lot.asset, lot.quantity, lot.cost_usd) for lot in lots] == [("ETH", D(2), D(5000)),
                                                                         ("WBTC", D("0.1"), D(500))]
    assert all(lot.acquired_at.tzinfo is not None for lot in lots)


@pytest.mark.parametrize(("text", "fragment"), [
    ("asset,quantity\nETH,1\n", "header must name"),
    ("asset,acquired_at,quantity,cost_usd\nETH,yesterday,1,100\n", "line 2"),
    ("asset,acquired_at,quantity,cost_usd\nETH,2021-01-01,-1,100\n", "quantity must be > 0"),
    ("asset,acquired_at,quantity,cost_usd\nETH,2021-01-01,NaN,100\n", "quantity must be > 0"),
])
def test_a_bad_opening_lots_file_is_one_clear_error(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "lots.csv"
    path.write_text(text)
    with pytest.raises(LotError, match=fragment):
        read_opening_lots(path)
