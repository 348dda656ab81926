"""Per-chain settings from ``<CHAIN>_*`` variables (``<CHAIN>_RPC_URL`` and friends), each checked with one
clear line naming the variable (a URL is never echoed: it may hold a key)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from agent.config.chains import ChainConfig
from agent.config.redact import redact_url
from agent.errors import ConfigError

#: ``<CHAIN>_<KEY>`` variables → ChainSettings fields (``<CHAIN>_RPC_URL`` is read apart: a list)
CHAIN_FIELDS = {"TX_RPC_URL": "tx_rpc_url", "MAX_BASE_FEE_GWEI": "max_base_fee_gwei",
                "HARD_CAP_GWEI": "hard_cap_gwei", "GAS_WAIT_DEADLINE_S": "gas_wait_deadline_s",
                "GAS_TIMING": "gas_timing", "GAS_HISTORY_BLOCKS": "gas_history_blocks",
                "CONFIRMATIONS": "confirmations"}
CHAIN_KEYS = ("RPC_URL", *CHAIN_FIELDS)


class ChainSettings(BaseModel):
    """Per-chain settings from ``<CHAIN>_*`` variables. RPC URLs may hold API keys: kept secret."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    rpc_urls: tuple[SecretStr, ...] = Field(min_length=1)
    tx_rpc_url: SecretStr | None = None
    max_base_fee_gwei: Decimal | None = Field(default=None, gt=0)
    hard_cap_gwei: Decimal | None = Field(default=None, gt=0)
    #: wait this long for the base fee, then retry later
    gas_wait_deadline_s: float = Field(default=3600.0, gt=0, le=7 * 86400)
    gas_timing: Literal["limit", "optimal"] = "limit"  # optimal: also wait, within the deadline, for a cheap block
    gas_history_blocks: int | None = Field(default=None, ge=16)  # optimal timing's history (default 8 x deadline)
    #: blocks on top of a receipt before it counts (reorg safety; 0: at once)
    confirmations: int = Field(default=0, ge=0, le=64)


def chain_settings_from_env(chain: ChainConfig, env: Mapping[str, str]) -> ChainSettings:
    prefix = chain.rpc_env
    urls = [u.strip() for u in env.get(f"{prefix}_RPC_URL", "").split(",") if u.strip()]
    if not urls:
        raise ConfigError(
            f"{prefix}_RPC_URL: chain {chain.name!r} is in CHAINS but has no RPC URL; "
            f"set {prefix}_RPC_URL=https://… (comma-separated fallbacks allowed) or remove it from CHAINS")
    for u in urls:
        check_url(f"{prefix}_RPC_URL", u)
    if env.get(f"{prefix}_TX_RPC_URL"):
        check_url(f"{prefix}_TX_RPC_URL", env[f"{prefix}_TX_RPC_URL"])
    values: dict[str, Any] = {"rpc_urls": tuple(SecretStr(u) for u in urls)}
    for key, field in CHAIN_FIELDS.items():
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


def check_url(name: str, url: str) -> None:
    """An RPC URL that parses, is http(s) and names a host (the URL itself is never echoed: it may hold a key)."""
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigError(f"{name}: not a valid URL ({exc}); write it like https://HOST/PATH "
                          "(an IPv6 host in brackets: http://[::1]:8545)") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{name}: {redact_url(url)} is not an http(s) URL; use http:// or https://")
    if not host:
        raise ConfigError(f"{name}: the URL has no host; write it like https://HOST/PATH")
