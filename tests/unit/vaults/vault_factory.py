"""Hand-built chains, vault states, samples and snapshots for the pure vault tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from agent.config.chains import ChainConfig, load_chain
from agent.portfolio.models import ChainSnapshot, Holding, Price, Snapshot
from agent.vaults.adapter import PROBE_EXP, VaultState
from agent.vaults.policy import ParkingParams, VaultStats
from agent.vaults.yields import VaultSample, YieldMeasure

D = Decimal
NOW = datetime(2024, 6, 1, tzinfo=UTC)
T0 = 1_717_200_000
WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
VAULT_B = "0x000000000000000000000000000000000000bEEF"
VAULT_C = "0x000000000000000000000000000000000000cafE"
USDC = 10**6


def chain_with_vaults(*extra: dict[str, Any]) -> ChainConfig:
    """sandbox_a plus extra vaults (dicts of Vault fields); sUSDC stays first."""
    base = load_chain("sandbox_a")
    data = base.model_dump()
    data["vaults"] = [*data["vaults"], *extra]
    return ChainConfig.model_validate(data)


def three_vaults(**caps: float) -> ChainConfig:
    return chain_with_vaults(
        {"name": "vB", "address": VAULT_B, "asset": "USDC", "decimals": 6, "max_share_pct": caps.get("vB", 100.0)},
        {"name": "vDAI", "address": VAULT_C, "asset": "DAI", "decimals": 18})


def state(chain: ChainConfig, vault: str, *, price: Decimal = D(1), shares: int = 0, total_assets: int = 10**14,
          max_deposit: int | None = 2**256 - 1, max_withdraw: int | None = None, max_redeem: int | None = None,
          asset: str | None = None, preview_gap_bps: int = 0, liquid: int = 0, block: int = 100,
          timestamp: int = T0) -> VaultState:
    v = next(x for x in chain.vaults if x.name == vault)
    under = chain.token(v.asset)
    probe_s = 10 ** (v.decimals + PROBE_EXP)
    probe_a = 10 ** (under.decimals + PROBE_EXP)
    per_probe = int(price * probe_s * 10**under.decimals // 10**v.decimals)
    to_shares = int(probe_a * 10**v.decimals // 10**under.decimals / price)
    position = shares * per_probe // probe_s
    return VaultState(
        chain=chain.name, vault=vault, address=v.address, block=block, timestamp=timestamp,
        asset=asset or under.address, expected_asset=under.address, total_assets_raw=total_assets,
        total_supply_raw=total_assets, probe_shares_raw=probe_s, probe_assets_raw=probe_a,
        assets_per_probe_raw=per_probe, preview_redeem_raw=per_probe,
        shares_per_probe_raw=to_shares, preview_deposit_raw=to_shares * (10_000 - preview_gap_bps) // 10_000,
        max_deposit_raw=max_deposit, max_withdraw_raw=position if max_withdraw is None else max_withdraw,
        max_redeem_raw=shares if max_redeem is None else max_redeem, shares_raw=shares,
        position_assets_raw=position, underlying_balance_raw=liquid, share_decimals=v.decimals,
        asset_decimals=under.decimals)


def measure(apy: Decimal | None = D("0.05"), *, drop_bps: Decimal = D(0), samples: int = 10) -> YieldMeasure:
    return YieldMeasure(samples=samples, span_s=86400, apy=apy, last_assets_per_share=D(1),
                        peak_assets_per_share=D(1), drop_bps=drop_bps)


def stats(st: VaultState, apy: Decimal | None = D("0.05"), *, drop_bps: Decimal = D(0),
          flagged: str | None = None) -> VaultStats:
    return VaultStats(state=st, measure=measure(apy, drop_bps=drop_bps), flagged=flagged)


def snapshot(chain: ChainConfig, *, usdc: Decimal, vaults: dict[str, Decimal] | None = None,
             dai: Decimal = D(0), eth: Decimal = D(0)) -> Snapshot:
    """The wallet on ``chain``: liquid USDC/DAI/ETH and vault positions in underlying units (price 1)."""
    prices = {"USDC": Price(usd=D(1), source="t"), "DAI": Price(usd=D(1), source="t"),
              "WETH": Price(usd=D(3000), source="t")}
    hs = [Holding(chain=chain.name, symbol="ETH", asset="ETH", kind="native", address=None, decimals=18,
                  balance_raw=int(eth * 10**18), price=prices["WETH"])]
    for sym, units in (("USDC", usdc), ("DAI", dai)):
        t = chain.token(sym)
        hs.append(Holding(chain=chain.name, symbol=sym, asset=sym, kind="token", address=t.address,
                          decimals=t.decimals, balance_raw=int(units * 10**t.decimals), price=prices[sym]))
    for v in chain.vaults:
        units = (vaults or {}).get(v.name, D(0))
        under = chain.token(v.asset)
        raw = int(units * 10**under.decimals)
        hs.append(Holding(chain=chain.name, symbol=v.name, asset=v.asset, kind="vault", address=v.address,
                          decimals=v.decimals, balance_raw=raw * 10**v.decimals // 10**under.decimals,
                          underlying_symbol=v.asset, underlying_raw=raw, underlying_decimals=under.decimals,
                          price=prices[v.asset]))
    cs = ChainSnapshot(chain=chain.name, chain_id=chain.chain_id, available=True, block=100, holdings=tuple(hs),
                       prices=prices)
    return Snapshot(wallet=WALLET, chains=(cs,))


def params(**kw: Any) -> ParkingParams:
    base: dict[str, Any] = {"stable_buffer_usd": D(1000), "min_deposit_usd": D(50), "min_tvl_usd": D(0)}
    base.update(kw)
    return ParkingParams(**base)


def samples(vault: str, prices: list[Decimal], *, step: timedelta = timedelta(hours=1),
            chain: str = "sandbox_a") -> list[VaultSample]:
    s = int(step.total_seconds())
    return [VaultSample(chain=chain, vault=vault, block=i + 1, timestamp=T0 + i * s, assets_per_share=p)
            for i, p in enumerate(prices)]
