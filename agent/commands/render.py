"""Shared output helpers: one JSON document on stdout, or rich tables that fit 80 columns.

rich is imported on first use, not at start-up (``rebalancer --help`` stays fast): ``console`` and
``err_console`` are created when first printed to, and ``Table(...)`` builds a ``rich.table.Table``.

Every table is compact (no vertical rules, one space between columns) and never cuts a value: a cell that
does not fit wraps at words or folds, it is never ellipsised (``sandbo…``). Long text (reasons, transaction
hashes, addresses) goes on lines of its own under a table (``notes``), not in a column; ``--json`` has it all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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

    def use(self, target: Console | None) -> Console | None:
        """Print to ``target`` from now on (None: a fresh default console on next use); the previous one."""
        before, self._console = self._console, target
        return before


console: Console = _LazyConsole()  # type: ignore[assignment]
err_console: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]


@contextmanager
def recording(width: int = 80) -> Iterator[tuple[Console, Console]]:
    """Both consoles record at ``width`` columns (tests: what a command prints at 80 columns), no colour."""
    from io import StringIO

    from rich.console import Console

    out = Console(width=width, record=True, file=StringIO(), color_system=None, force_terminal=False)
    err = Console(width=width, record=True, file=StringIO(), color_system=None, force_terminal=False)
    previous = (console.use(out), err_console.use(err))  # type: ignore[attr-defined]
    try:
        yield out, err
    finally:
        console.use(previous[0])  # type: ignore[attr-defined]
        err_console.use(previous[1])  # type: ignore[attr-defined]


def Table(*args: Any, **kwargs: Any) -> RichTable:  # stands in for the rich class, imported on first use
    """A compact rich table whose columns fold instead of cutting (``add_column(..., overflow=...)`` still wins)."""
    from rich import box
    from rich.table import Table as RichTable

    class CompactTable(RichTable):
        def add_column(self, *a: Any, **kw: Any) -> None:
            kw.setdefault("overflow", "fold")
            super().add_column(*a, **kw)

    kwargs.setdefault("box", box.SIMPLE_HEAD)
    kwargs.setdefault("pad_edge", False)
    kwargs.setdefault("show_edge", False)
    kwargs.setdefault("title_justify", "left")
    kwargs.setdefault("collapse_padding", True)
    return CompactTable(*args, **kwargs)


def notes(items: Iterable[str], *, indent: str = "  ") -> None:
    """Long text under a table, one item a line (wrapped at words by the console, never cut)."""
    for item in items:
        console.print(f"{indent}{item}", highlight=False, markup=False)


def line(text: str, *, err: bool = False) -> None:
    """One line as it is (no markup, no highlighting); an address or a hash in it never wraps mid-value."""
    (err_console if err else console).print(text, highlight=False, markup=False, overflow="ignore", crop=False)


def print_json(doc: Any) -> None:
    """One JSON document on stdout, by the one encoder (raw amounts as strings, USD as numbers)."""
    from agent.jsonable import dumps  # pydantic: imported when a command prints, not at start-up

    print(dumps(doc))


def fmt_usd(v: Decimal | None) -> str:
    return "—" if v is None else f"${v:,.2f}"


def fmt_sig(v: Decimal | float | None, digits: int = 6) -> str:
    """A number to ``digits`` significant digits for a table cell (``--json`` has every digit)."""
    if v is None:
        return "—"
    d = Decimal(str(v))
    if d == 0:
        return "0"
    places = max(0, digits - 1 - d.adjusted())
    return fmt_num(d, places) if places else f"{d:,.0f}"


def short_ts(iso: str | None) -> str:
    """An ISO timestamp as ``MM-DD HH:MM:SS`` for a table cell (the year and zone are in --json)."""
    if not iso:
        return "—"
    return iso[5:19].replace("T", " ")


def fmt_num(v: Decimal, places: int = 6) -> str:
    q = f"{v:,.{places}f}".rstrip("0").rstrip(".")
    return q or "0"
