"""Paths of the repository checkout, for tests only (the agent itself never resolves the repository root)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
