"""Bad input through the real CLI (#14 item 9): one line on stderr naming the setting and the fix, exit 2,
no traceback, and nothing created or changed (the working directory and the journal's directory are compared
byte for byte before and after). Each case runs ``rebalancer`` as a child process with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*"))}


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp / "home"), "XDG_DATA_HOME": str(tmp / "data"),
           "XDG_RUNTIME_DIR": str(tmp / "run"), "CHAINS": "ethereum", "TARGETS": "ETH:50,USDC:50",
           # port 9 (discard) on loopback: never reached, every case fails before the first request
           "ETHEREUM_RPC_URL": "http://127.0.0.1:9", "WALLET_ADDRESS": WALLET,
           "JOURNAL_PATH": str(tmp / "j" / "journal.sqlite")}
    env.update(extra)
    return env


def _preload() -> None:
    """Import what the commands import once, so each forked child starts in milliseconds, not seconds."""
    import agent.cli
    import agent.config.settings
    import agent.cycle.compose
    import agent.signers.address  # noqa: F401


def _run(tmp: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``rebalancer ARGS`` in a child process (forked from this one after the imports: the same entry point,
    ``agent.cli.main``, its own environment, working directory, stdout and stderr), as a completed process."""
    _preload()
    out, err = (Path(tempfile.mkstemp(prefix="rebalancer-cli-")[1]) for _ in range(2))  # outside the world
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.chdir(tmp / "cwd")
            os.environ.clear()
            os.environ.update(env)
            sys.argv = ["rebalancer", *args]
            for stream, path in ((1, out), (2, err)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fd, stream)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (pytest's capture is not this process's)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            import logging

            logging.getLogger().handlers.clear()  # pytest's capture handlers: the CLI sets up its own
            from agent.cli import main

            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    result = subprocess.CompletedProcess(args, os.waitstatus_to_exitcode(status), out.read_text(), err.read_text())
    out.unlink()
    err.unlink()
    return result


@pytest.fixture
def world(tmp_path: Path) -> Path:
    (tmp_path / "cwd").mkdir()
    (tmp_path / "j").mkdir()
    (tmp_path / "not-sqlite.db").write_text("this is a text file, not a journal\n")
    (tmp_path / "bad.env").write_bytes(b"CHAINS=ethereum\nTARGETS=ETH:50,USDC:50\nNOTE=caf\xe9\n")
    (tmp_path / "gappy.csv").write_text("date,ETH,USDC\n2021-01-01,700,1\n2021-01-02,710,1\n2021-01-04,720,1\n")
    (tmp_path / "fees.csv").write_text("block_number,base_fee_wei\n10,5\n12,5\n")
    return tmp_path


