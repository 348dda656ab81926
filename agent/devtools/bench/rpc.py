"""``rebalancer bench rpc``: HTTP requests per chain for one status cycle, multicall vs one call per token.

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
    }
