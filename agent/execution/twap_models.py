"""The TWAP executor's types: the order, its parameters (``twap_params`` from the settings), what a chunk's
quoter and the block clock must do, and the journaled record of a chunk and of the whole order."""

from __future__ import annotations

import math
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent.execution.splitter import SplitParams
from agent.quotes.models import Quote

FROZEN = ConfigDict(frozen=True, extra="forbid")


class TwapOrder(BaseModel):
    """Sell exactly ``total_sell_raw`` of ``sell_token`` for ``buy_token`` on ``chain``."""

    model_config = FROZEN

    chain: str
    plan_id: str
    #: the plan action's idempotency key; chunks are ``<key>#chunk<i>``
    key: str = Field(min_length=1)
    sell_token: str
    buy_token: str
    total_sell_raw: int = Field(gt=0)
    urgent: bool = False


class TwapParams(BaseModel):
    model_config = FROZEN

    split: SplitParams = SplitParams()
    #: blocks to wait between two chunks (besides the blocks the chunk's own transactions take)
    spacing_blocks: int = Field(default=1, ge=0)
    #: abandon the remaining chunks when the zero-size price moved more than this since the decision
    guard_bps: float = Field(default=300, gt=0)
    max_failed_chunks: int = Field(default=2, ge=0)
    max_gas: int | None = Field(default=1_500_000, gt=0)
    #: force this chunk count (hindsight benchmarks); no impact bound, no re-planning
    chunks: int | None = Field(default=None, ge=1)
    percentile: float = 20.0


def horizon_blocks(horizon_s: float | None, *, max_chunks: int, blocks_per_chunk: int, block_time_s: float) -> int:
    """``TWAP_HORIZON_S`` in blocks: unset — the blocks ``max_chunks`` chunks need at the fastest spacing (so
    every chunk count spreads over the same time); 0 — as fast as the spacing allows."""
    if horizon_s is None:
        return max_chunks * blocks_per_chunk
    return math.ceil(horizon_s / block_time_s)


def twap_params(settings: Any, *, block_time_s: float) -> TwapParams:
    """``TwapParams`` from ``Settings`` (MAX_IMPACT_BPS, TWAP_MAX_CHUNKS, TWAP_SPACING_BLOCKS, TWAP_HORIZON_S,
    TWAP_PRICE_GUARD_BPS)."""
    per_chunk = settings.twap_spacing_blocks + 2
    horizon = horizon_blocks(settings.twap_horizon_s, max_chunks=settings.twap_max_chunks,
                             blocks_per_chunk=per_chunk, block_time_s=block_time_s)
    split = SplitParams(max_impact_bps=settings.max_impact_bps, max_chunks=settings.twap_max_chunks,
                        blocks_per_chunk=per_chunk, block_time_s=block_time_s, horizon_blocks=horizon)
    return TwapParams(split=split, spacing_blocks=settings.twap_spacing_blocks,
                      guard_bps=settings.twap_price_guard_bps, max_gas=settings.max_swap_gas,
                      percentile=settings.priority_fee_percentile)


class ChunkQuoter(Protocol):
    """Fresh, validated, executable quotes for any size of the order's pair."""

    def quote(self, sell_amount_raw: int) -> Quote: ...

    def sell_per_native(self) -> float | None:
        """Sell-token units (whole tokens) one native coin is worth, to value gas; None if unknown."""
        ...


class BlockClock(Protocol):
    def wait_blocks(self, n: int) -> None: ...


class ChunkRecord(BaseModel):
    model_config = FROZEN

    index: int
    key: str
    state: str
    sell_raw: int
    bought_raw: int = 0
    min_out_raw: int = 0
    quoted_out_raw: int = 0
    impact_bps: float | None = None
    source: str = ""
    gas_paid_wei: int = 0
    block: int | None = None
    reused: bool = False
    error: str | None = None
    #: the chunk's mined (or reverted) transactions, full hashes (approve first, then the swap)
    tx_hashes: tuple[str, ...] = ()


class TwapResult(BaseModel):
    model_config = FROZEN

    key: str
    #: completed | abandoned | failed | infeasible | dry_run
    status: str
    planned_chunks: int
    plan: dict[str, Any]
    chunks: tuple[ChunkRecord, ...]
    sold_raw: int
    bought_raw: int
    remaining_raw: int
    gas_paid_wei: int
    reason: str = ""
