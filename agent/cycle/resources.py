"""What a cycle owns and closes at its end: the quote sources of each chain (one ``httpx.Client`` per source).

Sources are opened the first time an action of the cycle needs a quote on that chain and shared by every swap,
re-quote and TWAP chunk of the cycle; leaving the ``with`` closes them all, whatever happened."""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType

from agent.chain.rpc import ChainRpc
from agent.config.settings import AggregatorSettings
from agent.quotes.models import QuoteSource
from agent.quotes.service import open_sources


class CycleResources:
    def __init__(self, settings: AggregatorSettings) -> None:
        self._settings = settings
        self._stack = ExitStack()
        self._sources: dict[str, list[QuoteSource]] = {}
        self.closed = False

    def sources(self, rpc: ChainRpc) -> list[QuoteSource]:
        """The chain's quote sources for this cycle (opened on first use)."""
        if self.closed:
            raise RuntimeError("the cycle's resources are closed")  # a programming error, never user-facing
        name = rpc.chain.name
        if name not in self._sources:
            self._sources[name] = self._stack.enter_context(open_sources(self._settings, rpc.chain, rpc))
        return self._sources[name]

    @property
    def opened(self) -> dict[str, list[QuoteSource]]:
        return dict(self._sources)

    def close(self) -> None:
        self.closed = True
        self._stack.close()

    def __enter__(self) -> CycleResources:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
