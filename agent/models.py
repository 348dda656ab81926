"""Small frozen value types shared across adapters (no I/O here)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from web3 import Web3

FROZEN = ConfigDict(frozen=True, extra="forbid")


def checksum(value: str, *, strict: bool = False) -> str:
    """Return the EIP-55 form of an address.

    Malformed input is refused. With ``strict`` (configuration written by people) the input must
    already be in EIP-55 form, so a typo in a mixed-case address cannot slip through.
    """
    if not isinstance(value, str) or not Web3.is_address(value):
        raise ValueError(f"{value!r} is not a 20-byte 0x-prefixed hex address")
    fixed = Web3.to_checksum_address(value)
    if strict and value != fixed:
        raise ValueError(f"{value} is not EIP-55 checksummed (write it as {fixed})")
    return fixed


class UnsignedTx(BaseModel):
    """An EIP-1559 (type 2) transaction ready to be signed. Only the sender fills nonce and fees."""

    model_config = FROZEN

    chain_id: int = Field(gt=0)
    nonce: int = Field(ge=0)
    to: str
    value_wei: int = Field(ge=0, default=0)
    data: bytes = b""
    gas: int = Field(gt=0)
    max_fee_per_gas_wei: int = Field(ge=0)
    max_priority_fee_per_gas_wei: int = Field(ge=0)

    @field_validator("to")
    @classmethod
    def _to_checksum(cls, v: str) -> str:
        return checksum(v)

    def as_eth_account_dict(self) -> dict[str, Any]:
        """The dict shape eth-account's ``sign_transaction`` takes (type 2, empty access list)."""
        return {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": self.nonce,
            "to": self.to,
            "value": self.value_wei,
            "data": self.data,
            "gas": self.gas,
            "maxFeePerGas": self.max_fee_per_gas_wei,
            "maxPriorityFeePerGas": self.max_priority_fee_per_gas_wei,
            "accessList": [],
        }
