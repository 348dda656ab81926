"""The "mainnet replica": the official builds placed at the real Ethereum addresses of ``chains/ethereum.toml``.

Built on a fresh anvil with chain id 1, so the real ``ethereum`` chain config — and the fork path
(``anvil --fork-url <replica>``) — run offline. Every protocol contract is an official build
(contracts/build/official): WETH9, USDC as Circle's FiatToken behind its proxy, the USDT-quirk token, OpenZeppelin
tokens (DAI, USDS, WBTC) and savings vaults, Uniswap V2 (factory, pairs, Router02) and V3 (factory with the 0.01%
tier, position manager, QuoterV2, SwapRouter02); only the aggregator routers are the project's own Vyper
contracts. How each gets to its real address: it is deployed normally by the sandbox deployer, then its
deployed runtime code (``eth_getCode``, immutables included) and every storage slot it has (read from
``anvil_dumpState``) are copied to the real address with ``anvil_setCode``/``anvil_setStorageAt``.

* Immutables that name other contracts already point at the real addresses, because the contracts they name
  are placed first and the real address is passed to the constructor: Router02's, QuoterV2's, SwapRouter02's
  and the position manager's WETH, each vault's asset. The V2 and V3 factories stay where they were deployed
  (``chains/ethereum.toml`` names neither; pool addresses derive from them), and so does USDC's implementation
  (the proxy at the real address points at it).
* Vaults: the savings vault's share decimals are its asset's plus a decimals offset (steakUSDC: 18 over USDC's
  6, as MetaMorpho). A seed deposit plus a donation of the asset sets one share to a realistic value
  (sDAI ≈ 1.15 DAI …).
* Multicall3 is the official one, deployed by its canonical pre-signed transaction (as in the sandbox).

Balances and pools are created afterwards by calling the placed contracts, so they live at the real addresses:
V2 pairs and V3 pools in the fee tiers the chain file names (``v3_fee``), with several positions each.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3

from agent.chain.rpc import make_web3
from agent.config.chains import ChainConfig, load_chain
from agent.config.settings import redact_url
from agent.devtools.contracts import contract_at, deploy, deploy_official, official_at
from agent.devtools.protocols import deploy_multicall3, deploy_uniswap_v2, deploy_uniswap_v3, deploy_usdc
from agent.devtools.sandbox.pools import (
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
    PROXY_ADMIN,
    SHAPE_CONTRACTS,
    STABLE_RANGES,
    TOKENS,
    DeployedAddresses,
    PoolSpec,
    TokenSpec,
    V3PoolSpec,
)
from agent.devtools.sandbox.world import allow_minting
from agent.errors import ConfigError, SandboxError

log = logging.getLogger(__name__)

REPLICA_CHAIN = "ethereum"
REPLICA_CHAIN_ID = 1
USDS = TokenSpec("USDS", "USDS Stablecoin", 18, Decimal(1), stable=True)
#: Pools on the replica's V2 factory (USD per side), deep enough that on-chain quotes have mainnet-like impact.
REPLICA_POOLS: tuple[PoolSpec, ...] = (
    PoolSpec("WETH", "USDC", Decimal(30_000_000)),
    PoolSpec("WBTC", "WETH", Decimal(10_000_000)),
    PoolSpec("WBTC", "USDC", Decimal(5_000_000)),
    PoolSpec("USDT", "USDC", Decimal(10_000_000)),
    PoolSpec("DAI", "USDC", Decimal(10_000_000)),
    PoolSpec("USDS", "USDC", Decimal(5_000_000)),
    PoolSpec("USDS", "DAI", Decimal(2_000_000)),
)
#: V3 pools (total USD) in the tiers of chains/ethereum.toml: WETH 0.05%, the stables 0.01%, WBTC 0.3%.
REPLICA_V3_POOLS: tuple[V3PoolSpec, ...] = (
    V3PoolSpec("WETH", "USDC", 500, Decimal(60_000_000)),
    V3PoolSpec("WETH", "USDC", 3000, Decimal(10_000_000)),
    V3PoolSpec("WBTC", "USDC", 3000, Decimal(20_000_000)),
    V3PoolSpec("WBTC", "WETH", 500, Decimal(20_000_000)),
    V3PoolSpec("USDT", "USDC", 100, Decimal(20_000_000), STABLE_RANGES),
    V3PoolSpec("DAI", "USDC", 100, Decimal(10_000_000), STABLE_RANGES),
    V3PoolSpec("USDS", "USDC", 100, Decimal(5_000_000), STABLE_RANGES),
)
#: Value of one vault share in its asset, and the vault's yield (bps/year), roughly as on mainnet.
VAULT_SHARE_PRICE: dict[str, Decimal] = {"sDAI": Decimal("1.15"), "sUSDS": Decimal("1.05"),
                                         "steakUSDC": Decimal("1.08"), "yvUSDC-1": Decimal("1.10")}
VAULT_RATE_BPS = 500
VAULT_SEED_ASSETS = Decimal(2_000_000)


@dataclass(frozen=True)
class Replica:
    """What was built: the chain config it matches and where the helpers the config does not name live."""

    rpc_url: str
    chain: ChainConfig
    #: the V3 factory QuoterV2 and SwapRouter02 read pools from (``factory_v2``: Router02's)
    factory: str
    placed: dict[str, str] = field(default_factory=dict)  # label (as in ChainConfig.contract_addresses) -> address
    factory_v2: str = ""


def token_specs(chain: ChainConfig) -> list[TokenSpec]:
    """The sandbox token specs for every token of the chain config (USDS added), with the config's values."""
    known = {t.symbol: t for t in (*TOKENS, USDS)}
    out = []
    for t in chain.tokens:
        if t.symbol not in known:
            raise ConfigError(f"the replica has no spec for token {t.symbol} of chains/{chain.name}.toml")
        spec = known[t.symbol]
        out.append(TokenSpec(spec.symbol, spec.name, t.decimals, spec.usd_price, stable=t.stable, asset=t.asset,
                             approve_requires_zero=t.approve_requires_zero, v3_fee=t.v3_fee))
    return out


