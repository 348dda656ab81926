"""A chain of the official builds only (contracts/build/official), deployed once per session on anvil.

Tokens: WETH9, USDC (Circle's FiatToken behind its proxy), DAI (OpenZeppelin), USDT (USDT's quirks); Uniswap V2
and V3 (0.01% tier enabled), Multicall3 at its canonical address. ``chain`` reverts every change after a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from eth_typing import ChecksumAddress
from pydantic import SecretStr
from web3 import Web3

from agent.chain.rpc import ChainRpc, make_web3
from agent.config.chains import ChainConfig, Token, UniswapV3
from agent.config.settings import ChainSettings
from agent.devtools.contracts import deploy_official, official_at
from agent.devtools.protocols import (
    FEE_TIERS,
    MULTICALL3_ADDRESS,
    create_v3_pool,
    deploy_multicall3,
    deploy_uniswap_v2,
    deploy_uniswap_v3,
    deploy_usdc,
    mint_position,
    tick_at,
    transact,
)
from agent.devtools.protocols import UniswapV3 as V3Addresses
from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil

OWNER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # anvil account 9
ADMIN = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"  # anvil account 8
USER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil account 0
MAX = 2**256 - 1


@dataclass(frozen=True)
class Official:
    anvil: AnvilProcess
    w3: Web3
    weth: ChecksumAddress
    usdc: ChecksumAddress
    dai: ChecksumAddress
    usdt: ChecksumAddress
    factory_v2: ChecksumAddress
    router_v2: ChecksumAddress
    v3: V3Addresses


def mint(w3: Web3, token: str, name: str, to: str, amount: int) -> None:
    transact(w3, official_at(w3, name, token).functions.mint(to, amount), OWNER)


@pytest.fixture(scope="session")
def official() -> Iterator[Official]:
    anvil = start_anvil(chain_id=31337)
    try:
        w3 = make_web3(anvil.url, timeout_s=60)
        weth = deploy_official(w3, "WETH9", sender=OWNER)
        usdc = deploy_usdc(w3, owner=OWNER, proxy_admin=ADMIN)
        dai = deploy_official(w3, "SandboxToken", "Dai Stablecoin", "DAI", 18, OWNER, sender=OWNER)
        usdt = deploy_official(w3, "TetherToken", "Tether USD", "USDT", 6, OWNER, sender=OWNER)
        factory_v2, router_v2 = deploy_uniswap_v2(w3, sender=OWNER, weth=weth)
        v3 = deploy_uniswap_v3(w3, sender=OWNER, weth=weth, factory_v2=factory_v2)
        deploy_multicall3(w3, funder=OWNER)
        yield Official(anvil, w3, weth, usdc, dai, usdt, factory_v2, router_v2, v3)
    finally:
        anvil.stop()


@pytest.fixture
def chain(official: Official) -> Iterator[Official]:
    snap = official.anvil.rpc("evm_snapshot")
    try:
        yield official
    finally:
        official.anvil.rpc("evm_revert", [snap])


def v3_pool(chain: Official, fee: int) -> tuple[ChecksumAddress, int]:
    """A DAI/USDC pool at 1:1 with a tight and a wide position; returns (pool, the tick of its price)."""
    w3, v3 = chain.w3, chain.v3
    mint(w3, chain.usdc, "FiatTokenV2_2", OWNER, 10_000_000 * 10**6)
    mint(w3, chain.dai, "SandboxToken", OWNER, 10_000_000 * 10**18)
    for token, name in ((chain.usdc, "FiatTokenV2_2"), (chain.dai, "SandboxToken")):
        transact(w3, official_at(w3, name, token).functions.approve(v3.position_manager, MAX), OWNER)
    pool, token0, token1 = create_v3_pool(w3, v3, token_a=chain.dai, token_b=chain.usdc, fee=fee,
                                          price_b_per_a=Decimal(10) ** -12, sender=OWNER)
    spacing = FEE_TIERS[fee]
    price01 = Decimal(10) ** -12 if token0 == chain.dai else Decimal(10) ** 12
    mid = tick_at(price01, spacing)
    amounts = {chain.dai: 1_000_000 * 10**18, chain.usdc: 1_000_000 * 10**6}
    for width in (10, 100):  # a tight and a wide position
        mint_position(w3, v3, token0=token0, token1=token1, fee=fee, tick_lower=mid - width * spacing,
                      tick_upper=mid + width * spacing, amount0=amounts[token0], amount1=amounts[token1],
                      sender=OWNER)
    return pool, mid


def chain_config(chain: Official) -> ChainConfig:
    """The agent's view of this chain: V3 only (QuoterV2 + SwapRouter02), so the on-chain source uses V3."""
    tokens = (Token(symbol="WETH", address=chain.weth, decimals=18, asset="ETH"),
              Token(symbol="USDC", address=chain.usdc, decimals=6, stable=True, v3_fee=500),
              Token(symbol="DAI", address=chain.dai, decimals=18, stable=True, v3_fee=500),
              Token(symbol="USDT", address=chain.usdt, decimals=6, stable=True))
    return ChainConfig(name="official", chain_id=31337, kind="sandbox", native_symbol="ETH", wrapped_native="WETH",
                       usd_stable="USDC", multicall3=MULTICALL3_ADDRESS, tokens=tokens,
                       uniswap_v3=UniswapV3(quoter_v2=chain.v3.quoter, swap_router02=chain.v3.swap_router02))


def chain_rpc(chain: Official, config: ChainConfig) -> ChainRpc:
    return ChainRpc(config, ChainSettings(rpc_urls=(SecretStr(chain.anvil.url),)))
