"""Fixtures for the signer tests over real transports (the simulators themselves are in tests/conftest.py).

``speculos`` (opt-in) runs Speculos with the real Ethereum app when ``LEDGER_APP_ELF`` points at
an app binary and ``speculos`` is installed (no app binary is obtainable from the package
registries); ``LEDGER_MODEL`` picks the model (nanosp by default; nanos, nanox). A helper presses
the buttons through Speculos' REST API to approve signatures.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.devtools.sandbox.anvil import free_port
from agent.devtools.simulators import TEST_MNEMONIC
from agent.devtools.simulators.testkit import RecordingTransport
from agent.signers.ledger_transport import TcpApduTransport

APP_ELF = os.environ.get("LEDGER_APP_ELF", "")
SPECULOS = shutil.which("speculos")

SPECULOS_SKIP = "set LEDGER_APP_ELF to an Ethereum app binary and install speculos to run against Speculos"


def _wait_for_port(port: int, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"speculos did not open port {port}")


class SpeculosApprover(threading.Thread):
    """Walks review screens with the right button and presses both on the approval screen."""

    def __init__(self, api: str) -> None:
        super().__init__(daemon=True)
        self.api, self.stop = api, threading.Event()

    def _screen(self) -> str:
        with urllib.request.urlopen(f"{self.api}/events?currentscreenonly=true", timeout=5) as r:
            return " ".join(e.get("text", "") for e in json.load(r).get("events", []))

    def _press(self, button: str) -> None:
        body = json.dumps({"action": "press-and-release"}).encode()
        req = urllib.request.Request(f"{self.api}/button/{button}", data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        urllib.request.urlopen(req, timeout=5).close()

    def run(self) -> None:
        while not self.stop.wait(0.3):
            with contextlib.suppress(OSError, ValueError):
                text = self._screen()
                if any(word in text for word in ("Accept", "Approve", "Sign transaction")):
                    self._press("both")
                elif any(word in text for word in ("Review", "Amount", "Address", "Fees", "Network", "Data")):
                    self._press("right")


@pytest.fixture(scope="session")
def speculos() -> Iterator[tuple[int, str]]:
    """Speculos running ``LEDGER_APP_ELF`` with the test mnemonic: (APDU port, REST API URL)."""
    if not (APP_ELF and Path(APP_ELF).is_file() and SPECULOS):
        pytest.skip(SPECULOS_SKIP)
    apdu_port, api_port = free_port(), free_port()
    cmd = [
        str(SPECULOS), "--model", os.environ.get("LEDGER_MODEL", "nanosp"), "--display", "headless",
        "--apdu-port", str(apdu_port), "--api-port", str(api_port), "--seed", TEST_MNEMONIC, APP_ELF,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(apdu_port)
        _wait_for_port(api_port)
        yield apdu_port, f"http://127.0.0.1:{api_port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def speculos_transport(speculos: tuple[int, str]) -> Iterator[RecordingTransport]:
    """A recording APDU transport to Speculos, with the approver pressing buttons meanwhile."""
    port, api = speculos
    approver = SpeculosApprover(api)
    approver.start()
    transport = RecordingTransport(TcpApduTransport("127.0.0.1", port, timeout_s=120))
    try:
        yield transport
    finally:
        approver.stop.set()
        transport.close()
