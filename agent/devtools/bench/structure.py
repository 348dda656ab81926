"""``rebalancer bench structure``: the shape of the house, as figures (files, largest file and function,
import cycles, imports that go back up the layers, ``--help`` start-up time).

The layers are read from ``.importlinter`` (the contract ``make test`` enforces), so this bench and the
contract can never disagree about what "up" means. Cycles are strongly connected components of the
module import graph (grimp) with more than one module.
"""

from __future__ import annotations

import ast
import configparser
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PACKAGES = ("agent", "strategies")
HELP_RUNS = 5


def _source_root() -> Path:
    import agent

    return Path(agent.__file__).resolve().parent.parent


def _python_files(root: Path) -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (root / pkg).rglob("*.py") if "__pycache__" not in p.parts)


def _largest_function(files: list[Path], root: Path) -> dict[str, Any]:
    best: dict[str, Any] = {"name": "", "lines": 0}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > best["lines"]:
                    best = {"name": f"{path.relative_to(root)}:{node.name}", "lines": lines}
    return best


def _layers(root: Path) -> list[list[str]]:
    parser = configparser.ConfigParser()
    parser.read(root / ".importlinter")
    text = parser.get("importlinter:contract:layers", "layers", fallback="")
    return [[m.strip() for m in line.replace(":", "|").split("|")] for line in text.splitlines() if line.strip()]


def _layer_of(module: str, layers: list[list[str]]) -> int | None:
    for index, group in enumerate(layers):
        if any(module == m or module.startswith(m + ".") for m in group):
            return index
    return None


def _graph_figures(root: Path) -> dict[str, Any]:
    import grimp

    sys.path.insert(0, str(root))
    graph = grimp.build_graph(*PACKAGES)
    edges = [(a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)]
    layers = _layers(root)
    upward = []
    for a, b in edges:
        la, lb = _layer_of(a, layers), _layer_of(b, layers)
        if la is not None and lb is not None and lb < la:  # index 0 is the top layer
            upward.append(f"{a} -> {b}")
    devtools = [f"{a} -> {b}" for a, b in edges
                if b.startswith("agent.devtools") and not a.startswith("agent.devtools")]
    return {"modules": len(graph.modules), "import_edges": len(edges), "cycles": _cycles(graph),
            "imports_back_up_the_layers": sorted(upward), "imports_of_devtools": sorted(devtools)}


def _cycles(graph: Any) -> list[list[str]]:
    """Tarjan's strongly connected components of size > 1."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.find_modules_directly_imported_by(node):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(out)


def _help_seconds() -> float:
    times = []
    for _ in range(HELP_RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "agent.cli", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def run() -> dict[str, Any]:
    root = _source_root()
    files = _python_files(root)
    sizes = {str(p.relative_to(root)): len(p.read_text().splitlines()) for p in files}
    largest = max(sizes.items(), key=lambda kv: kv[1])
    figures = _graph_figures(root)
    return {
        "python_files": len(files),
        "lines": sum(sizes.values()),
        "files_over_400_lines": sorted(k for k, v in sizes.items() if v > 400),
        "largest_file": {"path": largest[0], "lines": largest[1]},
        "largest_function": _largest_function(files, root),
        "import_cycles": len(figures["cycles"]),
        "imports_back_up": len(figures["imports_back_up_the_layers"]),
        "help_seconds_median": _help_seconds(),
        **figures,
    }
