"""Deploy the sandbox world onto a fresh anvil chain and render its chain file.

Contracts come from ``contracts/build`` (compiled from the Vyper sources). The deployer is anvil's
account 9; its nonce sequence is fixed, so addresses are deterministic and the committed
``chains/sandbox_*.toml`` files match every fresh deployment (a test checks this).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from agent.chain.rpc import make_web3
from agent.config.chains import ChainConfig, load_chain_file
from agent.devtools.contracts import contract_at as contract
from agent.devtools.contracts import deploy, deploy_blueprint
from agent.devtools.protocols import deploy_multicall3
from agent.devtools.sandbox.spec import (
    DEPLOYER,
    POOLS,
    SHAPE_CONTRACTS,
    TOKENS,
    WALLET,
    ChainSpec,
    DeployedAddresses,
    PoolSpec,
    TokenSpec,
    chain_spec,
    extra_token_specs,
)
from agent.devtools.sandbox.toml_render import render_chain_toml
from agent.errors import SandboxError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    chain: ChainConfig
    rpc_url: str
    spec: ChainSpec
    addresses: DeployedAddresses
    wallet: str = WALLET
    deployer: str = DEPLOYER

    @property
    def router(self) -> str:
        return self.addresses.router

    @property
    def aggregator_router(self) -> str:
        return self.addresses.aggregator_router

    @property
    def weth(self) -> str:
        return self.addresses.tokens["WETH"]

    @property
    def factory(self) -> str:
        return self.addresses.factory

    @property
    def quoter(self) -> str:
        return self.addresses.quoter

    @property
    def swap_router02(self) -> str:
        assert self.chain.uniswap_v3 is not None and self.chain.uniswap_v3.swap_router02 is not None
        return self.chain.uniswap_v3.swap_router02

    @property
    def pairs(self) -> dict[tuple[str, str, str], str]:
        return self.addresses.pairs

    def token(self, symbol: str) -> str:
        return self.addresses.tokens[symbol]


def send_tx(fn: Any, sender: str = DEPLOYER, value: int = 0) -> None:
    h = fn.transact({"from": sender, "value": value})
    receipt = fn.w3.eth.wait_for_transaction_receipt(h)
    if receipt["status"] != 1:
        raise SandboxError(f"sandbox deploy step reverted: {fn.fn_name}")


def raw(amount: Decimal, decimals: int) -> int:
    return int((amount * Decimal(10) ** decimals).to_integral_value())


def _deploy_tokens(w3: Web3, specs: list[TokenSpec], out: DeployedAddresses) -> None:
    for t in specs:
        if t.symbol == "WETH":
            out.tokens[t.symbol] = deploy(w3, "WETH9", sender=DEPLOYER)
        else:
            out.tokens[t.symbol] = deploy(w3, "ERC20", t.name, t.symbol, t.decimals, DEPLOYER,
                                          t.approve_requires_zero, sender=DEPLOYER)


def fund_token(w3: Web3, token: TokenSpec, address: str, to: str, amount_raw: int) -> None:
    """Give ``to`` tokens: mint ERC-20s, wrap ETH for WETH (the deployer holds plenty)."""
    if amount_raw <= 0:
        return
    if token.symbol == "WETH":
        weth = contract(w3, "WETH9", address)
        send_tx(weth.functions.deposit(), value=amount_raw)
        if to != DEPLOYER:
            send_tx(weth.functions.transfer(to, amount_raw))
    else:
        send_tx(contract(w3, "ERC20", address).functions.mint(to, amount_raw))


def seed_pool(w3: Web3, pool: PoolSpec, specs: dict[str, TokenSpec], out: DeployedAddresses, scale: Decimal) -> None:
    factory = contract(w3, "UniswapV2Factory", out.factory if pool.venue == "uniswap" else out.sushi_factory)
    a, b = specs[pool.a], specs[pool.b]
    send_tx(factory.functions.createPair(out.tokens[a.symbol], out.tokens[b.symbol]))
    pair = factory.functions.getPair(out.tokens[a.symbol], out.tokens[b.symbol]).call()
    usd = pool.usd_per_side * scale
    for t in (a, b):
        fund_token(w3, t, out.tokens[t.symbol], pair, raw(usd / t.usd_price, t.decimals))
    send_tx(contract(w3, "UniswapV2Pair", pair).functions.mint(DEPLOYER))
    out.pairs[(pool.venue, a.symbol, b.symbol)] = pair


def _fund_wallet(w3: Web3, spec: ChainSpec, specs: dict[str, TokenSpec], out: DeployedAddresses) -> None:
    for sym, amount in spec.wallet.items():
        if sym != "ETH":
            fund_token(w3, specs[sym], out.tokens[sym], WALLET, raw(amount, specs[sym].decimals))
    if spec.vault_deposit_usdc:
        deposit_raw = raw(spec.vault_deposit_usdc, 6)
        fund_token(w3, specs["USDC"], out.tokens["USDC"], WALLET, deposit_raw)
        usdc = contract(w3, "ERC20", out.tokens["USDC"])
        send_tx(usdc.functions.approve(out.vault, deposit_raw), sender=WALLET)
        send_tx(contract(w3, "Vault4626", out.vault).functions.deposit(deposit_raw, WALLET), sender=WALLET)
    # last, so the gas the wallet paid above does not show in its starting balance
    w3.provider.make_request(RPCEndpoint("anvil_setBalance"),
                             [WALLET, hex(raw(spec.wallet.get("ETH", Decimal(0)), 18))])



def deploy_world(rpc_url: str, *, chain_name: str = "sandbox_a", spec: ChainSpec | None = None,
                 fund_wallet: bool = True, chains_dir: Path | None = None) -> World:
    """Deploy everything onto a fresh anvil at ``rpc_url`` and return the world with its chain config."""
    spec = spec or chain_spec(chain_name)
    w3 = make_web3(rpc_url, timeout_s=60)
    if w3.eth.get_transaction_count(DEPLOYER) != 0:
        raise SandboxError("deploy_world needs a fresh chain (the deployer has already sent transactions)")
    token_specs = list(TOKENS) + extra_token_specs(spec.extra_tokens)
    by_symbol = {t.symbol: t for t in token_specs}
    out = DeployedAddresses()
    _deploy_tokens(w3, token_specs, out)
    pair_blueprint = deploy_blueprint(w3, "UniswapV2Pair", sender=DEPLOYER)
    out.factory = deploy(w3, "UniswapV2Factory", DEPLOYER, pair_blueprint, sender=DEPLOYER)
    out.router = deploy(w3, "UniswapV2Router02", out.factory, out.tokens["WETH"], sender=DEPLOYER)
    out.sushi_factory = deploy(w3, "UniswapV2Factory", DEPLOYER, pair_blueprint, sender=DEPLOYER)
    out.sushi_router = deploy(w3, "UniswapV2Router02", out.sushi_factory, out.tokens["WETH"], sender=DEPLOYER)
    out.quoter = deploy(w3, "QuoterV2", out.factory, out.tokens["WETH"], sender=DEPLOYER)
    out.aggregator_router = deploy(w3, "AggregatorRouter", out.tokens["WETH"], sender=DEPLOYER)
    out.vault = deploy(w3, "Vault4626", out.tokens["USDC"], "Sandbox Savings USDC", "sUSDC",
                       spec.vault_rate_bps_per_year, DEPLOYER, sender=DEPLOYER)
    send_tx(contract(w3, "ERC20", out.tokens["USDC"]).functions.set_minter(out.vault, True))
    out.multicall3 = deploy_multicall3(w3)  # the official one, by its canonical pre-signed transaction
    pools = list(POOLS) + [PoolSpec(t.symbol, "USDC", Decimal(1_000_000)) for t in extra_token_specs(spec.extra_tokens)]
    for pool in pools:
        seed_pool(w3, pool, by_symbol, out, spec.pool_scale)
    if fund_wallet:
        _fund_wallet(w3, spec, by_symbol, out)
    # deployed last so that every address deployed before it stays what it was before SwapRouter02 existed
    swap_router02 = deploy(w3, "SwapRouter02", out.factory, out.tokens["WETH"], sender=DEPLOYER)
    # then the real-shape adapters, for the same reason
    for source, name in SHAPE_CONTRACTS.items():
        out.shape_routers[source] = deploy(w3, name, out.aggregator_router, sender=DEPLOYER)
    text = render_chain_toml(spec, token_specs, out, swap_router02=swap_router02)
    path = (chains_dir / f"{spec.name}.toml") if chains_dir else None
    if path is not None:
        path.write_text(text)
    chain = load_chain_file(path) if path else _parse_rendered(spec.name, text)
    log.info("sandbox %s (chain id %s) deployed: %d tokens, %d pools", spec.name, spec.chain_id,
             len(out.tokens), len(out.pairs))
    return World(chain=chain, rpc_url=rpc_url, spec=spec, addresses=out)


def _parse_rendered(name: str, text: str) -> ChainConfig:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"{name}.toml"
        p.write_text(text)
        return load_chain_file(p)


def write_chain_files(chains_dir: Path | None = None) -> list[Path]:
    """Deploy each sandbox chain on a throw-away anvil and (re)write its committed chain file."""
    from agent.config.chains import default_chains_dir
    from agent.devtools.sandbox.anvil import start_anvil
    from agent.devtools.sandbox.spec import CHAINS

    directory = chains_dir or default_chains_dir()
    written = []
    for spec in CHAINS:
        anvil = start_anvil(chain_id=spec.chain_id)
        try:
            deploy_world(anvil.url, spec=spec, chains_dir=directory)
        finally:
            anvil.stop()
        written.append(directory / f"{spec.name}.toml")
    return written


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write-chain-files"]:
        raise SystemExit("usage: python -m agent.devtools.sandbox.world --write-chain-files")
    for p in write_chain_files():
        print(p)
