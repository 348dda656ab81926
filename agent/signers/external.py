"""External JSON-RPC signers: the key stays in another process (Clef, Web3Signer).

* Clef: ``account_list`` → addresses; ``account_signTransaction`` with
  ``{from,to,gas,maxFeePerGas,maxPriorityFeePerGas,value,nonce,data,chainId}`` → ``{"raw": "0x…", "tx": …}``.
* Web3Signer: ``eth_accounts``; ``eth_signTransaction`` with the same fields → the raw transaction hex.

The flavour is detected at connect time (``account_list`` answers → Clef). Every returned transaction is
decoded and compared with what was asked, and must recover to the signer's address, so a confused or
hostile signer cannot make the agent broadcast something else.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import httpx
from eth_account import Account

from agent.config.settings import redact_url
from agent.errors import SignerError, TemporaryError
from agent.models import UnsignedTx, checksum

log = logging.getLogger(__name__)


class RpcFailure(Exception):
    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ExternalSigner:
    def __init__(self, url: str, *, address: str | None = None, flavor: str | None = None,
                 timeout_s: float = 120.0, client: httpx.Client | None = None) -> None:
        self._url = url
        self.endpoint = redact_url(url)
        self._client = client or httpx.Client(timeout=timeout_s)
        self._ids = itertools.count(1)
        self.flavor = flavor or self._detect()
        accounts = self._accounts()
        if address is None:
            if not accounts:
                raise SignerError(f"external signer {self.endpoint}: it lists no accounts")
            address = accounts[0]
        address = checksum(address)
        if accounts and address not in accounts:
            raise SignerError(f"external signer {self.endpoint}: it does not hold {address} (it lists "
                              f"{', '.join(accounts)})")
        self._address = address
        log.info("external signer (%s) at %s signs for %s", self.flavor, self.endpoint, address)

    @property
    def address(self) -> str:
        return self._address

    def close(self) -> None:
        self._client.close()

    def sign_transaction(self, tx: UnsignedTx) -> bytes:
        params = {"from": self._address, "to": tx.to, "gas": hex(tx.gas), "maxFeePerGas": hex(tx.max_fee_per_gas_wei),
                  "maxPriorityFeePerGas": hex(tx.max_priority_fee_per_gas_wei), "value": hex(tx.value_wei),
                  "nonce": hex(tx.nonce), "data": "0x" + tx.data.hex(), "chainId": hex(tx.chain_id)}
        method = "account_signTransaction" if self.flavor == "clef" else "eth_signTransaction"
        try:
            result = self._call(method, [params])
        except RpcFailure as exc:
            raise SignerError(f"external signer {self.endpoint} refused to sign: {exc.message}") from None
        raw_hex = result.get("raw") if isinstance(result, dict) else result
        if not isinstance(raw_hex, str) or not raw_hex.startswith("0x"):
            raise SignerError(f"external signer {self.endpoint}: {method} returned no raw transaction")
        raw = bytes.fromhex(raw_hex[2:])
        self._verify(tx, raw)
        return raw

    # ---------------------------------------------------------------------------------- internals
    def _verify(self, tx: UnsignedTx, raw: bytes) -> None:
        from agent.chain.reads import decode_raw

        try:
            signed = decode_raw(raw)
            signer = Account.recover_transaction(raw)
        except Exception:
            raise SignerError(f"external signer {self.endpoint}: returned bytes are not a type-2 transaction") from None
        if signed != tx:
            raise SignerError(f"external signer {self.endpoint}: the signed transaction differs from the one "
                              "requested; refusing it")
        if signer != self._address:
            raise SignerError(f"external signer {self.endpoint}: signed by {signer}, expected {self._address}")

    def _detect(self) -> str:
        try:
            self._call("account_list", [])
            return "clef"
        except RpcFailure:
            return "web3signer"

    def _accounts(self) -> list[str]:
        try:
            result = self._call("account_list" if self.flavor == "clef" else "eth_accounts", [])
        except RpcFailure as exc:
            raise SignerError(f"external signer {self.endpoint}: cannot list accounts: {exc.message}") from None
        return [checksum(a) for a in result or []]

    def _call(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        try:
            response = self._client.post(self._url, json=body)
        except httpx.TransportError as exc:
            raise TemporaryError(f"external signer {self.endpoint} unreachable ({type(exc).__name__})") from None
        if response.status_code >= 500:
            raise TemporaryError(f"external signer {self.endpoint}: HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError:
            raise SignerError(f"external signer {self.endpoint}: HTTP {response.status_code}, not JSON-RPC") from None
        if "error" in payload:
            error = payload["error"] or {}
            raise RpcFailure(error.get("code"), str(error.get("message", "error")))
        return payload.get("result")