def account_storage(w3: Web3) -> dict[str, dict[str, str]]:
    """Every account's storage ({slot: value}, hex) from ``anvil_dumpState``, keyed by lower-case address."""
    body: Any = w3.provider.make_request("anvil_dumpState", [])  # type: ignore[arg-type]
    if "error" in body:
        raise SandboxError(f"replica: anvil_dumpState: {body['error']}")
    state = json.loads(gzip.decompress(bytes.fromhex(str(body["result"])[2:])))
    return {a.lower(): dict(acc.get("storage") or {}) for a, acc in state["accounts"].items()}


def place(w3: Web3, deployed: str, target: str, storage: dict[str, dict[str, str]] | None = None) -> None:
    """Copy the runtime code of ``deployed`` and every storage slot it has to ``target``."""
    runtime = bytes(w3.eth.get_code(Web3.to_checksum_address(deployed)))
    if not runtime:
        raise SandboxError(f"replica: nothing deployed at {deployed}")
    w3.provider.make_request("anvil_setCode", [target, "0x" + runtime.hex()])  # type: ignore[arg-type]
    slots = (storage if storage is not None else account_storage(w3)).get(deployed.lower(), {})
    for slot, value in slots.items():
        word = "0x" + int(value, 16).to_bytes(32, "big").hex()
        w3.provider.make_request("anvil_setStorageAt", [target, slot, word])  # type: ignore[arg-type]


def _deploy_token(w3: Web3, spec: TokenSpec) -> str:
    if spec.kind == "WETH9":
        return deploy_official(w3, "WETH9", sender=DEPLOYER)
    if spec.kind == "FiatTokenV2_2":
        return deploy_usdc(w3, owner=DEPLOYER, proxy_admin=PROXY_ADMIN, name=spec.name, symbol=spec.symbol)
    return deploy_official(w3, spec.kind, spec.name, spec.symbol, spec.decimals, DEPLOYER, sender=DEPLOYER)


def _place_tokens(w3: Web3, chain: ChainConfig, specs: list[TokenSpec], out: DeployedAddresses) -> None:
    deployed = {spec.symbol: _deploy_token(w3, spec) for spec in specs}
    storage = account_storage(w3)
    for spec in specs:
        real = chain.token(spec.symbol).address
        place(w3, deployed[spec.symbol], real, storage)
        out.tokens[spec.symbol] = real


def _place_vaults(w3: Web3, chain: ChainConfig, by_symbol: dict[str, TokenSpec]) -> None:
    deployed = {}
    for v in chain.vaults:
        asset = chain.token(v.asset)
        offset = v.decimals - asset.decimals
        if offset < 0:
            raise ConfigError(f"chains/{chain.name}.toml: vault {v.name} has fewer decimals than its asset")
        deployed[v.name] = deploy_official(w3, "SavingsVault", asset.address, f"Replica {v.name}", v.name,
                                           VAULT_RATE_BPS, offset, sender=DEPLOYER)
    storage = account_storage(w3)
    for v in chain.vaults:
        place(w3, deployed[v.name], v.address, storage)
        allow_minting(w3, chain.token(v.asset).address, v.asset, v.address)
        _seed_vault(w3, chain, v.name, by_symbol[v.asset])


def _seed_vault(w3: Web3, chain: ChainConfig, name: str, asset_spec: TokenSpec) -> None:
    """The deployer deposits, then the vault is given assets so that one share is worth ``VAULT_SHARE_PRICE``.

    The deployer's shares end up worth ``VAULT_SEED_ASSETS`` of the asset."""
    vault = next(v for v in chain.vaults if v.name == name)
    asset = chain.token(vault.asset)
    price = VAULT_SHARE_PRICE.get(name, Decimal(1))
    deposit = raw(VAULT_SEED_ASSETS / price, asset.decimals)
    fund_token(w3, asset_spec, asset.address, DEPLOYER, deposit)
    send_tx(token_contract(w3, asset.address).functions.approve(vault.address, deposit))
    send_tx(official_at(w3, "SavingsVault", vault.address).functions.deposit(deposit, DEPLOYER))
    fund_token(w3, asset_spec, asset.address, vault.address, raw(VAULT_SEED_ASSETS, asset.decimals) - deposit)


