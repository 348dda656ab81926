"""Many runs at once: the engine in one process, on a local process pool (``workers``), or on a Dask cluster.

Runs are independent rows, so a batch is split into contiguous chunks, each simulated where it is sent, and the
chunks' results concatenated in order: the figures are the same as one serial batch (the engine is elementwise per
run). Dask distributed is the cluster engine: it runs plain Python functions on numpy arrays with no actor model or
object store to adopt, its ``LocalCluster`` gives tests and laptops the same API as a real cluster, and a scheduler
address is all ``--cluster`` needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from typing import Any

import numpy as np

from agent.errors import ConfigError
from agent.research.engine import Costs, Market, Result, Spec, simulate


def simulate_chunk(specs: Sequence[Spec], market: Market, costs: Costs, detail: bool = False) -> Result:
    """``simulate`` with positional arguments (what a pool maps and a cluster submits)."""
    return simulate(specs, market, costs, detail=detail)


def _chunks(specs: Sequence[Spec], n: int) -> list[list[Spec]]:
    size = -(-len(specs) // max(1, n))
    return [list(specs[i:i + size]) for i in range(0, len(specs), size)]


def _merge(parts: Sequence[Result]) -> Result:
    out: dict[str, Any] = {}
    for f in fields(Result):
        vals = [getattr(p, f.name) for p in parts]
        if vals[0] is None:
            out[f.name] = None
        elif isinstance(vals[0], list):
            out[f.name] = [x for v in vals for x in v]
        else:
            out[f.name] = np.concatenate(vals)
    return Result(**out)


def _strip(specs: Sequence[Spec]) -> list[Spec]:
    """Specs without their live strategy objects (rule runs need only the settings; custom ones stay local)."""
    if any(s.kind == "custom" for s in specs):
        raise ConfigError("--workers/--cluster: a strategy without a rule function runs serially; use --workers 1")
    return [s.with_(strategy=None) for s in specs]


def run_many(specs: Sequence[Spec], market: Market, costs: Costs, *, workers: int = 1, cluster: str | None = None,
             detail: bool = False) -> Result:
    """Every spec simulated: serially (``workers`` 1), on a process pool, or on the Dask cluster at ``cluster``."""
    if cluster:
        return run_on_dask(specs, market, costs, cluster, detail=detail)
    if workers <= 1 or len(specs) < 2:
        return simulate(specs, market, costs, detail=detail)
    parts = _chunks(_strip(specs), workers)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(simulate_chunk, parts, [market] * len(parts), [costs] * len(parts),
                                [detail] * len(parts)))
    return _merge(results)


def run_on_dask(specs: Sequence[Spec], market: Market, costs: Costs, address: object, *, detail: bool = False,
                chunks: int | None = None) -> Result:
    """The batch on a Dask distributed cluster (``address``: a scheduler address or a ``Client``/cluster object)."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the extra is missing
        raise ConfigError("--cluster: Dask is not installed; pip install 'rebalancer[cluster]'") from None
    own = not isinstance(address, Client)
    try:
        client = address if isinstance(address, Client) else Client(address, timeout=10)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"--cluster: no Dask scheduler at {address!r} ({exc}); start one with dask-scheduler "
                          "or drop --cluster") from None
    try:
        n = chunks or max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
        m, c = client.scatter(market, broadcast=True), client.scatter(costs, broadcast=True)
        futures = [client.submit(simulate_chunk, part, m, c, detail, pure=False)
                   for part in _chunks(_strip(specs), n)]
        return _merge(client.gather(futures))
    finally:
        if own:
            client.close()
