"""URLs and errors as they may be shown: an RPC URL can carry an API key in its userinfo, path, query or a
key-like subdomain, so only its scheme, readable host and port are ever printed or logged."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from agent.config.scrub import key_like_label


def redact_url(url: str) -> str:
    """``https://eth-mainnet.g.alchemy.com/v2/KEY`` → ``https://eth-mainnet.g.alchemy.com/…``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    labels = (parts.hostname or "?").split(".")
    # a key in a subdomain (https://k3y...@ or https://<key>.rpc.example) is a credential, not a name
    host = ".".join("…" if key_like_label(label) else label for label in labels)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable url>"
    tail = "/…" if (parts.path not in ("", "/") or parts.query or parts.username) else ""
    return f"{parts.scheme}://{host}{port}{tail}"


def safe_error(exc: BaseException) -> str:
    """An exception as one line with anything URL-like removed (URLs may carry API keys)."""
    text = f"{type(exc).__name__}: {exc}"
    text = re.sub(r"[a-z][a-z0-9+.-]*://[^\s'\"),]+", lambda m: redact_url(m.group(0)), text, flags=re.I)
    text = re.sub(r"(url|path)[:=]\s*\S+", r"\1: …", text, flags=re.I)
    return text.splitlines()[0][:300] if text else type(exc).__name__
