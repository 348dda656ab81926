"""Settings from the environment and ``.env`` (pydantic-settings), validated once at start-up.

``load_config()`` returns one frozen ``AppConfig``: the global ``Settings``, the loaded chain configs and
each chain's own settings (``<CHAIN>_RPC_URL`` and friends). Any bad value raises one ``ConfigError``
whose message names the variable, says what is wrong and how to fix it, and never echoes a secret.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent.config.chain_settings import CHAIN_KEYS, ChainSettings, chain_settings_from_env
from agent.config.chains import ChainConfig, default_chains_dir, load_chain
from agent.config.environment import (
    OTHER_NAMES,
    check_journal_path,
    default_journal_path,
    env_file_values,
    near_misses,
    read_environment,
)

__all__ = ["AppConfig", "ChainSettings", "Settings", "load_config", "read_environment", "redact_url", "safe_error"]
from agent.config.redact import redact_url, safe_error
from agent.errors import ConfigError
from agent.models import checksum

log = logging.getLogger(__name__)

QUOTE_SOURCES = ("onchain", "0x", "1inch", "paraswap", "odos", "kyberswap")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRET_FIELDS = {"sandbox_private_key", "keystore_password", "zerox_api_key", "oneinch_api_key",
                 "odos_api_key", "kyberswap_client_id", "notify_urls", "dashboard_token"}


def _parts(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _split(value: object) -> object:
    if isinstance(value, str):
        return _parts(value)
    return value


class Section(BaseModel):
    """One slice of the settings; its fields keep their flat env names (``BAND_PP`` → ``strategy.band_pp``)."""

    #: no setting is ever infinite or NaN (``RPC_TIMEOUT_S=inf`` is one clear error, not an overflow later)
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class RpcSettings(Section):
    rpc_timeout_s: float = Field(default=10.0, gt=0, le=600)
    rpc_attempts: int = Field(default=3, ge=1, le=10)


class StrategySettings(Section):
    """What to hold and when to trade: the strategy (``STRATEGY`` → ``name``), its bands, trade and buffer sizes."""

    name: str = "threshold"
    band_pp: Decimal = Field(default=Decimal(5), ge=0)
    band_rel_pct: Decimal = Field(default=Decimal(25), ge=0)
    asset_bands_pp: dict[str, Decimal] = Field(default_factory=dict)
    emergency_band_pp: Decimal = Field(default=Decimal(15), ge=0)
    calendar_interval_hours: Decimal = Field(default=Decimal(168), gt=0)
    min_trade_usd: Decimal = Field(default=Decimal(50), ge=0)
    stable_buffer_usd: Decimal = Field(default=Decimal(1000), ge=0)
    stable_buffer_pct: Decimal = Field(default=Decimal(0), ge=0, le=100)
    #: tax lots (``rebalancer tax``, the tax-aware planner, stop-loss's cost basis): fifo | lifo | hifo | min-tax;
    #: unset: min-tax with TAX_AWARE (losses, then long-term lots first), else fifo (``lot_method``)
    tax_lot_method: Literal["fifo", "lifo", "hifo", "min-tax"] | None = None
    #: skip a sell whose estimated tax exceeds its drift benefit (needs the journal's lots)
    tax_aware: bool = False
    #: opening lots (CSV asset,acquired_at,quantity,cost_usd) of what the wallet held before the journal began
    tax_opening_lots: Path | None = None
    #: the correlation monitor (strategies/correlation.py): alert when the average pairwise correlation of the
    #: risky assets' daily returns over CORRELATION_WINDOW_DAYS reaches CORRELATION_ALERT (off: shown, no alert)
    correlation_alert: float | None = Field(default=0.85, gt=-1, le=1)
    correlation_window_days: int = Field(default=30, ge=5, le=3650)
    # the decision layer (strategies/vol_bands.py, regime.py, dynamic.py, overlays.py say what each does)
    vol_halflife_days: float = Field(default=20.0, gt=0, allow_inf_nan=False)
    vol_reference_days: float = Field(default=365.0, gt=0, allow_inf_nan=False)
    vol_bands_exponent: float = Field(default=1.0, ge=-5, le=5, allow_inf_nan=False)
    vol_bands_min_scale: float = Field(default=0.5, gt=0, allow_inf_nan=False)
    vol_bands_max_scale: float = Field(default=3.0, gt=0, allow_inf_nan=False)
    regime_model: str = Field(default="rule", pattern="^(rule|hmm)$")
    regime_asset: str | None = None
    regime_window_days: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    regime_er_trend: float = Field(default=0.3, gt=0, lt=1)
    regime_trend_band_pp: Decimal = Field(default=Decimal(10), ge=0)
    regime_range_band_pp: Decimal = Field(default=Decimal(5), ge=0)
    dynamic_method: str = Field(default="inverse_vol", pattern="^(inverse_vol|vol_target)$")
    dynamic_bounds: str = ""
    vol_target_pct: float = Field(default=50.0, gt=0, allow_inf_nan=False)
    dynamic_max_stable_pct: float = Field(default=80.0, ge=0, le=100)
    pause_crash_pct: float | None = Field(default=None, gt=0, le=100)
    pause_crash_hours: float = Field(default=24.0, gt=0, allow_inf_nan=False)
    pause_depeg_floor: float | None = Field(default=None, gt=0, lt=2)
    pause_correlation: float | None = Field(default=None, gt=-1, le=1)
    pause_correlation_days: int = Field(default=30, ge=5, le=3650)
    pause_fear_greed_below: float | None = Field(default=None, ge=0, le=100)
    stop_loss_pct: float | None = Field(default=None, gt=0, lt=100)
    take_profit_pct: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    stop_sell_pct: float = Field(default=50.0, gt=0, le=100)
    stop_stable: str = "USDC"

    @property
    def lot_method(self) -> str:
        return self.tax_lot_method or ("min-tax" if self.tax_aware else "fifo")

    @field_validator("correlation_alert", mode="before")
    @classmethod
    def _alert_off(cls, v: object) -> object:
        return None if isinstance(v, str) and v.strip().lower() in ("off", "none") else v

    @field_validator("tax_opening_lots")
    @classmethod
    def _lots_file(cls, v: Path | None) -> Path | None:
        if v is not None and not v.expanduser().is_file():
            raise ValueError(f"{v} is not a file; give the CSV of opening lots (asset,acquired_at,quantity,cost_usd)")
        return None if v is None else v.expanduser()

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


class ExecutionSettings(Section):
    """How trades are bounded and sent: slippage, impact and the TWAP split, gas bounds, fee tips, replacement."""

    max_slippage_bps: int = Field(default=50, ge=0, le=5000)
    max_impact_bps: int = Field(default=50, ge=0, le=10000)
    twap_max_chunks: int = Field(default=64, ge=1, le=1000)  # a split swap has at most this many chunks
    twap_spacing_blocks: int = Field(default=1, ge=0)  # blocks between two chunks (arbitrage restores the pool)
    #: spread a split swap over this long (chunk i when i/n of it is due); unset: the time TWAP_MAX_CHUNKS chunks
    #: need at the fastest spacing, so every chunk count shares the same exposure; 0: as fast as possible
    twap_horizon_s: float | None = Field(default=None, ge=0, le=7 * 86400)
    twap_price_guard_bps: int = Field(default=300, gt=0)  # abandon the rest of a split swap past this price move
    max_swap_gas: int = Field(default=1_500_000, gt=0)
    priority_fee_percentile: float = Field(default=20.0, ge=0, le=100)  # eth_feeHistory reward percentile (tip)
    replace_after_blocks: int = Field(default=3, ge=1)  # replace a tx not mined after N blocks (+12.5% fees)
    #: nonce gaps (journaled nonces the chain never saw) filled with 0-value self-transfers before a send, at most
    #: this many; more means a reset chain or another journal: the agent halts and says how to fix it
    max_nonce_gap_fill: int = Field(default=3, ge=0, le=100)
    # spending limits (hot-wallet limits; unset: no limit). A plan over a limit is cut, and says what and why.
    max_trade_usd: Decimal | None = Field(default=None, gt=0)  # per action
    max_cycle_usd: Decimal | None = Field(default=None, gt=0)  # all actions of one cycle
    max_daily_usd: Decimal | None = Field(default=None, gt=0)  # trades executed in the last 24 h (the journal)
    max_daily_gas_usd: Decimal | None = Field(default=None, gt=0)  # gas paid in the last 24 h (the journal)
    #: while this file exists nothing is sent (checked before every transaction, not only at the cycle's start)
    pause_file: Path | None = None


class VaultSettings(Section):
    vault_parking: bool = True  # park hub stables above the buffer in allow-listed ERC-4626 vaults
    vault_min_tvl_usd: Decimal = Field(default=Decimal(1_000_000), ge=0)  # never park in a smaller vault
    vault_exit_on_loss: bool = True  # withdraw everything from a vault whose share price fell
    vault_preview_tolerance_bps: int = Field(default=10, ge=0, le=1000)  # preview vs conversion/actual slack
    vault_yield_window_hours: Decimal = Field(default=Decimal(24), gt=0)  # share-price growth measured over this


class AggregatorSettings(Section):
    """Where quotes come from: the sources, their deadline, the deviation bound, base URLs and keys."""

    quote_sources: tuple[str, ...] = ("onchain",)
    quote_timeout_s: float = Field(default=8.0, gt=0, le=600)
    max_quote_deviation_bps: int = Field(default=100, ge=0, le=10000)
    zerox_api_url: str = "https://api.0x.org"
    zerox_api_key: SecretStr | None = None
    oneinch_api_url: str = "https://api.1inch.dev/swap/v6.0"
    oneinch_api_key: SecretStr | None = None
    paraswap_api_url: str = "https://api.paraswap.io"
    odos_api_url: str = "https://api.odos.xyz"
    odos_api_key: SecretStr | None = None
    kyberswap_api_url: str = "https://aggregator-api.kyberswap.com"
    kyberswap_client_id: SecretStr | None = None

    @field_validator("quote_sources", mode="before")
    @classmethod
    def _csv(cls, v: object) -> object:
        return _split(v)

    @field_validator("quote_sources")
    @classmethod
    def _known_sources(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in v if s not in QUOTE_SOURCES]
        if bad:
            raise ValueError(f"unknown source(s) {bad}; choose from {','.join(QUOTE_SOURCES)}")
        return v


#: the nested slices of ``Settings`` and their models; each part of the agent is handed only its slice
SECTIONS: dict[str, type[Section]] = {"rpc": RpcSettings, "strategy": StrategySettings,
                                      "execution": ExecutionSettings, "vaults": VaultSettings,
                                      "aggregators": AggregatorSettings}
#: flat env names that differ from their field's name (section, field)
RENAMED = {"strategy": ("strategy", "name")}


def _flat_to_section() -> dict[str, tuple[str, str]]:
    out = {name: (section, name) for section, model in SECTIONS.items() for name in model.model_fields}
    out.pop("name", None)
    out.update(RENAMED)
    return out


#: lower-case env name → (section, field): the public env names stay flat
FLAT_NAMES = _flat_to_section()


class Settings(BaseSettings):
    """Global settings, nested by concern (``rpc``, ``strategy``, ``execution``, ``vaults``, ``aggregators``).

    Every field is read from its flat env name, as before: ``BAND_PP`` → ``settings.strategy.band_pp``,
    ``STRATEGY`` → ``settings.strategy.name``, ``ZEROX_API_KEY`` → ``settings.aggregators.zerox_api_key``;
    see ``.env.example``. Flat keyword arguments are accepted too (``Settings(band_pp=3, …)``)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False, allow_inf_nan=False)

    chains: tuple[str, ...] = Field(min_length=1)
    targets: dict[str, Decimal]
    wallet_address: str | None = None
    signer: str | None = None
    signer_expected_address: str | None = None
    sandbox_private_key: SecretStr | None = None
    keystore_password: SecretStr | None = None
    keystore_password_file: Path | None = None
    run_interval_s: float = Field(default=300.0, gt=0, le=7 * 86400)
    #: absolute; unset: the per-user data directory (``default_journal_path``), shown by ``status``
    journal_path: Path = Field(default_factory=default_journal_path)
    chains_dir: Path = Field(default_factory=default_chains_dir)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # operating it (#18): approval before execution, notifications, metrics, the dashboard
    approval: str = "auto"  # auto | manual | above:USD (a plan trading more than USD waits for approval)
    approval_ttl_s: float = Field(default=3600.0, gt=0, le=30 * 86400)  # a pending approval expires after this long
    approval_tolerance_bps: int = Field(default=100, ge=0, le=10000)  # re-planned vs approved, per action
    notify_urls: SecretStr | None = None  # apprise URLs, comma/space separated (they carry tokens: secret)
    metrics_addr: str | None = None  # HOST:PORT of the Prometheus endpoint (unset: off)
    dashboard_addr: str = "127.0.0.1:8787"
    dashboard_token: SecretStr | None = None  # unset: `serve` generates one and prints it once to stderr

    rpc: RpcSettings = Field(default_factory=RpcSettings)
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)
    vaults: VaultSettings = Field(default_factory=VaultSettings)
    aggregators: AggregatorSettings = Field(default_factory=AggregatorSettings)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_config() merges env and .env itself (it also needs the per-chain names), then passes
        # the values in: one reading of the environment, so tests and the CLI see the same thing.
        return (init_settings,)

    @classmethod
    def env_names(cls) -> set[str]:
        """Every lower-case env name a setting is read from (top-level fields and the sections' fields)."""
        return {n for n in cls.model_fields if n not in SECTIONS} | set(FLAT_NAMES)

    @model_validator(mode="before")
    @classmethod
    def _nest(cls, data: Any) -> Any:
        """Flat names (env style) into their sections; already nested values are kept."""
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in data.items():
            low = key.lower()
            if low in SECTIONS and isinstance(value, (dict, BaseModel)):
                out[low] = value
            elif low in FLAT_NAMES:
                section, name = FLAT_NAMES[low]
                nested.setdefault(section, {})[name] = value
            else:
                out[key] = value
        for section, values in nested.items():
            base = out.get(section, {})
            base = base.model_dump() if isinstance(base, BaseModel) else dict(base)
            out[section] = {**base, **values}
        return out

    def __getattr__(self, name: str) -> Any:
        # A flat name that moved into a section says where it went (for code written against the flat settings).
        if name in FLAT_NAMES:
            section, field = FLAT_NAMES[name]
            raise AttributeError(f"Settings.{name} moved: read settings.{section}.{field}")
        return super().__getattr__(name)  # type: ignore[misc]

    @field_validator("chains", mode="before")
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

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        if v.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"{v!r} is not a log level; use one of {', '.join(LOG_LEVELS)} (e.g. LOG_LEVEL=INFO)")
        return v.strip().upper()

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


class AppConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    settings: Settings
    chains: dict[str, ChainConfig]
    chain_settings: dict[str, ChainSettings]

    def enabled(self) -> list[tuple[ChainConfig, ChainSettings]]:
        return [(self.chains[n], self.chain_settings[n]) for n in self.settings.chains]


def env_name(loc: list[str]) -> str:
    """The flat setting name of a validation error's location (``("strategy", "name")`` → ``strategy``)."""
    if not loc:
        return "settings"
    if loc[0] in SECTIONS and len(loc) > 1:
        return next((flat for flat, where in FLAT_NAMES.items() if where == (loc[0], loc[1])), loc[1])
    return loc[0]


def settings_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    field = env_name(loc)
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        msg = "is required; set it in the environment or .env (see .env.example)"
    elif field not in SECRET_FIELDS and first["type"] not in ("value_error",) and "input" in first:
        msg = f"{msg} (got {first['input']!r}); fix the value (see .env.example)"
    return ConfigError(f"{field.upper()}: {msg}")


def load_config(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> AppConfig:
    base = dict(os.environ if environ is None else environ)
    from_file = env_file_values(base, env_file)
    env = {**from_file, **base}
    fields = Settings.env_names()
    values: dict[str, Any] = {k.lower(): v for k, v in env.items() if k.lower() in fields and v != ""}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise settings_error(exc) from None
    settings = settings.model_copy(update={"journal_path": check_journal_path(settings.journal_path)})
    chains = {name: load_chain(name, settings.chains_dir) for name in settings.chains}
    _warn_unknown(env, from_file, chains.values())
    chain_settings = {name: chain_settings_from_env(cfg, env) for name, cfg in chains.items()}
    _check_targets(settings, chains)
    return AppConfig(settings=settings, chains=chains, chain_settings=chain_settings)


def _warn_unknown(env: Mapping[str, str], from_file: Mapping[str, str], chains: Iterable[ChainConfig]) -> None:
    """A variable that looks like a setting but is none (a typo) is said, with the closest name."""
    known = {n.upper() for n in Settings.env_names()} | OTHER_NAMES
    known |= {f"{c.rpc_env}_{key}" for c in chains for key in CHAIN_KEYS}
    in_file = {k.upper() for k in from_file}
    for name, match in near_misses(env, known):
        if match is not None:
            log.warning("%s is not a setting (ignored): did you mean %s? (see .env.example)", name, match)
        elif name in in_file:
            log.warning("%s in the .env file is not a setting (ignored); see .env.example for the names", name)


def _check_targets(settings: Settings, chains: Mapping[str, ChainConfig]) -> None:
    known = set().union(*(c.assets for c in chains.values()))
    for symbol in settings.targets:
        if symbol not in known:
            raise ConfigError(
                f"TARGETS: {symbol!r} is not a token on any configured chain ({', '.join(settings.chains)}); "
                f"use one of {', '.join(sorted(known))} or add the token to chains/<chain>.toml")
