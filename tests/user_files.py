"""Helpers for the tests of the readers of users' own files (``backtest --prices``, ``bench gas --trace``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agent.errors import ConfigError


def write(tmp_path: Path, text: str | bytes, name: str) -> Path:
    """``text`` as the file ``name`` in ``tmp_path``, byte for byte (a BOM or CRLF stays as written)."""
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def one_line_error(call: Callable[[], object], *words: str) -> str:
    """The ``ConfigError`` that ``call`` raises: one line, naming every one of ``words``."""
    with pytest.raises(ConfigError) as exc:
        call()
    line = str(exc.value)
    assert "\n" not in line
    for w in words:
        assert w in line, line
    return line
