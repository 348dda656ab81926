"""The slices of the settings (``Settings.rpc``, ``.strategy``, ``.execution``, ``.vaults``, ``.aggregators``):
one frozen pydantic model each, whose fields keep their flat env names, and the map from a flat name to its slice.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

QUOTE_SOURCES = ("onchain", "0x", "1inch", "paraswap", "odos", "kyberswap")

def _parts(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _split(value: object) -> object:
    if isinstance(value, str):
        return _parts(value)
    return value


#: a tuple of names that an env value gives as a comma list (``QUOTE_SOURCES=onchain,0x``, ``CHAINS=…``)
CsvTuple = Annotated[tuple[str, ...], BeforeValidator(_split)]


class NotSymbolAmount(ValueError):
    """``part`` of a ``SYMBOL:AMOUNT,…`` list is not a symbol and an amount ≥ 0."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


def symbol_amounts(text: str) -> dict[str, Decimal]:
    """``ETH:3,USDC:8`` → {symbol: amount ≥ 0}; ``NotSymbolAmount`` names the first part that is not
    SYMBOL:AMOUNT (a symbol listed twice keeps its last amount)."""
    out: dict[str, Decimal] = {}
    for part in _parts(text):
        sym, sep, amount = part.partition(":")
        try:
            value = Decimal(amount.strip()) if sep else Decimal(-1)
        except InvalidOperation:
            value = Decimal(-1)
        if not sym.strip() or not value.is_finite() or value < 0:
            raise NotSymbolAmount(part)
        out[sym.strip()] = value
    return out


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
        try:
            return symbol_amounts(v)
        except NotSymbolAmount as exc:
            why = f"{exc.part!r} is not SYMBOL:PP with PP ≥ 0; write e.g. ASSET_BANDS_PP=ETH:3,USDC:8"
            raise ValueError(why) from None


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

    quote_sources: CsvTuple = ("onchain",)
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
