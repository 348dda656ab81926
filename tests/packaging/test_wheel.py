"""The built wheel works outside the repository: `python -m build --wheel`, install it into a fresh venv, and from
another working directory run `--version`, `sandbox up`, `status --json`, `plan --json`, `sandbox down`.

Honest about what runs: the source is copied out of the checkout first (the build cannot reach back into it), the
fresh venv holds the wheel as its only `rebalancer` and imports `agent` from its own site-packages (asserted). Its
third-party dependencies (web3 & co., the same pins the wheel names) are borrowed from this test's venv through a
`.pth` line placed after the venv's own site-packages — no network, a few seconds instead of a full install. The
checkout's editable finder is not active there (a `.pth` inside a borrowed directory is never run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.devtools.sandbox.anvil import anvil_path
from tests.paths import REPO_ROOT

# one worker builds the wheel once for the whole module (make test runs -n 2 --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.xdist_group("wheel")]

_SKIP = shutil.ignore_patterns(".git", ".venv", ".tools", "*.egg-info", "__pycache__", ".sandbox", ".rebalancer",
                               ".pytest_cache", ".ruff_cache", ".mypy_cache", ".env", "*.sqlite*", "report.html")


def _ignore(directory: str, names: list[str]) -> set[str]:
    """What not to copy: tools, caches, local state, and the build output of an earlier build at the top."""
    top = {"build", "dist"} & set(names) if Path(directory) == REPO_ROOT else set()
    return set(_SKIP(directory, names)) | top


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site_packages: Path

    @property
    def cli(self) -> str:
        return str(self.venv / "bin" / "rebalancer")


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO_ROOT, src, ignore=_ignore)
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp / "dist"), str(src)])
    (wheel,) = (tmp / "dist").glob("rebalancer-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps",
          "--no-index", str(wheel)])
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     cwd=tmp).stdout.strip())
    (site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return Installed(wheel=wheel, venv=venv, site_packages=site)


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing from the checkout, no .env, no agent settings of the test runner."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "LANG": "C.UTF-8", "COLUMNS": "500", **extra}


def test_the_wheel_carries_the_code_and_every_runtime_file(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for pattern, where in (("chains/*.toml", "chains"), ("abis/*.json", "abis"), ("data/*.csv", "data"),
                           ("contracts/build/*.json", "contracts")):
        files = sorted(REPO_ROOT.glob(pattern))
        assert files
        assert {f"agent/resources/{where}/{f.name}" for f in files} <= names
    code = {str(p.relative_to(REPO_ROOT)) for top in ("agent", "strategies") for p in (REPO_ROOT / top).rglob("*.py")}
    assert code <= names, f"left out of the wheel: {sorted(code - names)[:5]}"
    assert not any(n.startswith(("tests/", "chains/", "abis/", "data/", "contracts/")) for n in names)


def test_installed_package_is_the_wheel_and_reads_its_own_resources(installed: Installed, tmp_path: Path) -> None:
    probe = ("import json, agent, agent.resources as r, agent.config.chains as c\n"
             "print(json.dumps({'agent': agent.__file__, 'chains': str(c.default_chains_dir()),"
             " 'abis': str(r.abis_dir()), 'contracts': str(r.contracts_dir()), 'version': agent.__version__,"
             " 'available': c.available_chains()}))")
    doc = json.loads(_run([str(installed.venv / "bin" / "python"), "-c", probe], cwd=tmp_path,
                          env=_env(tmp_path)).stdout)
    for key in ("agent", "chains", "abis", "contracts"):
        assert Path(doc[key]).is_relative_to(installed.site_packages), (key, doc[key])
    assert "sandbox_a" in doc["available"] and "ethereum" in doc["available"]
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert doc["version"] == project["version"]


def test_missing_anvil_is_one_line_with_the_install_command(installed: Installed, tmp_path: Path) -> None:
    proc = subprocess.run([installed.cli, "sandbox", "up"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=_env(tmp_path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "npm install --prefix .tools @foundry-rs/anvil@1.7.1" in lines[0] and "ANVIL_BIN" in lines[0]
    assert not (tmp_path / ".sandbox" / "state.json").exists()


@pytest.fixture
def workdir(installed: Installed, tmp_path: Path) -> Iterator[Path]:
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    yield cwd
    subprocess.run([installed.cli, "sandbox", "down"], cwd=cwd, env=_env(tmp_path), capture_output=True, timeout=120)


def test_sandbox_status_plan_from_another_directory(installed: Installed, workdir: Path, tmp_path: Path) -> None:
    before = sorted(p.relative_to(installed.site_packages) for p in installed.site_packages.rglob("*"))
    env = _env(tmp_path, ANVIL_BIN=str(anvil_path()))
    cli = installed.cli

    version = _run([cli, "--version"], cwd=workdir, env=env).stdout.strip()
    assert version == f"rebalancer {tomllib.loads((REPO_ROOT / 'pyproject.toml').read_text())['project']['version']}"

    up = _run([cli, "sandbox", "up"], cwd=workdir, env=env)
    state = workdir / ".sandbox"
    assert "sandbox up: chains sandbox_a,sandbox_b" in up.stderr
    assert f"export ENV_FILE={state / 'sandbox.env'}" in up.stderr
    pids = [p["pid"] for p in json.loads((state / "state.json").read_text())["processes"]]
    assert len(pids) == 3  # two anvil chains and the aggregator server (python -m from the wheel)

    run_env = {**env, "ENV_FILE": str(state / "sandbox.env")}
    status = json.loads(_run([cli, "status", "--json"], cwd=workdir, env=run_env).stdout)
    assert [(c["chain"], c["available"]) for c in status["chains"]] == [("sandbox_a", True), ("sandbox_b", True)]
    assert status["total_usd"] > 1000
    assert {a["symbol"] for a in status["assets"]} >= {"ETH", "USDC"}

    plan = json.loads(_run([cli, "plan", "--json"], cwd=workdir, env=run_env).stdout)
    assert plan["rebalance"] is True and plan["actions"], plan  # the sandbox funds the wallet off-target
    assert abs(plan["total_usd"] - status["total_usd"]) < 0.01 * status["total_usd"]

    down = _run([cli, "sandbox", "down"], cwd=workdir, env=env)
    assert "sandbox down: stopped 3 process(es)" in down.stderr
    assert not any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
                   for pid in pids)
    after = sorted(p.relative_to(installed.site_packages) for p in installed.site_packages.rglob("*")
                   if "__pycache__" not in p.parts)
    assert after == [p for p in before if "__pycache__" not in p.parts]  # no run-time state inside site-packages
    assert os.listdir(state)  # it went to the working directory instead
