"""``rebalancer bench rpc``: HTTP requests per chain for one status cycle, multicall vs one call per token.

Also on the official builds (``official``): the execution benchmark's chain (official V2 pair and V3 pool) read
as a V2-only chain and as a V3-only chain (QuoterV2 prices), each through its own counting proxy.

Starts two sandbox chains with many tokens each, puts a counting proxy in front of each RPC, and runs one
status cycle with the real reader; then reads the same balances the naive way (one eth_call per value,
plus the identity checks) through the same proxies. Everything is counted on the wire.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from web3 import Web3

from agent.chain.rpc import ChainRpc
from agent.config.settings import ChainSettings
from agent.devtools.bench.proxy import CountingProxy
from agent.devtools.sandbox.anvil import start_anvil
from agent.devtools.sandbox.spec import CHAINS, WALLET
from agent.devtools.sandbox.world import deploy_world
from agent.portfolio.reader import GET_BLOCK_NUMBER, fetch_snapshot, plan_calls


def _naive_read(rpc: ChainRpc) -> None:
    """What a reader without Multicall3 does: one request per value."""
    chain = rpc.chain
    w3 = rpc.w3
    w3.eth.chain_id  # noqa: B018 - the identity check is a request of its own
    for addr in chain.contract_addresses().values():
        w3.eth.get_code(Web3.to_checksum_address(addr))
    calls, _ = plan_calls(chain, WALLET)
    block = w3.eth.block_number
    for c in (sub.call for sub in calls):
        if c.fn == GET_BLOCK_NUMBER:
            continue
        w3.eth.call({"to": c.target, "data": c.fn.encode(*c.args)}, block)


def official_cycle() -> dict[str, Any]:
    """Requests per chain of one status cycle (and of a second one) on the official V2 and V3 venues."""
    from agent.devtools.bench.official_world import VENUES, deploy_bench_world

    world = deploy_bench_world()
    proxies = [CountingProxy(world.rpc_url).start() for _ in VENUES]
    try:
        rpcs = [ChainRpc(world.chain(v), ChainSettings(rpc_urls=(SecretStr(p.url),))) for v, p in zip(VENUES, proxies,
                                                                                                   strict=True)]
        snapshot = fetch_snapshot(rpcs, WALLET)
        first = [p.requests for p in proxies]
        for p in proxies:
            p.reset()
        fetch_snapshot(rpcs, WALLET)
        steady = [p.requests for p in proxies]
    finally:
        for p in proxies:
            p.stop()
        world.stop()
    return {v: {"http_requests_first_cycle": f, "http_requests_steady_state": s,
                "available": c.available} for v, f, s, c in zip(VENUES, first, steady, snapshot.chains, strict=True)}


def run(tokens_per_chain: int = 20) -> dict[str, Any]:
    extra = max(0, tokens_per_chain - 6)
    procs, proxies, rpcs = [], [], []
    try:
        with tempfile.TemporaryDirectory() as d:
            for spec in CHAINS:
                anvil = start_anvil(chain_id=spec.chain_id)
                procs.append(anvil)
                world = deploy_world(anvil.url, spec=replace(spec, extra_tokens=extra), chains_dir=Path(d))
                proxy = CountingProxy(anvil.url).start()
                proxies.append(proxy)
                cs = ChainSettings(rpc_urls=(SecretStr(proxy.url),))
                rpcs.append(ChainRpc(world.chain, cs))
            n_tokens = [len(r.chain.tokens) for r in rpcs]
            t0 = time.perf_counter()
            snapshot = fetch_snapshot(rpcs, WALLET)
            wall_ms = (time.perf_counter() - t0) * 1000
            fast = [p.requests for p in proxies]
            fast_calls = [p.rpc_calls for p in proxies]
            for p in proxies:
                p.reset()
            t0 = time.perf_counter()
            for r in rpcs:
                _naive_read(ChainRpc(r.chain, ChainSettings(rpc_urls=(SecretStr(proxies[rpcs.index(r)].url),))))
            naive_ms = (time.perf_counter() - t0) * 1000
            naive = [p.requests for p in proxies]
            for p in proxies:
                p.reset()
            fetch_snapshot(rpcs, WALLET)  # a second cycle: identity already checked
            steady = [p.requests for p in proxies]
    finally:
        for p in proxies:
            p.stop()
        for a in procs:
            a.stop()
    return {
        "benchmark": "rpc",
        "chains": len(rpcs),
        "tokens_per_chain": min(n_tokens),
        "http_requests_per_chain": max(fast),
        "http_requests_per_chain_steady_state": max(steady),
        "jsonrpc_calls_per_chain_first_cycle": max(fast_calls),
        "naive_requests_per_chain": min(naive),
        "wall_ms": round(wall_ms, 1),
        "naive_wall_ms": round(naive_ms, 1),
        "all_chains_available": all(c.available for c in snapshot.chains),
        "target": "http_requests_per_chain <= 2 (limit 1) where naive >= 20",
        "target_met": max(fast) <= 2 and min(naive) >= 20,
        "official": (official := official_cycle()),
        "official_target": "one request per chain per cycle once the identity is checked, on V2 and V3",
        "official_target_met": all(o["http_requests_steady_state"] <= 1 and o["available"] for o in official.values()),
    }
