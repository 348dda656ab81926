"""Aggregator bodies are capped (2 MiB): a larger answer is one clear refusal, never buffered whole."""

from __future__ import annotations

import pytest

from agent.errors import QuoteError
from agent.quotes.http import MAX_BODY_BYTES, HttpApi

from .canned import Canned, CannedServer


def test_body_over_the_cap_is_refused(canned: CannedServer) -> None:
    canned.on("GET", "/big", Canned(body=b'{"x": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}'))
    canned.on("GET", "/ok", Canned(body={"x": "a" * 1000}))
    api = HttpApi("0x", canned.url, timeout_s=5)
    try:
        with pytest.raises(QuoteError, match="body_too_large"):
            api.get_json("/big")
        assert api.get_json("/ok") == {"x": "a" * 1000}
    finally:
        api.close()
