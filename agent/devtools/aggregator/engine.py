"""The aggregator's core, shared by every API shape: resolve the chain and tokens, route the order across the
sandbox pools, and build ``AggregatorRouter.swap`` calldata that pays the recipient with a min-out."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.amm import shortfall_bps
from agent.config.chains import NATIVE_PLACEHOLDER
from agent.devtools.aggregator.chain_state import ChainView, SandboxChain
from agent.devtools.aggregator.routing import Route, best_route
from agent.models import checksum
from agent.quotes.calldata import encode_sandbox_swap

ZERO = "0x0000000000000000000000000000000000000000"
#: includes the Shape adapter hop (pull, approve, call) that the 1inch/Odos/KyberSwap shapes add
GAS_BASE = 140_000
GAS_PER_HOP = 65_000
GAS_PER_LEG = 20_000
GAS_NATIVE = 30_000


class ApiError(Exception):
    """An error answer: HTTP status and the JSON body in the API's own error shape."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Priced:
    view: ChainView
    sell: str  # checksummed token, or NATIVE_PLACEHOLDER
    buy: str
    amount_in: int
    route: Route
    block: int
    gas: int
    gas_price: int

    @property
    def amount_out(self) -> int:
        return self.route.amount_out

    @property
    def impact_pct(self) -> float:
        """Shortfall against the pools' marginal prices, in percent (includes the 0.3% fee)."""
        return float(shortfall_bps(self.route.ideal_out, self.amount_out)) / 100

    def calldata(self, *, min_out: int, recipient: str) -> bytes:
        return encode_sandbox_swap(token_in=self.sell, token_out=self.buy, amount_in=self.amount_in, min_out=min_out,
                                   recipient=recipient,
                                   legs=[(leg.amount_in, list(leg.pairs)) for leg in self.route.legs])

    @property
    def value(self) -> int:
        return self.amount_in if self.sell == NATIVE_PLACEHOLDER else 0


def min_out(amount: int, slippage_bps: int) -> int:
    return amount * (10_000 - slippage_bps) // 10_000


class Engine:
    def __init__(self, chains: Sequence[SandboxChain]) -> None:
        self.views = [ChainView(c) for c in chains]
        self._odos_paths: dict[str, tuple[float, Priced, str]] = {}
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(32)

    def sign(self, payload: str) -> str:
        """An HMAC over a route this server handed out, so a build request cannot alter it."""
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    def verify(self, payload: str, tag: Any) -> None:
        if not isinstance(tag, str) or not hmac.compare_digest(self.sign(payload), tag):
            raise ApiError(400, {"error": "route was altered or not issued by this server", "message": "bad route"})

    def chain(self, chain_id: Any) -> ChainView:
        for v in self.views:
            if str(v.config.chain_id) == str(chain_id):
                return v
        known = ", ".join(str(v.config.chain_id) for v in self.views)
        raise ApiError(400, {"message": f"unsupported chain {chain_id}; this server serves {known}"})

    def chain_by_slug(self, slug: str) -> ChainView:
        for v in self.views:
            allowed = v.config.aggregators.get("kyberswap")
            if slug in (v.config.name, allowed.slug if allowed else None):
                return v
        raise ApiError(404, {"code": 4040, "message": f"chain {slug!r} not found"})

    def token(self, view: ChainView, value: Any, what: str) -> str:
        if not isinstance(value, str):
            raise ApiError(400, {"message": f"{what} is required"})
        if value.lower() in (NATIVE_PLACEHOLDER.lower(), ZERO):
            return NATIVE_PLACEHOLDER
        try:
            return checksum(value)
        except ValueError:
            raise ApiError(400, {"message": f"{what} {value[:60]!r} is not an address"}) from None

    def amount(self, value: Any, what: str) -> int:
        try:
            amount = int(str(value))
        except ValueError:
            raise ApiError(400, {"message": f"{what} must be an integer amount in base units"}) from None
        if amount <= 0:
            raise ApiError(400, {"message": f"{what} must be positive"})
        return amount

    def price(self, view: ChainView, sell: str, buy: str, amount_in: int) -> Priced | None:
        """Best route for the order at the current reserves; None when no pool path connects the tokens."""
        weth = view.config.token(view.config.wrapped_native).address
        path_in = weth if sell == NATIVE_PLACEHOLDER else sell
        path_out = weth if buy == NATIVE_PLACEHOLDER else buy
        if path_in == path_out:
            raise ApiError(400, {"message": "sell and buy token are the same"})
        pools, block = view.pools()
        route = best_route(pools, path_in, path_out, amount_in)
        if route is None or route.amount_out <= 0:
            return None
        gas = GAS_BASE + GAS_PER_HOP * route.hops + GAS_PER_LEG * len(route.legs)
        gas += GAS_NATIVE if NATIVE_PLACEHOLDER in (sell, buy) else 0
        return Priced(view, sell, buy, amount_in, route, block, gas, view.gas_price())

    def remember_path(self, priced: Priced, user: str) -> str:
        path_id = secrets.token_hex(16)
        now = time.monotonic()
        with self._lock:
            self._odos_paths = {k: v for k, v in self._odos_paths.items() if now - v[0] < 120}
            self._odos_paths[path_id] = (now, priced, user)
        return path_id

    def recall_path(self, path_id: Any) -> tuple[Priced, str]:
        with self._lock:
            found = self._odos_paths.get(str(path_id))
        if found is None:
            raise ApiError(400, {"detail": "Path not found or expired", "errorCode": 4001})
        return found[1], found[2]
