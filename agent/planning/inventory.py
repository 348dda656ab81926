"""What can be sold where: per chain and asset, the wallet's sources (token, native coin, vault shares)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from agent.config.chains import ChainConfig
from agent.portfolio.models import Holding, Snapshot
from agent.units import to_raw, to_units


@dataclass
class Source:
    """A sellable balance. For native coin the gas reserve is already held back; vault sources are valued
    in their underlying token (``token`` = the underlying's symbol, ``vault`` = the vault's name)."""

    chain: str
    asset: str
    token: str
    kind: str
    raw: int
    decimals: int
    price_usd: Decimal
    depth_usd: Decimal | None
    vault: str | None = None

    @property
    def usd(self) -> Decimal:
        return to_units(self.raw, self.decimals) * self.price_usd


def build_sources(snapshot: Snapshot, chains: dict[str, ChainConfig], gas_reserve_native: Decimal) -> list[Source]:
    out: list[Source] = []
    for cs in snapshot.chains:
        if not cs.available:
            continue
        chain = chains[cs.chain]
        for h in cs.holdings:
            src = _source(h, chain, gas_reserve_native)
            if src is not None and src.raw > 0:
                out.append(src)
    return out


def _source(h: Holding, chain: ChainConfig, gas_reserve_native: Decimal) -> Source | None:
    if h.price is None or h.balance_raw == 0:
        return None
    if h.kind == "native":
        reserve = to_raw(gas_reserve_native, h.decimals)
        return Source(h.chain, h.asset, chain.wrapped_native, "native", max(0, h.balance_raw - reserve), h.decimals,
                      h.price.usd, h.price.depth_usd)
    if h.kind == "vault":
        if h.underlying_raw is None or h.underlying_symbol is None or h.underlying_decimals is None:
            return None
        return Source(h.chain, h.asset, h.underlying_symbol, "vault", h.underlying_raw, h.underlying_decimals,
                      h.price.usd, h.price.depth_usd, vault=h.symbol)
    return Source(h.chain, h.asset, h.symbol, "token", h.balance_raw, h.decimals, h.price.usd, h.price.depth_usd)


KIND_PREFERENCE = {"token": 0, "native": 1, "vault": 2}
