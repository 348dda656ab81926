"""The research data files (prices, gas), read through one function so their home can move in one line.

Every loader here opens its file with ``data_file(name)``; the files live in the repository's ``data/`` (provenance in
``data/SOURCES.md``). Stablecoins are marked at 1 USD by default (``stable_price="peg"``): their daily closes are a
noisy quote of the peg (USDC 0.970–1.044 before 2021), not a price the portfolio could trade at; ``"market"`` keeps
the data's close.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

from agent.errors import ConfigError
from agent.resources import resource_dir

DATA_DIR = resource_dir("data")
DAILY_PRICES = "prices_daily_2014-2025.csv"
HOURLY_PRICES = "prices_hourly_btc_eth_2018-05_2022-02.csv"
DAILY_GAS = "eth_gas_price_daily_2015-2025.csv"
#: token symbols of the chain configs whose price is the data set's asset
ALIASES = {"WETH": "ETH", "WBTC": "BTC", "CBBTC": "BTC", "USDC.E": "USDC", "USDBC": "USDC", "POL": "MATIC",
           "WMATIC": "MATIC", "WAVAX": "AVAX"}
STABLES = ("USDC", "USDT", "DAI")


def data_file(name: str) -> IO[str]:
    """Open one research data file for reading (the single place that knows where they live)."""
    return open(DATA_DIR / name, newline="")


def price_symbol(symbol: str) -> str:
    return ALIASES.get(symbol.upper(), symbol.upper())


@dataclass(frozen=True)
class PriceTable:
    """Closes (USD) of some assets on every bar of a range (no gaps): days, or hours with ``interval="1h"``."""

    dates: tuple[date, ...]
    closes: dict[str, tuple[float, ...]]
    interval: str = "1d"
    source: str = DAILY_PRICES
    warnings: tuple[str, ...] = field(default=())
    #: the user's file (``--prices``): its absolute path, the rows read and ``--fill-gaps`` (None: bundled data)
    path: str | None = None
    rows_read: int | None = None
    fill_gaps: str | None = None

    @property
    def bars_per_year(self) -> float:
        return 365.0 if self.interval == "1d" else 365.0 * 24

    @property
    def hours_per_bar(self) -> float:
        return 24.0 if self.interval == "1d" else 1.0


def _read(name: str, wanted: set[str], key: str) -> tuple[dict[str, dict[date, float]], dict[str, date]]:
    """(closes of the wanted assets by bar, the last bar of every asset in the file)."""
    rows: dict[str, dict[date, float]] = {a: {} for a in wanted}
    have: dict[str, date] = {}
    parse = date.fromisoformat if key == "date" else (lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")))
    with data_file(name) as fh:
        for r in csv.DictReader(fh):
            bar = parse(r[key])
            have[r["asset"]] = max(bar, have.get(r["asset"], bar))
            if r["asset"] in wanted:
                rows[r["asset"]][bar] = float(r["close"])
    return rows, have


def load_prices(symbols: Sequence[str], start: date | None, end: date | None, *, interval: str | None = "1d",
                stable_price: str = "peg", prices: Path | None = None, fill_gaps: str | None = None) -> PriceTable:
    """The closes of ``symbols`` (target symbols; aliases resolved) over [start, end]; None: the widest range all of
    them cover (with a warning when an asset's data ends before the data set does). ``ConfigError`` naming
    ``--from``/``--to``/``TARGETS`` when the data does not cover it.

    ``prices``: the user's CSV instead of the bundled file (``agent.research.userprices``; ``interval`` None: the
    file's); ``fill_gaps="forward"`` carries the last close over bars the file lacks (else a gap is an error)."""
    if stable_price not in ("peg", "market"):
        raise ConfigError(f"--stable-price: {stable_price!r} is not peg or market")
    if fill_gaps not in (None, "forward"):
        raise ConfigError(f"--fill-gaps: {fill_gaps!r} is not forward; write --fill-gaps forward")
    if fill_gaps is not None and prices is None:
        raise ConfigError("--fill-gaps: the bundled prices have no gaps; use it with --prices FILE")
    wanted = {price_symbol(s) for s in symbols}
    rows_read = None
    if prices is not None:
        from agent.research.userprices import read_price_file

        got = read_price_file(prices, wanted, interval=interval, resolve=ALIASES)
        rows, have, interval, name, rows_read = got.closes, got.last, got.interval, got.name, got.rows
    else:
        interval = interval or "1d"
        if interval not in ("1d", "1h"):
            raise ConfigError(f"--interval: {interval!r} is not 1d or 1h")
        name = DAILY_PRICES if interval == "1d" else HOURLY_PRICES
        rows, have = _read(name, wanted, "date" if interval == "1d" else "timestamp")
    missing = sorted(a for a, v in rows.items() if not v)
    if missing:
        raise ConfigError(f"TARGETS: no {'daily' if interval == '1d' else 'hourly'} prices for {', '.join(missing)}; "
                          f"the data has {', '.join(sorted(have))} (WETH/WBTC/… map to ETH/BTC/…)")
    bars = _range(rows, start, end, interval, name if prices is not None else None)
    warnings = _early_ends(rows, max(have.values()), bars[-1])
    if prices is not None:
        priced = {a: v for a, v in rows.items() if not (stable_price == "peg" and a in STABLES)}
        warnings = _gaps(priced, bars, name, fill_gaps) + warnings
    closes = {a: tuple(1.0 if stable_price == "peg" and a in STABLES else rows[a][d] for d in bars)
              for a in sorted(wanted)}
    return PriceTable(dates=bars, closes=closes, interval=interval, source=name, warnings=warnings,
                      path=str(prices.resolve()) if prices is not None else None, rows_read=rows_read,
                      fill_gaps=fill_gaps)


def _range(rows: dict[str, dict[date, float]], start: date | None, end: date | None, interval: str,
           file: str | None) -> tuple[date, ...]:
    """Every bar of [start, end] (default: the span every asset covers); ``ConfigError`` naming the bound."""
    step = timedelta(days=1) if interval == "1d" else timedelta(hours=1)
    first = max(min(v) for v in rows.values())
    last = min(max(v) for v in rows.values())
    spans = ", ".join(f"{a} {_day(min(v))}..{_day(max(v))}" for a, v in sorted(rows.items()))
    lo = _bar(start, interval) if start else first
    hi = _bar(end, interval, last_of_day=True) if end else last
    if file is not None and start is None and end is None and hi - lo < step:
        raise ConfigError(f"--prices: {file} has {'one bar' if hi == lo else 'no bar'} where every target asset has "
                          f"a close ({spans}); a backtest needs at least two: add rows or change --targets")
    if lo < first:
        raise ConfigError(f"--from: {_day(lo)} is before every target asset has prices (from {_day(first)}: {spans});"
                          f" use --from {_day(first)} or later")
    if hi > last:
        raise ConfigError(f"--to: {_day(hi)} is after the last day with prices for every target asset "
                          f"({_day(last)}); use --to {_day(last)} or earlier")
    if hi - lo < step:
        raise ConfigError(f"--from/--to: the range {_day(lo)}..{_day(hi)} must span at least two bars")
    n = int((hi - lo) / step) + 1
    return tuple(lo + i * step for i in range(n))


def _gaps(rows: dict[str, dict[date, float]], bars: tuple[date, ...], file: str,
          fill: str | None) -> tuple[str, ...]:
    """Refuse a bar without a close inside the range, or (``fill="forward"``) give it the last close before it."""
    filled: dict[str, tuple[int, date]] = {}
    for a, v in sorted(rows.items()):
        holes = [d for d in bars if d not in v]
        if not holes:
            continue
        if fill is None:
            raise ConfigError(f"--prices: {file}: {a} has no close for {_day(holes[0])} ({len(holes)} bar"
                              f"{'s' if len(holes) > 1 else ''} missing in {_day(bars[0])}..{_day(bars[-1])}); "
                              "add the rows, narrow --from/--to, or pass --fill-gaps forward to carry the last "
                              "close forward")
        known = sorted(v)
        for d in holes:
            v[d] = v[known[bisect.bisect_right(known, d) - 1]]
        filled[a] = (len(holes), holes[0])
    if not filled:
        return ()
    total = sum(n for n, _ in filled.values())
    each = ", ".join(f"{a} {n} from {_day(d)}" for a, (n, d) in filled.items())
    return (f"--fill-gaps forward: carried the last close forward on {total} bar{'s' if total > 1 else ''} "
            f"of {file} ({each})",)


class ClosesShort(ConfigError):
    """An extra asset's closes in the user's file do not cover the range (``short`` says by how much)."""

    def __init__(self, message: str, short: str) -> None:
        super().__init__(message)
        self.short = short


def file_closes(table: PriceTable, symbol: str, why: str) -> tuple[float, ...]:
    """``symbol``'s closes on the bars of a table read from the user's file (the gas token's, BTC for its benchmark:
    not targets, so they do not narrow the range); ``userprices.AssetsMissing`` when the file has none, a
    ``ClosesShort`` saying ``why`` they are needed when they do not cover every bar."""
    from agent.research.userprices import read_price_file

    assert table.path is not None
    got = read_price_file(Path(table.path), {symbol}, interval=table.interval, resolve=ALIASES)
    v = got.closes[symbol]
    if min(v) > table.dates[0] or max(v) < table.dates[-1]:
        short = (f"{symbol}'s closes in {got.name} cover only {_day(min(v))}..{_day(max(v))}, not "
                 f"{_day(table.dates[0])}..{_day(table.dates[-1])}")
        raise ClosesShort(f"--prices: {why}: {short}; add {symbol} closes or narrow --from/--to", short)
    holes = [d for d in table.dates if d not in v]
    if holes and table.fill_gaps is None:
        short = (f"{symbol} has no close for {_day(holes[0])} in {got.name} ({len(holes)} bar"
                 f"{'s' if len(holes) > 1 else ''} missing)")
        raise ClosesShort(f"--prices: {why}: {short}; add the rows or pass --fill-gaps forward", short)
    _gaps({symbol: v}, table.dates, got.name, table.fill_gaps)
    return tuple(v[d] for d in table.dates)


def _early_ends(rows: dict[str, dict[date, float]], latest: date, hi: date) -> tuple[str, ...]:
    """A line per target asset whose data ends before the data set's and inside the range (the range stops there)."""
    ends = {a: max(v) for a, v in rows.items()}
    return tuple(f"{a}'s data ends {_day(e)} (the data set runs to {_day(latest)}): the backtest stops there"
                 for a, e in sorted(ends.items()) if e < latest and e <= hi)


def _bar(d: date, interval: str, *, last_of_day: bool = False) -> date:
    if interval == "1d":
        return d if not isinstance(d, datetime) else d.date()
    base = datetime(d.year, d.month, d.day, tzinfo=UTC)
    return base + timedelta(hours=23) if last_of_day else base


def _day(d: date) -> str:
    return d.isoformat() if not isinstance(d, datetime) else d.strftime("%Y-%m-%dT%H:%MZ")


def load_gas_gwei() -> tuple[list[date], list[float]]:
    days, gwei = [], []
    with data_file(DAILY_GAS) as fh:
        for r in csv.DictReader(fh):
            days.append(date.fromisoformat(r["date"]))
            gwei.append(int(r["avg_gas_price_wei"]) / 1e9)
    return days, gwei


def gas_on(days: list[date], gwei: list[float], bar: date) -> float:
    """The day's average gas price (gwei) of a bar (before the series starts: its first day)."""
    d = bar.date() if isinstance(bar, datetime) else bar
    return gwei[max(0, bisect.bisect_right(days, d) - 1)]
