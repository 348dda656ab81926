"""Every command on the sandbox as a person reads it at 80 columns, and as a program reads its --json.

Text: no line over 80 columns, no value cut (``sandbo…``), the wallet whole; ``run --once`` with an 11-chunk split
swap shows its progress on stderr while it runs (in a real 80-column tmux terminal, captured to
docs/terminal-80.txt and rendered to docs/images/terminal-80.png in Chromium). JSON: every document validates
against docs/schema/rebalancer.schema.json (raw amounts strings, flags booleans, full hashes)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.devtools.sandbox.manager import sandbox_down, sandbox_up
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
SCHEMA = json.loads((REPO_ROOT / "docs" / "schema" / "rebalancer.schema.json").read_text())
COMMANDS = ("status", "quote", "journal", "plan", "run", "backtest", "approve", "reject", "serve", "tax", "bench",
            "demo", "simulate", "sandbox")
QUOTE = ("quote", "--chain", "sandbox_a", "--sell", "USDC", "--buy", "WETH", "--amount", "1000")
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    d = tmp_path_factory.mktemp("sandbox80")
    env = sandbox_up(d)
    try:
        yield {**env, "ENV_FILE": str(d / "sandbox.env"), "COLUMNS": "80", "LINES": "50"}
    finally:
        sandbox_down(d)


def cli(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "agent.cli", *args], env={**os.environ, **env}, cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=400)
    if ok:
        assert out.returncode == 0, f"{args}: {out.stderr[-2000:]}"
    return out


def fits(text: str, what: str) -> list[str]:
    lines = text.splitlines()
    assert lines, f"{what}: printed nothing"
    wide = [ln for ln in lines if len(ln) > 80]
    assert not wide, f"{what}: lines over 80 columns:\n" + "\n".join(wide)
    assert "…" not in text, f"{what}: a value was cut:\n{text}"
    return lines


def valid(doc: Any, command: str) -> None:
    import jsonschema

    jsonschema.Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{command}"}).validate(doc)


def test_the_schema_rejects_what_the_contract_forbids() -> None:
    import jsonschema

    action = {"kind": "swap", "chain": "a", "sell": "WETH", "buy": "USDC", "amount_raw": 10**18, "amount_usd": 1.0,
              "reason": "r", "est_cost_usd": 0.1}
    plan = {"rebalance": True, "reasons": [], "urgent": False, "targets": {}, "actions": [action], "skipped": [],
            "est_cost_usd": 0.1, "total_usd": 1.0, "partial": False, "unread": []}
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'string'"):
        valid(plan, "plan")  # a raw amount as a JSON number
    with pytest.raises(jsonschema.ValidationError):
        valid({**plan, "actions": [{**action, "amount_raw": "1"}], "rebalance": 1}, "plan")  # a 0/1 flag
    valid({**plan, "actions": [{**action, "amount_raw": "1000000000000000000"}]}, "plan")


class Tmux:
    """A private tmux server (its own socket) with one 80-column window; stopped by its own socket only."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.sock = f"rebalancer-test-{os.getpid()}"
        self.env = {**os.environ, **env, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                    "PS1": "$ ", "TERM": "xterm-256color"}
        self.env.pop("COLUMNS"), self.env.pop("LINES")  # the terminal tells its size
        self._tmux("new-session", "-d", "-s", "shot", "-x", "80", "-y", "50", "-c", str(REPO_ROOT),
                   "bash --norc --noprofile")
        self._tmux("set-option", "-t", "shot", "history-limit", "5000")
        self.workdir = workdir
        self.run("PS1='$ '")
        self._tmux("send-keys", "-t", "shot", "clear", "Enter")
        time.sleep(1)
        self._tmux("clear-history", "-t", "shot")

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.sock, *args], env=self.env, capture_output=True, text=True,
                              check=True, timeout=30).stdout

    def run(self, command: str, timeout_s: float = 400) -> None:
        marker = self.workdir / f"done-{time.monotonic_ns()}"
        self._tmux("send-keys", "-t", "shot", f"{command}; touch {marker}", "Enter")
        deadline = time.monotonic() + timeout_s
        while not marker.exists():
            assert time.monotonic() < deadline, f"{command} did not finish"
            time.sleep(0.5)

    def capture(self) -> str:
        text = self._tmux("capture-pane", "-p", "-J", "-t", "shot", "-S", "-", "-E", "-")
        text = re.sub(rf"; touch {re.escape(str(self.workdir))}/done-\d+", "", text)
        return "\n".join(ln.rstrip() for ln in text.strip().splitlines() if ln.strip() != "$")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], env=self.env, capture_output=True, timeout=30)


