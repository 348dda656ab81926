"""The "mainnet replica": the sandbox contracts placed at the real Ethereum addresses of ``chains/ethereum.toml``.

Built on a fresh anvil with chain id 1, so the real ``ethereum`` chain config — and the fork path
(``anvil --fork-url <replica>``) — run offline. How each contract gets to its real address:

* Tokens (ERC20, WETH9), routers (V2 Router02, SwapRouter02), the quoter and the aggregator routers are deployed
  normally by the sandbox deployer, then their *deployed* runtime code (``eth_getCode``: Vyper immutables are
  appended to it) is copied to the real address with ``anvil_setCode``, and every scalar storage variable of the
  contract's Vyper storage layout (owner, …) is copied with ``anvil_setStorageAt``.
* Immutables that name other contracts already point at the real addresses, because the contracts they name
  are placed first (or are passed the real address in the constructor): the V2 router's, QuoterV2's and
  SwapRouter02's ``WETH``, the aggregator router's ``WETH``, each vault's ``asset``. The factory and the pair
  blueprint stay where they were deployed (``chains/ethereum.toml`` does not name a V2 factory; QuoterV2 and
  SwapRouter02 point at it).
* Vaults: the sandbox ``Vault4626`` takes its asset's decimals; where the real vault's share decimals differ
  (steakUSDC: 18 over USDC's 6) the ``decimals`` immutable is rewritten in the copied code (its offset comes
  from the artifact's code layout). A seed deposit then gets its share count set so that one share is worth
  a realistic amount of the asset (sDAI ≈ 1.15 DAI …).
* Multicall3 is the official one, deployed by its canonical pre-signed transaction (as in the sandbox).

Balances and pools are created afterwards by calling the placed contracts, so they live at the real addresses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from web3 import Web3
from web3.types import RPCEndpoint

from agent.chain.rpc import make_web3
from agent.config.chains import ChainConfig, load_chain
from agent.config.settings import redact_url
from agent.devtools.contracts import contract_at, deploy, deploy_blueprint, load_artifact
from agent.devtools.protocols import deploy_multicall3
from agent.devtools.sandbox.fork import set_storage, vyper_mapping_slot
from agent.devtools.sandbox.spec import (
    DEPLOYER,
    SHAPE_CONTRACTS,
    TOKENS,
    DeployedAddresses,
    PoolSpec,
    TokenSpec,
)
from agent.devtools.sandbox.world import fund_token, raw, seed_pool, send_tx
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
    factory: str
    placed: dict[str, str] = field(default_factory=dict)  # label (as in ChainConfig.contract_addresses) -> address


def token_specs(chain: ChainConfig) -> list[TokenSpec]:
    """The sandbox token specs for every token of the chain config (USDS added), with the config's decimals."""
    known = {t.symbol: t for t in (*TOKENS, USDS)}
    out = []
    for t in chain.tokens:
        if t.symbol not in known:
            raise ConfigError(f"the replica has no spec for token {t.symbol} of chains/{chain.name}.toml")
        spec = known[t.symbol]
        out.append(TokenSpec(spec.symbol, spec.name, t.decimals, spec.usd_price, stable=t.stable, asset=t.asset,
                             approve_requires_zero=t.approve_requires_zero))
    return out


def place(w3: Web3, name: str, deployed: str, target: str, *, code: bytes | None = None) -> None:
    """Copy the deployed runtime code of ``deployed`` (or ``code``) to ``target``, with its scalar storage."""
    runtime = code if code is not None else bytes(w3.eth.get_code(Web3.to_checksum_address(deployed)))
    if not runtime:
        raise SandboxError(f"replica: nothing deployed at {deployed} for {name}")
    w3.provider.make_request(RPCEndpoint("anvil_setCode"), [target, "0x" + runtime.hex()])
    layout = load_artifact(name).storage_layout.get("storage_layout", {})
    for var, info in layout.items():
        if info["n_slots"] != 1 or info["type"].startswith(("HashMap", "DynArray")):
            continue
        value = int.from_bytes(w3.eth.get_storage_at(Web3.to_checksum_address(deployed), info["slot"]), "big")
        if value:
            set_storage(w3, target, info["slot"], value)
            log.debug("replica: %s.%s copied to %s", name, var, target)


def patch_immutable(name: str, runtime: bytes, var: str, value: int) -> bytes:
    """``runtime`` (deployed code with its immutables appended) with the 32-byte immutable ``var`` set."""
    art = load_artifact(name)
    info = art.storage_layout["code_layout"][var]
    start = len(art.deployed_bytecode) + info["offset"]
    if len(runtime) < start + 32:
        raise SandboxError(f"replica: {name} runtime too short for immutable {var}")
    return runtime[:start] + value.to_bytes(32, "big") + runtime[start + 32:]


