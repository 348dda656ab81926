"""Notifications through apprise: one ``NOTIFY_URLS`` setting (Telegram, Discord, Slack, e-mail, webhooks…).

Every URL is its own channel with its own background thread and bounded queue: ``send`` never blocks and never
raises; a failing channel is retried with exponential backoff (``attempts`` tries) and then given up with a
warning, without holding up the other channels or the loop. URLs carry tokens: they are never logged (a channel
is named by its index and scheme), and apprise's own logger is kept quiet.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import apprise

from agent.errors import ConfigError

log = logging.getLogger(__name__)
logging.getLogger("apprise").setLevel(logging.CRITICAL)  # its messages may name URLs with tokens


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    kind: str  # trade | approval | dropped | halt | summary | info


@dataclass
class Channel:
    """One apprise URL, its queue and its worker thread."""

    index: int
    scheme: str
    plugin: object  # an apprise plugin instance (tests may point its API host at a local server)
    attempts: int = 5
    backoff_s: float = 1.0
    queue_size: int = 100
    sleep: Callable[[float], None] = time.sleep
    delivered: int = 0
    failed: int = 0
    _queue: queue.Queue[Message | None] = field(init=False)
    _thread: threading.Thread | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._queue = queue.Queue(maxsize=self.queue_size)

    @property
    def name(self) -> str:
        return f"channel {self.index} ({self.scheme}://)"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"notify-{self.index}", daemon=True)
        self._thread.start()

    def put(self, msg: Message) -> None:
        try:
            self._queue.put_nowait(msg)
        except queue.Full:
            log.warning("notify %s: queue full, dropping a %s message", self.name, msg.kind)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while (msg := self._queue.get()) is not None:
            self._deliver(msg)

    def _deliver(self, msg: Message) -> None:
        delay = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                ok = bool(self.plugin.notify(body=msg.body, title=msg.title))  # type: ignore[attr-defined]
            except Exception as exc:  # a plugin bug must not kill the channel
                log.warning("notify %s: %s raised %s", self.name, msg.kind, type(exc).__name__)
                ok = False
            if ok:
                self.delivered += 1
                return
            if attempt < self.attempts:
                log.info("notify %s: %s not delivered (try %d/%d); retrying in %.1fs", self.name, msg.kind,
                         attempt, self.attempts, delay)
                self.sleep(delay)
                delay *= 2
        self.failed += 1
        log.warning("notify %s: gave up on a %s message after %d tries", self.name, msg.kind, self.attempts)


def split_urls(value: str) -> list[str]:
    return [u for u in re.split(r"[\s,]+", value.strip()) if u]


class Notifier:
    """Fan a message out to every configured channel, in the background."""

    def __init__(self, urls: list[str], *, attempts: int = 5, backoff_s: float = 1.0) -> None:
        self.channels: list[Channel] = []
        for i, url in enumerate(urls):
            plugin = apprise.Apprise.instantiate(url)
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            if plugin is None:
                raise ConfigError(f"NOTIFY_URLS: entry {i + 1} ({scheme}://…) is not a URL apprise understands; "
                                  "see https://github.com/caronc/apprise/wiki for the formats")
            self.channels.append(Channel(index=i + 1, scheme=scheme, plugin=plugin, attempts=attempts,
                                         backoff_s=backoff_s))
        for ch in self.channels:
            ch.start()

    @classmethod
    def from_setting(cls, value: str | None, **kwargs: float) -> Notifier | None:
        urls = split_urls(value or "")
        return cls(urls, **kwargs) if urls else None  # type: ignore[arg-type]

    def send(self, msg: Message) -> None:
        for ch in self.channels:
            ch.put(msg)

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (each channel within ``timeout_s``), then stop the threads."""
        for ch in self.channels:
            ch.stop(timeout_s)
