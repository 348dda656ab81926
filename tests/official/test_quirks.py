"""What the official contracts reveal about the agent: each test fails on the code the Vyper stand-ins hid it from."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agent.config.chains import Token, UniswapV2
from agent.devtools.contracts import deploy_official, official_at
from agent.devtools.protocols import create_v3_pool, mint_position, transact
from agent.devtools.sandbox.fork import set_token_balance
from agent.errors import QuoteError, SimulationFailed
from agent.execution.intent import Approval, BalanceDelta, TxIntent
from agent.execution.pipeline import execute_intent
from agent.planning.costs import impact_bps
from agent.portfolio.valuation import fit_curve
from agent.quotes.calldata import V3_EXACT_INPUT_SINGLE
from agent.quotes.models import QuoteRequest
from agent.quotes.onchain import OnchainQuoter
from tests.integration.execution.helpers import live_context

from .conftest import MAX, OWNER, USER, Official, chain_config, chain_rpc, mint, v3_pool

pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("official")]  # one worker deploys the chain once


def _request(chain: Official, sell: str, buy: str, amount_raw: int, decimals: tuple[int, int]) -> QuoteRequest:
    return QuoteRequest(chain_id=31337, sell_token=sell, buy_token=buy, sell_decimals=decimals[0],
                        buy_decimals=decimals[1], sell_amount_raw=amount_raw, taker=USER, slippage_bps=50)


def test_a_partial_fill_from_quoter_v2_is_refused_for_that_size(chain: Official) -> None:
    v3_pool(chain, 500)  # about 2M of depth in two positions
    config = chain_config(chain)
    quoter = OnchainQuoter(config, chain_rpc(chain, config))
    fits = quoter.fetch_quote(_request(chain, chain.usdc, chain.dai, 10_000 * 10**6, (6, 18)))
    assert fits.tx is not None and 9_950 * 10**18 < fits.buy_amount_raw < 10_000 * 10**18
    with pytest.raises(QuoteError, match=r"partial_fill.*fee\(s\) \[500\]"):
        quoter.fetch_quote(_request(chain, chain.usdc, chain.dai, 50_000_000 * 10**6, (6, 18)))


def _usdt_usdc_pool(chain: Official) -> None:
    w3, v3 = chain.w3, chain.v3
    mint(w3, chain.usdc, "FiatTokenV2_2", OWNER, 1_000_000 * 10**6)
    mint(w3, chain.usdt, "TetherToken", OWNER, 1_000_000 * 10**6)
    transact(w3, official_at(w3, "FiatTokenV2_2", chain.usdc).functions.approve(v3.position_manager, MAX), OWNER)
    transact(w3, official_at(w3, "TetherToken", chain.usdt).functions.approve(v3.position_manager, MAX), OWNER)
    _pool, token0, token1 = create_v3_pool(w3, v3, token_a=chain.usdt, token_b=chain.usdc, fee=100,
                                           price_b_per_a=Decimal(1), sender=OWNER)
    mint_position(w3, v3, token0=token0, token1=token1, fee=100, tick_lower=-50, tick_upper=50,
                  amount0=1_000_000 * 10**6, amount1=1_000_000 * 10**6, sender=OWNER)


def _v3_swap(chain: Official, *, key: str, sell: str, buy: str, amount: int, min_out: int) -> TxIntent:
    data = V3_EXACT_INPUT_SINGLE.encode((sell, buy, 100, USER, amount, min_out, 0))
    return TxIntent(chain="official", plan_id=f"plan-{key}", idempotency_key=key, to=chain.v3.swap_router02,
                    data=data, approval=Approval(token=sell, spender=chain.v3.swap_router02, amount_raw=amount),
                    expected_deltas=(BalanceDelta(token=sell, min_raw=-amount, max_raw=-amount),
                                     BalanceDelta(token=buy, min_raw=min_out)), max_gas=1_500_000)


def test_an_unflagged_usdt_like_token_with_a_stale_allowance_is_reset_first(chain: Official, tmp_path: Path) -> None:
    """The chain file does not say approve_requires_zero: the direct approve's simulated revert does."""
    _usdt_usdc_pool(chain)
    config = chain_config(chain)
    assert not config.token("USDT").approve_requires_zero
    usdt = official_at(chain.w3, "TetherToken", chain.usdt)
    mint(chain.w3, chain.usdt, "TetherToken", USER, 500 * 10**6)
    transact(chain.w3, usdt.functions.approve(chain.v3.swap_router02, 7), USER)  # a stale non-zero allowance
    intent = _v3_swap(chain, key="usdt-usdc", sell=chain.usdt, buy=chain.usdc, amount=300 * 10**6,
                      min_out=299 * 10**6)
    result = execute_intent(intent, live_context(config, chain.anvil.url, tmp_path / "j.sqlite"))
    assert result.state == "confirmed"
    assert [o.purpose for o in result.outcomes] == ["approve-reset", "approve", "main"]
    assert usdt.functions.balanceOf(USER).call() == 200 * 10**6
    assert usdt.functions.allowance(USER, chain.v3.swap_router02).call() == 0


