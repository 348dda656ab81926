"""The one JSON encoder for documents the agent prints or records: one rule per kind of value, everywhere.

- a raw on-chain amount (a key ending in ``_raw`` or ``_wei``, or a list under such a key) is a **string** of
  its integer, so no JSON reader rounds it (a uint256 does not fit a double);
- any other ``Decimal`` (USD, bps, percentages, prices, token units) is a **number**;
- bytes are ``0x`` hex, datetimes ISO 8601, enums their value, pydantic models their fields, tuples lists.
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


def is_raw_key(key: object) -> bool:
    return isinstance(key, str) and key.endswith(RAW_SUFFIXES)


def jsonable(value: Any, *, raw: bool = False) -> Any:
    """``value`` as plain JSON types by the rules above; ``raw`` says the value sits under a raw-amount key."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, raw=is_raw_key(k)) for k, v in value.items()}
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
