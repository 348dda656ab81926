"""Every official build deploys on anvil and behaves as on mainnet (the quirks the stand-ins hid included)."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from agent.devtools.contracts import deploy_official, load_official, official_at
from agent.devtools.protocols import FEE_TIERS, MULTICALL3_ADDRESS, transact

from .conftest import ADMIN, MAX, OWNER, USER, Official, mint, v3_pool

pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("official")]  # one worker deploys the chain once


def test_multicall3_lands_at_its_canonical_address_with_the_published_code(chain: Official) -> None:
    code = chain.w3.eth.get_code(MULTICALL3_ADDRESS)
    assert bytes(code) == load_official("Multicall3").deployed_bytecode
    mc = official_at(chain.w3, "Multicall3", MULTICALL3_ADDRESS)
    assert mc.functions.getChainId().call() == 31337


def test_v2_router_finds_the_pairs_of_the_official_factory(chain: Official) -> None:
    """Router02 computes pair addresses from the init-code hash it hard-codes: a wrong hash reverts here."""
    w3 = chain.w3
    mint(w3, chain.usdc, "FiatTokenV2_2", OWNER, 1_000_000 * 10**6)
    mint(w3, chain.dai, "SandboxToken", OWNER, 1_000_000 * 10**18)
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


@pytest.mark.parametrize("fee", [100, 500, 3000])
def test_v3_pool_quotes_and_swaps_through_swaprouter02(chain: Official, fee: int) -> None:
    w3, v3 = chain.w3, chain.v3
    pool, mid = v3_pool(chain, fee)
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
    _pool, _mid = v3_pool(chain, 500)
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
    mint(w3, chain.usdc, "FiatTokenV2_2", USER, 100 * 10**6)
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
    mint(w3, chain.dai, "SandboxToken", OWNER, 1000 * 10**18)
    dai = official_at(w3, "SandboxToken", chain.dai)
    transact(w3, dai.functions.approve(vault, MAX), OWNER)
    transact(w3, official_at(w3, "SandboxVault", vault).functions.deposit(1000 * 10**18, OWNER), OWNER)
    transact(w3, dai.functions.transfer(vault, 0), OWNER)
    mint(w3, chain.dai, "SandboxToken", vault, 100 * 10**18)  # yield: the share price rises 10%
    shares = official_at(w3, "SandboxVault", vault).functions.balanceOf(OWNER).call()
    assert official_at(w3, "SandboxVault", vault).functions.convertToAssets(shares).call() > 1099 * 10**18
