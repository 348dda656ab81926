"""Reading the environment and ``.env`` once, and the start-up checks that need no network (#14 item 9).

Each check raises one ``ConfigError`` naming the variable and the fix, before anything is created or changed:
a missing ``ENV_FILE``, a ``.env`` that is not UTF-8, a ``JOURNAL_PATH`` that is not a regular file or not a
SQLite database. ``near_misses`` finds unknown variables that look like a known one (``MAX_SLIPAGE_BPS`` →
``MAX_SLIPPAGE_BPS``), so a typo is said instead of silently ignored.
"""

from __future__ import annotations

import difflib
import io
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv import dotenv_values

from agent.errors import ConfigError

#: the first 16 bytes of every SQLite 3 database file
SQLITE_HEADER = b"SQLite format 3\x00"
#: variables the agent reads that are not settings fields (paths of the tools, signers, the sandbox)
OTHER_NAMES = frozenset({"ENV_FILE", "SANDBOX_DIR", "ANVIL_BIN", "XDG_RUNTIME_DIR"})


def default_journal_path() -> Path:
    """The journal when JOURNAL_PATH is unset: an absolute per-user data directory (``platformdirs``), so the
    journal never depends on the directory the agent was started from (``~/.local/share/rebalancer`` on Linux)."""
    from platformdirs import user_data_path

    return user_data_path("rebalancer", appauthor=False) / "journal.sqlite"


def _decode_env_file(path: Path, name: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{name}: {path} is not valid UTF-8 (byte {exc.start}, line {line}); "
                          "save the file as UTF-8 or fix that line") from None


def read_environment(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> dict[str, str]:
    """The process environment over the ``.env`` file (``ENV_FILE`` picks another file, which must exist)."""
    env = dict(os.environ if environ is None else environ)
    return {**env_file_values(env, env_file), **env}


def env_file_values(env: Mapping[str, str], env_file: Path | None = None) -> dict[str, str]:
    """The values of the ``.env`` file (``env_file``, else ``ENV_FILE``, else ``./.env`` when it exists)."""
    named = env_file is None and bool(env.get("ENV_FILE"))
    path = env_file or Path(env.get("ENV_FILE") or ".env")
    if named and not path.is_file():
        raise ConfigError(f"ENV_FILE: {path} does not exist or is not a file; fix the path or unset ENV_FILE")
    if not path.is_file():
        return {}
    text = _decode_env_file(path, "ENV_FILE" if named else ".env")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def check_journal_path(path: Path, name: str = "JOURNAL_PATH") -> Path:
    """``path`` made absolute; refused (one line naming ``name``) when it names something that is not a journal."""
    path = Path(path).expanduser().absolute()
    fix = f"point {name} at a file such as ~/.local/share/rebalancer/journal.sqlite" + \
        (" (or unset it)" if name == "JOURNAL_PATH" else "")
    if path.exists() and not path.is_file():
        what = "a directory" if path.is_dir() else "not a regular file"
        raise ConfigError(f"{name}: {path} is {what}; {fix}")
    if path.is_file() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
        if head != SQLITE_HEADER:
            raise ConfigError(f"{name}: {path} is not a SQLite journal (another kind of file); move it "
                              f"away or {fix}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{name}: {parent} (a parent of {path}) is not a directory; {fix}")
            break
    return path


def near_misses(names: Iterable[str], known: Iterable[str]) -> list[tuple[str, str | None]]:
    """Unknown variables whose prefix (the part before the first ``_``) is one of the agent's, each with the
    closest known name (None when nothing is close). Compared upper-case."""
    known_set = {k.upper() for k in known}
    prefixes = {k.split("_", 1)[0] for k in known_set if "_" in k}
    out: list[tuple[str, str | None]] = []
    for name in sorted({n.upper() for n in names}):
        if name in known_set or "_" not in name or name.split("_", 1)[0] not in prefixes:
            continue
        match = difflib.get_close_matches(name, known_set, n=1, cutoff=0.85)
        out.append((name, match[0] if match else None))
    return out
