"""``rebalancer prices backfill [--days N] [--symbols ETH,WBTC] [--json]``: fill the price history beside the
journal from an HTTP price source speaking the CoinGecko ``market_chart`` shape (``agent.portfolio.price_feed``).

``PRICE_FEED_URL`` (default CoinGecko's public API), ``PRICE_FEED_API_KEY`` (optional; sent in a header, never in the
URL, never printed), ``PRICE_FEED_IDS=SYMBOL:coin-id,...`` (more coin ids). The symbols default to the assets of
``TARGETS``. Rows are stored with source ``feed``; a reading the agent took itself wins at the same second, and a
decision only ever reads rows at or before its ``now``. Needs only ``JOURNAL_PATH``, not the chain RPCs.
``rebalancer prices show [--symbols …] [--json]`` prints what the store holds per symbol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from agent.commands.journal import journal_path
from agent.commands.render import Table, console, print_json
from agent.errors import ConfigError

FEED_SOURCE = "feed"


def _env() -> dict[str, str]:
    from agent.config.settings import read_environment

    return {k: v for k, v in read_environment().items() if isinstance(v, str)}


def _symbols(value: str | None, env: dict[str, str]) -> list[str]:
    text = value or env.get("TARGETS") or ""
    names = [p.split(":")[0].strip().upper() for p in text.split(",") if p.strip()]
    if not names:
        raise ConfigError("--symbols/TARGETS: no symbols to backfill; give --symbols ETH,WBTC or set TARGETS")
    return list(dict.fromkeys("ETH" if n == "WETH" else n for n in names))


def _coin_ids(env: dict[str, str]) -> dict[str, str]:
    from agent.portfolio.price_feed import COIN_IDS

    out = dict(COIN_IDS)
    for part in (env.get("PRICE_FEED_IDS") or "").split(","):
        if not part.strip():
            continue
        sym, sep, coin = part.partition(":")
        if not sep or not sym.strip() or not coin.strip():
            raise ConfigError(f"PRICE_FEED_IDS: {part!r} is not SYMBOL:coin-id; write e.g. PRICE_FEED_IDS=PEPE:pepe")
        out[sym.strip().upper()] = coin.strip()
    return out


def backfill(path: Path, symbols: list[str], days: int, env: dict[str, str]) -> dict[str, Any]:
    """Fetch ``days`` of history per symbol and store it; per symbol what was fetched and newly written."""
    import httpx

    from agent.journal.prices import PriceHistory, PricePoint, history_path_for
    from agent.portfolio.price_feed import DEFAULT_URL, PriceFeed

    url = (env.get("PRICE_FEED_URL") or DEFAULT_URL).strip()
    if not url.startswith(("http://", "https://")):
        raise ConfigError("PRICE_FEED_URL: must be an http(s) URL, e.g. https://api.coingecko.com/api/v3")
    feed = PriceFeed(base_url=url, api_key=(env.get("PRICE_FEED_API_KEY") or "").strip() or None,
                     coin_ids=_coin_ids(env))
    rows = []
    with httpx.Client() as client, PriceHistory.open(history_path_for(path)) as store:
        for symbol in symbols:
            points = feed.fetch_history(client, symbol, days=days)
            written = store.record(PricePoint(symbol=symbol, at=t, usd=p, source=FEED_SOURCE) for t, p in points)
            rows.append({"symbol": symbol, "fetched": len(points), "written": written,
                         "first": points[0][0].isoformat() if points else None,
                         "last": points[-1][0].isoformat() if points else None})
    return {"prices": str(history_path_for(path)), "source": feed.host(), "days": days, "symbols": rows}


def _show(path: Path, symbols: list[str]) -> dict[str, Any]:
    from agent.journal.prices import PriceHistory, history_path_for

    file = history_path_for(path)
    if not file.exists():
        return {"prices": str(file), "symbols": [{"symbol": s, "rows": 0, "first": None, "last": None}
                                                  for s in symbols]}
    with PriceHistory.open(file) as store:
        return {"prices": str(file), "symbols": [{"symbol": s, **store.coverage(s)} for s in symbols]}


def register(app: typer.Typer) -> None:
    prices = typer.Typer(help="The price history strategies read (beside the journal).", no_args_is_help=True)
    app.add_typer(prices, name="prices")

    @prices.command("backfill")
    def backfill_cmd(days: int = typer.Option(365, "--days", min=1, max=3650, help="Days of history per symbol."),
                     symbols: str = typer.Option(None, "--symbols", help="Comma-separated (default: TARGETS)."),
                     path: Path = typer.Option(None, "--path", help="Journal file (default: JOURNAL_PATH)."),
                     as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout.")) -> None:
        """Fill the price history from the HTTP price source (CoinGecko shape; PRICE_FEED_URL, PRICE_FEED_API_KEY)."""
        env = _env()
        doc = backfill(journal_path(path), _symbols(symbols, env), days, env)
        if as_json:
            print_json(doc)
            return
        t = Table(title=f"Backfilled from {doc['source']} into {doc['prices']}")
        for col in ("symbol", "fetched", "new", "from", "to"):
            t.add_column(col)
        for r in doc["symbols"]:
            t.add_row(r["symbol"], str(r["fetched"]), str(r["written"]), (r["first"] or "—")[:16],
                      (r["last"] or "—")[:16])
        console.print(t)

    @prices.command("show")
    def show_cmd(symbols: str = typer.Option(None, "--symbols", help="Comma-separated (default: TARGETS)."),
                 path: Path = typer.Option(None, "--path", help="Journal file (default: JOURNAL_PATH)."),
                 as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout.")) -> None:
        """What the price history holds per symbol: rows, first and last time."""
        doc = _show(journal_path(path), _symbols(symbols, _env()))
        if as_json:
            print_json(doc)
            return
        t = Table(title=f"Price history {doc['prices']}")
        for col in ("symbol", "rows", "from", "to"):
            t.add_column(col)
        for r in doc["symbols"]:
            t.add_row(r["symbol"], str(r["rows"]), (r["first"] or "—")[:16], (r["last"] or "—")[:16])
        console.print(t)
