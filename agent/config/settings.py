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
from agent.config.chains import ChainConfig, available_chains, default_chains_dir, load_chain
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
from agent.config.sections import (
    FLAT_NAMES,
    SECTIONS,
    AggregatorSettings,
    CsvTuple,
    ExecutionSettings,
    RpcSettings,
    StrategySettings,
    VaultSettings,
    _parts,
)
from agent.errors import ConfigError
from agent.models import checksum

log = logging.getLogger(__name__)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRET_FIELDS = {"sandbox_private_key", "keystore_password", "zerox_api_key", "oneinch_api_key",
                 "odos_api_key", "kyberswap_client_id", "notify_urls", "dashboard_token", "telegram_bot_token"}


class Settings(BaseSettings):
    """Global settings, nested by concern (``rpc``, ``strategy``, ``execution``, ``vaults``, ``aggregators``).

    Every field is read from its flat env name, as before: ``BAND_PP`` → ``settings.strategy.band_pp``,
    ``STRATEGY`` → ``settings.strategy.name``, ``ZEROX_API_KEY`` → ``settings.aggregators.zerox_api_key``;
    see ``.env.example``. Flat keyword arguments are accepted too (``Settings(band_pp=3, …)``)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False, allow_inf_nan=False)

    chains: CsvTuple = Field(min_length=1)
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
    # approve/reject buttons on Telegram (both set: on); the API URL points at another Bot API server
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    telegram_api_url: str = "https://api.telegram.org"

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
    _warn_unknown(env, from_file, available_chains(settings.chains_dir))
    chain_settings = {name: chain_settings_from_env(cfg, env) for name, cfg in chains.items()}
    _check_targets(settings, chains)
    return AppConfig(settings=settings, chains=chains, chain_settings=chain_settings)


def _warn_unknown(env: Mapping[str, str], from_file: Mapping[str, str], chain_names: Iterable[str]) -> None:
    """A variable that looks like a setting but is none (a typo) is said, with the closest name. The settings of a
    chain that has a chain file but is not in ``CHAINS`` this run (``simulate --fork`` narrows it) are settings."""
    known = {n.upper() for n in Settings.env_names()} | OTHER_NAMES
    known |= {f"{name.upper()}_{key}" for name in chain_names for key in CHAIN_KEYS}
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
