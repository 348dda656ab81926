"""Hand-built snapshots for pure planning and strategy tests (no chain involved)."""

from __future__ import annotations

from decimal import Decimal

from agent.config.chains import ChainConfig, load_chain
from agent.portfolio.models import ChainSnapshot, Holding, Price, Snapshot

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PRICES = {"WETH": Decimal(3000), "USDC": Decimal(1), "WBTC": Decimal(60000), "USDT": Decimal(1), "DAI": Decimal(1),
          "LINK": Decimal(15)}
DEPTHS = {"WETH": Decimal(20_000_000), "WBTC": Decimal(10_000_000), "LINK": Decimal(2_000_000),
          "USDT": Decimal(5_000_000), "DAI": Decimal(5_000_000), "USDC": None}


def chains() -> dict[str, ChainConfig]:
    return {n: load_chain(n) for n in ("sandbox_a", "sandbox_b")}


def chain_snapshot(chain: ChainConfig, units: dict[str, Decimal], *, vault_usdc: Decimal = Decimal(0),
                   base_fee_wei: int = 10**9, usd_prices: dict[str, Decimal] | None = None) -> ChainSnapshot:
    prices = {s: Price(usd=p, source="test", depth_usd=DEPTHS.get(s)) for s, p in (usd_prices or PRICES).items()}
    holdings = [Holding(chain=chain.name, symbol="ETH", asset="ETH", kind="native", address=None, decimals=18,
                        balance_raw=int(units.get("ETH", 0) * 10**18), price=prices["WETH"])]
    for t in chain.tokens:
        holdings.append(Holding(chain=chain.name, symbol=t.symbol, asset=t.asset_symbol, kind="token",
                                address=t.address, decimals=t.decimals,
                                balance_raw=int(units.get(t.symbol, 0) * 10**t.decimals), price=prices[t.symbol]))
    for v in chain.vaults:
        raw = int(vault_usdc * 10**6)
        holdings.append(Holding(chain=chain.name, symbol=v.name, asset="USDC", kind="vault", address=v.address,
                                decimals=6, balance_raw=raw, underlying_symbol="USDC", underlying_raw=raw,
                                underlying_decimals=6, price=prices["USDC"]))
    return ChainSnapshot(chain=chain.name, chain_id=chain.chain_id, available=True, block=1,
                         base_fee_wei=base_fee_wei, holdings=tuple(holdings), prices=prices)


def snapshot(a: dict[str, Decimal], b: dict[str, Decimal] | None = None, *, vault_usdc: Decimal = Decimal(0),
             base_fee_wei: int = 10**9, usd_prices: dict[str, Decimal] | None = None) -> Snapshot:
    cs = chains()
    parts = [chain_snapshot(cs["sandbox_a"], a, vault_usdc=vault_usdc, base_fee_wei=base_fee_wei,
                            usd_prices=usd_prices)]
    if b is not None:
        parts.append(chain_snapshot(cs["sandbox_b"], b, usd_prices=usd_prices))
    return Snapshot(wallet=WALLET, chains=tuple(parts))
