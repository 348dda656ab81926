"""Shared output helpers: one JSON document on stdout, or rich tables.

rich is imported on first use, not at start-up (``rebalancer --help`` stays fast): ``console`` and
``err_console`` are created when first printed to, and ``Table(...)`` builds a ``rich.table.Table``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table as RichTable


class _LazyConsole:
    """A ``rich.console.Console`` made on first use (every attribute goes to it)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


console: Console = _LazyConsole()  # type: ignore[assignment]
err_console: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]


def Table(*args: Any, **kwargs: Any) -> RichTable:  # stands in for the rich class, imported on first use
    from rich.table import Table as RichTable

    return RichTable(*args, **kwargs)


def print_json(doc: Any) -> None:
    """One JSON document on stdout, by the one encoder (raw amounts as strings, USD as numbers)."""
    from agent.jsonable import dumps  # pydantic: imported when a command prints, not at start-up

    print(dumps(doc))


def fmt_usd(v: Decimal | None) -> str:
    return "—" if v is None else f"${v:,.2f}"


def fmt_num(v: Decimal, places: int = 6) -> str:
    q = f"{v:,.{places}f}".rstrip("0").rstrip(".")
    return q or "0"
