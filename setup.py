"""Package layout for setuptools (everything else is in pyproject.toml).

The run-time files stay at the repository's top level (chains/, abis/, data/, contracts/build/) and are mapped
into the package as ``agent.resources.<name>``, so the wheel carries them as package data and an editable install
finds them in place; both are read through ``importlib.resources`` (agent/resources/__init__.py).
Packages are discovered here so a new subpackage of agent/ or strategies/ can never be left out of the wheel.
"""

from setuptools import find_packages, setup

RESOURCES = {
    "agent.resources.chains": ("chains", ["*.toml"]),
    "agent.resources.abis": ("abis", ["*.json"]),
    "agent.resources.data": ("data", ["*.csv", "SOURCES.md"]),
    "agent.resources.contracts": ("contracts/build", ["*.json", "official/*.json", "worlds/*.json",
                                                      "worlds/*.state.json.gz"]),
}

setup(
    packages=[*find_packages(include=["agent", "agent.*", "strategies", "strategies.*"]), *RESOURCES],
    package_dir={name: directory for name, (directory, _) in RESOURCES.items()},
    package_data={name: patterns for name, (_, patterns) in RESOURCES.items()},
    include_package_data=False,
)
