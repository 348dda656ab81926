"""ETH↔WETH is a wrap or an unwrap, never a routed swap (#14 item 10).

Native coin to its wrapped token (``WETH9.deposit``, value = amount) and back (``WETH9.withdraw(amount)``) is
1:1 on the wrapped token's own contract: no aggregator is asked (a router would take a fee, a spread and an
approval for what costs one cheap call). ``fetch_best_quote`` refuses such a pair (``wrap_pair``) so no path
of the agent can route it; ``rebalancer quote`` answers it as the wrap or unwrap call instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from agent.chain.abi import abi
from agent.config.chains import NATIVE_PLACEHOLDER, ChainConfig
from agent.errors import QuoteRejected

WrapKind = Literal["wrap", "unwrap"]
_WETH = abi("WETH9")


def wrap_kind(chain: ChainConfig, sell_token: str, buy_token: str) -> WrapKind | None:
    """``wrap`` for native → wrapped native, ``unwrap`` for the reverse, else None (addresses compared)."""
    weth = chain.token(chain.wrapped_native).address.lower()
    native = NATIVE_PLACEHOLDER.lower()
    pair = (sell_token.lower(), buy_token.lower())
    if pair == (native, weth):
        return "wrap"
    if pair == (weth, native):
        return "unwrap"
    return None


@dataclass(frozen=True)
class WrapCall:
    """The one call a wrap or unwrap is: on the wrapped token's contract, 1:1, nothing routed."""

    kind: WrapKind
    to: str
    data: bytes
    value_wei: int
    amount_raw: int

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "to": self.to, "data": "0x" + self.data.hex(), "value_wei": self.value_wei,
                "amount_raw": str(self.amount_raw), "buy_amount_raw": str(self.amount_raw)}


def wrap_call(chain: ChainConfig, kind: WrapKind, amount_raw: int) -> WrapCall:
    weth = chain.token(chain.wrapped_native).address
    if kind == "wrap":
        return WrapCall(kind, weth, _WETH.encode("deposit"), amount_raw, amount_raw)
    return WrapCall(kind, weth, _WETH.encode("withdraw", amount_raw), 0, amount_raw)


def refuse_wrap_pair(chain: ChainConfig, sell_token: str, buy_token: str) -> None:
    """No quote source is ever asked for ETH↔WETH: it is a wrap or an unwrap."""
    kind = wrap_kind(chain, sell_token, buy_token)
    if kind is not None:
        raise QuoteRejected("quotes", "wrap_pair", f"{chain.native_symbol}↔{chain.wrapped_native} on {chain.name} is "
                            f"an {kind} on the {chain.wrapped_native} contract (1:1), never a routed swap")
