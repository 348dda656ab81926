"""The portfolio reader's aggregate3 batch on an in-process EVM: balances, vault valuation and both quoters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent.chain.multicall import encode_aggregate3
from agent.config.chains import ChainConfig
from agent.portfolio.reader import build_snapshot, decode_values, plan_calls

from .conftest import World

pytestmark = pytest.mark.chain


def _chain(world: World, *, v3_only: bool = False) -> ChainConfig:
    tokens = [
        {"symbol": "WETH", "address": world.weth.address, "decimals": 18, "asset": "ETH"},
        {"symbol": "USDC", "address": world.usdc.address, "decimals": 6, "stable": True},
        {"symbol": "WBTC", "address": world.wbtc.address, "decimals": 8},
        {"symbol": "DAI", "address": world.dai.address, "decimals": 18, "stable": True},
        {"symbol": "USDT", "address": world.usdt.address, "decimals": 6, "stable": True},
    ]
    raw = {
        "name": "evm",
        "chain_id": world.w3.eth.chain_id,
        "native_symbol": "ETH",
        "wrapped_native": "WETH",
        "usd_stable": "USDC",
        "multicall3": world.multicall.address,
        "default_hard_cap_gwei": 150,
        "tokens": tokens,
        "vaults": [{"name": "svUSDC", "address": world.vault.address, "asset": "USDC", "decimals": 6}],
        "uniswap_v3": {"quoter_v2": world.quoter.address},
    }
    if not v3_only:
        raw["uniswap_v2"] = {"router": world.router.address}
    return ChainConfig.model_validate(raw)


def _read(world: World, chain: ChainConfig):
    calls, price_calls = plan_calls(chain, world.user)
    payload = encode_aggregate3([c.call for c in calls])
    returned = bytes(world.w3.eth.call({"to": chain.multicall3, "data": payload}))
    return build_snapshot(chain, world.user, decode_values(calls, returned), price_calls)


def test_balances_and_block_come_from_one_call(world: World) -> None:
    snap = _read(world, _chain(world))
    by = {h.symbol: h for h in snap.holdings}
    assert snap.block == world.w3.eth.block_number
    assert by["USDC"].balance_raw == world.usdc.functions.balanceOf(world.user).call()
    assert by["WBTC"].balance_raw == world.wbtc.functions.balanceOf(world.user).call()
    assert by["WETH"].balance_raw == world.weth.functions.balanceOf(world.user).call()
    assert by["ETH"].balance_raw == world.w3.eth.get_balance(world.user)
    assert by["WETH"].asset == "ETH" and by["ETH"].kind == "native"


def test_prices_from_v2_router_and_v3_quoter_agree(world: World) -> None:
    v2 = _read(world, _chain(world)).prices
    v3 = _read(world, _chain(world, v3_only=True)).prices
    assert abs(v2["WETH"].usd - 3000) < Decimal("0.5")
    assert abs(v2["WBTC"].usd - 60000) < Decimal(10)
    assert "getAmountsOut" in v2["WETH"].source and "QuoterV2" in v3["WETH"].source
    for sym in ("WETH", "WBTC"):  # the V3 pools (full range, same value as the V2 ones)
        assert abs(v2[sym].usd / v3[sym].usd - 1) < Decimal("0.0001"), sym
    assert abs(v2["DAI"].usd - 1) < Decimal("0.001") and "DAI" not in v3  # DAI has a V2 pool only
    assert "USDT" not in v2  # no USDT pool: no price rather than a guess


def test_vault_shares_valued_with_convert_to_assets_and_grow(world: World) -> None:
    amount = 10_000 * 10**6
    world.transact(world.usdc.functions.approve(world.vault.address, amount))
    world.transact(world.vault.functions.deposit(amount, world.user))
    first = {h.symbol: h for h in _read(world, _chain(world)).holdings}["svUSDC"]
    assert first.kind == "vault" and first.underlying_symbol == "USDC"
    assert abs(first.underlying_raw - amount) <= 2
    assert first.usd is not None and abs(first.usd - 10_000) < Decimal("0.01")
    now = world.w3.eth.get_block("latest")["timestamp"]
    world.w3.testing.timeTravel(now + 365 * 24 * 3600)
    world.w3.testing.mine()
    later = {h.symbol: h for h in _read(world, _chain(world)).holdings}["svUSDC"]
    assert later.balance_raw == first.balance_raw
    assert later.underlying_raw > amount * 1.045


def test_a_failing_sub_call_does_not_sink_the_batch(world: World) -> None:
    chain = _chain(world)
    broken = chain.model_copy(
        update={
            "tokens": (*chain.tokens[:-1], chain.tokens[-1].model_copy(update={"address": world.aggregator.address}))
        }
    )  # not an ERC-20: balanceOf fails
    snap = _read(world, broken)
    by = {h.symbol: h for h in snap.holdings}
    assert by["USDT"].balance_raw == 0
    assert by["USDC"].balance_raw > 0
