"""A hostile aggregator: a loopback proxy in front of the sandbox aggregator server rewrites its real-shaped
answers (all five APIs) with one mutation each; every mutated quote is refused with a reason and nothing is
signed: the wallet's nonce and balances are what they were before.

Calldata mutations re-encode the router call with one field changed (the same argument paths as the unit
tests on real captured calldata) or damage its bytes; response mutations change the fields around it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from agent.chain.rpc import ChainRpc, make_web3
from agent.config.chains import NATIVE_PLACEHOLDER
from agent.config.settings import ChainSettings
from agent.devtools.aggregator import AggregatorServer, SandboxChain
from agent.quotes.best import fetch_best_quote
from agent.quotes.calldata import encode_sandbox_swap
from agent.quotes.onchain import OnchainQuoter
from agent.quotes.service import build_request
from agent.quotes.validate import Limits
from tests.unit.quotes.real_calldata import ATTACKER, SHAPES, abi_mutations, reencode

from .helpers import balance, client

pytestmark = pytest.mark.anvil
LIMITS = Limits(max_slippage_bps=50, max_quote_deviation_bps=150, max_swap_gas=1_500_000)
SOURCES = ("0x", "1inch", "paraswap", "odos", "kyberswap")
Mutation = Callable[[bytes, Any], bytes]


def _calldata_kinds() -> dict[str, Callable[[str], Mutation | None]]:
    """kind -> (source -> mutation of that source's calldata, or None where the kind does not apply)."""
    def abi(kind: str) -> Callable[[str], Mutation]:
        return lambda source: (lambda data, _w: abi_mutations(SHAPES[source])[kind](data))

    def field(name: str, value: Callable[[Any], Any]) -> Callable[[str], Mutation]:
        return lambda source: (lambda data, world: SHAPES[source].change(data, name, value(world)))

    kinds: dict[str, Callable[[str], Mutation | None]] = {k: abi(k) for k in abi_mutations(SHAPES["0x"])}
    kinds.update({
        "amount_zero": field("amount", lambda _w: 0),
        "min_out_two_below_floor": field("min_out", lambda _w: (lambda v: v - 2)),
        "buy_token_native": field("token_out", lambda _w: NATIVE_PLACEHOLDER),
        "sell_token_native": field("token_in", lambda _w: NATIVE_PLACEHOLDER),
        "recipient_is_the_router": field("recipient", lambda w: w.aggregator_router),
        "recipient_is_the_buy_token": field("recipient", lambda w: w.token("USDC")),
        "recipient_burn_address": field("recipient", lambda _w: "0x000000000000000000000000000000000000dEaD"),
        "selector_and_one_word": lambda _s: (lambda data, _w: data[:36]),
        "arguments_repeated": lambda _s: (lambda data, _w: data + data[4:]),
        "foreign_shape": lambda _s: (lambda data, w: encode_sandbox_swap(
            token_in=w.token("WETH"), token_out=w.token("USDC"), amount_in=10**19, min_out=1, recipient=w.wallet,
            legs=[(10**19, [ATTACKER])])),
        "zerox_not_settler_execute": lambda s: None if s != "0x" else (lambda data, _w: reencode(
            SHAPES["0x"].fn, data, {(4,): lambda inner: b"\xa9\x05\x9c\xbb" + bytes(inner)[4:]})),
        "zerox_operator_not_target": lambda s: None if s != "0x" else (
            lambda data, _w: reencode(SHAPES["0x"].fn, data, {(0,): ATTACKER})),
        "partial_fill_flag": lambda s: {"1inch": (1, 6), "kyberswap": (0, 3, 9)}.get(s) and (
            lambda data, _w: reencode(SHAPES[s].fn, data, {{"1inch": (1, 6), "kyberswap": (0, 3, 9)}[s]: 1})),
        "kyber_fee_receiver": lambda s: None if s != "kyberswap" else (lambda data, _w: reencode(
            SHAPES[s].fn, data, {(0, 3, 4): [ATTACKER], (0, 3, 5): [10**6]})),
    })
    return kinds


CALLDATA_KINDS = _calldata_kinds()
RESPONSE_KINDS = ("tx_to_attacker", "value_added", "buy_amount_doubled", "calldata_dropped")


def _walk(body: Any, visit: Callable[[dict[str, Any], str], None]) -> None:
    if isinstance(body, dict):
        for key in list(body):
            visit(body, key)
            _walk(body[key], visit)
    elif isinstance(body, list):
        for item in body:
            _walk(item, visit)


def _is_calldata(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("0x") and len(value) > 74


def mutate_body(body: Any, kind: str, source: str, world: Any) -> Any:
    def visit(node: dict[str, Any], key: str) -> None:
        value = node[key]
        if key == "data" and _is_calldata(value):
            if kind in CALLDATA_KINDS:
                node[key] = "0x" + CALLDATA_KINDS[kind](source)(bytes.fromhex(value[2:]), world).hex()  # type: ignore[misc]
            elif kind == "calldata_dropped":
                node[key] = "0x"
        elif kind == "tx_to_attacker" and key in ("to", "routerAddress") and isinstance(value, str):
            node[key] = ATTACKER
        elif kind == "value_added" and key in ("value", "transactionValue"):
            node[key] = "12345"
        elif kind == "buy_amount_doubled" and key in ("buyAmount", "dstAmount", "destAmount", "amountOut"):
            node[key] = str(int(value) * 2)
        elif kind == "buy_amount_doubled" and key == "outAmounts":
            node[key] = [str(int(v) * 2) for v in value]
    _walk(body, visit)
    return body


class MutatingProxy:
    """Forwards every request to ``upstream`` and rewrites JSON answers with ``self.kind``."""

    def __init__(self, upstream: str, world: Any) -> None:
        self.upstream, self.world, self.kind, self.source = upstream, world, "", ""
        self.mutated = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _go(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type",)}
                r = httpx.request(method, outer.upstream + self.path, content=raw, headers=headers, timeout=30)
                body = r.content
                try:
                    parsed = json.loads(body)
                    before = json.dumps(parsed, sort_keys=True)
                    parsed = mutate_body(parsed, outer.kind, outer.source, outer.world)
                    if json.dumps(parsed, sort_keys=True) != before:
                        outer.mutated += 1
                    body = json.dumps(parsed).encode()
                except ValueError:
                    pass
                self.send_response(r.status_code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._go("GET")

            def do_POST(self) -> None:
                self._go("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def proxy(sandbox_session: tuple[Any, Any]) -> Iterator[MutatingProxy]:
    _anvil, world = sandbox_session
    srv = AggregatorServer([SandboxChain(world.chain, world.rpc_url, (world.addresses.sushi_factory,))]).start()
    mp = MutatingProxy(srv.url, world)
    try:
        yield mp
    finally:
        mp.close()
        srv.stop()


CASES = [(kind, source) for kind in (*CALLDATA_KINDS, *RESPONSE_KINDS) for source in SOURCES
         if kind not in CALLDATA_KINDS or CALLDATA_KINDS[kind](source) is not None]


def test_at_least_thirty_mutation_kinds_over_all_five_shapes() -> None:
    kinds = {k for k, _ in CASES}
    assert len(kinds) >= 30, len(kinds)
    assert {s for _, s in CASES} == set(SOURCES)


def test_no_mutated_answer_gets_signed(proxy: MutatingProxy, sandbox_session: tuple[Any, Any]) -> None:
    _anvil, world = sandbox_session
    w3 = make_web3(world.rpc_url, timeout_s=30)
    rpc = ChainRpc(world.chain, ChainSettings(rpc_urls=(SecretStr(world.rpc_url),)))
    tokens = [world.token(s) for s in ("WETH", "USDC", "USDT", "DAI", "WBTC")]
    before = (w3.eth.get_transaction_count(world.wallet), w3.eth.get_balance(world.wallet),
              [balance(w3, t, world.wallet) for t in tokens])
    request = build_request(world.chain, sell="WETH", buy="USDC", amount="3", taker=world.wallet, slippage_bps=50)
    refused: dict[str, int] = {}
    # control: unmutated answers pass (so each refusal below is the mutation's doing)
    proxy.kind = ""
    for source in SOURCES:
        best = fetch_best_quote(request, chain=world.chain, sources=[client(source, proxy.url, timeout_s=10)],
                                reference=OnchainQuoter(world.chain, rpc).fetch_reference, limits=LIMITS,
                                timeout_s=15)
        assert best.best is not None, (source, best.results[0].rejected_because)
    for kind, source in CASES:
        proxy.kind, proxy.source, proxy.mutated = kind, source, 0
        best = fetch_best_quote(request, chain=world.chain, sources=[client(source, proxy.url, timeout_s=10)],
                                reference=OnchainQuoter(world.chain, rpc).fetch_reference, limits=LIMITS,
                                timeout_s=15)
        assert proxy.mutated > 0, (kind, source)
        assert best.best is None, (kind, source)
        (result,) = best.results
        assert result.rejected_because, (kind, source)
        refused[kind] = refused.get(kind, 0) + 1
    after = (w3.eth.get_transaction_count(world.wallet), w3.eth.get_balance(world.wallet),
             [balance(w3, t, world.wallet) for t in tokens])
    assert after == before
    assert sum(refused.values()) == len(CASES) >= 100
