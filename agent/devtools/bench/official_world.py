"""The execution benchmark's chain: one anvil with the official builds only (contracts/build/official).

WETH9, USDC as Circle's FiatToken behind its proxy, Multicall3 at its canonical address, Uniswap V2 (factory,
Router02) and V3 (factory, NonfungiblePositionManager, QuoterV2, TickLens, SwapRouter02). Two WETH/USDC venues
at ETH = 3000 USDC:

* ``v2``: an official UniswapV2Pair (0.3%) holding ``V2_USD_PER_SIDE`` of each token;
* ``v3``: an official UniswapV3Pool (0.05%, tick spacing 10) with several positions of realistic widths
  (``V3_POSITIONS``: full range, ±50%, ±20%, ±5%, ±2%), so liquidity is concentrated around the price and
  thins out as a trade walks away from it.

The agent sees each venue through its own ``ChainConfig`` (same chain, same tokens): ``uniswap_v2`` only for
``v2`` (the on-chain source quotes Router02 ``getAmountsOut``), ``uniswap_v3`` only for ``v3`` (QuoterV2 and
SwapRouter02 ``exactInputSingle``). Everything goes through ``agent.devtools.protocols``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from eth_typing import ChecksumAddress
from web3 import Web3

from agent.chain.rpc import make_web3
from agent.config.chains import ChainConfig, Token, UniswapV2, UniswapV3
from agent.devtools.contracts import deploy_official, official_at
from agent.devtools.protocols import (
    FEE_TIERS,
    MAX_TICK,
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
from agent.devtools.protocols import UniswapV3 as UniswapV3Addresses
from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil
from agent.devtools.sandbox.spec import DEPLOYER, KEEPER, WALLET

ETH_USD = 3000
V2_USD_PER_SIDE = 10_000_000
V3_FEE = 500
#: (half-width of the range as a fraction of the price, None = full range; USD of each token offered)
V3_POSITIONS: tuple[tuple[float | None, int], ...] = (
    (None, 2_000_000), (0.5, 3_000_000), (0.2, 3_000_000), (0.05, 1_500_000), (0.02, 500_000))
MAX = 2**256 - 1
VENUES = ("v2", "v3")


@dataclass(frozen=True)
class BenchPool:
    venue: str
    address: ChecksumAddress
    token0: ChecksumAddress
    token1: ChecksumAddress
    #: the LP fee in millionths (3000 = 0.3%)
    fee_ppm: int
    #: the router the keeper trades through (V2 Router02 or SwapRouter02)
    router: ChecksumAddress
    usdc_is_0: bool


@dataclass
class OfficialBenchWorld:
    anvil: AnvilProcess
    w3: Web3
    weth: ChecksumAddress
    usdc: ChecksumAddress
    router_v2: ChecksumAddress
    factory_v2: ChecksumAddress
    v3: UniswapV3Addresses
    pools: dict[str, BenchPool]

    @property
    def rpc_url(self) -> str:
        return self.anvil.url

    def chain(self, venue: str) -> ChainConfig:
        """The agent's view of the chain with only ``venue``'s protocol configured."""
        tokens = (Token(symbol="WETH", address=self.weth, decimals=18, asset="ETH", v3_fee=V3_FEE),
                  Token(symbol="USDC", address=self.usdc, decimals=6, stable=True, v3_fee=V3_FEE))
        v2 = UniswapV2(router=self.router_v2, factory=self.factory_v2) if venue == "v2" else None
        v3 = UniswapV3(quoter_v2=self.v3.quoter, swap_router02=self.v3.swap_router02) if venue == "v3" else None
        return ChainConfig(name=f"bench_{venue}", chain_id=31337, kind="sandbox", native_symbol="ETH",
                           wrapped_native="WETH", usd_stable="USDC", multicall3=MULTICALL3_ADDRESS, tokens=tokens,
                           default_hard_cap_gwei=500, uniswap_v2=v2, uniswap_v3=v3)

    def token(self, symbol: str) -> ChecksumAddress:
        return {"WETH": self.weth, "USDC": self.usdc}[symbol]

    def stop(self) -> None:
        self.anvil.stop()


def _fund(w3: Web3, weth: str, usdc: str, who: str, *, eth: int, usdc_units: int, spenders: tuple[str, ...]) -> None:
    """Give ``who`` ``eth`` WETH (wrapped from a topped-up balance) and ``usdc_units`` USDC; approve ``spenders``."""
    w3.provider.make_request("anvil_setBalance", [who, hex((eth + 10_000_000) * 10**18)])  # type: ignore[arg-type]
    transact(w3, official_at(w3, "WETH9", weth).functions.deposit(), who, value=eth * 10**18)
    transact(w3, official_at(w3, "FiatTokenV2_2", usdc).functions.mint(who, usdc_units * 10**6), DEPLOYER)
    for token, name in ((weth, "WETH9"), (usdc, "FiatTokenV2_2")):
        for spender in spenders:
            transact(w3, official_at(w3, name, token).functions.approve(spender, MAX), who)


def _v2_pool(w3: Web3, factory: str, router: str, weth: str, usdc: str) -> BenchPool:
    usd = V2_USD_PER_SIDE
    call = official_at(w3, "UniswapV2Router02", router).functions.addLiquidity(
        weth, usdc, usd // ETH_USD * 10**18, usd * 10**6, 0, 0, DEPLOYER, 2**40)
    transact(w3, call, DEPLOYER)
    pair = official_at(w3, "UniswapV2Factory", factory).functions.getPair(weth, usdc).call()
    t0, t1 = sorted((weth, usdc), key=lambda t: int(t, 16))
    return BenchPool("v2", Web3.to_checksum_address(pair), Web3.to_checksum_address(t0),
                     Web3.to_checksum_address(t1), 3000, Web3.to_checksum_address(router), t0 == usdc)


def _v3_pool(w3: Web3, v3: UniswapV3Addresses, weth: str, usdc: str) -> BenchPool:
    price_usdc_per_weth_raw = Decimal(ETH_USD) * Decimal(10) ** (6 - 18)
    pool, t0, t1 = create_v3_pool(w3, v3, token_a=weth, token_b=usdc, fee=V3_FEE,
                                  price_b_per_a=price_usdc_per_weth_raw, sender=DEPLOYER)
    spacing = FEE_TIERS[V3_FEE]
    price01 = price_usdc_per_weth_raw if t0 == weth else 1 / price_usdc_per_weth_raw
    mid = tick_at(price01, spacing)
    full = (MAX_TICK // spacing) * spacing
    for half_width, usd in V3_POSITIONS:
        if half_width is None:
            low, high = -full, full
        else:
            width = max(spacing, round(math.log(1 + half_width) / math.log(1.0001) / spacing) * spacing)
            low, high = mid - width, mid + width
        amounts = {weth: usd // ETH_USD * 10**18, usdc: usd * 10**6}
        mint_position(w3, v3, token0=t0, token1=t1, fee=V3_FEE, tick_lower=low, tick_upper=high,
                      amount0=amounts[t0], amount1=amounts[t1], sender=DEPLOYER)
    return BenchPool("v3", pool, Web3.to_checksum_address(t0), Web3.to_checksum_address(t1), V3_FEE,
                     v3.swap_router02, t0 == usdc)


def deploy_bench_world(*, wallet_usdc: int = 10**9, wallet_weth: int = 400_000) -> OfficialBenchWorld:
    """A fresh anvil with the benchmark's contracts, pools, a funded wallet and a funded keeper."""
    anvil = start_anvil(chain_id=31337)
    try:
        w3 = make_web3(anvil.url, timeout_s=60)
        admin = list(w3.eth.accounts)[7]  # the USDC proxy admin: cannot call the token, so not a trader
        weth = deploy_official(w3, "WETH9", sender=DEPLOYER)
        usdc = deploy_usdc(w3, owner=DEPLOYER, proxy_admin=admin)
        factory_v2, router_v2 = deploy_uniswap_v2(w3, sender=DEPLOYER, weth=weth)
        v3 = deploy_uniswap_v3(w3, sender=DEPLOYER, weth=weth, factory_v2=factory_v2)
        deploy_multicall3(w3)
        routers = (router_v2, v3.position_manager, v3.swap_router02)
        _fund(w3, weth, usdc, DEPLOYER, eth=30_000, usdc_units=100_000_000, spenders=routers)
        pools = {"v2": _v2_pool(w3, factory_v2, router_v2, weth, usdc), "v3": _v3_pool(w3, v3, weth, usdc)}
        _fund(w3, weth, usdc, WALLET, eth=wallet_weth, usdc_units=wallet_usdc, spenders=())
        _fund(w3, weth, usdc, KEEPER, eth=3_000_000, usdc_units=10**10, spenders=(router_v2, v3.swap_router02))
        return OfficialBenchWorld(anvil, w3, weth, usdc, router_v2, factory_v2, v3, pools)
    except BaseException:
        anvil.stop()
        raise
