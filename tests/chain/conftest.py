"""In-process EVM (eth-tester / py-evm) with a small sandbox world, deployed once per session.

Every test runs inside a snapshot that is reverted afterwards, so tests can change state freely.
The world: WETH; tokens USDC (6 decimals), WBTC (8), DAI (18), USDT (6, approve-requires-zero);
two Uniswap-V2 deployments ("uni" and "sushi") with seeded pools at ETH = 3000 USD and
BTC = 60000 USD; a USDC ERC-4626 vault earning 5%/year; Multicall3; the aggregator router; QuoterV2.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_tester.exceptions import TransactionFailed
from eth_typing import ChecksumAddress
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from agent.devtools.contracts import add_liquidity, contract_at, deploy, deploy_token, deploy_uniswap_v2

NATIVE = Web3.to_checksum_address("0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE")
VAULT_RATE_BPS_PER_YEAR = 500


@dataclass(frozen=True)
class World:
    w3: Web3
    deployer: ChecksumAddress
    user: ChecksumAddress
    other: ChecksumAddress
    weth: Contract
    usdc: Contract
    wbtc: Contract
    dai: Contract
    usdt: Contract
    factory: Contract
    router: Contract
    sushi_factory: Contract
    sushi_router: Contract
    vault: Contract
    multicall: Contract
    aggregator: Contract
    quoter: Contract

    def pair(self, token_a: Contract, token_b: Contract, *, factory: Contract | None = None) -> Contract:
        address = (factory or self.factory).functions.getPair(token_a.address, token_b.address).call()
        return contract_at(self.w3, "UniswapV2Pair", address)

    def transact(self, call, *, sender: str | None = None, value: int = 0) -> dict:
        """Send a contract call from `sender` (default: the user) and return its receipt."""
        tx_hash = call.transact({"from": sender or self.user, "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return receipt

    def advance_time(self, seconds: int) -> int:
        """Move the chain clock forward and mine a block; returns the new block timestamp."""
        target = self.w3.eth.get_block("latest")["timestamp"] + seconds
        self.w3.testing.timeTravel(target)
        self.w3.testing.mine()
        return self.w3.eth.get_block("latest")["timestamp"]

    def deadline(self, seconds: int = 3600) -> int:
        return self.w3.eth.get_block("latest")["timestamp"] + seconds


def _seed(w3: Web3, deployer: ChecksumAddress, user: ChecksumAddress) -> World:
    weth = deploy(w3, "WETH9", sender=deployer)
    usdc = deploy_token(w3, name="USD Coin", symbol="USDC", decimals=6, sender=deployer)
    wbtc = deploy_token(w3, name="Wrapped BTC", symbol="WBTC", decimals=8, sender=deployer)
    dai = deploy_token(w3, name="Dai Stablecoin", symbol="DAI", decimals=18, sender=deployer)
    usdt = deploy_token(w3, name="Tether USD", symbol="USDT", decimals=6, sender=deployer, approve_requires_zero=True)
    factory, router = deploy_uniswap_v2(w3, sender=deployer, weth=weth)
    sushi_factory, sushi_router = deploy_uniswap_v2(w3, sender=deployer, weth=weth)

    handles = {a: contract_at(w3, "ERC20", a) for a in (usdc, wbtc, dai, usdt)}
    for address, amount in ((usdc, 10**16), (wbtc, 10**12), (dai, 10**26), (usdt, 10**16)):
        for holder in (deployer, user):
            handles[address].functions.mint(holder, amount).transact({"from": deployer})
    weth_contract = contract_at(w3, "WETH9", weth)
    for holder in (deployer, user):
        weth_contract.functions.deposit().transact({"from": holder, "value": 10_000 * 10**18})

    e18, e6, e8 = 10**18, 10**6, 10**8
    pools = [
        (factory, weth, usdc, 1_000 * e18, 3_000_000 * e6),
        (factory, wbtc, usdc, 100 * e8, 6_000_000 * e6),
        (factory, weth, wbtc, 2_000 * e18, 100 * e8),
        (factory, dai, usdc, 1_000_000 * e18, 1_000_000 * e6),
        (sushi_factory, weth, usdc, 500 * e18, 1_500_000 * e6),
    ]
    for pool_factory, token_a, token_b, amount_a, amount_b in pools:
        add_liquidity(
            w3,
            factory=pool_factory,
            token_a=token_a,
            token_b=token_b,
            amount_a_raw=amount_a,
            amount_b_raw=amount_b,
            sender=deployer,
        )

    vault = deploy(
        w3, "Vault4626", usdc, "Sandbox USDC Vault", "svUSDC", VAULT_RATE_BPS_PER_YEAR, deployer, sender=deployer
    )
    handles[usdc].functions.set_minter(vault, True).transact({"from": deployer})
    return World(
        w3=w3,
        deployer=deployer,
        user=user,
        other=Web3.to_checksum_address(w3.eth.accounts[2]),
        weth=weth_contract,
        usdc=handles[usdc],
        wbtc=handles[wbtc],
        dai=handles[dai],
        usdt=handles[usdt],
        factory=contract_at(w3, "UniswapV2Factory", factory),
        router=contract_at(w3, "UniswapV2Router02", router),
        sushi_factory=contract_at(w3, "UniswapV2Factory", sushi_factory),
        sushi_router=contract_at(w3, "UniswapV2Router02", sushi_router),
        vault=contract_at(w3, "Vault4626", vault),
        multicall=contract_at(w3, "Multicall3", deploy(w3, "Multicall3", sender=deployer)),
        aggregator=contract_at(w3, "AggregatorRouter", deploy(w3, "AggregatorRouter", weth, sender=deployer)),
        quoter=contract_at(w3, "QuoterV2", deploy(w3, "QuoterV2", factory, weth, sender=deployer)),
    )


@pytest.fixture(scope="session")
def w3() -> Web3:
    return Web3(EthereumTesterProvider())


@pytest.fixture(scope="session")
def _world(w3: Web3) -> World:
    accounts = [Web3.to_checksum_address(a) for a in w3.eth.accounts]
    return _seed(w3, accounts[0], accounts[1])


@pytest.fixture
def world(_world: World, w3: Web3) -> Iterator[World]:
    """The sandbox world; state changes are reverted after each test."""
    snapshot = w3.testing.snapshot()
    yield _world
    w3.testing.revert(snapshot)


@pytest.fixture
def reverts():
    """``with reverts("reason"):`` expects a revert whose message matches (eth-tester or a JSON-RPC node)."""

    def expect(match: str):
        return pytest.raises((ContractLogicError, TransactionFailed), match=match)

    return expect
