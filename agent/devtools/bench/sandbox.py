"""``rebalancer bench sandbox``: how long ``sandbox up`` takes with the saved worlds, and what deploying costs.

``sandbox up`` (two anvil chains loaded from their saved states, the local aggregator server, ``sandbox.env``)
runs ``RUNS`` times as a fresh process in a throw-away ``SANDBOX_DIR`` and is stopped with ``sandbox down``
each time; the figure is its wall time and the CPU time of the command (on a shared machine the wall time
includes waiting for a core, the CPU time is what the start costs). Beside it, each world is started in-process
both ways — loaded from its saved state and deployed from scratch — to show what the saved state saves.
The target is ``sandbox up`` ≤ 5 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from agent.devtools.bench.startup import _child_cpu_s, cli_command
from agent.devtools.sandbox.spec import CHAINS
from agent.devtools.sandbox.states import all_names, fresh_meta, start_world

RUNS = 3
TARGET_UP_S = 5.0


def _time_up(cli: list[str], runs: int) -> dict[str, Any]:
    walls, cpus = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as d:
            env = {**os.environ, "SANDBOX_DIR": d}
            cpu0, t0 = _child_cpu_s(), time.perf_counter()
            up = subprocess.run([*cli, "sandbox", "up"], capture_output=True, text=True, timeout=300, env=env)
            walls.append(time.perf_counter() - t0)
            cpus.append(_child_cpu_s() - cpu0)
            subprocess.run([*cli, "sandbox", "down"], capture_output=True, text=True, timeout=120, env=env)
            if up.returncode != 0:
                raise RuntimeError(f"sandbox up exited {up.returncode}: {up.stderr.strip()[-300:]}")
    return {"median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
            "cpu_median_s": round(statistics.median(cpus), 3), "runs": runs}


def _load_vs_deploy() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-no-states-") as empty:
        for spec in CHAINS:
            figures = {}
            for how, directory in (("load_s", None), ("deploy_s", Path(empty))):
                t0 = time.perf_counter()
                anvil, _world, loaded = (start_world(spec) if directory is None
                                         else start_world(spec, directory=directory))
                figures[how] = round(time.perf_counter() - t0, 3)
                figures["loaded" if directory is None else "deployed"] = loaded if directory is None else not loaded
                anvil.stop()
            out[spec.name] = figures
    return out


def run() -> dict[str, Any]:
    cli = cli_command()
    up = _time_up(cli, RUNS)
    return {
        "bench": "sandbox",
        "command": " ".join([*cli, "sandbox", "up"]),
        "sandbox_up": up,
        "target_up_s": TARGET_UP_S,
        "up_within_target_wall": up["min_s"] <= TARGET_UP_S,
        "up_within_target_cpu": up["cpu_median_s"] <= TARGET_UP_S,
        "saved_worlds_fresh": {name: fresh_meta(name) is not None for name in all_names()},
        "start_world_in_process": _load_vs_deploy(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
