"""Per-vault rows for ``rebalancer status``: position, share price, measured yield and flag.

``vault_rows(snapshot, journal, window=…)`` needs no RPC: the position comes from the snapshot (the reader
values shares with ``convertToAssets``), the yield and flag from the samples and flags the agent loop
keeps in the journal (``None`` until the loop has sampled the vault over a long enough span).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.journal.store import JournalStore
from agent.portfolio.models import Snapshot
from agent.units import to_units
from agent.vaults.samples import load_flags, load_samples
from agent.vaults.yields import measure_yield


def vault_rows(snapshot: Snapshot, journal: JournalStore | None, *, window: timedelta) -> list[dict[str, Any]]:
    """One JSON-ready row per vault position (non-zero shares) in ``snapshot``."""
    flags = load_flags(journal) if journal is not None else {}
    rows = []
    for h in snapshot.holdings():
        if h.kind != "vault" or not h.balance_raw:
            continue
        underlying = None
        if h.underlying_raw is not None and h.underlying_decimals is not None:
            underlying = to_units(h.underlying_raw, h.underlying_decimals)
        samples = load_samples(journal, h.chain, h.symbol) if journal is not None else []
        m = measure_yield(samples, window)
        per_share = m.last_assets_per_share
        if per_share is None and underlying is not None:
            per_share = underlying / h.balance
        earned = None
        if samples and underlying is not None and m.apy is not None:
            first = next(s for s in samples if s.timestamp >= samples[-1].timestamp - window.total_seconds())
            earned = underlying * (1 - first.assets_per_share / samples[-1].assets_per_share)
        rows.append({"chain": h.chain, "vault": h.symbol, "underlying_symbol": h.underlying_symbol,
                     "shares": h.balance, "underlying": underlying, "usd": h.usd, "assets_per_share": per_share,
                     "apy_pct": None if m.apy is None else m.apy * 100, "yield_window_s": m.span_s,
                     "samples": m.samples, "earned_in_window": earned,
                     "flagged": flags.get((h.chain, h.symbol))})
    return rows
