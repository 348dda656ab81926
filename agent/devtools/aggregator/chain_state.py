"""What the aggregator server reads from a sandbox chain: every pair of the configured Uniswap-V2-style
factories with its reserves (one Multicall3 call), allowances, and the gas price."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pydantic import SecretStr

from agent.chain.abi import abi
from agent.chain.multicall import Call, aggregate
from agent.chain.rpc import ChainRpc
from agent.config.chains import ChainConfig
from agent.config.settings import ChainSettings
from agent.devtools.aggregator.routing import Pool
from agent.devtools.contracts import official_at
from agent.errors import ConfigError
from agent.models import checksum

ALL_PAIRS_LENGTH = abi("UniswapV2Factory").fn("allPairsLength")
ALL_PAIRS = abi("UniswapV2Factory").fn("allPairs")
TOKEN0 = abi("UniswapV2Pair").fn("token0")
TOKEN1 = abi("UniswapV2Pair").fn("token1")
GET_RESERVES = abi("UniswapV2Pair").fn("getReserves")
ALLOWANCE = abi("ERC20").fn("allowance")
GET_BLOCK_NUMBER = abi("Multicall3").fn("getBlockNumber")


@dataclass(frozen=True)
class SandboxChain:
    """One chain the server answers for: its config, RPC URL and any V2 factories beyond ``uniswap_v2.factory``."""

    config: ChainConfig
    rpc_url: str
    factories: tuple[str, ...] = ()


class ChainView:
    """Live reads of one sandbox chain. Pair → tokens is cached (immutable); reserves are read per request."""

    def __init__(self, chain: SandboxChain) -> None:
        cfg = chain.config
        self.config = cfg
        self.rpc = ChainRpc(cfg, ChainSettings(rpc_urls=(SecretStr(chain.rpc_url),)), timeout_s=10, attempts=2)
        allowed = cfg.aggregators.get("sandbox")
        if allowed is None or not allowed.routers:
            raise ConfigError(f"chains/{cfg.name}.toml: no [aggregators.sandbox] router (the AggregatorRouter)")
        self.router = allowed.routers[0]
        self.factories = self._factories(chain)
        self._pairs: dict[str, tuple[str, str, str]] = {}
        self._seen = dict.fromkeys(self.factories, 0)
        self._lock = threading.Lock()

    def _factories(self, chain: SandboxChain) -> list[str]:
        out: list[str] = []
        v2 = self.config.uniswap_v2
        if v2 is not None:
            if v2.factory:
                out.append(v2.factory)
            else:
                router = official_at(self.rpc.w3, "UniswapV2Router02", v2.router)
                out.append(self.rpc.read(lambda _w3: router.functions.factory().call(), what="router.factory"))
        out += [f for f in chain.factories if f not in out]
        if not out:
            raise ConfigError(f"chains/{self.config.name}.toml: no uniswap_v2 factory to route over")
        return out

    def _discover(self) -> None:
        lengths = aggregate(self.rpc, [Call(f, ALL_PAIRS_LENGTH) for f in self.factories])
        calls, owners = [], []
        for i, (factory, n) in enumerate(zip(self.factories, lengths, strict=True)):
            total = n[0] if n else 0
            for k in range(self._seen[factory], total):
                calls.append(Call(factory, ALL_PAIRS, (k,)))
                owners.append(f"v2-factory-{i}")
            self._seen[factory] = total
        if not calls:
            return
        pairs = [checksum(v[0]) for v in aggregate(self.rpc, calls) if v]
        tokens = aggregate(self.rpc, [c for p in pairs for c in (Call(p, TOKEN0), Call(p, TOKEN1))])
        for j, pair in enumerate(pairs):
            t0, t1 = tokens[2 * j], tokens[2 * j + 1]
            if t0 and t1:
                self._pairs[pair] = (checksum(t0[0]), checksum(t1[0]), owners[j])

    def pools(self) -> tuple[list[Pool], int]:
        """Every pool with its current reserves, and the block they were read at."""
        with self._lock:
            self._discover()
            pairs = list(self._pairs.items())
        calls = [Call(self.config.multicall3, GET_BLOCK_NUMBER)] + [Call(p, GET_RESERVES) for p, _ in pairs]
        block, *reserves = aggregate(self.rpc, calls)
        pools = [Pool(p, t0, t1, r[0], r[1], venue) for (p, (t0, t1, venue)), r in zip(pairs, reserves, strict=True)
                 if r]
        return pools, block[0] if block else 0

    def router_for(self, source: str) -> str:
        """Where ``source``'s calldata goes: its allow-listed router (a Shape adapter or the AggregatorRouter)."""
        allowed = self.config.aggregators.get(source)
        return allowed.routers[0] if allowed is not None and allowed.routers else self.router

    def allowance(self, token: str, owner: str, spender: str | None = None) -> int:
        (value,) = aggregate(self.rpc, [Call(token, ALLOWANCE, (owner, spender or self.router))])
        return value[0] if value else 0

    def gas_price(self) -> int:
        return int(self.rpc.read(lambda w3: w3.eth.gas_price, what="gas price"))
