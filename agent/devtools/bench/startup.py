"""``rebalancer bench startup``: how long the command line takes to start (``--help``, ``--version``).

Each figure runs the installed ``rebalancer`` script (beside this Python; else ``python -m agent.cli``) as a
fresh process ``RUNS`` times and reports the median and best wall time, and the median CPU time (user + system)
of the child. On a shared machine the wall time includes waiting for a core; the CPU time is what the start
itself costs. ``python -c pass`` is measured alongside as the floor no command line can beat. The JSON also says
which heavy libraries one ``--help`` imported (none is the contract: commands import them when they run).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RUNS = 7
TARGET_HELP_S = 0.5
HEAVY = ("web3", "eth_account", "eth_abi", "httpx", "pydantic", "rich")
_PROBE = ("import sys, json; sys.argv = ['rebalancer', '--help']\n"
          "from agent.cli import main\n"
          "try:\n    main()\nexcept SystemExit:\n    pass\n"
          "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)")


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "rebalancer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]


def _child_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(args: list[str], runs: int = RUNS) -> dict[str, Any]:
    walls, cpus = [], []
    for _ in range(runs):
        cpu0, t0 = _child_cpu_s(), time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "100"})
        walls.append(time.perf_counter() - t0)
        cpus.append(_child_cpu_s() - cpu0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[:200]}")
    return {"median_s": round(statistics.median(walls), 4), "min_s": round(min(walls), 4),
            "cpu_median_s": round(statistics.median(cpus), 4), "runs": runs}


def heavy_imports_of_help() -> list[str]:
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    imported = set(json.loads(proc.stderr.strip().splitlines()[-1]))
    return [m for m in HEAVY if m in imported]


def run() -> dict[str, Any]:
    cli = cli_command()
    help_fig = time_command([*cli, "--help"])
    return {
        "bench": "startup",
        "command": " ".join(cli),
        "help": help_fig,
        "version": time_command([*cli, "--version"]),
        "python_floor": time_command([sys.executable, "-c", "pass"]),
        "target_help_s": TARGET_HELP_S,
        # the wall clock of a loaded machine counts time spent waiting for a core; the CPU time does not
        "help_within_target_cpu": help_fig["cpu_median_s"] <= TARGET_HELP_S,
        "help_within_target_wall": help_fig["median_s"] <= TARGET_HELP_S,
        "heavy_modules_imported_by_help": heavy_imports_of_help(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
