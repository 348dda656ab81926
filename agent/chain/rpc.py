"""JSON-RPC access to one chain: ordered fallback URLs, backoff (tenacity), redacted errors.

Only idempotent reads go through ``ChainRpc.read``; it retries each URL with exponential backoff and then
moves to the next. Failures are classified once, by HTTP status and JSON-RPC code
(``translate_rpc_error``). Sending transactions does not retry here (the transaction pipeline decides).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential
from web3 import Web3
from web3.exceptions import BadResponseFormat, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint

from agent.config.chains import ChainConfig
from agent.config.settings import ChainSettings, redact_url
from agent.errors import (
    AgentError,
    BroadcastUnknown,
    ChainUnavailable,
    EndpointRefused,
    RateLimited,
    SafetyHalt,
    TemporaryError,
    TransientRpc,
    TxRefusal,
    TxRejected,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

#: JSON-RPC error codes that mean "try again" (EIP-1474: -32005 limit exceeded, -32002 resource unavailable;
#: -32603 internal error, which load-balanced providers answer when a backend is briefly unhealthy)
RATE_LIMIT_CODES = frozenset({-32005})
TRANSIENT_CODES = frozenset({-32002, -32603})
#: JSON-RPC codes for "this node does not have the method" (-32601 method not found, -32004 not supported)
METHOD_MISSING_CODES = frozenset({-32601, -32004})
#: JSON-RPC code 3: execution reverted (geth, anvil, reth, nethermind); the revert data rides in ``error.data``
REVERT_CODE = 3


def rpc_error(exc: BaseException) -> dict[str, Any] | None:
    """The JSON-RPC ``error`` object of a ``Web3RPCError`` (``{"code", "message", "data"}``), if any."""
    response = getattr(exc, "rpc_response", None)
    error = response.get("error") if isinstance(response, dict) else None
    return error if isinstance(error, dict) else None


def rpc_error_code(exc: BaseException) -> int | None:
    error = rpc_error(exc)
    code = error.get("code") if error else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def translate_rpc_error(exc: BaseException, *, endpoint: str = "rpc") -> AgentError | None:
    """The one place RPC transport/library errors become the tree: by HTTP status and JSON-RPC code.

    ``RateLimited`` (HTTP 429, -32005), ``TransientRpc`` (timeouts, connection errors, HTTP 5xx, -32002/-32603,
    a reply that is not JSON-RPC),
    ``EndpointRefused`` (any other HTTP 4xx). ``None``: the node's definitive answer (a revert, bad params…) or
    an error of ours; the caller interprets it (``agent.chain.reads``)."""
    if isinstance(exc, AgentError):
        return None
    if isinstance(exc, Web3RPCError):
        code = rpc_error_code(exc)
        if code in RATE_LIMIT_CODES:
            return RateLimited(f"{endpoint}: JSON-RPC {code} (limit exceeded)", code=code)
        if code in TRANSIENT_CODES:
            return TransientRpc(f"{endpoint}: JSON-RPC {code}", code=code)
        return None
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status == 429:
            return RateLimited(f"{endpoint}: HTTP 429 (rate limited)", status=status)
        if status is None or status >= 500:
            return TransientRpc(f"{endpoint}: HTTP {status}", status=status)
        hint = "; check the API key in the URL" if status in (401, 403) else ""
        return EndpointRefused(f"{endpoint}: HTTP {status}{hint}", status=status)
    if isinstance(exc, (json.JSONDecodeError, BadResponseFormat)):
        return TransientRpc(f"{endpoint}: malformed reply ({type(exc).__name__})")
    if isinstance(exc, (requests.Timeout, TimeoutError)):
        return TransientRpc(f"{endpoint}: timed out ({type(exc).__name__})")
    if isinstance(exc, (requests.ConnectionError, ConnectionError, OSError)):
        return TransientRpc(f"{endpoint}: connection failed ({type(exc).__name__})")
    return None


#: The node's definite answers to ``eth_sendRawTransaction``, by message family. Nodes give the txpool's refusals
#: JSON-RPC code -32000 (geth, reth, erigon), -32003 "transaction rejected" (EIP-1474; anvil) or -32010
#: (nethermind/openethereum), so the (geth-defined, widely copied) texts are the only signal; this table and
#: ``classify_broadcast_error`` are the one place they are read. Order matters: the first family that matches wins.
TX_REFUSALS: tuple[tuple[TxRefusal, tuple[str, ...]], ...] = (
    (TxRefusal.ALREADY_KNOWN, ("already known", "known transaction", "already imported", "alreadyknown",
                               "already in the pool", "already exists")),
    (TxRefusal.NONCE_TOO_LOW, ("nonce too low", "nonce has already been used", "oldnonce")),
    (TxRefusal.NONCE_TOO_HIGH, ("nonce too high", "nonce gap")),
    (TxRefusal.REPLACEMENT_UNDERPRICED, ("replacement transaction underpriced", "replacement underpriced",
                                         "replacement fee too low")),
    (TxRefusal.INSUFFICIENT_FUNDS, ("insufficient funds", "insufficient balance")),
    (TxRefusal.INTRINSIC_GAS_TOO_LOW, ("intrinsic gas too low", "gas too low")),
    (TxRefusal.UNDERPRICED, ("transaction underpriced", "underpriced", "fee too low",
                             "max fee per gas less than block base fee", "feecap too low", "tip too low")),
    (TxRefusal.INVALID_SENDER, ("invalid sender", "invalid signature", "invalid chain id")),
    (TxRefusal.GAS_LIMIT, ("exceeds block gas limit", "gas limit reached")),
    (TxRefusal.FEE_CAP, ("exceeds the configured cap",)),
    (TxRefusal.POOL_FULL, ("txpool is full", "pool is full")),
    (TxRefusal.OVERSIZED, ("oversized data", "max initcode size exceeded")),
)
#: the JSON-RPC codes under which nodes report those refusals; any other code is not an explanation
TX_REFUSAL_CODES = frozenset({-32000, -32003, -32010})


def tx_refusal_reason(error: dict[str, Any] | None) -> TxRefusal | None:
    """The refusal an ``eth_sendRawTransaction`` error object explains, or None when it explains nothing."""
    if not error or error.get("code") not in TX_REFUSAL_CODES:
        return None
    message = str(error.get("message", "")).lower()
    return next((reason for reason, texts in TX_REFUSALS if any(t in message for t in texts)), None)


def classify_broadcast_error(exc: BaseException, *, chain_id: int, what: str, endpoint: str) -> AgentError | None:
    """The one place a failed ``eth_sendRawTransaction`` is classified: ``TxRejected`` (a refusal the node explains,
    by code and message family) or ``BroadcastUnknown`` (transport error, HTTP status, timeout, dropped connection,
    malformed reply, a JSON-RPC error that explains nothing: the node may have the transaction). None: not a
    failure of the broadcast (a bug of ours)."""
    if isinstance(exc, Web3RPCError):
        error = rpc_error(exc)
        reason = tx_refusal_reason(error)
        message = str((error or {}).get("message", exc))[:200]
        if reason is not None:
            return TxRejected(f"chain {chain_id}: the node refused the {what}: {message}", reason=reason)
        return BroadcastUnknown(f"chain {chain_id}: {endpoint}: the {what} got an unexplained error "
                                f"(JSON-RPC {rpc_error_code(exc)}: {message}); it may have been broadcast",
                                code=rpc_error_code(exc))
    translated = translate_rpc_error(exc, endpoint=endpoint)
    if translated is None:
        return None
    return BroadcastUnknown(f"chain {chain_id}: the {what} ended without an answer ({translated}); it may have "
                            "been broadcast", status=getattr(translated, "status", None))


def make_web3(url: str, *, timeout_s: float) -> Web3:
    # eth_chainId is cached per client: web3 would otherwise ask it before every eth_call (its chain-id
    # validation), doubling the requests of each read; an endpoint's chain is checked by ``check_identity``
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None,
                                cache_allowed_requests=True, cacheable_requests={RPCEndpoint("eth_chainId")}))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


class ChainRpc:
    """All RPC endpoints of one chain, tried in the configured order."""

    def __init__(self, chain: ChainConfig, settings: ChainSettings, *, timeout_s: float = 10.0,
                 attempts: int = 3, backoff_s: float = 0.2) -> None:
        self.chain = chain
        self._urls = [u.get_secret_value() for u in settings.rpc_urls]
        self._tx_url = settings.tx_rpc_url.get_secret_value() if settings.tx_rpc_url else None
        self._timeout_s = timeout_s
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._clients = [make_web3(u, timeout_s=timeout_s) for u in self._urls]
        self._preferred = 0
        self.verified = False

    @property
    def endpoints(self) -> list[str]:
        """The RPC URLs, redacted (safe to log)."""
        return [redact_url(u) for u in self._urls]

    @property
    def w3(self) -> Web3:
        """The client of the endpoint that answered last."""
        return self._clients[self._preferred]

    def tx_w3(self) -> Web3:
        """Where signed transactions go: ``<CHAIN>_TX_RPC_URL`` when set, else the read endpoint."""
        return make_web3(self._tx_url, timeout_s=self._timeout_s) if self._tx_url else self.w3

    def send_raw_transaction(self, raw: bytes, *, what: str = "transaction") -> None:
        """Broadcast signed bytes once (never retried here). A refusal the node explains raises ``TxRejected``
        naming its reason; anything else (transport, HTTP status, timeout, an unexplained JSON-RPC error) raises
        ``BroadcastUnknown``: the outcome is unknown and the attempt stays "maybe" (``classify_broadcast_error``)."""
        endpoint = redact_url(self._tx_url) if self._tx_url else self.endpoints[self._preferred]
        try:
            self.tx_w3().eth.send_raw_transaction(raw)
        except Exception as exc:
            classified = classify_broadcast_error(exc, chain_id=self.chain.chain_id, what=what, endpoint=endpoint)
            if classified is None:
                raise
            raise classified from None

    def read(self, fn: Callable[[Web3], T], *, what: str = "read") -> T:
        """Run an idempotent read, retrying transient failures with backoff and falling back through the URLs."""
        errors: list[str] = []
        order = [self._preferred] + [i for i in range(len(self._clients)) if i != self._preferred]
        for i in order:
            retrying = Retrying(
                stop=stop_after_attempt(self._attempts),
                wait=wait_exponential(multiplier=self._backoff_s, max=4),
                retry=retry_if_exception_type(TransientRpc),
                reraise=True,
            )
            try:
                result = retrying(self._call, fn, i)
            except TemporaryError as exc:  # TransientRpc after the retries, or EndpointRefused
                errors.append(f"{self.endpoints[i]}: {type(exc).__name__}")
                log.warning("chain %s (id %s): %s failed on %s (%s); trying next endpoint",
                            self.chain.name, self.chain.chain_id, what, self.endpoints[i], type(exc).__name__)
                continue
            self._preferred = i
            return result
        raise ChainUnavailable(f"{self.chain.name}: no RPC endpoint answered ({'; '.join(errors)})")

    def _call(self, fn: Callable[[Web3], T], i: int) -> T:
        try:
            return fn(self._clients[i])
        except Exception as exc:
            translated = translate_rpc_error(exc, endpoint=self.endpoints[i])
            if translated is None:
                raise
            raise translated from exc

    def check_identity(self, chain_id: int, codes: dict[str, bytes]) -> None:
        """Refuse to run on the wrong chain or when a configured contract has no code."""
        if chain_id != self.chain.chain_id:
            raise SafetyHalt(
                f"{self.chain.rpc_env}_RPC_URL answers with chain id {chain_id}, but chains/{self.chain.name}.toml "
                f"says {self.chain.chain_id}; point the URL at the right network")
        missing = [label for label, code in codes.items() if not code]
        if missing:
            raise SafetyHalt(
                f"chain {self.chain.name}: no contract code at {', '.join(missing)}; the address table in "
                f"chains/{self.chain.name}.toml does not match this network")
        self.verified = True
