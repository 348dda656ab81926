"""Chain configuration: one TOML file per chain in ``chains/`` loaded into typed, validated models.

A chain file names the chain id, the env variable prefix for its RPC URLs, its tokens (with decimals,
the asset they count as, and a stable flag), Multicall3, on-chain quoters, vaults and — per aggregator —
the routers a quoted transaction may call and the spenders that may receive an approval. Anything not
listed here can never receive a call or an approval from the agent.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent import REPO_ROOT
from agent.errors import ConfigError
from agent.models import checksum

FROZEN = ConfigDict(frozen=True, extra="forbid")
NATIVE_PLACEHOLDER = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
AGGREGATOR_SOURCES = ("0x", "1inch", "paraswap", "odos", "kyberswap", "sandbox")

Address = Annotated[str, AfterValidator(lambda v: checksum(v, strict=True))]


class Token(BaseModel):
    model_config = FROZEN

    symbol: str = Field(min_length=1, max_length=16)
    address: Address
    decimals: int = Field(ge=0, le=36)
    stable: bool = False
    #: The portfolio asset this token counts as (WETH counts as ETH). Defaults to the symbol.
    asset: str = ""
    #: Uniswap V3 fee tier used to price this token against the chain's USD stable with QuoterV2.
    v3_fee: int = 3000
    #: Route used for pricing with the V2 router, as symbols; default ``[symbol, usd_stable]``.
    price_path: tuple[str, ...] = ()
    #: Needs its allowance set to 0 before a new non-zero approval (USDT on Ethereum).
    approve_requires_zero: bool = False

    @property
    def asset_symbol(self) -> str:
        return self.asset or self.symbol


class Vault(BaseModel):
    """An allow-listed ERC-4626 vault. Its shares count as ``asset`` (a token symbol of this chain)."""

    model_config = FROZEN

    name: str
    address: Address
    asset: str
    decimals: int = Field(ge=0, le=36)
    max_share_pct: float = Field(default=100.0, gt=0, le=100)


class AggregatorAllowList(BaseModel):
    """Where a source's transactions may go (``routers``) and who may be approved (``spenders``)."""

    model_config = FROZEN

    routers: tuple[Address, ...]
    spenders: tuple[Address, ...]
    #: Addresses that must never be approved even if a response names them (the 0x Settler).
    never_approve: tuple[Address, ...] = ()
    #: Slug in the aggregator's URL where it uses one (KyberSwap: ``ethereum``, ``arbitrum``…).
    slug: str = ""


class UniswapV2(BaseModel):
    model_config = FROZEN
    router: Address
    factory: Address | None = None


class UniswapV3(BaseModel):
    model_config = FROZEN
    quoter_v2: Address
    #: SwapRouter02: makes the on-chain source executable where there is no V2 router (``exactInputSingle``).
    swap_router02: Address | None = None


