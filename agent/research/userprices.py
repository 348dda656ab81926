"""Closes from the user's own CSV (``rebalancer backtest --prices FILE``) instead of the bundled ``data/`` file.

Two layouts, told apart by the header (names in any case; a UTF-8 BOM, CRLF line ends and extra columns are fine):

* long: a time column, ``asset`` (or ``symbol``) and ``close`` (or ``price``), one row per asset and bar — the
  bundled files' layout (``date,asset,close,source`` daily, ``timestamp,asset,open,high,low,close`` hourly);
* wide: a time column and one column per asset (``date,BTC,ETH,…``); an empty cell is a bar without a close.

The time column is ``timestamp``, ``date``, ``datetime``, ``time`` or ``snapped_at`` (or an unnamed first column,
as pandas writes an index): ``YYYY-MM-DD``, ISO timestamps (``Z``, `` UTC``, an offset, or none = UTC) or unix
seconds (milliseconds when above 10^11). The interval (1d or 1h) follows from the typical (median) spacing of the
bars; rows may come in any order; asset names are matched in any case through the chains' aliases (WETH → ETH, …).
Everything wrong is one ``ConfigError`` naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from agent.errors import ConfigError

TIME_COLUMNS = ("timestamp", "date", "datetime", "time", "snapped_at")
ASSET_COLUMNS = ("asset", "symbol")
CLOSE_COLUMNS = ("close", "price")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
NUMBER_RE = re.compile(r"[+-]?\d+(\.\d*)?")
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
#: a quote or field suffix of an asset's column (``BTC-USD``, ``ETH/USDT``, ``btc_close``) is dropped
QUOTES = ("USD", "USDT", "CLOSE", "PRICE")
#: CoinGecko coin ids (as PRICE_FEED_IDS names them) of the data set's assets
COIN_IDS = {"BITCOIN": "BTC", "WRAPPED-BITCOIN": "BTC", "ETHEREUM": "ETH", "WETH": "ETH", "USD-COIN": "USDC",
            "TETHER": "USDT", "CHAINLINK": "LINK", "UNISWAP": "UNI", "MATIC-NETWORK": "MATIC",
            "POLYGON-ECOSYSTEM-TOKEN": "POL", "AVALANCHE-2": "AVAX", "SOLANA": "SOL"}
FIX_TIME = "write YYYY-MM-DD, an ISO timestamp (2021-05-01T00:00:00Z) or unix seconds"


class AssetsMissing(ConfigError):
    """Wanted assets (``missing``) have no close in the file."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class PriceFile:
    """The wanted assets' closes by bar (a ``date`` daily, an aware UTC ``datetime`` hourly), as read."""

    name: str
    rows: int
    interval: str
    closes: dict[str, dict[date, float]]
    #: the last bar of every asset in the file (wanted or not)
    last: dict[str, date]
    #: the file line of each wanted asset's first bar (for messages)
    lines: dict[str, dict[date, int]] = field(default_factory=dict)


@dataclass
class _Cell:
    line: int
    at: datetime
    daily: date
    asset: str
    text: str


def read_price_file(path: Path, wanted: set[str], *, interval: str | None = None,
                    resolve: dict[str, str] | None = None) -> PriceFile:
    """The closes of ``wanted`` (data-set symbols) in ``path``; ``interval`` given: checked against the file's."""
    aliases = resolve or {}
    name = path.name
    header, body, delimiter = read_csv(path, "--prices", "date,asset,close or date,BTC,ETH")
    cells = list(_cells(name, header, body, aliases, wanted))
    if not cells:
        raise ConfigError(f"--prices: {name} has a header but no rows with a close; add rows under {','.join(header)}")
    found = _interval(name, cells, interval)
    closes: dict[str, dict[date, float]] = {a: {} for a in wanted}
    lines: dict[str, dict[date, int]] = {a: {} for a in wanted}
    last: dict[str, date] = {}
    for c in cells:
        bar = _key(name, c, found)
        last[c.asset] = max(bar, last.get(c.asset, bar))
        if c.asset not in wanted:
            continue
        value = _close(name, c, delimiter)
        seen = closes[c.asset].get(bar)
        if seen is not None and seen != value:
            if lines[c.asset][bar] == c.line:
                raise ConfigError(f"--prices: {name} line {c.line}: two columns are {c.asset} (WETH/WBTC/… count as "
                                  f"ETH/BTC/…) with different closes ({seen:g} and {value:g}); keep one column")
            raise ConfigError(f"--prices: {name} lines {lines[c.asset][bar]} and {c.line}: two different {c.asset} "
                              f"closes for {_show(bar)} ({seen:g} and {value:g}); keep one of the rows")
        closes[c.asset][bar] = value
        lines[c.asset].setdefault(bar, c.line)
    missing = sorted(a for a, v in closes.items() if not v)
    if missing:
        raise AssetsMissing(f"TARGETS: {', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no closes in "
                            f"--prices {name} (it has {_some(sorted(last))}; WETH/WBTC/… count as "
                            f"ETH/BTC/…); add {'it' if len(missing) == 1 else 'them'} to the file or change --targets",
                            tuple(missing))
    return PriceFile(name=name, rows=len(body), interval=found, closes=closes, last=last, lines=lines)


