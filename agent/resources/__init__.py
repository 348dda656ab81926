"""Files the agent reads at run time, shipped as package data and found with ``importlib.resources``.

The repository keeps them at its top level (``chains/``, ``abis/``, ``data/``, ``contracts/build/``); the build
maps each directory into this package (``setup.py``), so the same call finds them in a checkout with an editable
install and in an installed wheel. Nothing here knows where the repository is.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from agent.errors import ConfigError

#: resource name -> the subpackage that carries it (and, in the repository, the directory it comes from)
PACKAGES = {
    "chains": "agent.resources.chains",        # chains/*.toml
    "abis": "agent.resources.abis",            # abis/*.json
    "data": "agent.resources.data",            # data/*.csv
    "contracts": "agent.resources.contracts",  # contracts/build/*.json (the sandbox deploys them)
}


def resource_dir(name: str) -> Path:
    """The directory of shipped resource `name` ("chains", "abis", "data" or "contracts") on disk."""
    try:
        package = PACKAGES[name]
    except KeyError:
        raise ConfigError(f"no packaged resource {name!r} (known: {', '.join(PACKAGES)})") from None
    root = resources.files(package)
    if not isinstance(root, Path) or not root.is_dir():
        # pip always unpacks wheels; a zipped install would need extraction we do not do
        raise ConfigError(f"packaged resource {name!r} is not a directory on disk ({root}); "
                          "install rebalancer with pip (unpacked), not as a zip")
    return root


def chains_dir() -> Path:
    return resource_dir("chains")


def abis_dir() -> Path:
    return resource_dir("abis")


def data_file(filename: str) -> Path:
    return resource_dir("data") / filename


def contracts_dir() -> Path:
    return resource_dir("contracts")
