"""JSON-RPC access to one chain: ordered fallback URLs, backoff (tenacity), redacted errors.

Only idempotent reads go through ``ChainRpc.read``; it retries each URL with exponential backoff and then
moves to the next. Sending transactions does not retry here (the transaction pipeline decides).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware

from agent.config.chains import ChainConfig
from agent.config.settings import ChainSettings, redact_url
from agent.errors import ChainUnavailable, SafetyHalt

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.HTTPError, ConnectionError, TimeoutError, OSError)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, Web3RPCError):
        # Node-side overload/rate limit is transient; a revert or bad params is not.
        msg = str(exc).lower()
        return any(s in msg for s in ("rate limit", "too many requests", "timeout", "overloaded", "-32005"))
    return isinstance(exc, TRANSIENT)


def make_web3(url: str, *, timeout_s: float) -> Web3:
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None))
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

    def read(self, fn: Callable[[Web3], T], *, what: str = "read") -> T:
        """Run an idempotent read, retrying with backoff and falling back through the URLs."""
        errors: list[str] = []
        order = [self._preferred] + [i for i in range(len(self._clients)) if i != self._preferred]
        for i in order:
            retrying = Retrying(
                stop=stop_after_attempt(self._attempts),
                wait=wait_exponential(multiplier=self._backoff_s, max=4),
                retry=retry_if_exception(_is_transient),
                reraise=True,
            )
            try:
                result = retrying(fn, self._clients[i])
            except Exception as exc:
                if not _is_transient(exc):
                    raise
                reason = f"{type(exc).__name__}"
                errors.append(f"{self.endpoints[i]}: {reason}")
                log.warning("chain %s (id %s): %s failed on %s (%s); trying next endpoint",
                            self.chain.name, self.chain.chain_id, what, self.endpoints[i], reason)
                continue
            self._preferred = i
            return result
        raise ChainUnavailable(f"{self.chain.name}: no RPC endpoint answered ({'; '.join(errors)})")

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
