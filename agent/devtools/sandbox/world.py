"""Deploy the sandbox world onto a fresh anvil chain and render its chain file.

Every protocol contract is an official build (``contracts/build/official``): WETH9, USDC as Circle's FiatToken
behind its proxy, a USDT-quirk token, OpenZeppelin tokens and savings vault, Uniswap V2 twice (the "uniswap"
and "sushi" venues: factory, pairs, Router02) and Uniswap V3 (factory with the 0.01% tier, position manager,
QuoterV2, TickLens, SwapRouter02) with pools in the 100/500/3000 tiers holding several positions each.
Only the aggregator router and its shape adapters are the project's own (contracts/*.vy): no aggregator
router can run here. The deployer is anvil's account 9; its nonce sequence is fixed, so addresses are
deterministic and the committed ``chains/sandbox_*.toml`` files match every fresh deployment (a test checks this).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from web3 import Web3
from web3.types import RPCEndpoint

from agent.chain.rpc import make_web3
from agent.config.chains import ChainConfig, load_chain_file
from agent.devtools.contracts import deploy, deploy_official, official_at
from agent.devtools.protocols import deploy_multicall3, deploy_uniswap_v2, deploy_uniswap_v3, deploy_usdc
from agent.devtools.sandbox.pools import (
    MAX_UINT,
    approve_position_manager,
    fund_token,
    raw,
    seed_pool,
    seed_v3_pool,
    send_tx,
    token_contract,
)
from agent.devtools.sandbox.spec import (
    DEPLOYER,
    POOLS,
    PROXY_ADMIN,
    SHAPE_CONTRACTS,
    TOKENS,
    V3_POOLS,
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

__all__ = ["World", "deploy_world", "fund_token", "raw", "seed_pool", "send_tx", "write_chain_files"]
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
        return self.addresses.swap_router02

    @property
    def pairs(self) -> dict[tuple[str, str, str], str]:
        return self.addresses.pairs

    @property
    def v3_pools(self) -> dict[tuple[str, str, int], str]:
        return self.addresses.v3_pools

    def token(self, symbol: str) -> str:
        return self.addresses.tokens[symbol]


def _deploy_tokens(w3: Web3, specs: list[TokenSpec], out: DeployedAddresses) -> None:
    for t in specs:
        if t.kind == "WETH9":
            out.tokens[t.symbol] = deploy_official(w3, "WETH9", sender=DEPLOYER)
        elif t.kind == "FiatTokenV2_2":
            out.tokens[t.symbol] = deploy_usdc(w3, owner=DEPLOYER, proxy_admin=PROXY_ADMIN, name=t.name,
                                               symbol=t.symbol)
        else:
            out.tokens[t.symbol] = deploy_official(w3, t.kind, t.name, t.symbol, t.decimals, DEPLOYER, sender=DEPLOYER)


def _deploy_protocols(w3: Web3, spec: ChainSpec, out: DeployedAddresses) -> None:
    weth = out.tokens["WETH"]
    out.factory, out.router = deploy_uniswap_v2(w3, sender=DEPLOYER, weth=weth)
    out.sushi_factory, out.sushi_router = deploy_uniswap_v2(w3, sender=DEPLOYER, weth=weth)
    v3 = deploy_uniswap_v3(w3, sender=DEPLOYER, weth=weth, factory_v2=out.factory)
    out.v3_factory, out.position_manager, out.position_descriptor = v3.factory, v3.position_manager, v3.descriptor
    out.quoter, out.tick_lens, out.swap_router02 = v3.quoter, v3.tick_lens, v3.swap_router02
    out.aggregator_router = deploy(w3, "AggregatorRouter", weth, sender=DEPLOYER)
    for source, name in SHAPE_CONTRACTS.items():
        out.shape_routers[source] = deploy(w3, name, out.aggregator_router, sender=DEPLOYER)
    out.vault = deploy_official(w3, "SavingsVault", out.tokens["USDC"], "Sandbox Savings USDC", "sUSDC",
                                spec.vault_rate_bps_per_year, 0, sender=DEPLOYER)
    allow_minting(w3, out.tokens["USDC"], "USDC", out.vault)
    out.multicall3 = deploy_multicall3(w3)  # the official one, by its canonical pre-signed transaction


def allow_minting(w3: Web3, token: str, symbol: str, minter: str) -> None:
    """Let ``minter`` (a savings vault paying interest in the asset) mint the token."""
    if symbol == "USDC":
        send_tx(official_at(w3, "FiatTokenV2_2", token).functions.configureMinter(minter, MAX_UINT))
    else:
        send_tx(official_at(w3, "SandboxToken", token).functions.setMinter(minter, True))


def _fund_wallet(w3: Web3, spec: ChainSpec, specs: dict[str, TokenSpec], out: DeployedAddresses) -> None:
    for sym, amount in spec.wallet.items():
        if sym != "ETH":
            fund_token(w3, specs[sym], out.tokens[sym], WALLET, raw(amount, specs[sym].decimals))
    if spec.vault_deposit_usdc:
        deposit_raw = raw(spec.vault_deposit_usdc, 6)
        fund_token(w3, specs["USDC"], out.tokens["USDC"], WALLET, deposit_raw)
        send_tx(token_contract(w3, out.tokens["USDC"]).functions.approve(out.vault, deposit_raw), sender=WALLET)
        send_tx(official_at(w3, "SavingsVault", out.vault).functions.deposit(deposit_raw, WALLET), sender=WALLET)
    # last, so the gas the wallet paid above does not show in its starting balance
    w3.provider.make_request(RPCEndpoint("anvil_setBalance"),
                             [WALLET, hex(raw(spec.wallet.get("ETH", Decimal(0)), 18))])


def _seed_liquidity(w3: Web3, spec: ChainSpec, by_symbol: dict[str, TokenSpec], out: DeployedAddresses) -> None:
    extras = extra_token_specs(spec.extra_tokens)
    for pool in list(POOLS) + [PoolSpec(t.symbol, "USDC", Decimal(1_000_000)) for t in extras]:
        seed_pool(w3, pool, by_symbol, out, spec.pool_scale)
    approve_position_manager(w3, out, sorted({s for p in V3_POOLS for s in (p.a, p.b)}))
    for v3_pool in V3_POOLS:
        seed_v3_pool(w3, v3_pool, by_symbol, out, spec.pool_scale)


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
    _deploy_protocols(w3, spec, out)
    _seed_liquidity(w3, spec, by_symbol, out)
    if fund_wallet:
        _fund_wallet(w3, spec, by_symbol, out)
    chain = world_chain(spec, token_specs, out, chains_dir=chains_dir)
    log.info("sandbox %s (chain id %s) deployed: %d tokens, %d V2 pools, %d V3 pools", spec.name, spec.chain_id,
             len(out.tokens), len(out.pairs), len(out.v3_pools))
    return World(chain=chain, rpc_url=rpc_url, spec=spec, addresses=out)


def world_chain(spec: ChainSpec, token_specs: list[TokenSpec], out: DeployedAddresses, *,
                chains_dir: Path | None = None) -> ChainConfig:
    """The chain config of a deployed world (written to ``chains_dir`` when given)."""
    text = render_chain_toml(spec, token_specs, out)
    if chains_dir is None:
        return _parse_rendered(spec.name, text)
    path = chains_dir / f"{spec.name}.toml"
    path.write_text(text)
    return load_chain_file(path)


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
