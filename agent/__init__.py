"""rebalancer: keeps an on-chain portfolio at its target allocation across EVM chains."""

from pathlib import Path

__version__ = "0.1.0"

#: Repository root (the package is installed editable; data files live beside it).
REPO_ROOT = Path(__file__).resolve().parent.parent
