"""The mainnet replica: every contract of chains/ethereum.toml at its real address, readable by the agent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from web3 import Web3

from agent.chain.rpc import make_web3
from agent.config.chains import load_chain
from agent.config.settings import load_config
from agent.cycle.compose import build_rpcs
from agent.devtools.contracts import contract_at, load_official, official_at
from agent.devtools.sandbox.replica import Replica
from agent.devtools.sandbox.spec import DEPLOYER, PROXY_ADMIN
from agent.portfolio.reader import fetch_snapshot
from tests.fork.helpers import NO_ENV_FILE, fork_env

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_every_configured_contract_is_placed_with_the_real_metadata(replica: Replica) -> None:
    chain = load_chain("ethereum")
    w3 = make_web3(replica.rpc_url, timeout_s=30)
    assert w3.eth.chain_id == 1
    for label, address in chain.contract_addresses().items():
        assert w3.eth.get_code(Web3.to_checksum_address(address)), label
    for t in chain.tokens:
        token = contract_at(w3, "ERC20", t.address)
        assert token.functions.symbol().call() == t.symbol
        assert token.functions.decimals().call() == t.decimals
    usdt = chain.token("USDT").address
    assert bytes(w3.eth.get_code(usdt)) == load_official("TetherToken").deployed_bytecode  # the USDT-quirk token
    usdc = official_at(w3, "FiatTokenProxy", chain.token("USDC").address)  # Circle's proxy, admin apart
    implementation = usdc.functions.implementation().call({"from": PROXY_ADMIN})
    assert bytes(w3.eth.get_code(implementation))[:64] == load_official("FiatTokenV2_2").deployed_bytecode[:64]
    for v in chain.vaults:
        vault = contract_at(w3, "Vault4626", v.address)
        assert vault.functions.decimals().call() == v.decimals
        assert vault.functions.asset().call() == chain.token(v.asset).address
    assert w3.eth.get_code(chain.uniswap_v2.router)  # type: ignore[union-attr]
    router = contract_at(w3, "UniswapV2Router02", chain.uniswap_v2.router)  # type: ignore[union-attr]
    assert router.functions.WETH().call() == chain.token("WETH").address
    quoter = contract_at(w3, "QuoterV2", chain.uniswap_v3.quoter_v2)  # type: ignore[union-attr]
    assert quoter.functions.WETH9().call() == chain.token("WETH").address
    assert quoter.functions.factory().call() == replica.factory
    swap_router = official_at(w3, "SwapRouter02", chain.uniswap_v3.swap_router02)  # type: ignore[union-attr]
    assert swap_router.functions.factoryV2().call() == router.functions.factory().call() == replica.factory_v2
    v3_factory = official_at(w3, "UniswapV3Factory", replica.factory)
    usdc_address = chain.token("USDC").address
    for t in chain.tokens:  # each token has a V3 pool against USDC in the tier its v3_fee names
        if t.symbol != "USDC":
            assert int(v3_factory.functions.getPool(t.address, usdc_address, t.v3_fee).call(), 16), t.symbol


def test_fetch_snapshot_with_the_real_chain_file_reads_tokens_vaults_and_sane_prices(replica: Replica) -> None:
    config = load_config(fork_env(replica.rpc_url, WALLET_ADDRESS=DEPLOYER), env_file=NO_ENV_FILE)
    snapshot = fetch_snapshot(build_rpcs(config), DEPLOYER)
    (cs,) = snapshot.chains
    assert cs.available and cs.chain_id == 1, cs.error
    prices = {s: p.usd for s, p in cs.prices.items()}
    assert set(prices) == {"WETH", "USDC", "USDT", "DAI", "USDS", "WBTC"}
    assert Decimal(2900) < prices["WETH"] < Decimal(3100)
    assert Decimal(58_000) < prices["WBTC"] < Decimal(62_000)
    for stable in ("USDT", "DAI", "USDS"):
        assert abs(prices[stable] - 1) < Decimal("0.01"), stable
    vaults = {h.symbol: h for h in cs.holdings if h.kind == "vault"}
    assert set(vaults) == {"sDAI", "sUSDS", "steakUSDC", "yvUSDC-1"}
    # the deployer holds each vault's seed: about 2M of the asset, at a share price a little above 1
    for name, h in vaults.items():
        assert h.usd is not None and Decimal(1_990_000) < h.usd < Decimal(2_010_000), name
        assert Decimal(1) < h.usd / h.balance < Decimal("1.2"), name  # a share is worth a little more than 1