def _some(names: list[str], n: int = 12) -> str:
    """The first ``n`` names, and how many more (a wide file may have hundreds of columns)."""
    if not names:
        return "no asset"
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def read_csv(path: Path, option: str, example: str) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    """(the header's names, lower case; the non-blank rows with their line numbers; the delimiter: ``,``, or the
    ``;``/tab/``|`` the header uses instead, as spreadsheets save with a decimal comma) — or one ``ConfigError``
    naming ``option``."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
            delimiter = max(",;\t|", key=lambda d: (first.count(d), d == ","))
            fh.seek(0)
            if fh.read(1) != "\ufeff":
                fh.seek(0)
            reader = csv.reader(fh, delimiter=delimiter)
            rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except FileNotFoundError:
        raise ConfigError(f"{option}: {path} does not exist; fix the path") from None
    except IsADirectoryError:
        raise ConfigError(f"{option}: {path} is a directory; give a CSV file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{option}: {path.name} is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    except csv.Error as exc:
        raise ConfigError(f"{option}: {path.name} is not a CSV file ({exc}); save it as CSV") from None
    except OSError as exc:
        raise ConfigError(f"{option}: {path} cannot be read ({exc.strerror or exc}); fix the path or its "
                          "permissions") from None
    if not rows:
        raise ConfigError(f"{option}: {path.name} is empty; write a header ({example}) and rows")
    return [c.strip().lower() for c in rows[0][1]], rows[1:], delimiter


def number_text(text: str, delimiter: str) -> str:
    """A number's text; with a delimiter other than a comma, a decimal comma (``2650,5``) is a point."""
    t = text.strip()
    return t.replace(",", ".") if delimiter != "," and "," in t and "." not in t else t


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(n) for n in names if n in header), None)


def _cells(name: str, header: list[str], body: list[tuple[int, list[str]]], aliases: dict[str, str],
           wanted: set[str]) -> Iterator[_Cell]:
    """Every (line, time, asset, close text) of the file, long or wide."""
    t = _column(header, TIME_COLUMNS)
    if t is None and header[0] == "":  # pandas' to_csv of a frame indexed by time: the index column has no name
        t = 0
    if t is None:
        raise ConfigError(f"--prices: {name} line 1: no time column (the header has {', '.join(header)}); name it "
                          "date or timestamp")
    a, c = _column(header, ASSET_COLUMNS), _column(header, CLOSE_COLUMNS)
    if (a is None) != (c is None):
        need = "close" if c is None else "asset"
        raise ConfigError(f"--prices: {name} line 1: a long-format file needs date, asset and close columns; the "
                          f"header has {', '.join(header)} (no {need}); add it, or write one column per asset")
    if a is not None and c is not None:
        for line, row in body:
            if len(row) <= max(t, a, c):
                raise ConfigError(f"--prices: {name} line {line}: {len(row)} cells, the header has {len(header)}; "
                                  "complete or delete the row")
            at = _time(name, line, header[t], row[t])
            yield _Cell(line, at, at.date(), _symbol(row[a], aliases, wanted), row[c])
        return
    assets = {j: _symbol(h, aliases, wanted) for j, h in enumerate(header) if j != t and h}
    for line, row in body:
        at = _time(name, line, header[t], row[t])
        for j, asset in assets.items():
            if j < len(row) and row[j].strip():
                yield _Cell(line, at, at.date(), asset, row[j])


def _symbol(text: str, aliases: dict[str, str], wanted: set[str]) -> str:
    """An asset name as the data set's symbol: ``eth``, ``WETH``, ``ETH-USD``, ``ETH/USDT``, ``eth_close`` and the
    price feed's coin id ``ethereum`` are all ETH; ``ETHUSDT`` (an exchange's pair) too when ETH is
    wanted."""
    def known(x: str) -> str:
        x = COIN_IDS.get(x, x)
        return aliases.get(x, x)

    s = text.strip().upper()
    if known(s) in wanted:
        return known(s)
    while True:
        head, sep, tail = max((s.rpartition(c) for c in "-/_ "), key=lambda p: len(p[0]))
        if not (sep and head and tail in QUOTES):
            break
        s = head.rstrip()
    if s.endswith("USDT") and known(s[:-4]) in wanted:  # not USD: TUSD, BUSD are assets of their own
        return known(s[:-4])
    return known(s)


