"""The tax lots of the journal's executed trades, for the live decision (stop-loss / take-profit's cost basis) and
the tax-aware planner (``TAX_AWARE``), and for ``rebalancer tax``: one way from the journal to a ``LotBook``.

The journal's confirmed live swaps (``agent.planning.tax.trades_from_journal``: USD from the stable leg, else the
planned amount; gas priced from the price history beside the journal) run through a book holding the opening lots
(``TAX_OPENING_LOTS`` / ``--lots``) by the lot method. A journal the lots cannot explain (a sell of more than they
hold: the opening lots were not imported) gives no book and a warning naming the fix; the cycle then decides without
a cost basis and without tax estimates, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.config.chains import ChainConfig, load_chain
from agent.errors import ConfigError
from agent.journal.prices import PriceHistory, history_path_for
from agent.journal.store import JournalStore
from agent.planning.lots import Disposal, LotBook, LotError, LotMethod, read_opening_lots
from agent.planning.tax import TokenInfo, Trade, realise, trades_from_journal

ALL_ROWS = 10 ** 9
ZERO = Decimal(0)


def token_namer(chains: Mapping[str, ChainConfig] | None = None) -> Callable[[str, str], TokenInfo | None]:
    """``(chain, address) -> TokenInfo``: the configured chains first, else the chain's file."""
    cache: dict[str, dict[str, Any]] = {}

    def named(chain: str, address: str) -> TokenInfo | None:
        if chain not in cache:
            cfg = (chains or {}).get(chain)
            if cfg is None:
                try:
                    cfg = load_chain(chain)
                except ConfigError:
                    cfg = None
            cache[chain] = {t.address.lower(): t for t in cfg.tokens} if cfg is not None else {}
        tok = cache[chain].get(address.lower())
        return None if tok is None else TokenInfo(tok.asset_symbol, tok.decimals, tok.stable)
    return named


def native_pricer(journal_path: Path, chains: Mapping[str, ChainConfig] | None = None
                  ) -> Callable[[str, datetime], Decimal | None]:
    """``(chain, at) -> USD`` of the chain's native token from the price history beside the journal."""
    prices = history_path_for(journal_path)

    def native_usd(chain: str, at: datetime) -> Decimal | None:
        cfg = (chains or {}).get(chain)
        try:
            symbol = cfg.native_symbol if cfg is not None else load_chain(chain).native_symbol
        except ConfigError:
            return None
        if not prices.exists():
            return None
        with PriceHistory.open(prices) as ph:
            rows = ph.history([symbol], until=at, since=at - timedelta(days=2)).get(symbol, [])
        return rows[-1][1] if rows else None
    return native_usd


@dataclass
class JournalLots:
    """The book after every executed trade, the disposals on the way, and what could not be used."""

    method: LotMethod
    book: LotBook | None
    trades: list[Trade] = field(default_factory=list)
    disposals: list[Disposal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def cost_basis(self) -> dict[str, Decimal]:
        """Average USD cost per unit of each asset's open lots (fees included)."""
        if self.book is None:
            return {}
        out = {}
        for asset, lots in self.book.lots.items():
            qty = sum((lot.quantity for lot in lots), ZERO)
            if qty > 0:
                out[asset] = sum((lot.cost_usd for lot in lots), ZERO) / qty
        return out


def journal_lots(journal: JournalStore, method: LotMethod | str, *, opening: Path | None = None,
                 chains: Mapping[str, ChainConfig] | None = None, strict: bool = False) -> JournalLots:
    """Run the journal's executed swaps through a book holding the opening lots. ``strict``: a trade the lots
    cannot cover raises ``LotError`` (``rebalancer tax``); else the result has no book and says why."""
    method = LotMethod(method)
    book = LotBook(method=method)
    for lot in read_opening_lots(opening) if opening is not None else []:
        book.open_lot(lot)
    view = journal.summary(limit=ALL_ROWS).to_json()
    trades, warnings = trades_from_journal(view, token_namer(chains), native_pricer(Path(journal.path), chains))
    try:
        disposals = realise(trades, method, book)
    except LotError as exc:
        if strict:
            raise
        return JournalLots(method, None, trades, [], [*warnings, f"tax lots: {exc}"])
    return JournalLots(method, book, trades, disposals, warnings)


__all__ = ["JournalLots", "journal_lots", "native_pricer", "token_namer"]
