"""What one read of the wallet returns: per-chain snapshots with holdings and their USD prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from agent.units import to_units

FROZEN = ConfigDict(frozen=True, extra="forbid")


class Price(BaseModel):
    """USD price of one unit of a token on one chain, and where it came from."""

    model_config = FROZEN

    usd: Decimal
    source: str
    #: Effective input-side depth of the pricing route in USD (impact of selling $Δ ≈ Δ/(depth+Δ)).
    depth_usd: Decimal | None = None


class Holding(BaseModel):
    """One balance of the wallet: native coin, an ERC-20, or ERC-4626 vault shares."""

    model_config = FROZEN

    chain: str
    symbol: str
    asset: str
    kind: Literal["native", "token", "vault"]
    address: str | None
    decimals: int
    balance_raw: int
    #: For vault shares: what they are worth in the underlying token (``convertToAssets``), raw units.
    underlying_symbol: str | None = None
    underlying_raw: int | None = None
    underlying_decimals: int | None = None
    price: Price | None = None

    @property
    def balance(self) -> Decimal:
        return to_units(self.balance_raw, self.decimals)

    @property
    def usd(self) -> Decimal | None:
        if self.price is None:
            return None
        if self.kind == "vault":
            assert self.underlying_raw is not None and self.underlying_decimals is not None
            return to_units(self.underlying_raw, self.underlying_decimals) * self.price.usd
        return self.balance * self.price.usd


class ChainSnapshot(BaseModel):
    model_config = FROZEN

    chain: str
    chain_id: int
    available: bool
    error: str | None = None
    block: int | None = None
    base_fee_wei: int | None = None
    holdings: tuple[Holding, ...] = ()
    prices: dict[str, Price] = {}
    #: "A/B" -> USD depth of the direct pool's A side (chains/<chain>.toml ``direct_pairs``)
    pair_depths_usd: dict[str, Decimal] = {}
    #: Holdings whose balance could not be read (shown as 0 but unknown, not zero).
    unread: tuple[str, ...] = ()


class Snapshot(BaseModel):
    """The whole portfolio at one moment, across chains (unavailable chains included, with their reason)."""

    model_config = FROZEN

    wallet: str
    chains: tuple[ChainSnapshot, ...]

    def holdings(self) -> list[Holding]:
        return [h for c in self.chains for h in c.holdings]

    @property
    def unread(self) -> list[str]:
        """What could not be read: a whole chain (``"base"``) or one holding (``"base:USDC"``)."""
        return [c.chain if not c.available else f"{c.chain}:{symbol}"
                for c in self.chains for symbol in ((None,) if not c.available else c.unread)]

    @property
    def partial(self) -> bool:
        """True when any chain or balance is unread: the portfolio's total is unknown, trading on it is blind."""
        return bool(self.unread)

    @property
    def nothing_read(self) -> bool:
        return not any(c.available for c in self.chains)

    def partial_reason(self) -> str:
        """One line naming what is unread and the fix."""
        down = [c for c in self.chains if not c.available]
        what = ", ".join(f"{c.chain} ({c.error or 'unreachable'})" for c in down) if down else ""
        assets = ", ".join(u for u in self.unread if ":" in u)
        parts = [p for p in (f"chains unread: {what}" if what else "", f"balances unread: {assets}" if assets else "")
                 if p]
        return (f"partial portfolio view ({'; '.join(parts)}); refusing to trade on it: fix the RPC "
                "(<CHAIN>_RPC_URL) or remove the chain from CHAINS, then retry")
