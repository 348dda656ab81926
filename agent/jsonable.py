"""The one JSON encoder for documents the agent prints or records: one rule per kind of value, everywhere.

- a raw on-chain amount (a key ending in ``_raw`` or ``_wei``, or a list under such a key) is a **string** of
  its integer, so no JSON reader rounds it (a uint256 does not fit a double);
- any other ``Decimal`` (USD, bps, percentages, prices, token units) is a **number**; so is a number the journal
  recorded as text (to keep every digit of a Decimal) under a USD/percentage/pp/bps/price key (``NUMBER_SUFFIXES``);
- a flag is a **boolean**, also one SQLite handed back as 0/1 (``FLAG_KEYS``);
- a transaction hash is never shortened (nothing here cuts a string);
- bytes are ``0x`` hex, datetimes ISO 8601, enums their value, pydantic models their fields, tuples lists.

Every command's ``--json`` goes through ``dumps`` (``agent.commands.render.print_json``); the keys are documented
in docs/json.md and checked against docs/schema/*.json by tests/integration/test_cli_80_columns.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

RAW_SUFFIXES = ("_raw", "_wei")
#: keys whose values are numbers even when recorded as text (journal details keep Decimals as strings)
NUMBER_SUFFIXES = ("usd", "_pct", "_pp", "_bps", "price", "_per_share")
#: flags SQLite stores as 0/1
FLAG_KEYS = frozenset({"rebalance", "available", "valid", "reused", "urgent", "partial", "above"})


def is_raw_key(key: object) -> bool:
    return isinstance(key, str) and key.endswith(RAW_SUFFIXES)


def _number_text(value: str) -> float | None:
    try:
        d = Decimal(value)
    except ArithmeticError:
        return None
    return float(d) if d.is_finite() else None


def _entry(key: str, value: Any) -> Any:
    if isinstance(value, str) and key.endswith(NUMBER_SUFFIXES):
        number = _number_text(value)
        return value if number is None else number
    if key in FLAG_KEYS and isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return jsonable(value, raw=is_raw_key(key))


def jsonable(value: Any, *, raw: bool = False) -> Any:
    """``value`` as plain JSON types by the rules above; ``raw`` says the value sits under a raw-amount key."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        return {str(k): _entry(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, raw=raw) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value, raw=raw)
    if isinstance(value, int):
        return str(value) if raw else value
    if isinstance(value, Decimal):
        if raw and value == value.to_integral_value():
            return str(int(value))
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(doc: Any, *, indent: int | None = 2) -> str:
    """One JSON document: ``jsonable(doc)`` as text (UTF-8 kept, not escaped)."""
    return json.dumps(jsonable(doc), indent=indent, ensure_ascii=False)
