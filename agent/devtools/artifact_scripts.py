"""The command line contracts/compile.py and contracts/official.py share: write the committed artifacts, or
``--check`` them (one line per problem on stderr, then how to fix them; exit 1), with one expected error kind
(a missing or wrong tool) said in one line, exit 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path


def write_or_check(argv: Sequence[str] | None, *, description: str, write: Callable[[], Iterable[Path]],
                   check: Callable[[], list[str]], root: Path, stale: str, current: Callable[[], str],
                   tool_error: type[Exception]) -> int:
    """``write()`` the artifacts (each path printed relative to ``root``), or with ``--check``: ``check()``'s
    problems and ``stale`` (how to fix them), else ``current()`` (what matched)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="verify the committed artifacts, write nothing")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check()
            for line in problems:
                print(line, file=sys.stderr)
            if problems:
                print(stale, file=sys.stderr)
                return 1
            print(current())
            return 0
        for path in write():
            print(path.relative_to(root))
        return 0
    except tool_error as exc:
        print(exc, file=sys.stderr)
        return 1
