"""Vault share-price samples and vault flags, kept in the journal as events.

The journal's ``events`` table already holds one JSON ``detail`` per event, so no schema migration is
needed: a sample is an event of kind ``vault_sample``; a flag (share price fell, ``asset()`` mismatch) is
``vault_flagged`` and stays in force until a ``vault_unflagged`` event (``clear_vault_flag``), so a vault
that lost money is not refilled just because the loss has left the measuring window.

Writes go through ``JournalStore.record_event``, reads through ``JournalStore.events_where`` (no SQL here).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from agent.journal.store import JournalStore
from agent.vaults.adapter import VaultState
from agent.vaults.yields import VaultSample

SAMPLE = "vault_sample"
FLAGGED = "vault_flagged"
UNFLAGGED = "vault_unflagged"
#: A new sample is stored only when the previous one of that vault is at least this old (chain time).
MIN_SAMPLE_INTERVAL_S = 600


def sample_from_state(state: VaultState) -> VaultSample | None:
    price = state.assets_per_share
    if price is None:
        return None
    return VaultSample(chain=state.chain, vault=state.vault, block=state.block, timestamp=state.timestamp,
                       assets_per_share=price, total_assets_raw=state.total_assets_raw)


def load_samples(journal: JournalStore, chain: str, vault: str, *, since_ts: int = 0) -> list[VaultSample]:
    """Samples of one vault with a block timestamp at or after ``since_ts``, oldest first."""
    events = journal.events_where(SAMPLE, detail_equals={"chain": chain, "vault": vault},
                            detail_at_least={"timestamp": since_ts})
    return sorted((VaultSample.model_validate(e.detail) for e in events), key=lambda s: (s.timestamp, s.block))


def record_samples(journal: JournalStore, states: Iterable[VaultState], *,
                   min_interval_s: int = MIN_SAMPLE_INTERVAL_S, cycle_id: int | None = None) -> list[VaultSample]:
    """Store a sample per vault unless one was taken less than ``min_interval_s`` (chain time) before;
    a price below the last stored one is always stored (a loss must be seen). Returns what was stored."""
    stored = []
    for state in states:
        sample = sample_from_state(state)
        if sample is None:
            continue
        recent = load_samples(journal, state.chain, state.vault, since_ts=sample.timestamp - min_interval_s)
        last = recent[-1] if recent else None
        if last is not None and last.block >= sample.block:
            continue
        if last is not None and sample.assets_per_share >= last.assets_per_share:
            continue
        journal.record_event(SAMPLE, sample.model_dump(mode="json"), cycle_id=cycle_id)
        stored.append(sample)
    return stored


def load_flags(journal: JournalStore) -> dict[tuple[str, str], str]:
    """(chain, vault) → the reason it is flagged, for every vault whose latest flag event is a flag."""
    out: dict[tuple[str, str], str] = {}
    for event in journal.events_where(FLAGGED, UNFLAGGED):
        d = event.detail
        key = (str(d["chain"]), str(d["vault"]))
        if event.kind == FLAGGED:
            out[key] = str(d.get("reason", "flagged"))
        else:
            out.pop(key, None)
    return out


def flag_vault(journal: JournalStore, chain: str, vault: str, reason: str, *, cycle_id: int | None = None,
               **detail: Any) -> None:
    journal.record_event(FLAGGED, {"chain": chain, "vault": vault, "reason": reason,
                                   **{k: str(v) if isinstance(v, Decimal) else v for k, v in detail.items()}},
                         cycle_id=cycle_id)


def clear_vault_flag(journal: JournalStore, chain: str, vault: str, note: str) -> None:
    """An operator decision: the vault may be used again (it stays subject to every other check)."""
    journal.record_event(UNFLAGGED, {"chain": chain, "vault": vault, "note": note})
