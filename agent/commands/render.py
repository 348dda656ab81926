"""Shared output helpers: one JSON document on stdout, or rich tables."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, bytes):
        return "0x" + o.hex()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def print_json(doc: Any) -> None:
    print(json.dumps(doc, default=_default, indent=2, ensure_ascii=False))


def fmt_usd(v: Decimal | None) -> str:
    return "—" if v is None else f"${v:,.2f}"


def fmt_num(v: Decimal, places: int = 6) -> str:
    q = f"{v:,.{places}f}".rstrip("0").rstrip(".")
    return q or "0"
