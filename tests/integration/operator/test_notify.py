"""Notifications delivered through apprise to real local HTTP servers (json://, form://, and Telegram's API shape
via apprise's tgram plugin pointed at a local host); a failing channel is retried with backoff in the background."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from agent.errors import ConfigError
from agent.journal.store import JournalStore
from agent.operator.notify import Message, Notifier
from agent.operator.observer import Operator

HASH = "0x" + "ab" * 32


class Inbox:
    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.calls = 0
        self.event = threading.Event()


def serve(inbox: Inbox) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            inbox.calls += 1
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            if inbox.calls <= inbox.fail_first:
                self.send_response(500)
                self.end_headers()
                return
            ctype = self.headers.get("Content-Type", "")
            doc = json.loads(body) if "json" in ctype else {k: v[0] for k, v in parse_qs(body).items()}
            inbox.received.append({"path": self.path, "doc": doc})
            out = json.dumps({"ok": True, "result": {"message_id": 1}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            inbox.event.set()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    server = serve(box)
    yield box, server.server_address[1]
    server.shutdown()


def test_json_and_form_webhooks_receive_the_message(inbox: tuple[Inbox, int]) -> None:
    box, port = inbox
    n = Notifier([f"json://127.0.0.1:{port}/hook", f"form://127.0.0.1:{port}/form"], backoff_s=0.05)
    n.send(Message(title="rebalancer: 1 trade(s) confirmed", body=f"tx {HASH}", kind="trade"))
    n.close()
    by_path = {r["path"]: r["doc"] for r in box.received}
    assert by_path["/hook"]["title"] == "rebalancer: 1 trade(s) confirmed"
    assert HASH in by_path["/hook"]["message"]
    assert HASH in by_path["/form"]["message"]


def test_telegram_shaped_delivery(inbox: tuple[Inbox, int]) -> None:
    box, port = inbox
    n = Notifier(["tgram://123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ/4242"], backoff_s=0.05)
    n.channels[0].plugin.notify_url = f"http://127.0.0.1:{port}/bot"  # Telegram's API host, here on loopback
    n.send(Message(title="plan awaiting approval ap-1", body="rebalancer approve ap-1", kind="approval"))
    n.close()
    (got,) = box.received
    assert got["path"] == "/bot123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ/sendMessage"
    assert str(got["doc"]["chat_id"]) == "4242"
    assert "rebalancer approve ap-1" in got["doc"]["text"]


def test_failing_channel_is_retried_with_backoff_and_never_blocks() -> None:
    box = Inbox(fail_first=2)
    server = serve(box)
    try:
        n = Notifier([f"json://127.0.0.1:{server.server_address[1]}/x"], attempts=4, backoff_s=0.05)
        t0 = time.monotonic()
        n.send(Message(title="t", body="b", kind="trade"))
        assert time.monotonic() - t0 < 0.05  # send only queues
        assert box.event.wait(10)
        n.close()
        assert box.calls == 3 and len(box.received) == 1  # two failures, then delivered
        assert n.channels[0].delivered == 1
    finally:
        server.shutdown()


def test_dead_channel_gives_up_without_holding_the_others(inbox: tuple[Inbox, int]) -> None:
    box, port = inbox
    dead = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    dead_port = dead.server_address[1]
    dead.server_close()  # nothing listens there
    n = Notifier([f"json://127.0.0.1:{dead_port}/x", f"json://127.0.0.1:{port}/ok"], attempts=3, backoff_s=0.05)
    n.send(Message(title="t", body="b", kind="halt"))
    assert box.event.wait(10)  # the live channel delivered while the dead one was still retrying
    n.close()
    assert n.channels[0].failed == 1 and n.channels[1].delivered == 1


def test_bad_url_is_one_clear_error_without_the_secret() -> None:
    with pytest.raises(ConfigError, match="NOTIFY_URLS") as err:
        Notifier(["nosuchscheme://secret-token@host"])
    assert "secret-token" not in str(err.value)


def test_operator_sends_trade_approval_drop_and_summary(inbox: tuple[Inbox, int], journal: JournalStore) -> None:
    box, port = inbox
    op = Operator(journal, notifier=Notifier([f"json://127.0.0.1:{port}/op"], backoff_s=0.05))
    cycle_id = journal.start_cycle()
    doc = {"cycle_id": cycle_id, "at": "2026-06-01T12:00:00+00:00", "total_usd_after": 1000.0,
           "dropped_because": "boom",
           "actions": [{"kind": "swap", "chain": "sandbox_a", "sell": "WETH", "buy": "USDC", "amount_raw": "5",
                        "state": "confirmed", "tx_hashes": [HASH], "gas_paid_wei": "21000"}],
           "approval": {"status": "requested", "approval_id": "ap-9", "reason": "needs approval",
                        "expires_at": "2026-06-01T13:00:00+00:00"},
           "allocation_after": [{"symbol": "WETH", "weight_pct": 50, "drift_pp": 1.5, "target_pct": 48.5,
                                 "usd": 500}], "chains": []}
    op.on_cycle(doc)
    op.on_halt("SafetyHalt: balance moved unexpectedly")
    op.close()
    titles = [r["doc"]["title"] for r in box.received]
    assert any("trade(s) confirmed" in t for t in titles)
    assert any("awaiting approval ap-9" in t for t in titles)
    assert any("plan dropped" in t for t in titles)
    assert any("daily summary" in t for t in titles)
    assert any("HALTED" in t for t in titles)
    trade = next(r["doc"] for r in box.received if "trade(s)" in r["doc"]["title"])
    assert HASH in trade["message"]  # the full hash
    assert journal.events("allocation")[-1]["detail"]["cycle_id"] == cycle_id  # the drift history's record
