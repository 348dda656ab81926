"""Shared output helpers: one JSON document on stdout, or rich tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console

from agent.jsonable import dumps

console = Console()
err_console = Console(stderr=True)


def print_json(doc: Any) -> None:
    """One JSON document on stdout, by the one encoder (raw amounts as strings, USD as numbers)."""
    print(dumps(doc))


def fmt_usd(v: Decimal | None) -> str:
    return "—" if v is None else f"${v:,.2f}"


def fmt_num(v: Decimal, places: int = 6) -> str:
    q = f"{v:,.{places}f}".rstrip("0").rstrip(".")
    return q or "0"
