"""Secrets never logged, at any level: every command at LOG_LEVEL=DEBUG against the sandbox, with RPC URLs that
carry secrets in each position (userinfo, path, query, a key-like subdomain, a fallback list, the TX URL) and
API keys and a keystore password set: none of them occurs in stdout, stderr, the journal or the reports.

The RPC URLs point at a loopback JSON-RPC forwarder (any path, any userinfo) in front of the sandbox's anvil;
the key-like subdomain URL is an unresolvable host tried first, so the agent logs its failure and falls back.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from agent.config.scrub import SecretScrubber, secrets_in, url_fragments
from agent.config.settings import redact_url
from agent.devtools.sandbox.manager import sandbox_down, sandbox_up
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

SECRETS = {
    "user": "rpcuser7q", "password": "Pa55w0rdXYZ", "path": "v2PathKey0123456789", "query": "QueryKey987654",
    "subdomain": "k3ysub7f9a8b6c5d4e3f2", "b_path": "BchainKey55667788", "tx": "TxRpcKey11223344",
    "zerox": "ZeroXApiKey0001", "oneinch": "OneInchKey0002", "odos": "OdosKey00003", "kyber": "KyberClient0004",
    "keystore": "KeystorePw0005",
}


class Forwarder:
    """Accepts JSON-RPC on any path (and any basic-auth userinfo) and forwards it to ``upstream``."""

    def __init__(self, upstream: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                r = httpx.post(upstream, content=raw, headers={"content-type": "application/json"}, timeout=60)
                self.send_response(r.status_code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def secret_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = sandbox_up(tmp_path)
    a, b = Forwarder(env["SANDBOX_A_RPC_URL"]), Forwarder(env["SANDBOX_B_RPC_URL"])
    s = SECRETS
    try:
        yield {**env, "SANDBOX_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "sandbox.env"),
               "LOG_LEVEL": "DEBUG", "RPC_ATTEMPTS": "2",
               "SANDBOX_A_RPC_URL": (f"http://{s['subdomain']}.invalid:9/x,"
                                     f"http://{s['user']}:{s['password']}@127.0.0.1:{a.port}/{s['path']}"
                                     f"?apikey={s['query']}"),
               "SANDBOX_B_RPC_URL": f"http://127.0.0.1:{b.port}/{s['b_path']}/",
               "SANDBOX_A_TX_RPC_URL": f"http://127.0.0.1:{a.port}/{s['tx']}",
               "ZEROX_API_KEY": s["zerox"], "ONEINCH_API_KEY": s["oneinch"], "ODOS_API_KEY": s["odos"],
               "KYBERSWAP_CLIENT_ID": s["kyber"], "KEYSTORE_PASSWORD": s["keystore"],
               "JOURNAL_PATH": str(tmp_path / "journal.sqlite")}
    finally:
        a.close()
        b.close()
        sandbox_down(tmp_path)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], env={**os.environ, **env}, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


COMMANDS = (("status",), ("status", "--json"), ("plan",), ("plan", "--json"),
            ("quote", "--chain", "sandbox_a", "--sell", "WETH", "--buy", "USDC", "--amount", "1"),
            ("quote", "--chain", "sandbox_a", "--sell", "WETH", "--buy", "USDC", "--amount", "1", "--json"),
            ("run", "--once", "--dry-run"), ("run", "--once", "--json"), ("journal",), ("journal", "--json"))


def test_no_secret_in_any_output_journal_or_report(secret_env: dict[str, str], tmp_path: Path) -> None:
    outputs: list[str] = []
    debug_lines = 0
    for args in COMMANDS:
        out = cli(secret_env, *args)
        outputs += [out.stdout, out.stderr]
        debug_lines += out.stderr.count(" DEBUG ")
    assert debug_lines > 50  # DEBUG really was on (web3/urllib3 requests are logged)
    assert "127.0.0.1" in "".join(outputs)  # hosts that are not keys stay readable
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size < 50_000_000]
    blobs = outputs + [p.read_bytes().decode("latin-1") for p in files if p.suffix in (".sqlite", ".json", ".html",
                                                                                       ".log", ".jsonl", ".md")]
    leaks = {name: sum(b.count(value) for b in blobs) for name, value in SECRETS.items()}
    assert leaks == dict.fromkeys(SECRETS, 0), leaks

    # the control: the same DEBUG run with the scrubber left out leaks, so this test can fail
    control = subprocess.run([sys.executable, "-c", UNSCRUBBED, "status"], env={**os.environ, **secret_env},
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    leaked = {name for name, value in SECRETS.items() if value in control.stdout + control.stderr}
    assert {"path", "query", "user", "password"} & leaked, control.stderr[-2000:]


#: ``rebalancer ARGS`` with ``agent.config.scrub.install`` replaced by a no-op: the control run only
UNSCRUBBED = ("import sys; import agent.config.scrub as scrub; scrub.install = lambda env: None; "
              "sys.argv = ['rebalancer', *sys.argv[1:]]; from agent.cli import main; main()")


def test_scrubber_covers_every_position_and_logger(caplog: pytest.LogCaptureFixture) -> None:
    s = SECRETS
    env = {"ETHEREUM_RPC_URL": f"https://{s['subdomain']}.rpc.example/{s['path']}?key={s['query']},"
                               f"https://{s['user']}:{s['password']}@node.example/",
           "ZEROX_API_KEY": s["zerox"], "KEYSTORE_PASSWORD": s["keystore"]}
    scrubber = SecretScrubber(secrets_in(env))
    handler = logging.StreamHandler(stream := __import__("io").StringIO())
    handler.addFilter(scrubber)
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        for name in ("web3.providers.HTTPProvider", "urllib3.connectionpool", "httpx", "agent.anything"):
            logging.getLogger(name).debug("request to %s with %s", env["ETHEREUM_RPC_URL"], s["zerox"])
        try:
            raise RuntimeError(f"failed {env['ETHEREUM_RPC_URL']} pw={s['keystore']}")
        except RuntimeError:
            logging.getLogger("web3").exception("boom")
        logging.getLogger("x").warning("other userinfo http://u:anotherpw@h.example/ kept out")
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
    text = stream.getvalue()
    assert text.count("***") >= 8 and "h.example" in text and "Traceback" in text
    for value in (s["subdomain"], s["path"], s["query"], s["user"], s["password"], s["zerox"], s["keystore"],
                  "anotherpw"):
        assert value not in text, value


def test_redact_url_keeps_no_key_in_a_subdomain() -> None:
    url = f"https://{SECRETS['subdomain']}.rpc.example/{SECRETS['path']}"
    assert SECRETS["subdomain"] not in redact_url(url) and redact_url(url).endswith(".rpc.example/…")
    assert redact_url("https://eth-mainnet.g.alchemy.com/v2/KEY") == "https://eth-mainnet.g.alchemy.com/…"
    assert {SECRETS["subdomain"], SECRETS["path"]} <= url_fragments(url)
    assert urlsplit(redact_url("http://127.0.0.1:8545")).port == 8545
