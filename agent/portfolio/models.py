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


class Snapshot(BaseModel):
    """The whole portfolio at one moment, across chains (unavailable chains included, with their reason)."""

    model_config = FROZEN

    wallet: str
    chains: tuple[ChainSnapshot, ...]

    def holdings(self) -> list[Holding]:
        return [h for c in self.chains for h in c.holdings]