def _place_tokens(w3: Web3, chain: ChainConfig, specs: list[TokenSpec], out: DeployedAddresses) -> None:
    for spec in specs:
        real = chain.token(spec.symbol).address
        if spec.symbol == chain.wrapped_native:
            deployed = deploy(w3, "WETH9", sender=DEPLOYER)
            place(w3, "WETH9", deployed, real)
        else:
            deployed = deploy(w3, "ERC20", spec.name, spec.symbol, spec.decimals, DEPLOYER,
                              spec.approve_requires_zero, sender=DEPLOYER)
            place(w3, "ERC20", deployed, real)
        out.tokens[spec.symbol] = real


def _place_vaults(w3: Web3, chain: ChainConfig, by_symbol: dict[str, TokenSpec]) -> None:
    for v in chain.vaults:
        asset = chain.token(v.asset)
        deployed = deploy(w3, "Vault4626", asset.address, f"Replica {v.name}", v.name, VAULT_RATE_BPS, DEPLOYER,
                          sender=DEPLOYER)
        code = patch_immutable("Vault4626", bytes(w3.eth.get_code(deployed)), "decimals", v.decimals)
        place(w3, "Vault4626", deployed, v.address, code=code)
        send_tx(contract_at(w3, "ERC20", asset.address).functions.set_minter(v.address, True))
        _seed_vault(w3, chain, v.name, by_symbol[v.asset])


def _seed_vault(w3: Web3, chain: ChainConfig, name: str, asset_spec: TokenSpec) -> None:
    """Deposit seed assets, then set the share supply so one share is worth ``VAULT_SHARE_PRICE`` assets."""
    vault = next(v for v in chain.vaults if v.name == name)
    asset = chain.token(vault.asset)
    amount = raw(VAULT_SEED_ASSETS, asset.decimals)
    fund_token(w3, asset_spec, asset.address, DEPLOYER, amount)
    send_tx(contract_at(w3, "ERC20", asset.address).functions.approve(vault.address, amount))
    send_tx(contract_at(w3, "Vault4626", vault.address).functions.deposit(amount, DEPLOYER))
    shares = raw(VAULT_SEED_ASSETS / VAULT_SHARE_PRICE.get(name, Decimal(1)), vault.decimals)
    layout = load_artifact("Vault4626").storage_layout["storage_layout"]
    set_storage(w3, vault.address, layout["totalSupply"]["slot"], shares)
    set_storage(w3, vault.address, vyper_mapping_slot(layout["balanceOf"]["slot"], DEPLOYER), shares)


def _place_routers(w3: Web3, chain: ChainConfig, out: DeployedAddresses) -> None:
    weth = chain.token(chain.wrapped_native).address
    blueprint = deploy_blueprint(w3, "UniswapV2Pair", sender=DEPLOYER)
    out.factory = deploy(w3, "UniswapV2Factory", DEPLOYER, blueprint, sender=DEPLOYER)
    if chain.uniswap_v2 is not None:
        place(w3, "UniswapV2Router02", deploy(w3, "UniswapV2Router02", out.factory, weth, sender=DEPLOYER),
              chain.uniswap_v2.router)
        out.router = chain.uniswap_v2.router
    if chain.uniswap_v3 is not None:
        place(w3, "QuoterV2", deploy(w3, "QuoterV2", out.factory, weth, sender=DEPLOYER), chain.uniswap_v3.quoter_v2)
        out.quoter = chain.uniswap_v3.quoter_v2
        if chain.uniswap_v3.swap_router02 is not None:
            place(w3, "SwapRouter02", deploy(w3, "SwapRouter02", out.factory, weth, sender=DEPLOYER),
                  chain.uniswap_v3.swap_router02)
    aggregator = deploy(w3, "AggregatorRouter", weth, sender=DEPLOYER)
    shapes = {source: (name, deploy(w3, name, aggregator, sender=DEPLOYER)) for source, name in SHAPE_CONTRACTS.items()}
    for source, allow in chain.aggregators.items():
        name, deployed = shapes.get(source, ("AggregatorRouter", aggregator))
        for router in allow.routers:
            place(w3, name, deployed, router)
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
    _place_routers(w3, chain, out)
    _place_vaults(w3, chain, by_symbol)
    for pool in REPLICA_POOLS:
        if pool.a in by_symbol and pool.b in by_symbol:
            seed_pool(w3, pool, by_symbol, out, pool_scale)
    placed = check_replica(w3, chain)
    log.info("mainnet replica (chain id %s) built: %d contracts at their real addresses, %d pools",
             chain.chain_id, len(placed), len(out.pairs))
    return Replica(rpc_url=rpc_url, chain=chain, factory=out.factory, placed=placed)
