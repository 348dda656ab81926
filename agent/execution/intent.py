"""What the pipeline executes and what it reports: small frozen models, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.models import checksum

FROZEN = ConfigDict(frozen=True, extra="forbid")
NATIVE = "native"


class Approval(BaseModel):
    """The spender of ``token`` must be allowed ``amount_raw`` before the action's transaction runs."""

    model_config = FROZEN

    token: str
    spender: str
    amount_raw: int = Field(gt=0)

    @field_validator("token", "spender")
    @classmethod
    def _addr(cls, v: str) -> str:
        return checksum(v)


class BalanceDelta(BaseModel):
    """The wallet's balance of ``token`` (an address or ``"native"``) must change by [min_raw, max_raw].

    A sell of exactly X is ``min_raw = max_raw = -X``; a buy with a min-out M is ``min_raw = M``. Native
    deltas are checked net of the gas the action's own transactions paid.
    """

    model_config = FROZEN

    token: str
    min_raw: int
    max_raw: int | None = None

    @field_validator("token")
    @classmethod
    def _addr(cls, v: str) -> str:
        return v if v == NATIVE else checksum(v)

    def accepts(self, delta_raw: int) -> bool:
        return delta_raw >= self.min_raw and (self.max_raw is None or delta_raw <= self.max_raw)


class TxIntent(BaseModel):
    """One action to execute on one chain: a call (built by a protocol adapter) plus what it needs and promises."""

    model_config = FROZEN

    chain: str
    plan_id: str
    #: Same key → same action: a restart never executes it twice.
    idempotency_key: str = Field(min_length=1)
    kind: str = "swap"
    to: str
    data: bytes = b""
    value_wei: int = Field(default=0, ge=0)
    approval: Approval | None = None
    expected_deltas: tuple[BalanceDelta, ...] = ()
    #: Drift beyond the emergency band: may pay above the base-fee limit, never above the hard cap.
    urgent: bool = False
    #: Refuse when the estimated gas (with margin) exceeds this.
    max_gas: int | None = Field(default=None, gt=0)
    #: Unix time after which a stuck transaction is cancelled instead of replaced (e.g. the swap deadline).
    valid_until: int | None = None
    description: str = ""

    @field_validator("to")
    @classmethod
    def _addr(cls, v: str) -> str:
        return checksum(v)

    def journal_view(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", exclude={"data"})
        out["data"] = "0x" + self.data.hex()
        return out

    @classmethod
    def from_journal_view(cls, view: Mapping[str, object]) -> TxIntent:
        """The intent back from what ``journal_view`` stored."""
        data = view.get("data")
        if not isinstance(data, str):
            raise ValueError("journal: a journaled intent has no hex 'data'")
        return cls.model_validate({**view, "data": bytes.fromhex(data.removeprefix("0x"))})


class TxRequest(BaseModel):
    """One transaction the pipeline hands to a sender: simulated, gas estimated; fees and nonce not yet set."""

    model_config = FROZEN

    chain_id: int
    purpose: str  # "approve-reset", "approve", "main", "cancel", "gap-fill"
    to: str
    data: bytes = b""
    value_wei: int = 0
    gas: int = Field(gt=0)
    action_id: int | None = None
    plan_id: str = ""
    urgent: bool = False
    valid_until: int | None = None


class TxOutcome(BaseModel):
    model_config = FROZEN

    purpose: str
    status: Literal["mined", "reverted", "cancelled", "dry_run"]
    tx_hash: str | None = None
    nonce: int | None = None
    block_number: int | None = None
    gas_used: int | None = None
    effective_gas_price_wei: int | None = None
    max_fee_per_gas_wei: int | None = None
    max_priority_fee_per_gas_wei: int | None = None
    to: str | None = None
    #: dry-run: what the fee policy says now ("send" or why it would wait)
    fee_note: str = ""

    @property
    def fee_paid_wei(self) -> int:
        return (self.gas_used or 0) * (self.effective_gas_price_wei or 0)


class ActionResult(BaseModel):
    model_config = FROZEN

    action_id: int
    idempotency_key: str
    mode: str
    state: str
    outcomes: tuple[TxOutcome, ...] = ()
    observed_deltas: dict[str, int] = Field(default_factory=dict)
    #: True when the journal already held a finished result for this key (nothing was done now).
    reused: bool = False
    error: str | None = None