class ChainConfig(BaseModel):
    model_config = FROZEN

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    chain_id: int = Field(gt=0)
    kind: Literal["mainnet", "sandbox"] = "mainnet"
    native_symbol: str
    native_decimals: int = 18
    wrapped_native: str
    usd_stable: str
    multicall3: Address
    block_time_s: float = Field(gt=0, default=12.0)
    uniswap_v2: UniswapV2 | None = None
    uniswap_v3: UniswapV3 | None = None
    tokens: tuple[Token, ...]
    vaults: tuple[Vault, ...] = ()
    aggregators: dict[str, AggregatorAllowList] = Field(default_factory=dict)
    #: Pairs with a direct V2 pool worth trading through instead of the hub stable (their depth is read
    #: each cycle; the planner uses the direct pool when it is estimated cheaper).
    direct_pairs: tuple[tuple[str, str], ...] = ()
    #: The maxFeePerGas hard cap (gwei) when ``<CHAIN>_HARD_CAP_GWEI`` is unset: fees, replacements included,
    #: never go above it (#14).
    default_hard_cap_gwei: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _check_references(self) -> ChainConfig:
        symbols = [t.symbol for t in self.tokens]
        if len(set(symbols)) != len(symbols):
            raise ValueError("token symbols must be unique")
        addresses = [t.address for t in self.tokens] + [v.address for v in self.vaults]
        if len(set(addresses)) != len(addresses):
            raise ValueError("a token or vault address appears twice")
        for ref, what in ((self.usd_stable, "usd_stable"), (self.wrapped_native, "wrapped_native")):
            if ref not in symbols:
                raise ValueError(f"{what} {ref!r} is not one of the chain's tokens")
        if not self.token(self.usd_stable).stable:
            raise ValueError(f"usd_stable {self.usd_stable!r} must have stable = true")
        for v in self.vaults:
            if v.asset not in symbols:
                raise ValueError(f"vault {v.name}: asset {v.asset!r} is not one of the chain's tokens")
        for t in self.tokens:
            for hop in t.price_path:
                if hop not in symbols:
                    raise ValueError(f"token {t.symbol}: price_path names unknown token {hop!r}")
        for a, b in self.direct_pairs:
            if a not in symbols or b not in symbols or a == b:
                raise ValueError(f"direct_pairs [{a!r}, {b!r}] must name two different tokens of this chain")
        unknown = set(self.aggregators) - set(AGGREGATOR_SOURCES)
        if unknown:
            raise ValueError(f"unknown aggregator(s) {sorted(unknown)}; known: {list(AGGREGATOR_SOURCES)}")
        if self.uniswap_v2 is None and self.uniswap_v3 is None:
            raise ValueError("configure uniswap_v2.router or uniswap_v3.quoter_v2 so prices can be read")
        return self

    @property
    def rpc_env(self) -> str:
        """Prefix of this chain's env variables: ``ETHEREUM`` → ``ETHEREUM_RPC_URL``."""
        return self.name.upper()

    def token(self, symbol: str) -> Token:
        for t in self.tokens:
            if t.symbol == symbol:
                return t
        raise ConfigError(f"chain {self.name}: no token {symbol!r} in chains/{self.name}.toml")

    def token_by_address(self, address: str) -> Token | None:
        low = address.lower()
        return next((t for t in self.tokens if t.address.lower() == low), None)

    @cached_property
    def assets(self) -> frozenset[str]:
        """Every asset symbol this chain can hold (native coin, tokens' assets and their symbols)."""
        names = {self.native_symbol} | {t.asset_symbol for t in self.tokens} | {t.symbol for t in self.tokens}
        return frozenset(names)

    def contract_addresses(self) -> dict[str, str]:
        """Every configured contract by a readable label: checked for code when connecting."""
        out: dict[str, str] = {"multicall3": self.multicall3}
        out.update({f"token {t.symbol}": t.address for t in self.tokens})
        out.update({f"vault {v.name}": v.address for v in self.vaults})
        if self.uniswap_v2:
            out["uniswap_v2.router"] = self.uniswap_v2.router
        if self.uniswap_v3:
            out["uniswap_v3.quoter_v2"] = self.uniswap_v3.quoter_v2
            if self.uniswap_v3.swap_router02:
                out["uniswap_v3.swap_router02"] = self.uniswap_v3.swap_router02
        for source, allow in self.aggregators.items():
            for i, addr in enumerate(allow.routers):
                out[f"aggregators.{source}.routers[{i}]"] = addr
        return out


def default_chains_dir() -> Path:
    return REPO_ROOT / "chains"


def _format_validation(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "file"
    return f"{where}: {first['msg'].removeprefix('Value error, ')}"


def load_chain_file(path: Path) -> ChainConfig:
    """Load and validate one chain file; every problem becomes one ConfigError line naming the file."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"chain file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"chain file {path}: invalid TOML ({exc}); fix the syntax") from exc
    try:
        cfg = ChainConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"chain file {path}: {_format_validation(exc)}") from exc
    if cfg.name != path.stem:
        raise ConfigError(f"chain file {path}: name {cfg.name!r} must equal the file name {path.stem!r}")
    return cfg


def available_chains(chains_dir: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (chains_dir or default_chains_dir()).glob("*.toml"))


def load_chain(name: str, chains_dir: Path | None = None) -> ChainConfig:
    directory = chains_dir or default_chains_dir()
    path = directory / f"{name}.toml"
    if not path.exists():
        known = ", ".join(available_chains(directory)) or "none"
        raise ConfigError(f"CHAINS: unknown chain {name!r} (no {path}); known chains: {known}")
    return load_chain_file(path)
