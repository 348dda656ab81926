"""Approve or reject a plan from Telegram: a message with two inline buttons, decided through the Bot API.

The shape is Telegram's Bot API: ``sendMessage`` with ``reply_markup.inline_keyboard`` (callback data
``approve:ID`` / ``reject:ID``), the button presses read as ``callback_query`` updates by ``getUpdates`` polling
(no public webhook needed), each answered with ``answerCallbackQuery``. Only presses in the configured chat
(``TELEGRAM_CHAT_ID``) count; the decision goes through ``agent.operator.approvals.decide`` like the CLI's and the
dashboard's, journaled ``by="telegram:<user id>"``. The bot token is a secret: it is never logged (errors name
the method only). ``TELEGRAM_API_URL`` points it at another Bot API server (the tests' local fake one).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx

from agent.config.scrub import SecretScrubber
from agent.errors import ConfigError
from agent.journal.store import JournalStore
from agent.operator.approvals import decide

log = logging.getLogger(__name__)
DEFAULT_API = "https://api.telegram.org"


class TelegramApprovals:
    def __init__(self, token: str, chat_id: str, journal: JournalStore, *, api_url: str = DEFAULT_API,
                 timeout_s: float = 10.0) -> None:
        if not token or ":" not in token:
            raise ConfigError("TELEGRAM_BOT_TOKEN: not a bot token (it looks like 123456:ABC…, from @BotFather)")
        if not str(chat_id).lstrip("-").isdigit():
            raise ConfigError("TELEGRAM_CHAT_ID: not a chat id (a number, negative for groups); unset it to turn "
                              "the Telegram buttons off")
        self.chat_id, self.journal = str(chat_id), journal
        # httpx logs each request's URL, which carries the token: scrub it there whoever configured logging
        self._scrubber = SecretScrubber([token])
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).addFilter(self._scrubber)
        self._base = f"{api_url.rstrip('/')}/bot{token}"
        self._client = httpx.Client(timeout=timeout_s)
        self._offset = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _call(self, method: str, payload: dict[str, Any]) -> Any:
        try:
            r = self._client.post(f"{self._base}/{method}", json=payload)
            doc = r.json()
        except (httpx.HTTPError, ValueError) as exc:  # the URL carries the token: name the method only
            log.warning("telegram %s failed: %s", method, type(exc).__name__)
            return None
        if not doc.get("ok"):
            log.warning("telegram %s refused: %s", method, str(doc.get("description", ""))[:200])
            return None
        return doc.get("result")

    def offer(self, approval: dict[str, Any]) -> bool:
        """One message with Approve / Reject buttons for a pending approval (``run --json``'s ``approval``)."""
        aid = str(approval["approval_id"])
        text = (f"rebalancer: plan awaiting approval {aid}\n{approval.get('reason', '')}\n"
                f"expires {approval.get('expires_at', '?')}")
        keyboard = [[{"text": "✅ Approve", "callback_data": f"approve:{aid}"},
                     {"text": "❌ Reject", "callback_data": f"reject:{aid}"}]]
        return self._call("sendMessage", {"chat_id": self.chat_id, "text": text,
                                          "reply_markup": {"inline_keyboard": keyboard}}) is not None

    def poll(self) -> list[tuple[str, str]]:
        """Read the button presses since the last poll and decide them; ``[(approval id, approved|rejected)]``."""
        updates = self._call("getUpdates", {"offset": self._offset, "timeout": 0,
                                            "allowed_updates": ["callback_query"]}) or []
        done = []
        for update in updates:
            self._offset = max(self._offset, int(update.get("update_id", 0)) + 1)
            query = update.get("callback_query")
            if query:
                outcome = self._press(query)
                if outcome:
                    done.append(outcome)
        return done

    def _press(self, query: dict[str, Any]) -> tuple[str, str] | None:
        chat = str(((query.get("message") or {}).get("chat") or {}).get("id", ""))
        verb, _, aid = str(query.get("data", "")).partition(":")
        if chat != self.chat_id or verb not in ("approve", "reject") or not aid:
            self._call("answerCallbackQuery", {"callback_query_id": query.get("id"), "text": "not for this agent"})
            return None
        who = (query.get("from") or {}).get("id", "?")
        try:
            row = decide(self.journal, aid, approve=verb == "approve", by=f"telegram:{who}")
        except ConfigError as exc:
            self._call("answerCallbackQuery", {"callback_query_id": query.get("id"), "text": str(exc)[:190]})
            return None
        self._call("answerCallbackQuery", {"callback_query_id": query.get("id"),
                                           "text": f"{aid} {row['status']}; the agent runs it on its next cycle"
                                           if row["status"] == "approved" else f"{aid} {row['status']}"})
        return aid, str(row["status"])

    def start(self, every_s: float = 5.0) -> None:
        """Poll in the background every ``every_s`` (the loop never waits for Telegram)."""
        def run() -> None:
            while not self._stop.wait(every_s):
                try:
                    self.poll()
                except Exception as exc:  # never let the poller die silently or reach the loop
                    log.warning("telegram poll failed: %s", type(exc).__name__)

        self._thread = threading.Thread(target=run, name="telegram", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._client.close()
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).removeFilter(self._scrubber)