def _place_protocols(w3: Web3, chain: ChainConfig, out: DeployedAddresses) -> None:
    weth = chain.token(chain.wrapped_native).address
    out.factory, router = deploy_uniswap_v2(w3, sender=DEPLOYER, weth=weth)
    v3 = deploy_uniswap_v3(w3, sender=DEPLOYER, weth=weth, factory_v2=out.factory)
    out.v3_factory, out.position_manager, out.position_descriptor = v3.factory, v3.position_manager, v3.descriptor
    out.tick_lens = v3.tick_lens
    aggregator = deploy(w3, "AggregatorRouter", weth, sender=DEPLOYER)
    shapes = {source: deploy(w3, name, aggregator, sender=DEPLOYER) for source, name in SHAPE_CONTRACTS.items()}
    storage = account_storage(w3)
    out.router, out.quoter, out.swap_router02 = router, v3.quoter, v3.swap_router02
    if chain.uniswap_v2 is not None:
        place(w3, router, chain.uniswap_v2.router, storage)
        out.router = chain.uniswap_v2.router
    if chain.uniswap_v3 is not None:
        place(w3, v3.quoter, chain.uniswap_v3.quoter_v2, storage)
        out.quoter = chain.uniswap_v3.quoter_v2
        if chain.uniswap_v3.swap_router02 is not None:
            place(w3, v3.swap_router02, chain.uniswap_v3.swap_router02, storage)
            out.swap_router02 = chain.uniswap_v3.swap_router02
    for source, allow in chain.aggregators.items():
        for target in allow.routers:
            place(w3, shapes.get(source, aggregator), target, storage)
    if deploy_multicall3(w3) != chain.multicall3:  # the official one, by its canonical pre-signed transaction
        raise ConfigError(f"chains/{chain.name}.toml: multicall3 {chain.multicall3} is not the canonical Multicall3")


def check_replica(w3: Web3, chain: ChainConfig) -> dict[str, str]:
    """Every configured contract has code, and tokens and vaults report the configured decimals."""
    placed = chain.contract_addresses()
    for label, address in placed.items():
        if not w3.eth.get_code(Web3.to_checksum_address(address)):
            raise SandboxError(f"replica: no code at {label} ({address})")
    for t in chain.tokens:
        got = contract_at(w3, "ERC20", t.address).functions.decimals().call()
        if got != t.decimals:
            raise SandboxError(f"replica: token {t.symbol} reports {got} decimals, config says {t.decimals}")
    for v in chain.vaults:
        got = contract_at(w3, "Vault4626", v.address).functions.decimals().call()
        if got != v.decimals:
            raise SandboxError(f"replica: vault {v.name} reports {got} decimals, config says {v.decimals}")
    return placed


def build_replica(rpc_url: str, *, chains_dir: Path | None = None, pool_scale: Decimal = Decimal(1)) -> Replica:
    """Build the mainnet replica on the fresh chain-id-1 anvil at ``rpc_url``."""
    chain = load_chain(REPLICA_CHAIN, chains_dir)
    w3 = make_web3(rpc_url, timeout_s=60)
    if w3.eth.chain_id != chain.chain_id:
        raise SandboxError(f"replica: the anvil at {redact_url(rpc_url)} has chain id {w3.eth.chain_id}, "
                           f"not {chain.chain_id}")
    if w3.eth.get_transaction_count(DEPLOYER) != 0:
        raise SandboxError("build_replica needs a fresh chain (the deployer has already sent transactions)")
    specs = token_specs(chain)
    by_symbol = {s.symbol: s for s in specs}
    out = DeployedAddresses(multicall3=chain.multicall3)
    _place_tokens(w3, chain, specs, out)
    _place_protocols(w3, chain, out)
    _place_vaults(w3, chain, by_symbol)
    for pool in REPLICA_POOLS:
        if pool.a in by_symbol and pool.b in by_symbol:
            seed_pool(w3, pool, by_symbol, out, pool_scale)
    v3_pools = [p for p in REPLICA_V3_POOLS if p.a in by_symbol and p.b in by_symbol]
    approve_position_manager(w3, out, sorted({s for p in v3_pools for s in (p.a, p.b)}))
    for v3_pool in v3_pools:
        seed_v3_pool(w3, v3_pool, by_symbol, out, pool_scale)
    placed = check_replica(w3, chain)
    log.info("mainnet replica (chain id %s) built: %d contracts at their real addresses, %d V2 and %d V3 pools",
             chain.chain_id, len(placed), len(out.pairs), len(out.v3_pools))
    return Replica(rpc_url=rpc_url, chain=chain, factory=out.v3_factory, placed=placed, factory_v2=out.factory)
