"""The operator's side of ``rebalancer run``: notifications (NOTIFY_URLS), metrics and health (METRICS_ADDR)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from agent.config.settings import AppConfig
from agent.journal.store import JournalStore
from agent.operator.observer import Operator


@contextmanager
def operator_for(config: AppConfig, journal: JournalStore) -> Iterator[Operator]:
    """An ``Operator`` fed by the loop; the metrics endpoint runs while the context is open."""
    s = config.settings
    notifier = metrics = server = None
    if s.notify_urls is not None:
        from agent.operator.notify import Notifier

        notifier = Notifier.from_setting(s.notify_urls.get_secret_value())
    if s.metrics_addr:
        from agent.operator.metrics import Metrics, serve_metrics
        from agent.quotes.best import LISTENERS

        metrics = Metrics(interval_s=s.run_interval_s)
        LISTENERS.append(metrics.on_quotes)
        server = serve_metrics(metrics, s.metrics_addr)
    telegram = None
    if s.telegram_bot_token is not None and s.telegram_chat_id:
        from agent.operator.telegram import TelegramApprovals

        telegram = TelegramApprovals(s.telegram_bot_token.get_secret_value(), s.telegram_chat_id, journal,
                                     api_url=s.telegram_api_url)
        telegram.start()
    op = Operator(journal, notifier=notifier, metrics=metrics, telegram=telegram)
    try:
        yield op
    finally:
        op.close()
        if server is not None:
            server.shutdown()
            LISTENERS.remove(metrics.on_quotes)  # type: ignore[union-attr]


class _Quiet:
    """The progress observer when stderr carries JSON logs: says nothing."""

    def on_event(self, event: object) -> None:
        return None


def progress_for(config: AppConfig, journal: JournalStore) -> AbstractContextManager[Any]:
    """Split-swap chunks and gas waits on stderr while a cycle runs (not with LOG_FORMAT=json: stderr stays JSON);
    the context's value observes the cycle's events."""
    if config.settings.log_format == "json":
        return nullcontext(_Quiet())
    from agent.operator.progress import Progress

    return Progress(journal, sys.stderr)
