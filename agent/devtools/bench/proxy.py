"""A counting HTTP proxy on 127.0.0.1: forwards JSON-RPC POSTs upstream and counts requests on the wire.

It is the fault proxy (``agent.devtools.faultproxy``) with no fault armed."""

from __future__ import annotations

from agent.devtools.faultproxy import FaultProxy


class CountingProxy(FaultProxy):
    def start(self) -> CountingProxy:
        super().start()
        return self
