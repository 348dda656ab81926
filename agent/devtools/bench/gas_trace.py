"""A user's base-fee trace for ``rebalancer bench gas --trace FILE.csv`` (one ``BaseFeeTrace``), or one error line.

Per-block traces: a ``base_fee_wei``, ``baseFeePerGas`` / ``base_fee_per_gas`` (hex ``0x…`` or decimal wei) or
``base_fee_gwei`` column (names in any case) and optionally ``block_number`` / ``number`` (then consecutive and
increasing). Daily traces: ``avg_gas_price_wei`` (or Etherscan's ``Value (Wei)``, or a base-fee column) with a
``date`` column (or ``day``, ``UnixTimeStamp``) and no block column (then consecutive days).
Per-block entries stand for 12 s, daily ones for 86400 s. A UTF-8 BOM, CRLF and extra columns are fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from agent.devtools.sandbox.market import BaseFeeTrace
from agent.errors import ConfigError
from agent.research.userprices import number_text, parse_time, read_csv

#: value column → its unit (wei per unit), in the order one is chosen when several are present
VALUE_COLUMNS = {"base_fee_wei": 1, "basefeepergas": 1, "base_fee_per_gas": 1, "base_fee_gwei": 10**9,
                 "avg_gas_price_wei": 1, "value (wei)": 1}
BLOCK_COLUMNS = ("block_number", "number", "block")
#: a daily trace's date: its first of these (Etherscan's chart export has UnixTimeStamp beside an M/D/Y date)
DATE_COLUMNS = ("date", "day", "unixtimestamp", "date(utc)")
DAILY_VALUES = ("avg_gas_price_wei", "value (wei)")
DAILY_PERIOD_S, BLOCK_PERIOD_S = 86400.0, 12.0


@dataclass(frozen=True)
class UserTrace:
    trace: BaseFeeTrace
    #: "per_block" or "daily"
    kind: str
    file: str
    rows: int


def read_trace(path: Path) -> UserTrace:
    header, body, delimiter = read_csv(path, "--trace", "block_number,base_fee_wei")
    name = path.name
    value = next((c for c in VALUE_COLUMNS if c in header), None)
    if value is None:
        raise ConfigError(f"--trace: {name} line 1: no base-fee column (the header has {', '.join(header)}); name it "
                          "base_fee_wei, base_fee_gwei or baseFeePerGas (daily: avg_gas_price_wei with date)")
    block = next((c for c in BLOCK_COLUMNS if c in header), None)
    day = next((c for c in DATE_COLUMNS if c in header), None)
    daily = block is None and (day is not None or value in DAILY_VALUES)
    if daily and day is None:
        raise ConfigError(f"--trace: {name} line 1: a daily trace ({value}) needs a date column (the header has "
                          f"{', '.join(header)}); add date (YYYY-MM-DD)")
    vi = header.index(value)
    values: list[int] = []
    order = header.index(block) if block else header.index(day) if daily and day else None
    previous: tuple[int, int] | None = None  # (line, block number or day ordinal)
    for line, row in body:
        if len(row) <= max(vi, order or 0):
            raise ConfigError(f"--trace: {name} line {line}: {len(row)} cells, the header has {len(header)}; "
                              "complete or delete the row")
        values.append(_fee(name, line, header[vi], number_text(row[vi], delimiter), VALUE_COLUMNS[value]))
        if order is not None:
            key = _day(name, line, row[order]) if daily else _block(name, line, header[order], row[order])
            _check_next(name, line, previous, key, daily)
            previous = (line, key)
    if not values:
        raise ConfigError(f"--trace: {name} has a header but no rows; add one base fee per block (or day)")
    kind = "daily" if daily else "per_block"
    label = (f"{'daily average gas price' if daily else 'per-block base fee'}, {len(values)} "
             f"{'days' if daily else 'blocks'} ({name})")
    trace = BaseFeeTrace(tuple(values), label, DAILY_PERIOD_S if daily else BLOCK_PERIOD_S)
    return UserTrace(trace, kind, name, len(body))


def _fee(name: str, line: int, column: str, text: str, unit: int) -> int:
    s = text.strip()
    try:
        wei = Decimal(int(s, 16)) if s.lower().startswith("0x") else Decimal(s) * unit
    except (ValueError, InvalidOperation):
        raise ConfigError(f"--trace: {name} line {line}: {column} {text!r} is not a number; write the base fee in "
                          f"{'gwei' if unit > 1 else 'wei'} (decimal, or 0x hex)") from None
    if not wei.is_finite() or wei < 1:
        raise ConfigError(f"--trace: {name} line {line}: {column} {s!r} must be a positive finite fee "
                          f"(at least 1 wei); fix or delete the row")
    return int(wei.to_integral_value())


def _block(name: str, line: int, column: str, text: str) -> int:
    s = text.strip()
    try:
        return int(s, 16) if s.lower().startswith("0x") else int(s)
    except ValueError:
        raise ConfigError(f"--trace: {name} line {line}: {column} {text!r} is not a block number; write an "
                          "integer (or 0x hex)") from None


def _day(name: str, line: int, text: str) -> int:
    try:
        if text.strip().isdigit() and int(text) < 10**8:
            raise ValueError(text)  # not unix seconds of this century (a spreadsheet's serial day?)
        return parse_time(text).date().toordinal()
    except ValueError:
        raise ConfigError(f"--trace: {name} line {line}: date {text!r} is not a date; write YYYY-MM-DD (or an ISO "
                          "timestamp, or unix seconds)") from None


def _check_next(name: str, line: int, previous: tuple[int, int] | None, key: int, daily: bool) -> None:
    if previous is None or key == previous[1] + 1:
        return
    what = "day" if daily else "block"
    shown = date.fromordinal(key).isoformat() if daily else str(key)
    before = date.fromordinal(previous[1]).isoformat() if daily else str(previous[1])
    if key <= previous[1]:
        why = f"{'is not after' if key < previous[1] else 'repeats'} {before} (line {previous[0]})"
        fix = f"sort the file by {what} and keep one row per {what}"
    else:
        missing = key - previous[1] - 1
        why = f"follows {before} (line {previous[0]}): {missing} {what}{'s' if missing > 1 else ''} missing"
        fix = "export an unbroken range"
    raise ConfigError(f"--trace: {name} line {line}: {what} {shown} {why}; the {what}s must be consecutive and "
                      f"increasing: {fix}")
