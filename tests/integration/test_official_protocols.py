"""Every official build deploys on anvil and behaves as on mainnet (the quirks the stand-ins hid included)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.exceptions import ContractLogicError

from agent.chain.rpc import make_web3
from agent.devtools.contracts import deploy_official, load_official, official_at
from agent.devtools.protocols import (
    FEE_TIERS,
    MULTICALL3_ADDRESS,
    UniswapV3,
    create_v3_pool,
    deploy_multicall3,
    deploy_uniswap_v2,
    deploy_uniswap_v3,
    deploy_usdc,
    mint_position,
    tick_at,
    transact,
)
from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil

pytestmark = pytest.mark.anvil

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
    v3: UniswapV3


def _mint(w3: Web3, token: str, name: str, to: str, amount: int) -> None:
    transact(w3, official_at(w3, name, token).functions.mint(to, amount), OWNER)


@pytest.fixture(scope="module")
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


def test_multicall3_lands_at_its_canonical_address_with_the_published_code(chain: Official) -> None:
    code = chain.w3.eth.get_code(MULTICALL3_ADDRESS)
    assert bytes(code) == load_official("Multicall3").deployed_bytecode
    mc = official_at(chain.w3, "Multicall3", MULTICALL3_ADDRESS)
    assert mc.functions.getChainId().call() == 31337


def test_v2_router_finds_the_pairs_of_the_official_factory(chain: Official) -> None:
    """Router02 computes pair addresses from the init-code hash it hard-codes: a wrong hash reverts here."""
    w3 = chain.w3
    _mint(w3, chain.usdc, "FiatTokenV2_2", OWNER, 1_000_000 * 10**6)
    _mint(w3, chain.dai, "SandboxToken", OWNER, 1_000_000 * 10**18)
    router = official_at(w3, "UniswapV2Router02", chain.router_v2)
    for token, name in ((chain.usdc, "FiatTokenV2_2"), (chain.dai, "SandboxToken")):
        transact(w3, official_at(w3, name, token).functions.approve(chain.router_v2, MAX), OWNER)
    transact(w3, router.functions.addLiquidity(chain.usdc, chain.dai, 500_000 * 10**6, 500_000 * 10**18, 0, 0,
                                               OWNER, 2**63), OWNER)
    out = router.functions.getAmountsOut(1000 * 10**6, [chain.usdc, chain.dai]).call()[-1]
    assert 990 * 10**18 < out < 998 * 10**18  # 0.3% fee and a little impact
    transact(w3, router.functions.swapExactTokensForTokens(1000 * 10**6, out, [chain.usdc, chain.dai], USER,
                                                           2**63), OWNER)
    assert official_at(w3, "SandboxToken", chain.dai).functions.balanceOf(USER).call() == out


def _v3_pool(chain: Official, fee: int) -> tuple[ChecksumAddress, int]:
    """A DAI/USDC pool at 1:1 with a tight and a wide position; returns (pool, the tick of its price)."""
    w3, v3 = chain.w3, chain.v3
    _mint(w3, chain.usdc, "FiatTokenV2_2", OWNER, 10_000_000 * 10**6)
    _mint(w3, chain.dai, "SandboxToken", OWNER, 10_000_000 * 10**18)
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


@pytest.mark.parametrize("fee", [100, 500, 3000])
def test_v3_pool_quotes_and_swaps_through_swaprouter02(chain: Official, fee: int) -> None:
    w3, v3 = chain.w3, chain.v3
    pool, mid = _v3_pool(chain, fee)
    assert official_at(w3, "UniswapV3Pool", pool).functions.liquidity().call() > 0
    quoter = official_at(w3, "QuoterV2", v3.quoter)
    amount_out = quoter.functions.quoteExactInputSingle((chain.usdc, chain.dai, 10_000 * 10**6, fee, 0)).call()[0]
    assert 9_950 * 10**18 < amount_out < 10_000 * 10**18
    router = official_at(w3, "SwapRouter02", v3.swap_router02)
    transact(w3, official_at(w3, "FiatTokenV2_2", chain.usdc).functions.approve(v3.swap_router02, MAX), OWNER)
    transact(w3, router.functions.exactInputSingle((chain.usdc, chain.dai, fee, USER, 10_000 * 10**6, amount_out,
                                                    0)), OWNER)
    assert official_at(w3, "SandboxToken", chain.dai).functions.balanceOf(USER).call() == amount_out
    lens = official_at(w3, "TickLens", v3.tick_lens)
    spacing = FEE_TIERS[fee]
    populated = set()
    for word in range(((mid - 100 * spacing) // spacing) >> 8, (((mid + 100 * spacing) // spacing) >> 8) + 1):
        populated |= {tick for tick, _net, _gross in lens.functions.getPopulatedTicksInWord(pool, word).call()}
    assert populated == {mid + k * spacing for k in (-100, -10, 10, 100)}  # both positions' boundaries


def test_fee_tier_100_exists_only_because_the_owner_enabled_it(chain: Official) -> None:
    factory = official_at(chain.w3, "UniswapV3Factory", chain.v3.factory)
    assert factory.functions.feeAmountTickSpacing(100).call() == 1
    fresh = deploy_official(chain.w3, "UniswapV3Factory", sender=OWNER)
    assert official_at(chain.w3, "UniswapV3Factory", fresh).functions.feeAmountTickSpacing(100).call() == 0


def test_quoter_v2_returns_a_partial_fill_when_liquidity_runs_out(chain: Official) -> None:
    """The real quoter does not revert past the last position: it quotes what fits and stops at the limit."""
    w3, v3 = chain.w3, chain.v3
    _pool, _mid = _v3_pool(chain, 500)
    quoter = official_at(w3, "QuoterV2", v3.quoter)
    huge = 50_000_000 * 10**6  # far more than the 2M USDC-equivalent of depth
    out, sqrt_after, _, _ = quoter.functions.quoteExactInputSingle((chain.usdc, chain.dai, huge, 500, 0)).call()
    assert out < 2_000_001 * 10**18  # at most what the pool holds: a partial fill, not a revert
    assert sqrt_after in (4295128740, 1461446703485210103287273052203988822378723970341)  # the price limit


def test_usdc_is_fiat_token_behind_its_proxy_with_a_blacklist(chain: Official) -> None:
    w3 = chain.w3
    proxy = official_at(w3, "FiatTokenProxy", chain.usdc)
    assert proxy.functions.implementation().call() != chain.usdc
    token = official_at(w3, "FiatTokenV2_2", chain.usdc)
    assert (token.functions.symbol().call(), token.functions.decimals().call()) == ("USDC", 6)
    with pytest.raises(ContractLogicError, match="admin"):
        token.functions.balanceOf(USER).call({"from": ADMIN})  # the proxy admin cannot call the token
    _mint(w3, chain.usdc, "FiatTokenV2_2", USER, 100 * 10**6)
    transact(w3, token.functions.blacklist(USER), OWNER)
    with pytest.raises(ContractLogicError, match="blacklisted"):
        token.functions.transfer(OWNER, 10**6).call({"from": USER})


def test_usdt_like_token_returns_nothing_and_needs_a_zero_approve_first(chain: Official) -> None:
    w3 = chain.w3
    usdt = official_at(w3, "TetherToken", chain.usdt)
    assert next(e for e in usdt.abi if e.get("name") == "approve")["outputs"] == []
    transact(w3, usdt.functions.approve(ADMIN, 5), OWNER)
    with pytest.raises(ContractLogicError) as bare:
        transact(w3, usdt.functions.approve(ADMIN, 7), OWNER)
    assert bare.value.data == "0x"  # a bare revert: no reason string, no custom error
    transact(w3, usdt.functions.approve(ADMIN, 0), OWNER)
    transact(w3, usdt.functions.approve(ADMIN, 7), OWNER)
    assert usdt.functions.allowance(OWNER, ADMIN).call() == 7


def test_fee_on_transfer_token_and_oz_vault(chain: Official) -> None:
    w3 = chain.w3
    fot = deploy_official(w3, "DeflatingERC20", 10**24, sender=OWNER)
    token = official_at(w3, "DeflatingERC20", fot)
    transact(w3, token.functions.transfer(USER, 1000), OWNER)
    assert token.functions.balanceOf(USER).call() == 990  # 1% burned on every transfer
    vault = deploy_official(w3, "SandboxVault", chain.dai, "Savings DAI", "sDAI", sender=OWNER)
    _mint(w3, chain.dai, "SandboxToken", OWNER, 1000 * 10**18)
    dai = official_at(w3, "SandboxToken", chain.dai)
    transact(w3, dai.functions.approve(vault, MAX), OWNER)
    transact(w3, official_at(w3, "SandboxVault", vault).functions.deposit(1000 * 10**18, OWNER), OWNER)
    transact(w3, dai.functions.transfer(vault, 0), OWNER)
    _mint(w3, chain.dai, "SandboxToken", vault, 100 * 10**18)  # yield: the share price rises 10%
    shares = official_at(w3, "SandboxVault", vault).functions.balanceOf(OWNER).call()
    assert official_at(w3, "SandboxVault", vault).functions.convertToAssets(shares).call() > 1099 * 10**18
