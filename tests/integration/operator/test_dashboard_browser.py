"""The operator's day on the sandbox, in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):

APPROVAL=manual → `run --once` journals a pending plan and trades nothing; an approval that expired cannot be
approved and never trades; the dashboard shows the allocation, drift, the pending plan; clicking approve without
the token is refused (the plan stays pending); signed in with the token it is approved; the next `run --once`
trades and the balances move; the trades page shows full hashes. Screenshots go to tests/artifacts/dashboard/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent import REPO_ROOT
from agent.devtools.sandbox.manager import sandbox_down, sandbox_up
from agent.journal.store import JournalStore

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "tests" / "artifacts" / "dashboard"
TOKEN = "test-dashboard-token-0123456789"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.anvil, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make browser installs Debian's chromium")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = sandbox_up(tmp_path)
    try:
        yield {**env, "ENV_FILE": str(tmp_path / "sandbox.env"), "APPROVAL": "manual"}
    finally:
        sandbox_down(tmp_path)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env={**os.environ, **env}, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def run_once(env: dict[str, str]) -> dict:
    out = cli(env, "run", "--once", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def holdings(env: dict[str, str]) -> dict[tuple[str, str], str]:
    out = cli(env, "status", "--json")
    assert out.returncode == 0, out.stderr
    return {(h["chain"], h["symbol"]): h["balance_raw"] for h in json.loads(out.stdout)["holdings"]}


@pytest.fixture
def dashboard(sandbox: dict[str, str]) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, **sandbox, "DASHBOARD_TOKEN": TOKEN, "DASHBOARD_ADDR": f"127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve"], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded 2-core machine imports web3 slowly
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            proc.terminate()
            raise AssertionError(f"the dashboard did not start: {proc.communicate(timeout=10)[1][-2000:]}")
        yield url
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert TOKEN not in err  # a given token is never printed or logged


def browser(tmp_path: Path):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    ctx = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                args=CHROMIUM_ARGS, headless=True,
                                                viewport={"width": 1280, "height": 900})
    return pw, ctx


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_approve_from_the_dashboard_then_the_trade_runs(sandbox: dict[str, str], dashboard: str,
                                                         tmp_path: Path) -> None:
    journal = Path(sandbox["JOURNAL_PATH"])
    before = holdings(sandbox)

    # an approval that expires before anyone decides never trades
    first = run_once({**sandbox, "APPROVAL_TTL_S": "1"})
    assert first["approval"]["status"] == "requested" and not first["actions"]
    time.sleep(1.5)
    late = cli(sandbox, "approve", first["approval"]["approval_id"])
    assert late.returncode != 0 and "expired" in late.stderr

    doc = run_once(sandbox)
    assert doc["approval"]["status"] == "requested", doc  # it asks again
    assert not doc["actions"]
    assert holdings(sandbox) == before  # nothing traded while waiting
    aid = doc["approval"]["approval_id"]

    pw, ctx = browser(tmp_path)
    try:
        page = ctx.new_page()
        page.goto(f"{dashboard}/")
        assert page.locator("#allocation tbody tr").count() >= 3
        page.wait_for_selector("#chart-allocation .main-svg")  # plotly drew the chart in the browser
        shot(page, "allocation")
        page.goto(f"{dashboard}/drift")
        page.wait_for_selector("#chart-drift .main-svg")
        shot(page, "drift")

        page.goto(f"{dashboard}/approvals")
        assert aid in page.locator("#pending").inner_text()
        with page.expect_response(lambda r: r.request.method == "POST") as refused:
            page.click(f"#approve-{aid}")
        assert refused.value.status == 403
        assert "refused" in page.locator("#refused").inner_text()
        with JournalStore.open(journal) as j:
            assert j.approval(aid)["status"] == "pending"  # without the token nothing was decided

        page.goto(f"{dashboard}/login?next=/approvals")
        page.fill("#token", TOKEN)
        page.click("#sign-in")
        page.wait_for_url(f"{dashboard}/approvals")
        shot(page, "approvals")
        page.click(f"#approve-{aid}")
        page.wait_for_selector("#done")
        assert "approved" in page.locator("#done").inner_text()
        shot(page, "approved")
        with JournalStore.open(journal) as j:
            assert j.approval(aid)["status"] == "approved"

        after = run_once(sandbox)
        assert after["approval"]["status"] == "approved", after
        assert after["actions"] and all(a["state"] == "confirmed" for a in after["actions"]), after
        assert holdings(sandbox) != before  # the approved plan moved the balances

        page.goto(f"{dashboard}/trades")
        links = page.locator("#trades a.hash")
        assert links.count() >= 1
        text = links.first.inner_text()
        assert text.startswith("0x") and len(text) == 66  # the full hash, not a prefix
        shot(page, "trades")
        page.goto(f"{dashboard}/execution")
        shot(page, "execution")
        page.goto(f"{dashboard}/journal")
        assert page.locator("#cycles tbody tr").count() >= 3
        shot(page, "journal")
    finally:
        ctx.close()
        pw.stop()
    docs = REPO_ROOT / "docs" / "images"
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        docs.mkdir(exist_ok=True)
        for name in ("allocation", "approvals", "trades"):
            shutil.copy(ARTIFACTS / f"{name}.png", docs / f"dashboard-{name}.png")
