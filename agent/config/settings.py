"""Settings from the environment and ``.env`` (pydantic-settings), validated once at start-up.

``load_config()`` returns one frozen ``AppConfig``: the global ``Settings``, the loaded chain configs and
each chain's own settings (``<CHAIN>_RPC_URL`` and friends). Any bad value raises one ``ConfigError``
whose message names the variable, says what is wrong and how to fix it, and never echoes a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent import REPO_ROOT
from agent.config.chains import ChainConfig, load_chain
from agent.config.scrub import key_like_label
from agent.errors import ConfigError
from agent.models import checksum

QUOTE_SOURCES = ("onchain", "0x", "1inch", "paraswap", "odos", "kyberswap")
SECRET_FIELDS = {"sandbox_private_key", "keystore_password", "zerox_api_key", "oneinch_api_key",
                 "odos_api_key", "kyberswap_client_id", "notify_urls", "dashboard_token"}


def _split(value: object) -> object:
    if isinstance(value, str):
        return _parts(value)
    return value


def _parts(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


class Settings(BaseSettings):
    """Global settings. Field ``foo_bar`` is read from env ``FOO_BAR``; see ``.env.example``."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    chains: tuple[str, ...] = Field(min_length=1)
    targets: dict[str, Decimal]
    wallet_address: str | None = None
    signer: str | None = None
    signer_expected_address: str | None = None
    sandbox_private_key: SecretStr | None = None
    keystore_password: SecretStr | None = None
    keystore_password_file: Path | None = None

    strategy: str = "threshold"
    band_pp: Decimal = Field(default=Decimal(5), ge=0)
    band_rel_pct: Decimal = Field(default=Decimal(25), ge=0)
    asset_bands_pp: dict[str, Decimal] = Field(default_factory=dict)
    emergency_band_pp: Decimal = Field(default=Decimal(15), ge=0)
    calendar_interval_hours: Decimal = Field(default=Decimal(168), gt=0)
    min_trade_usd: Decimal = Field(default=Decimal(50), ge=0)
    stable_buffer_usd: Decimal = Field(default=Decimal(1000), ge=0)
    stable_buffer_pct: Decimal = Field(default=Decimal(0), ge=0, le=100)
    vault_parking: bool = True  # park hub stables above the buffer in allow-listed ERC-4626 vaults
    vault_min_tvl_usd: Decimal = Field(default=Decimal(1_000_000), ge=0)  # never park in a smaller vault
    vault_exit_on_loss: bool = True  # withdraw everything from a vault whose share price fell
    vault_preview_tolerance_bps: int = Field(default=10, ge=0, le=1000)  # preview vs conversion/actual slack
    vault_yield_window_hours: Decimal = Field(default=Decimal(24), gt=0)  # share-price growth measured over this

    quote_sources: tuple[str, ...] = ("onchain",)
    max_slippage_bps: int = Field(default=50, ge=0, le=5000)
    max_quote_deviation_bps: int = Field(default=100, ge=0, le=10000)
    max_impact_bps: int = Field(default=50, ge=0, le=10000)
    twap_max_chunks: int = Field(default=64, ge=1, le=1000)  # a split swap has at most this many chunks
    twap_spacing_blocks: int = Field(default=1, ge=0)  # blocks between two chunks (arbitrage restores the pool)
    #: spread a split swap over this long (chunk i when i/n of it is due); unset: the time TWAP_MAX_CHUNKS chunks
    #: need at the fastest spacing, so every chunk count shares the same exposure; 0: as fast as possible
    twap_horizon_s: float | None = Field(default=None, ge=0)
    twap_price_guard_bps: int = Field(default=300, gt=0)  # abandon the rest of a split swap past this price move
    max_swap_gas: int = Field(default=1_500_000, gt=0)
    priority_fee_percentile: float = Field(default=20.0, ge=0, le=100)  # eth_feeHistory reward percentile (tip)
    replace_after_blocks: int = Field(default=3, ge=1)  # replace a tx not mined after N blocks (+12.5% fees)
    quote_timeout_s: float = Field(default=8.0, gt=0)

    zerox_api_url: str = "https://api.0x.org"
    zerox_api_key: SecretStr | None = None
    oneinch_api_url: str = "https://api.1inch.dev/swap/v6.0"
    oneinch_api_key: SecretStr | None = None
    paraswap_api_url: str = "https://api.paraswap.io"
    odos_api_url: str = "https://api.odos.xyz"
    odos_api_key: SecretStr | None = None
    kyberswap_api_url: str = "https://aggregator-api.kyberswap.com"
    kyberswap_client_id: SecretStr | None = None

    rpc_timeout_s: float = Field(default=10.0, gt=0)
    rpc_attempts: int = Field(default=3, ge=1, le=10)
    run_interval_s: float = Field(default=300.0, gt=0)
    journal_path: Path = Path(".rebalancer/journal.sqlite")
    chains_dir: Path = REPO_ROOT / "chains"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # operating it (#18): approval before execution, notifications, metrics, the dashboard
    approval: str = "auto"  # auto | manual | above:USD (a plan trading more than USD waits for approval)
    approval_ttl_s: float = Field(default=3600.0, gt=0)  # a pending approval expires after this long
    approval_tolerance_bps: int = Field(default=100, ge=0, le=10000)  # re-planned vs approved, per action
    notify_urls: SecretStr | None = None  # apprise URLs, comma/space separated (they carry tokens: secret)
    metrics_addr: str | None = None  # HOST:PORT of the Prometheus endpoint (unset: off)
    dashboard_addr: str = "127.0.0.1:8787"
    dashboard_token: SecretStr | None = None  # unset: `serve` generates one and prints it once to stderr

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_config() merges env and .env itself (it also needs the per-chain names), then passes
        # the values in: one reading of the environment, so tests and the CLI see the same thing.
        return (init_settings,)

    @field_validator("chains", "quote_sources", mode="before")
    @classmethod
    def _csv(cls, v: object) -> object:
        return _split(v)

    @field_validator("chains")
    @classmethod
    def _lower_chains(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(c.lower() for c in v)
        if len(set(out)) != len(out):
            raise ValueError("a chain is listed twice; list each chain once")
        return out

    @field_validator("quote_sources")
    @classmethod
    def _known_sources(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in v if s not in QUOTE_SOURCES]
        if bad:
            raise ValueError(f"unknown source(s) {bad}; choose from {','.join(QUOTE_SOURCES)}")
        return v

    @field_validator("targets", mode="before")
    @classmethod
    def _parse_targets(cls, v: object) -> object:
        if not isinstance(v, str):
            return v
        out: dict[str, Decimal] = {}
        for part in _parts(v):
            sym, sep, pct = part.partition(":")
            if not sep or not sym.strip():
                raise ValueError(f"{part!r} is not SYMBOL:PERCENT; write e.g. TARGETS=ETH:40,WBTC:30,USDC:30")
            try:
                value = Decimal(pct.strip())
            except InvalidOperation as exc:
                raise ValueError(f"{part!r}: {pct!r} is not a number") from exc
            if not value.is_finite() or value < 0:
                raise ValueError(f"{part!r}: a target must be a percentage ≥ 0")
            if sym.strip() in out:
                raise ValueError(f"{sym.strip()} appears twice")
            out[sym.strip()] = value
        return out

    @field_validator("targets")
    @classmethod
    def _sum_100(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        if not v:
            raise ValueError("no targets; write e.g. TARGETS=ETH:40,WBTC:30,USDC:30")
        total = sum(v.values(), Decimal(0))
        if abs(total - 100) > Decimal("0.0001"):
            raise ValueError(f"percentages sum to {total}, not 100; adjust them so they add up to 100")
        return v

    @field_validator("asset_bands_pp", mode="before")
    @classmethod
    def _parse_bands(cls, v: object) -> object:
        if not isinstance(v, str):
            return v
        out: dict[str, Decimal] = {}
        for part in _parts(v):
            sym, sep, pp = part.partition(":")
            try:
                value = Decimal(pp.strip()) if sep else Decimal(-1)
            except InvalidOperation:
                value = Decimal(-1)
            if not sym.strip() or not value.is_finite() or value < 0:
                raise ValueError(f"{part!r} is not SYMBOL:PP with PP ≥ 0; write e.g. ASSET_BANDS_PP=ETH:3,USDC:8")
            out[sym.strip()] = value
        return out

    @field_validator("approval")
    @classmethod
    def _approval(cls, v: str) -> str:
        v = v.strip().lower()
        if v in ("auto", "manual"):
            return v
        kind, _, usd = v.partition(":")
        try:
            ok = kind == "above" and Decimal(usd) >= 0
        except InvalidOperation:
            ok = False
        if not ok:
            raise ValueError(f"{v!r} is not auto, manual or above:USD; write e.g. APPROVAL=above:5000")
        return v

    @field_validator("metrics_addr", "dashboard_addr")
    @classmethod
    def _host_port(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{v!r} is not HOST:PORT; write e.g. 127.0.0.1:9108")
        return v

    @field_validator("wallet_address", "signer_expected_address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        return None if v in (None, "") else checksum(v, strict=True)


class ChainSettings(BaseModel):
    """Per-chain settings from ``<CHAIN>_*`` variables. RPC URLs may hold API keys: kept secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rpc_urls: tuple[SecretStr, ...] = Field(min_length=1)
    tx_rpc_url: SecretStr | None = None
    max_base_fee_gwei: Decimal | None = Field(default=None, gt=0)
    hard_cap_gwei: Decimal | None = Field(default=None, gt=0)
    gas_wait_deadline_s: float = Field(default=3600.0, gt=0)  # wait this long for the base fee, then retry later
    gas_timing: Literal["limit", "optimal"] = "limit"  # optimal: also wait, within the deadline, for a cheap block
    gas_history_blocks: int | None = Field(default=None, ge=16)  # optimal timing's history (default 8 x deadline)
    #: blocks on top of a receipt before it counts (reorg safety; 0: at once)
    confirmations: int = Field(default=0, ge=0, le=64)


class AppConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    settings: Settings
    chains: dict[str, ChainConfig]
    chain_settings: dict[str, ChainSettings]

    def enabled(self) -> list[tuple[ChainConfig, ChainSettings]]:
        return [(self.chains[n], self.chain_settings[n]) for n in self.settings.chains]


def redact_url(url: str) -> str:
    """``https://eth-mainnet.g.alchemy.com/v2/KEY`` → ``https://eth-mainnet.g.alchemy.com/…``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    labels = (parts.hostname or "?").split(".")
    # a key in a subdomain (https://k3y...@ or https://<key>.rpc.example) is a credential, not a name
    host = ".".join("…" if key_like_label(label) else label for label in labels)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable url>"
    tail = "/…" if (parts.path not in ("", "/") or parts.query or parts.username) else ""
    return f"{parts.scheme}://{host}{port}{tail}"


def read_environment(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> dict[str, str]:
    """The process environment over the ``.env`` file (``ENV_FILE`` picks another file)."""
    env = dict(os.environ if environ is None else environ)
    path = env_file or Path(env.get("ENV_FILE", ".env"))
    file_values = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}
    return {**file_values, **env}


def settings_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "settings"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        msg = "is required; set it in the environment or .env (see .env.example)"
    elif field not in SECRET_FIELDS and first["type"] not in ("value_error",) and "input" in first:
        msg = f"{msg} (got {first['input']!r}); fix the value (see .env.example)"
    return ConfigError(f"{field.upper()}: {msg}")


def _chain_settings(chain: ChainConfig, env: Mapping[str, str]) -> ChainSettings:
    prefix = chain.rpc_env
    urls = [u.strip() for u in env.get(f"{prefix}_RPC_URL", "").split(",") if u.strip()]
    if not urls:
        raise ConfigError(
            f"{prefix}_RPC_URL: chain {chain.name!r} is in CHAINS but has no RPC URL; "
            f"set {prefix}_RPC_URL=https://… (comma-separated fallbacks allowed) or remove it from CHAINS")
    for u in [*urls, env.get(f"{prefix}_TX_RPC_URL", "")]:
        if u and urlsplit(u).scheme not in ("http", "https"):
            raise ConfigError(f"{prefix}_RPC_URL: {redact_url(u)} is not an http(s) URL; use http:// or https://")
    values: dict[str, Any] = {"rpc_urls": tuple(SecretStr(u) for u in urls)}
    for key, field in (("TX_RPC_URL", "tx_rpc_url"), ("MAX_BASE_FEE_GWEI", "max_base_fee_gwei"),
                       ("HARD_CAP_GWEI", "hard_cap_gwei"), ("GAS_WAIT_DEADLINE_S", "gas_wait_deadline_s"),
                       ("GAS_TIMING", "gas_timing"), ("GAS_HISTORY_BLOCKS", "gas_history_blocks"),
                       ("CONFIRMATIONS", "confirmations")):
        if env.get(f"{prefix}_{key}"):
            values[field] = env[f"{prefix}_{key}"]
    values.setdefault("hard_cap_gwei", chain.default_hard_cap_gwei)  # fees are always capped (#14)
    try:
        out = ChainSettings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = f"{prefix}_{str(first['loc'][0]).upper()}"
        shown = "" if first["loc"][0] in ("rpc_urls", "tx_rpc_url") else f" (got {first.get('input')!r})"
        raise ConfigError(f"{name}: {first['msg']}{shown}") from exc
    cap, limit = out.hard_cap_gwei, out.max_base_fee_gwei
    if cap is not None and limit is not None and cap < limit:
        raise ConfigError(f"{prefix}_HARD_CAP_GWEI={cap} is below {prefix}_MAX_BASE_FEE_GWEI={limit}: a transaction "
                          f"could never be sent at the limit; raise the cap or lower the limit")
    return out


def load_config(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> AppConfig:
    env = read_environment(environ, env_file)
    fields = Settings.model_fields
    values: dict[str, Any] = {k.lower(): v for k, v in env.items() if k.lower() in fields and v != ""}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise settings_error(exc) from None
    chains = {name: load_chain(name, settings.chains_dir) for name in settings.chains}
    chain_settings = {name: _chain_settings(cfg, env) for name, cfg in chains.items()}
    _check_targets(settings, chains)
    return AppConfig(settings=settings, chains=chains, chain_settings=chain_settings)


def _check_targets(settings: Settings, chains: Mapping[str, ChainConfig]) -> None:
    known = set().union(*(c.assets for c in chains.values()))
    for symbol in settings.targets:
        if symbol not in known:
            raise ConfigError(
                f"TARGETS: {symbol!r} is not a token on any configured chain ({', '.join(settings.chains)}); "
                f"use one of {', '.join(sorted(known))} or add the token to chains/<chain>.toml")


def safe_error(exc: BaseException) -> str:
    """An exception as one line with anything URL-like removed (URLs may carry API keys)."""
    import re

    text = f"{type(exc).__name__}: {exc}"
    text = re.sub(r"[a-z][a-z0-9+.-]*://[^\s'\"),]+", lambda m: redact_url(m.group(0)), text, flags=re.I)
    text = re.sub(r"(url|path)[:=]\s*\S+", r"\1: …", text, flags=re.I)
    return text.splitlines()[0][:300] if text else type(exc).__name__
