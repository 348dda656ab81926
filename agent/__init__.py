"""rebalancer: keeps an on-chain portfolio at its target allocation across EVM chains.

Files it reads at run time (chain configs, ABIs, data) are package data: see ``agent.resources``.
"""

from __future__ import annotations

DIST_NAME = "rebalancer"


def __getattr__(name: str) -> str:
    # ``__version__`` comes from the installed package's metadata (pyproject.toml), read only when asked
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(DIST_NAME)
        except PackageNotFoundError:
            return "0+unknown"  # imported from a tree that was never installed
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
