"""Approval buttons on Telegram against a local fake Bot API server (real HTTP, Telegram's shapes): the operator
sends ``sendMessage`` with an inline keyboard when a plan awaits approval; a press on Approve, read by
``getUpdates``, approves it in the journal (answered with ``answerCallbackQuery``); a press from another chat or
on a decided plan decides nothing; the bot token never reaches a log."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agent.errors import ConfigError
from agent.journal.store import JournalStore
from agent.operator.approvals import ApprovalPolicy, gate_plan
from agent.operator.observer import Operator
from agent.operator.telegram import TelegramApprovals
from tests.unit.operator.conftest import make_plan

TOKEN = "123456:TEST-secret-bot-token"
CHAT = "-1009876"


class FakeBotApi:
    """Telegram's Bot API on 127.0.0.1: records every call; ``getUpdates`` hands out the queued updates."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                token, method = self.path.removeprefix("/bot").split("/", 1)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                api.calls.append((method, body))
                if token != TOKEN:
                    out: dict[str, Any] = {"ok": False, "error_code": 401, "description": "Unauthorized"}
                elif method == "getUpdates":
                    out = {"ok": True, "result": [u for u in api.updates if u["update_id"] >= body.get("offset", 0)]}
                elif method == "sendMessage":
                    out = {"ok": True, "result": {"message_id": len(api.calls), "chat": {"id": int(body["chat_id"])},
                                                  "text": body["text"]}}
                else:
                    out = {"ok": True, "result": True}
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def press(self, data: str, chat: str = CHAT, user: int = 42) -> None:
        uid = 1000 + len(self.updates)
        self.updates.append({"update_id": uid, "callback_query": {
            "id": f"cq{uid}", "from": {"id": user, "is_bot": False, "first_name": "Ops"}, "data": data,
            "message": {"message_id": 1, "chat": {"id": int(chat), "type": "supergroup"}}}})

    def methods(self, name: str) -> list[dict[str, Any]]:
        return [b for m, b in self.calls if m == name]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.server.shutdown()


def pending(journal: JournalStore) -> dict[str, Any]:
    gate = gate_plan(ApprovalPolicy(mode="manual"), journal, make_plan(), plan_id="c1-abc", cycle_id=None,
                     now=datetime.now(UTC))
    assert gate.status == "requested"
    return {"status": gate.status, "approval_id": gate.approval_id, "expires_at": gate.expires_at,
            "reason": gate.reason}


def test_approve_button_decides_the_plan(api: FakeBotApi, journal: JournalStore,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    tg = TelegramApprovals(TOKEN, CHAT, journal, api_url=api.url)
    op = Operator(journal, telegram=tg)
    approval = pending(journal)
    doc = {"cycle_id": journal.start_cycle(), "at": datetime.now(UTC).isoformat(), "approval": approval, "actions": [],
           "dropped_because": None, "total_usd_after": 1000.0, "allocation_after": [], "chains": []}
    op.on_cycle(doc)
    (sent,) = api.methods("sendMessage")
    assert sent["chat_id"] == CHAT and approval["approval_id"] in sent["text"]
    buttons = sent["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == [f"approve:{approval['approval_id']}",
                                                     f"reject:{approval['approval_id']}"]
    api.press(f"approve:{approval['approval_id']}", chat="-1", user=7)  # another chat: ignored
    api.press(f"approve:{approval['approval_id']}")
    assert tg.poll() == [(approval["approval_id"], "approved")]
    row = journal.approval(approval["approval_id"])
    assert row is not None and row["status"] == "approved" and row["decided_by"] == "telegram:42"
    answers = api.methods("answerCallbackQuery")
    assert [a["callback_query_id"] for a in answers] == ["cq1000", "cq1001"]
    assert "not for this agent" in answers[0]["text"] and "approved" in answers[1]["text"]
    # the same press again (an old update) is past the offset; a reject on the decided plan decides nothing
    api.press(f"reject:{approval['approval_id']}")
    assert tg.poll() == []
    assert journal.approval(approval["approval_id"])["status"] == "approved"  # type: ignore[index]
    assert "not pending" in api.methods("answerCallbackQuery")[-1]["text"]
    op.close()
    assert TOKEN not in caplog.text


def test_a_wrong_token_is_logged_without_it(api: FakeBotApi, journal: JournalStore,
                                             caplog: pytest.LogCaptureFixture) -> None:
    tg = TelegramApprovals("999:wrong-token", CHAT, journal, api_url=api.url)
    assert tg.offer(pending(journal)) is False
    assert "telegram sendMessage refused: Unauthorized" in caplog.text and "wrong-token" not in caplog.text
    tg.close()


def test_bad_settings_are_one_clear_line(journal: JournalStore) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        TelegramApprovals("not-a-token", CHAT, journal)
    with pytest.raises(ConfigError, match="TELEGRAM_CHAT_ID"):
        TelegramApprovals(TOKEN, "@channel", journal)


def test_expired_plan_cannot_be_approved_from_telegram(api: FakeBotApi, journal: JournalStore) -> None:
    approval = pending(journal)
    journal.transition_approval(approval["approval_id"], from_status="pending", to_status="expired", by="test")
    tg = TelegramApprovals(TOKEN, CHAT, journal, api_url=api.url)
    api.press(f"approve:{approval['approval_id']}")
    assert tg.poll() == [] and journal.approval(approval["approval_id"])["status"] == "expired"  # type: ignore[index]
    tg.close()