def test_a_blacklisted_sender_is_refused_by_simulation_with_the_reason(chain: Official, tmp_path: Path) -> None:
    _usdt_usdc_pool(chain)
    mint(chain.w3, chain.usdc, "FiatTokenV2_2", USER, 500 * 10**6)
    transact(chain.w3, official_at(chain.w3, "FiatTokenV2_2", chain.usdc).functions.blacklist(USER), OWNER)
    intent = _v3_swap(chain, key="blacklisted", sell=chain.usdc, buy=chain.usdt, amount=100 * 10**6,
                      min_out=99 * 10**6)
    nonce = chain.w3.eth.get_transaction_count(USER)
    with pytest.raises(SimulationFailed, match=r"blacklisted.*nothing was sent"):
        execute_intent(intent, live_context(chain_config(chain), chain.anvil.url, tmp_path / "j.sqlite"))
    assert chain.w3.eth.get_transaction_count(USER) == nonce


def test_a_fee_on_transfer_sell_token_is_refused_by_simulation_naming_the_fee(chain: Official,
                                                                             tmp_path: Path) -> None:
    w3 = chain.w3
    fot = deploy_official(w3, "DeflatingERC20", 10**30, sender=OWNER)  # burns 1% of every transfer
    mint(w3, chain.usdc, "FiatTokenV2_2", OWNER, 1_000_000 * 10**6)
    router = official_at(w3, "UniswapV2Router02", chain.router_v2)
    for token, name in ((fot, "DeflatingERC20"), (chain.usdc, "FiatTokenV2_2")):
        transact(w3, official_at(w3, name, token).functions.approve(chain.router_v2, MAX), OWNER)
    transact(w3, router.functions.addLiquidity(fot, chain.usdc, 10**24, 1_000_000 * 10**6, 0, 0, OWNER, 2**63),
             OWNER)
    transact(w3, official_at(w3, "DeflatingERC20", fot).functions.transfer(USER, 10**21), OWNER)
    config = chain_config(chain)
    config = config.model_copy(update={"tokens": (*config.tokens, Token(symbol="FOT", address=fot, decimals=18)),
                                       "uniswap_v2": UniswapV2(router=chain.router_v2, factory=chain.factory_v2)})
    amount = 10**20
    quoted = router.functions.getAmountsOut(amount, [fot, chain.usdc]).call()[-1]
    data = router.encode_abi("swapExactTokensForTokens", args=[amount, quoted * 99 // 100, [fot, chain.usdc], USER,
                                                               2**63])
    intent = TxIntent(chain="official", plan_id="plan-fot", idempotency_key="fot", to=chain.router_v2,
                      data=bytes.fromhex(data[2:]),
                      approval=Approval(token=fot, spender=chain.router_v2, amount_raw=amount),
                      expected_deltas=(BalanceDelta(token=fot, min_raw=-amount, max_raw=-amount),), max_gas=1_500_000)
    with pytest.raises(SimulationFailed, match=r"UniswapV2: K.*fee on transfer.*nothing was sent"):
        execute_intent(intent, live_context(config, chain.anvil.url, tmp_path / "j.sqlite"))


def test_fork_funding_writes_usdc_balances_through_its_proxy_and_keeps_the_blacklist(chain: Official) -> None:
    usdc = official_at(chain.w3, "FiatTokenV2_2", chain.usdc)
    found = set_token_balance(chain.w3, chain.usdc, USER, 1234 * 10**6)
    assert (found.layout, found.slot) == ("solidity", 9)  # FiatTokenV2_2's balanceAndBlacklistStates, on the proxy
    assert usdc.functions.balanceOf(USER).call() == 1234 * 10**6
    transact(chain.w3, usdc.functions.blacklist(USER), OWNER)
    set_token_balance(chain.w3, chain.usdc, USER, 99 * 10**6)  # funding must not lift the blacklist (the top bit)
    assert usdc.functions.isBlacklisted(USER).call() is True
    assert usdc.functions.balanceOf(USER).call() == 99 * 10**6


