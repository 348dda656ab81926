"""A user's base-fee trace for ``rebalancer bench gas --trace FILE.csv`` (one ``BaseFeeTrace``), or one error line.

Per-block traces: a ``base_fee_wei``, ``baseFeePerGas`` / ``base_fee_per_gas`` (hex ``0x…`` or decimal wei) or
``base_fee_gwei`` column (names in any case) and optionally ``block_number`` / ``number`` (then consecutive, in any
order: the rows are sorted). Daily traces: ``avg_gas_price_wei`` (or Etherscan's ``Value (Wei)``, or a base-fee
column) with a ``date`` column (or ``day``, ``UnixTimeStamp``) and no block column (then consecutive days, in
any order).
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
    order = header.index(block) if block else header.index(day) if daily and day else None
    entries: list[tuple[int, int, int]] = []  # (block number or day ordinal, line, fee); key = line when unkeyed
    for line, row in body:
        if len(row) <= max(vi, order or 0):
            raise ConfigError(f"--trace: {name} line {line}: {len(row)} cells, the header has {len(header)}; "
                              "complete or delete the row")
        fee = _fee(name, line, header[vi], number_text(row[vi], delimiter), VALUE_COLUMNS[value])
        key = line if order is None else (_day(name, line, row[order]) if daily
                                          else _block(name, line, header[order], row[order]))
        entries.append((key, line, fee))
    values = [fee for _, _, fee in (_in_order(name, entries, daily) if order is not None else entries)]
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


def _in_order(name: str, entries: list[tuple[int, int, int]], daily: bool) -> list[tuple[int, int, int]]:
    """The rows sorted by block (or day) — exports often come newest first —, identical repeats dropped; a block
    (day) given two different fees, or one missing inside the range, is an error naming both lines."""
    what = "day" if daily else "block"
    out: list[tuple[int, int, int]] = []
    for key, line, fee in sorted(entries):
        if out and key == out[-1][0]:
            if fee != out[-1][2]:
                raise ConfigError(f"--trace: {name} line {line}: {what} {_shown(key, daily)} repeats line "
                                  f"{out[-1][1]} with another fee ({fee} vs {out[-1][2]} wei); keep one row per "
                                  f"{what}")
            continue
        if out and key != out[-1][0] + 1:
            missing = key - out[-1][0] - 1
            raise ConfigError(f"--trace: {name} line {line}: {what} {_shown(key, daily)} follows "
                              f"{_shown(out[-1][0], daily)} (line {out[-1][1]}): {missing} {what}"
                              f"{'s' if missing > 1 else ''} missing; the {what}s must be consecutive: export an "
                              "unbroken range")
        out.append((key, line, fee))
    return out


def _shown(key: int, daily: bool) -> str:
    return date.fromordinal(key).isoformat() if daily else str(key)
