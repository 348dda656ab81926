"""Value types of the quote layer: what is asked (``QuoteRequest``), what a source answers (``Quote``),
and what validation and ranking made of it (``QuoteResult``, ``BestQuote``). No I/O here.

Amounts are integers in the token's smallest unit (``*_raw``); addresses are EIP-55 checksummed; the
native coin is ``NATIVE_PLACEHOLDER`` (0xEeee…) whatever placeholder a particular API wants.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Protocol, runtime_checkable

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from agent.config.chains import NATIVE_PLACEHOLDER
from agent.models import checksum
from agent.units import gas_cost_native, to_raw, to_units

FROZEN = ConfigDict(frozen=True, extra="forbid")
Address = Annotated[str, AfterValidator(lambda v: checksum(v))]


def is_native(address: str) -> bool:
    return address.lower() == NATIVE_PLACEHOLDER.lower()


class QuoteRequest(BaseModel):
    """Sell exactly ``sell_amount_raw`` of ``sell_token`` for ``buy_token``; output goes to ``taker``."""

    model_config = FROZEN

    chain_id: int = Field(gt=0)
    sell_token: Address
    buy_token: Address
    sell_decimals: int = Field(ge=0, le=36)
    buy_decimals: int = Field(ge=0, le=36)
    sell_amount_raw: int = Field(gt=0)
    #: Our wallet: it sends the transaction and must receive the output.
    taker: Address
    slippage_bps: int = Field(ge=0, le=5000)
    sell_symbol: str = ""
    buy_symbol: str = ""

    @model_validator(mode="after")
    def _distinct(self) -> QuoteRequest:
        if self.sell_token == self.buy_token:
            raise ValueError("sell and buy token are the same")
        return self

    @property
    def sells_native(self) -> bool:
        return is_native(self.sell_token)

    @property
    def buys_native(self) -> bool:
        return is_native(self.buy_token)


class QuoteTx(BaseModel):
    """The unsigned call a quote proposes (the sender adds nonce, gas limit and fees)."""

    model_config = FROZEN

    to: Address
    data: bytes
    value_wei: int = Field(ge=0)


class Quote(BaseModel):
    """One source's normalized answer. Nothing here is trusted until ``validate_quote`` passed it."""

    model_config = FROZEN

    source: str
    chain_id: int
    sell_token: Address
    buy_token: Address
    sell_amount_raw: int = Field(ge=0)
    buy_amount_raw: int = Field(ge=0)
    min_buy_amount_raw: int = Field(ge=0)
    #: Shortfall against the marginal price in bps: the API's figure (Odos) or derived from the on-chain reference.
    price_impact_bps: int | None = None
    gas_estimate: int = Field(ge=0)
    #: None for a quote-only source (the V3 QuoterV2 reference on a chain without a V2 router).
    tx: QuoteTx | None
    #: Who must be approved to pull ``sell_token`` (None when selling the native coin).
    spender: Address | None
    block_number: int | None = None
    quoted_at: datetime
    #: Human-readable route (pools, split), for the journal.
    route: str = ""


@runtime_checkable
class QuoteSource(Protocol):
    """One place quotes come from (an aggregator API or the on-chain quoter)."""

    name: str

    def fetch_quote(self, request: QuoteRequest) -> Quote:
        """Ask for a quote; raise ``QuoteError`` with a ``<kind>: <detail>`` reason on failure."""
        ...


class ReferencePrice(BaseModel):
    """The on-chain marginal price of the pair: buy-token units per sell-token unit, fee taken out."""

    model_config = FROZEN

    buy_per_sell: Decimal = Field(gt=0)
    #: Buy-token units per native coin unit, to value gas in the buy token (None: gas is not netted).
    buy_per_native: Decimal | None = None
    gas_price_wei: int = Field(ge=0, default=0)
    block_number: int | None = None
    source: str = ""

    def expected_out_raw(self, request: QuoteRequest) -> int:
        """What ``sell_amount_raw`` would buy at the marginal price (no fee, no impact)."""
        units = to_units(request.sell_amount_raw, request.sell_decimals)
        return to_raw(units * self.buy_per_sell, request.buy_decimals)

    def gas_cost_raw(self, gas: int, buy_decimals: int) -> int:
        """``gas`` at the current gas price, in raw buy-token units (0 when it cannot be valued)."""
        if self.buy_per_native is None or not self.gas_price_wei:
            return 0
        return to_raw(gas_cost_native(gas, self.gas_price_wei) * self.buy_per_native, buy_decimals)


class QuoteResult(BaseModel):
    """A source's outcome: its quote (if any), the verdict, and what it is worth after gas."""

    model_config = FROZEN

    source: str
    quote: Quote | None = None
    valid: bool = False
    #: The failed check (or the failure kind: ``timeout``, ``http_status``…), None when valid.
    check: str | None = None
    #: ``"<check>: <detail>"`` when the quote was rejected or could not be fetched.
    rejected_because: str | None = None
    #: Output minus gas cost valued in the buy token (raw); ranking key.
    net_buy_amount_raw: int | None = None
    elapsed_s: float = 0.0


class BestQuote(BaseModel):
    """Every source's result (best first among the valid ones) and the winner, if any."""

    model_config = FROZEN

    request: QuoteRequest
    results: tuple[QuoteResult, ...]
    best: QuoteResult | None
    reference: ReferencePrice | None = None
    reference_error: str | None = None
