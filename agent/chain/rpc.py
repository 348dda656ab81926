"""JSON-RPC access to one chain: ordered fallback URLs, backoff (tenacity), redacted errors.

Only idempotent reads go through ``ChainRpc.read``; it retries each URL with exponential backoff and then
moves to the next. Failures are classified once, by HTTP status and JSON-RPC code
(``translate_rpc_error``). Sending transactions does not retry here (the transaction pipeline decides).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint

from agent.config.chains import ChainConfig
from agent.config.settings import ChainSettings, redact_url
from agent.errors import (
    AgentError,
    ChainUnavailable,
    EndpointRefused,
    RateLimited,
    SafetyHalt,
    TemporaryError,
    TransientRpc,
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

    ``RateLimited`` (HTTP 429, -32005), ``TransientRpc`` (timeouts, connection errors, HTTP 5xx, -32002/-32603),
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
    if isinstance(exc, (requests.Timeout, TimeoutError)):
        return TransientRpc(f"{endpoint}: timed out ({type(exc).__name__})")
    if isinstance(exc, (requests.ConnectionError, ConnectionError, OSError)):
        return TransientRpc(f"{endpoint}: connection failed ({type(exc).__name__})")
    return None


#: The node's answers to ``eth_sendRawTransaction`` that matter. Nodes give them all JSON-RPC code -32000, so the
#: (geth-defined, widely copied) txpool error texts are the only signal; this table is the one place they are read.
TX_REFUSALS = (("already_known", ("already known", "known transaction", "already imported", "alreadyknown")),
               ("nonce_too_low", ("nonce too low",)),
               ("insufficient_funds", ("insufficient funds",)),
               ("underpriced", ("underpriced", "fee too low")))


def tx_refusal_reason(error: dict[str, Any] | None) -> str:
    """``already_known`` | ``nonce_too_low`` | ``insufficient_funds`` | ``underpriced`` | ``other``."""
    message = str((error or {}).get("message", "")).lower()
    return next((reason for reason, texts in TX_REFUSALS if any(t in message for t in texts)), "other")


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
        """Broadcast signed bytes once (never retried here). Transport trouble raises the transient tree
        (the outcome is then unknown); a refusal by the node raises ``TxRejected`` naming its reason."""
        endpoint = redact_url(self._tx_url) if self._tx_url else self.endpoints[self._preferred]
        try:
            self.tx_w3().eth.send_raw_transaction(raw)
        except Exception as exc:
            translated = translate_rpc_error(exc, endpoint=endpoint)
            if translated is not None:
                raise translated from None
            if not isinstance(exc, Web3RPCError):
                raise
            error = rpc_error(exc) or {"message": str(exc)}
            message = str(error.get("message", ""))[:200]
            raise TxRejected(f"chain {self.chain.chain_id}: the node refused the {what}: {message}",
                             reason=tx_refusal_reason(error)) from None

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
