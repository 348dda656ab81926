"""The one HTTP adapter every aggregator client uses: an ``httpx.Client`` with timeouts, a tenacity retry of
429/5xx and connection failures that honours ``Retry-After`` (capped), and translation of every failure
into ``QuoteError(source, "<kind>: <detail>")``.

Failure kinds: ``timeout``, ``connection``, ``rate_limited`` (429 after the last attempt), ``http_status``
(any other non-2xx), ``malformed_json``. Clients add ``missing_field``, ``bad_response``, ``no_liquidity``.
API keys travel in headers only; logs name the source and the path, never the base URL or a header.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay

from agent.config.settings import safe_error
from agent.errors import QuoteError

log = logging.getLogger(__name__)
#: Error texts the APIs use when there is simply no route (1inch, ParaSwap, Odos, KyberSwap).
NO_LIQUIDITY_PHRASES = ("insufficient liquidity", "no routes", "no viable path", "route not found",
                        "no liquidity")
USER_AGENT = "rebalancer/0.1 (+https://github.com/rebalancer)"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per call, first backoff, cap on one wait, and a total time budget."""

    attempts: int = 3
    backoff_s: float = 0.25
    max_wait_s: float = 4.0
    budget_s: float = 8.0


class _Retryable(Exception):
    def __init__(self, kind: str, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retry_after_s = retry_after_s


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, policy.max_wait_s)
        return min(policy.backoff_s * 2 ** (state.attempt_number - 1), policy.max_wait_s)

    return wait


def error_detail(response: httpx.Response) -> str:
    """A short, key-free description of an error body (the APIs' own message where there is one)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        ctype = response.headers.get("content-type", "unknown").split(";")[0]
        return f"non-JSON body ({ctype})"
    if isinstance(body, dict):
        for key in ("description", "error", "message", "reason", "detail", "name"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key][:200]
    return json.dumps(body)[:200]


#: Aggregator answers larger than this are refused (a hostile or broken API cannot exhaust memory).
MAX_BODY_BYTES = 2 * 1024 * 1024


class HttpApi:
    """One aggregator's HTTP endpoint. ``get_json``/``post_json`` return decoded JSON or raise ``QuoteError``."""

    def __init__(self, source: str, base_url: str, *, headers: dict[str, str] | None = None,
                 timeout_s: float = 8.0, retry: RetryPolicy | None = None) -> None:
        self.source = source
        self.retry = retry or RetryPolicy(budget_s=timeout_s)
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0))
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, follow_redirects=False,
                                    headers={"accept": "application/json", "user-agent": USER_AGENT,
                                             **(headers or {})})

    def close(self) -> None:
        self._client.close()

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._request("GET", path, params=params)

    def post_json(self, path: str, body: Any, params: dict[str, Any] | None = None) -> Any:
        return self._request("POST", path, params=params, body=body)

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts) | stop_after_delay(self.retry.budget_s),
            wait=_wait(self.retry), retry=retry_if_exception_type(_Retryable), reraise=True,
        )
        try:
            response = retrying(self._once, method, path, params, body)
        except _Retryable as exc:
            raise QuoteError(self.source, f"{exc.kind}: {exc.detail} (after retries)") from None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            ctype = response.headers.get("content-type", "unknown").split(";")[0]
            raise QuoteError(self.source, f"malformed_json: {method} {path} answered {ctype} that is not JSON") \
                from None

    def _capped_request(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> httpx.Response:
        """The response, its body read up to ``MAX_BODY_BYTES`` (a larger one is refused, never buffered)."""
        with self._client.stream(method, path, params=params, json=body) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise QuoteError(self.source, f"body_too_large: {method} {path} announced {declared} bytes "
                                              f"(limit {MAX_BODY_BYTES})")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise QuoteError(self.source, f"body_too_large: {method} {path} sent more than "
                                                  f"{MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks),
                              request=response.request)

    def _once(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> httpx.Response:
        try:
            response = self._capped_request(method, path, params, body)
        except httpx.TimeoutException:
            raise QuoteError(self.source, f"timeout: {method} {path} took longer than "
                                          f"{self._client.timeout.read}s") from None
        except httpx.TransportError as exc:
            log.debug("%s: %s %s failed: %s", self.source, method, path, safe_error(exc))
            raise _Retryable("connection", f"{method} {path}: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            kind = "rate_limited" if status == 429 else "http_status"
            log.info("%s: %s %s answered HTTP %s; retrying", self.source, method, path, status)
            raise _Retryable(kind, f"HTTP {status} from {method} {path}: {error_detail(response)}", retry_after)
        if status >= 400:
            detail = error_detail(response)
            if any(phrase in detail.lower() for phrase in NO_LIQUIDITY_PHRASES):
                raise QuoteError(self.source, f"no_liquidity: HTTP {status} from {method} {path}: {detail}")
            hint = "; check the API key" if status in (401, 403) else ""
            raise QuoteError(self.source, f"http_status: HTTP {status} from {method} {path}: "
                                          f"{detail}{hint}")
        if status >= 300:
            raise QuoteError(self.source, f"http_status: HTTP {status} redirect from {method} {path} (not followed)")
        return response


def field(body: Any, source: str, *path: str | int) -> Any:
    """``body[p0][p1]…`` or ``QuoteError("missing_field: …")`` naming the dotted path."""
    cur = body
    for p in path:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            cur = None
        if cur is None:
            raise QuoteError(source, f"missing_field: response has no {'.'.join(str(x) for x in path)}")
    return cur


def as_int(value: Any, source: str, name: str) -> int:
    """An integer from a JSON number or decimal string; anything else is ``bad_response``."""
    if isinstance(value, bool):
        raise QuoteError(source, f"bad_response: {name} is a boolean, not an amount")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)  # gas estimates are sometimes fractional
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            pass
        try:
            return int(float(text))
        except ValueError:
            pass
    raise QuoteError(source, f"bad_response: {name} is not a number ({str(value)[:40]!r})")


def as_bytes(value: Any, source: str, name: str) -> bytes:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise QuoteError(source, f"bad_response: {name} is not 0x-prefixed hex")


def as_address(value: Any, source: str, name: str) -> str:
    from agent.models import checksum

    try:
        return checksum(value)
    except ValueError:
        raise QuoteError(source, f"bad_response: {name} is not an address ({str(value)[:50]!r})") from None