def _realised_impact_bps(chain: Official, amount: int, fee: int) -> Decimal:
    """Execute USDC → DAI through SwapRouter02 (then revert) and compare with the marginal price."""
    w3, v3 = chain.w3, chain.v3
    quoter = official_at(w3, "QuoterV2", v3.quoter)
    probe = 10**6
    marginal = Decimal(quoter.functions.quoteExactInputSingle((chain.usdc, chain.dai, probe, fee, 0)).call()[0]) / probe
    snap = chain.anvil.rpc("evm_snapshot")
    try:
        mint(w3, chain.usdc, "FiatTokenV2_2", OWNER, amount)
        transact(w3, official_at(w3, "FiatTokenV2_2", chain.usdc).functions.approve(v3.swap_router02, MAX), OWNER)
        dai = official_at(w3, "SandboxToken", chain.dai)
        before = dai.functions.balanceOf(OWNER).call()
        router = official_at(w3, "SwapRouter02", v3.swap_router02)
        transact(w3, router.functions.exactInputSingle((chain.usdc, chain.dai, fee, OWNER, amount, 0, 0)), OWNER)
        out = dai.functions.balanceOf(OWNER).call() - before
    finally:
        chain.anvil.rpc("evm_revert", [snap])
    return (1 - Decimal(out) / amount / marginal) * 10_000


def _impact_setup(chain: Official, share: str) -> tuple[OnchainQuoter, int]:
    v3_pool(chain, 500)  # 2M USDC-equivalent in a ±1% and a ±10% position
    config = chain_config(chain)
    return OnchainQuoter(config, chain_rpc(chain, config)), int(Decimal(share) * 2_000_000 * 10**6)


@pytest.mark.parametrize("share", ["0.001", "0.01", "0.1", "0.75"])
def test_v3_impact_from_a_quote_at_the_trades_size_is_within_a_quarter_of_the_realised(chain: Official,
                                                                                        share: str) -> None:
    quoter, amount = _impact_setup(chain, share)
    estimate = quoter.v3_impact_bps(_request(chain, chain.usdc, chain.dai, amount, (6, 18)))
    realised = _realised_impact_bps(chain, amount, 500)
    assert estimate is not None and realised > 0
    assert abs(estimate - realised) <= realised * Decimal("0.25"), (estimate, realised)


def test_the_two_size_curve_fit_misses_a_trade_that_leaves_the_tight_range(chain: Official) -> None:
    """What the planner's depth (quotes of 1 and 100 units) makes of concentrated liquidity: fine inside the tight
    position, too optimistic once a trade runs past it — hence the quote at the trade's own size."""
    quoter, amount = _impact_setup(chain, "0.75")
    q = official_at(chain.w3, "QuoterV2", chain.v3.quoter)
    small, big = 10**6, 100 * 10**6
    outs = [q.functions.quoteExactInputSingle((chain.usdc, chain.dai, n, 500, 0)).call()[0] for n in (small, big)]
    _price, depth_raw = fit_curve(small_in=small, small_out=outs[0], big_in=big, big_out=outs[1],
                                  fee_factor=Decimal("0.9995"))
    assert depth_raw is not None
    fitted = impact_bps(Decimal(amount) / 10**6, depth_raw / 10**6)
    realised = _realised_impact_bps(chain, amount, 500)
    assert fitted < realised * Decimal("0.75"), (fitted, realised)  # outside the ±25% the estimate must meet
    estimate = quoter.v3_impact_bps(_request(chain, chain.usdc, chain.dai, amount, (6, 18)))
    assert estimate is not None and abs(estimate - realised) <= realised * Decimal("0.25")


def test_a_trade_larger_than_the_pool_has_full_impact(chain: Official) -> None:
    v3_pool(chain, 500)
    config = chain_config(chain)
    quoter = OnchainQuoter(config, chain_rpc(chain, config))
    impact = quoter.v3_impact_bps(_request(chain, chain.usdc, chain.dai, 50_000_000 * 10**6, (6, 18)))
    assert impact == 10_000


def test_the_loop_uses_the_trade_size_v3_impact_when_the_plan_underestimates(chain: Official) -> None:
    from types import SimpleNamespace

    from agent.cycle.intents import IntentContext
    from agent.cycle.loop import trade_impact_bps
    from agent.planning.models import Action

    quoter, amount = _impact_setup(chain, "0.75")
    config = quoter.chain
    ictx = IntentContext(chain=config, rpc=quoter.rpc, settings=SimpleNamespace(max_slippage_bps=50),  # type: ignore[arg-type]
                         wallet=USER, plan_id="p")
    action = Action(kind="swap", chain="official", sell="USDC", buy="DAI", amount_raw=amount,
                    amount_usd=Decimal(amount) / 10**6, reason="test", est_cost_usd=Decimal(0), est_gas=0,
                    est_impact_bps=Decimal(5))
    realised = _realised_impact_bps(chain, amount, 500)
    assert abs(trade_impact_bps(action, ictx, amount) - realised) <= realised * Decimal("0.25")
    pessimistic = action.model_copy(update={"est_impact_bps": Decimal(5000)})
    assert trade_impact_bps(pessimistic, ictx, amount) == 5000  # never lowers the plan's estimate
