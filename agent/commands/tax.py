"""``rebalancer tax --year Y [--method M] [--csv FILE] [--lots OPENING.csv] [--json]``: realised gains.

The journal's confirmed live swaps run through the tax lots (``agent.planning.tax``; the rules for USD values and
fees are there). Needs only ``JOURNAL_PATH`` and ``TAX_LOT_METHOD`` (default fifo; min-tax with ``TAX_AWARE``), not
the chain RPCs.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from agent.commands.journal import journal_path
from agent.commands.render import Table, console, err_console, print_json
from agent.errors import ConfigError


def _method(value: str | None) -> Any:
    from agent.config.settings import read_environment
    from agent.planning.lots import LotMethod

    env = read_environment()
    aware = (env.get("TAX_AWARE") or "").strip().lower() in ("1", "true", "yes", "on")
    text = (value or env.get("TAX_LOT_METHOD") or ("min-tax" if aware else "fifo")).strip().lower()
    try:
        return LotMethod(text)
    except ValueError:
        raise ConfigError(f"--method/TAX_LOT_METHOD: {text!r} is not a lot method; choose one of "
                          f"{', '.join(m.value for m in LotMethod)}") from None


def _document(year: int, method: Any, lots_file: Path | None, path: Path) -> dict[str, Any]:
    from agent.cycle.taxlots import journal_lots
    from agent.journal.store import JournalStore
    from agent.planning.lots import LotError
    from agent.planning.tax import year_report

    if not path.exists():
        raise ConfigError(f"JOURNAL_PATH: {path} does not exist; run the agent first or give --path")
    try:
        with JournalStore.open(path) as store:
            lots = journal_lots(store, method, opening=lots_file, strict=True)
    except LotError as exc:
        raise ConfigError(f"--lots: {exc}") from None
    rep = year_report(lots.disposals, year)
    return {"year": year, "method": str(method), "journal": str(path), "trades": len(lots.trades),
            "warnings": lots.warnings,
            "short_term_gain_usd": str(rep.short_term_gain_usd), "long_term_gain_usd": str(rep.long_term_gain_usd),
            "total_gain_usd": str(rep.total_gain_usd),
            "disposals": [{"asset": d.asset, "lot": d.lot_id, "acquired_at": d.acquired_at.isoformat(),
                           "disposed_at": d.disposed_at.isoformat(), "quantity": str(d.quantity),
                           "cost_usd": str(round(d.cost_usd, 2)), "proceeds_usd": str(round(d.proceeds_usd, 2)),
                           "gain_usd": str(round(d.gain_usd, 2)), "term": str(d.term)} for d in rep.disposals]}


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    cols = ["asset", "lot", "acquired_at", "disposed_at", "quantity", "cost_usd", "proceeds_usd", "gain_usd", "term"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def register(app: typer.Typer) -> None:
    @app.command("tax")
    def tax(year: int = typer.Option(..., "--year", help="Tax year (UTC calendar year of the sale)."),
            method: str = typer.Option(None, "--method", help="fifo | lifo | hifo | min-tax (default: "
                                       "TAX_LOT_METHOD, else min-tax with TAX_AWARE, else fifo)."),
            csv_file: Path = typer.Option(None, "--csv", help="Also write every disposal of the year to this CSV."),
            lots: Path = typer.Option(None, "--lots", help="Opening lots CSV: asset,acquired_at,quantity,cost_usd "
                                      "(default: TAX_OPENING_LOTS)."),
            path: Path = typer.Option(None, "--path", help="Journal file (default: JOURNAL_PATH)."),
            as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout.")) -> None:
        """Realised short- and long-term gains of a year from the journal's executed swaps (tax lots)."""
        if csv_file is not None and not csv_file.parent.resolve().is_dir():
            raise ConfigError(f"--csv: directory {csv_file.parent} does not exist; create it or choose another path")
        if lots is None:
            from agent.config.settings import read_environment

            opening = (read_environment().get("TAX_OPENING_LOTS") or "").strip()
            lots = Path(opening).expanduser() if opening else None
        doc = _document(year, _method(method), lots, journal_path(path))
        if csv_file is not None:
            _write_csv(csv_file, doc["disposals"])
        for w in doc["warnings"]:
            err_console.print(f"warning: {w}", highlight=False)
        if as_json:
            print_json(doc)
            return
        t = Table(title=f"Realised gains {year} ({doc['method']}, {doc['trades']} executed swaps in the journal)")
        for c in ("asset", "acquired", "sold", "quantity", "cost USD", "proceeds USD", "gain USD", "term"):
            t.add_column(c, justify="left" if c in ("asset", "term") else "right")
        for d in doc["disposals"]:
            t.add_row(d["asset"], d["acquired_at"][:10], d["disposed_at"][:10], d["quantity"], d["cost_usd"],
                      d["proceeds_usd"], d["gain_usd"], d["term"])
        console.print(t)
        console.print(f"short-term {Decimal(doc['short_term_gain_usd']):,.2f} USD · long-term "
                      f"{Decimal(doc['long_term_gain_usd']):,.2f} USD · total {Decimal(doc['total_gain_usd']):,.2f} "
                      "USD", highlight=False)