def parse_time(text: str) -> datetime:
    """``YYYY-MM-DD``, an ISO timestamp (``Z``, `` UTC``, an offset or none = UTC) or unix seconds (milliseconds
    above 10^11) as an aware datetime in the text's own offset; ``ValueError`` otherwise."""
    s = text.strip()
    try:
        if DATE_RE.fullmatch(s):
            d = date.fromisoformat(s)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        if NUMBER_RE.fullmatch(s):
            secs = float(s)
            return datetime.fromtimestamp(secs / 1000 if abs(secs) > 1e11 else secs, UTC)
        for suffix in ("Z", "z", " UTC", "UTC"):
            if s.endswith(suffix) and len(s) > len(suffix):
                s = s[:-len(suffix)].rstrip() + "+00:00"
                break
        at = datetime.fromisoformat(s)
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    except (OverflowError, OSError):
        raise ValueError(text) from None


def _time(name: str, line: int, column: str, text: str) -> datetime:
    if NUMBER_RE.fullmatch(text.strip()) and abs(float(text)) < 1e8:
        raise ConfigError(f"--prices: {name} line {line}: {column or 'the time column'} {text.strip()!r} would be "
                          "unix seconds in 1970-72 (a spreadsheet's serial day number?); format the column as "
                          "YYYY-MM-DD")
    try:
        return parse_time(text)
    except ValueError:
        raise ConfigError(f"--prices: {name} line {line}: {column or 'the time column'} {text!r} is not a date or "
                          f"time; {FIX_TIME}") from None


def _interval(name: str, cells: list[_Cell], given: str | None) -> str:
    """1h or 1d from the smallest spacing of the distinct bars; ``given`` must agree."""
    if given is not None and given not in ("1d", "1h"):
        raise ConfigError(f"--interval: {given!r} is not 1d or 1h")
    first: dict[datetime, int] = {}
    for c in cells:
        first.setdefault(c.at.astimezone(UTC), c.line)
    times = sorted(first)
    if len(times) < 2:
        if given is None:
            raise ConfigError(f"--prices: {name} has one bar ({_show(times[0])}); a backtest needs at least two")
        return given
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    gap = gaps[(len(gaps) - 1) // 2]  # the typical spacing: a stray row is then refused by its own line
    lo = next(a for a, b in itertools.pairwise(times) if b - a == gap)
    hi = lo + gap
    where = f"{_show(lo)} (line {first[lo]}) and {_show(hi)} (line {first[hi]})"
    if gap < HOUR or (HOUR < gap < timedelta(hours=20)):
        raise ConfigError(f"--prices: {name}: bars {where} are {_span(gap)} apart; give daily or hourly closes "
                          "(resample the file to 1d or 1h)")
    found = "1h" if gap == HOUR else "1d"
    if given is not None and given != found:
        raise ConfigError(f"--interval {given}: {name} has {'hourly' if found == '1h' else 'daily'} bars ({where}); "
                          f"pass --interval {found} or drop --interval")
    return found


def _key(name: str, c: _Cell, interval: str) -> date:
    if interval == "1d":
        return c.daily
    at = c.at.astimezone(UTC)
    if at.minute or at.second or at.microsecond:
        raise ConfigError(f"--prices: {name} line {c.line}: {_show(at)} is not on the hour; hourly bars start on "
                          "the hour (resample the file to 1h)")
    return at


def _close(name: str, c: _Cell, delimiter: str) -> float:
    try:
        value = float(number_text(c.text, delimiter))
    except ValueError:
        raise ConfigError(f"--prices: {name} line {c.line}: {c.asset} close {c.text!r} is not a number; write the "
                          "close in USD, e.g. 2650.5") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"--prices: {name} line {c.line}: {c.asset} close {c.text.strip()!r} must be a positive "
                          "finite number; fix or delete the row")
    return value


def _span(gap: timedelta) -> str:
    s = gap.total_seconds()
    return f"{s / 3600:g} h" if s >= 3600 else f"{s / 60:g} min" if s >= 60 else f"{s:g} s"


def _show(d: date) -> str:
    return d.isoformat() if not isinstance(d, datetime) else d.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
