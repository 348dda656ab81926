"""Keep configured secrets out of every log line: a filter for the root handler, and URL redaction.

``secrets_in(env)`` collects every secret the configuration can hold: RPC URLs (``*_RPC_URL``,
``*_TX_RPC_URL``, comma-separated fallback lists) whole and in parts (userinfo, each non-trivial path
segment, the query and each query value, key-like host labels), the API keys, the private key, the keystore
password and the contents of ``KEYSTORE_PASSWORD_FILE``. ``SecretScrubber`` replaces each of them with
``***`` in the message, its arguments, exception and stack text of every record, whichever logger
(web3, urllib3, httpx, ...) emitted it; ``install(env)`` attaches it to the root handlers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
#: Variables whose whole value is a secret.
SECRET_VARIABLES = ("SANDBOX_PRIVATE_KEY", "KEYSTORE_PASSWORD", "ZEROX_API_KEY", "ONEINCH_API_KEY",
                    "ODOS_API_KEY", "KYBERSWAP_CLIENT_ID", "PARASWAP_API_KEY", "WALLET_PRIVATE_KEY",
                    "TELEGRAM_BOT_TOKEN", "PRICE_FEED_API_KEY")
URL_SUFFIXES = ("_RPC_URL", "_TX_RPC_URL", "_API_URL")
#: Shorter fragments are not scrubbed on their own (they would mangle ordinary words); whole URLs always are.
MIN_FRAGMENT = 6
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def key_like_label(label: str) -> bool:
    """A host label that looks like a credential (``k3y8f0...``) rather than a name (``eth-mainnet``)."""
    return (len(label) >= 12 and any(c.isdigit() for c in label)) or len(label) >= 24


def url_fragments(url: str) -> set[str]:
    """The URL and each part of it that may be a credential."""
    url = url.strip()
    out = {url, url.rstrip("/")}
    try:
        parts = urlsplit(url)
    except ValueError:
        return out
    for value in (parts.username, parts.password):
        if value:
            out |= {value, unquote(value)}
    out |= {label for label in (parts.hostname or "").split(".") if key_like_label(label)}
    out |= {seg for seg in parts.path.split("/") if len(seg) >= MIN_FRAGMENT}
    if parts.query:
        out.add(parts.query)
        out |= {v for _k, v in parse_qsl(parts.query) if len(v) >= MIN_FRAGMENT}
    return out


def secrets_in(env: Mapping[str, str]) -> set[str]:
    """Every secret the environment configures (see the module docstring)."""
    found: set[str] = set()
    for name, value in env.items():
        if not value:
            continue
        if name.endswith(URL_SUFFIXES):
            for url in value.split(","):
                if url.strip():
                    found |= url_fragments(url)
        elif name in SECRET_VARIABLES or name.endswith(("_API_KEY", "_PASSWORD", "_SECRET", "_CLIENT_ID")):
            found.add(value.strip())
    path = env.get("KEYSTORE_PASSWORD_FILE")
    if path:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            found.add(Path(path).read_text(encoding="utf-8").strip())
    return {s for s in found if len(s) >= MIN_FRAGMENT or "://" in s}


class SecretScrubber(logging.Filter):
    """Rewrites each record so that no configured secret (nor any URL userinfo) reaches a handler."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.update(secrets)

    def update(self, secrets: Iterable[str]) -> None:
        known = set(getattr(self, "secrets", ())) | {s for s in secrets if s}
        self.secrets = tuple(sorted(known, key=len, reverse=True))  # longest first: whole URLs before parts
        self._pattern = re.compile("|".join(re.escape(s) for s in self.secrets)) if self.secrets else None

    def scrub(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is
            message = str(record.msg)
        record.msg, record.args = self.scrub(message), None
        if record.exc_info:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def environment_with_dotenv() -> dict[str, str]:
    """os.environ over the .env file (``ENV_FILE``), as settings will read it; an unreadable file adds nothing
    here (the command that loads the settings reports it)."""
    env = dict(os.environ)
    try:
        from dotenv import dotenv_values

        path = Path(env.get("ENV_FILE", ".env"))
        if path.is_file():
            env = {**{k: v for k, v in dotenv_values(path).items() if v is not None}, **env}
    except (OSError, UnicodeDecodeError, ValueError):
        # an unreadable .env adds no secrets here; the command's load_config names the file and exits 2 (nothing runs)
        pass
    return env


def install(env: Mapping[str, str]) -> SecretScrubber:
    """Attach one scrubber to every handler of the root logger (and of loggers that have their own)."""
    scrubber = SecretScrubber(secrets_in(env))
    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    for lg in loggers:
        for handler in lg.handlers:
            if not any(isinstance(f, SecretScrubber) for f in handler.filters):
                handler.addFilter(scrubber)
    return scrubber