def png_of(text: str, path: Path, tmp: Path) -> None:
    """The captured terminal as an image: the text in an 80-column monospace block, shot in Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.integration.operator.test_dashboard_browser import CHROMIUM_ARGS

    page_file = tmp / "terminal.html"
    page_file.write_text("<!doctype html><meta charset=utf-8><body style='margin:0;background:#1e1e1e'>"
                         "<pre id=t style='margin:0;padding:12px;width:80ch;color:#ddd;background:#1e1e1e;"
                         f"font:14px/1.25 DejaVu Sans Mono,monospace;white-space:pre'>{html.escape(text)}</pre>")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 600})
            page.goto(page_file.as_uri())
            page.locator("#t").screenshot(path=str(path))
        finally:
            browser.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux: apt-get install tmux (make browser installs it)")
def test_every_command_reads_at_80_columns(sandbox: dict[str, str], tmp_path: Path) -> None:
    lots = tmp_path / "lots.csv"  # the sandbox wallet's opening lots (tax needs the cost of what it sells)
    lots.write_text("asset,acquired_at,quantity,cost_usd\nETH,2025-01-01T00:00:00+00:00,100,200000\n"
                    "WBTC,2025-01-01T00:00:00+00:00,1,50000\nUSDC,2025-01-01T00:00:00+00:00,100000,100000\n")
    # -h is --help for every command
    for name in COMMANDS:
        fits(cli(sandbox, name, "-h").stdout, f"{name} -h")
    # before the agent ran: the wallet off-target, the plan it would make, every source's quote
    status = fits(cli(sandbox, "status").stdout, "status")
    assert f"wallet {sandbox['WALLET_ADDRESS']}" in status  # whole, on one line
    plan = fits(cli(sandbox, "plan").stdout, "plan")
    assert any("WETH→WBTC" in ln for ln in plan)
    fits(cli(sandbox, *QUOTE).stdout, "quote")
    # the agent's cycle in a real 80-column terminal: progress on stderr while the split swap runs
    term = Tmux(sandbox, tmp_path)
    try:
        term.run("rebalancer status")
        term.run("rebalancer plan")
        term.run("rebalancer run --once")
        term.run("rebalancer journal --limit 3")
        screen = term.capture()
    finally:
        term.close()
    lines = fits(screen, "tmux")
    chunks = [ln for ln in lines if ln.startswith("split swap: ") and "chunks done" in ln]
    assert len(chunks) >= 2 and chunks[-1].split()[2].split("/")[0] == chunks[-1].split()[2].split("/")[1], chunks
    assert any("chunk(s) planned" in ln for ln in lines)
    assert any(ln.startswith("cycle 1 ") and ln.endswith("rebalance") for ln in lines)
    (REPO_ROOT / "docs" / "terminal-80.txt").write_text(screen + "\n")
    if Path(CHROMIUM).exists():
        png_of(screen, REPO_ROOT / "docs" / "images" / "terminal-80.png", tmp_path)
    # after it: the journal, the approvals, the year's gains
    year = str(time.gmtime().tm_year)
    for args in (("journal",), ("approve", "--list"), ("tax", "--year", year, "--lots", str(lots))):
        fits(cli(sandbox, *args).stdout, " ".join(args))


def test_every_json_document_matches_the_schema(sandbox: dict[str, str]) -> None:
    # new targets make the agent trade again (the first test's cycle rebalanced to 40/30/30)
    env = {**sandbox, "TARGETS": "ETH:50,WBTC:20,USDC:30"}
    plan = json.loads(cli(env, "plan", "--json").stdout)
    valid(plan, "plan")
    assert plan["rebalance"] is True and plan["actions"]
    valid(json.loads(cli(env, *QUOTE, "--json").stdout), "quote")
    out = cli(env, "run", "--once", "--json")
    run = json.loads(out.stdout)
    valid(run, "run")
    done = [a for a in run["actions"] if a["state"] == "confirmed"]
    assert done and all(a["tx_hashes"] for a in done if a["kind"] != "wrap" or a["tx_hashes"])
    planned = {(a["kind"], a["sell"], a["buy"]) for a in plan["actions"]}
    assert {(a["kind"], a["sell"], a["buy"]) for a in run["actions"]} <= planned | {("wrap", "ETH", "WETH")}
    assert all(set(plan["actions"][0]) <= set(a) for a in run["actions"])  # the plan's keys, the same names
    status = json.loads(cli(env, "status", "--json").stdout)
    valid(status, "status")
    journal = json.loads(cli(env, "journal", "--json").stdout)
    valid(journal, "journal")
    hashes = {t["tx_hash"] for a in journal["actions"] for t in a["attempts"]}
    assert {h for a in run["actions"] for h in a["tx_hashes"]} <= hashes  # run names the journal's full hashes
    assert all(isinstance(d["rebalance"], bool) for d in journal["decisions"])