CASES = [
    # (id, extra env, args, the setting the line names, a word of the fix)
    ("rpc-url-ipv6", {"ETHEREUM_RPC_URL": "http://[::1"}, ["plan"], "ETHEREUM_RPC_URL", "brackets"),
    ("rpc-url-scheme", {"ETHEREUM_RPC_URL": "ftp://node.example"}, ["status"], "ETHEREUM_RPC_URL", "http"),
    ("quote-timeout-inf", {"QUOTE_TIMEOUT_S": "inf"}, ["plan"], "QUOTE_TIMEOUT_S", "finite"),
    ("rpc-timeout-inf", {"RPC_TIMEOUT_S": "inf"}, ["status"], "RPC_TIMEOUT_S", "finite"),
    ("rpc-timeout-nan", {"RPC_TIMEOUT_S": "nan"}, ["plan"], "RPC_TIMEOUT_S", "fix"),
    ("rpc-timeout-huge", {"RPC_TIMEOUT_S": "1e300"}, ["plan"], "RPC_TIMEOUT_S", "600"),
    ("band-inf", {"BAND_PP": "Infinity"}, ["plan"], "BAND_PP", "finite"),
    ("base-fee-inf", {"ETHEREUM_MAX_BASE_FEE_GWEI": "inf"}, ["plan"], "ETHEREUM_MAX_BASE_FEE_GWEI", "finite"),
    ("journal-dev-null", {"JOURNAL_PATH": "/dev/null"}, ["run", "--once"], "JOURNAL_PATH", "point JOURNAL_PATH"),
    ("journal-directory", {"JOURNAL_PATH": "{tmp}/j"}, ["plan"], "JOURNAL_PATH", "directory"),
    ("journal-not-sqlite", {"JOURNAL_PATH": "{tmp}/not-sqlite.db"}, ["run", "--once"], "JOURNAL_PATH", "SQLite"),
    ("env-file-utf8", {"ENV_FILE": "{tmp}/bad.env"}, ["plan"], "ENV_FILE", "UTF-8"),
    ("env-file-missing", {"ENV_FILE": "{tmp}/missing.env"}, ["status"], "ENV_FILE", "fix the path"),
    ("log-level", {"LOG_LEVEL": "LOUD"}, ["status"], "LOG_LEVEL", "DEBUG"),
    ("log-format", {"LOG_FORMAT": "xml"}, ["status"], "LOG_FORMAT", "json"),
    ("signer-scheme", {"SIGNER": "bogus:1"}, ["status"], "SIGNER", "use one of"),
    ("signer-keystore", {"SIGNER": "keystore:{tmp}/none.json"}, ["plan"], "SIGNER", "fix the path"),
    ("fund-usd", {}, ["simulate", "--fork", "ethereum", "--fund-usd", "-1"], "--fund-usd", "positive"),
    ("journal-command-utf8", {"ENV_FILE": "{tmp}/bad.env"}, ["journal"], "ENV_FILE", "UTF-8"),
    ("journal-command-dev-null", {"JOURNAL_PATH": "/dev/null"}, ["journal"], "JOURNAL_PATH", "regular file"),
    ("journal-command-path", {}, ["journal", "--path", "{tmp}/not-sqlite.db"], "--path", "SQLite"),
    ("tax-not-sqlite", {"JOURNAL_PATH": "{tmp}/not-sqlite.db"}, ["tax", "--year", "2026"], "JOURNAL_PATH", "SQLite"),
    ("backtest-prices-gap", {}, ["backtest", "--prices", "{tmp}/gappy.csv", "--report", "{tmp}/r.html"],
     "gappy.csv", "--fill-gaps forward"),
    ("backtest-prices-missing", {}, ["backtest", "--prices", "{tmp}/none.csv"], "--prices", "fix the path"),
    ("bench-gas-trace-gap", {}, ["bench", "gas", "--trace", "{tmp}/fees.csv"], "--trace", "consecutive"),
]


@pytest.mark.parametrize(("extra", "args", "setting", "fix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(world: Path, extra: dict[str, str], args: list[str],
                                                          setting: str, fix: str) -> None:
    env = _env(world, **{k: v.replace("{tmp}", str(world)) for k, v in extra.items()})
    args = [a.replace("{tmp}", str(world)) for a in args]
    before = _tree(world)
    proc = _run(world, args, env)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and setting in lines[0] and fix in lines[0], lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert _tree(world) == before  # no journal, lock, data directory or anything else created or changed


def test_a_typo_of_a_setting_is_warned_with_the_right_name(world: Path) -> None:
    env = _env(world, MAX_SLIPAGE_BPS="30", ETHEREUM_RPC_URL="ftp://x")  # stopped before any request
    proc = _run(world, ["plan"], env)
    assert "MAX_SLIPAGE_BPS is not a setting (ignored): did you mean MAX_SLIPPAGE_BPS?" in proc.stderr
    assert proc.returncode == 2


def test_status_reads_the_signers_wallet_and_shows_the_absolute_default_journal(world: Path) -> None:
    """WALLET_ADDRESS unset: the wallet is SIGNER's address; JOURNAL_PATH unset: the per-user data directory."""
    env = _env(world, SIGNER="anvil:0", RPC_ATTEMPTS="1", RPC_TIMEOUT_S="1")
    del env["WALLET_ADDRESS"], env["JOURNAL_PATH"]
    proc = _run(world, ["status", "--json"], env)
    import json

    doc = json.loads(proc.stdout)
    assert doc["wallet"] == WALLET  # anvil's dev account 0
    assert doc["journal"] == str(world / "data" / "rebalancer" / "journal.sqlite")
    assert Path(doc["journal"]).is_absolute()
    assert proc.returncode == 1  # the node is unreachable: nothing read
