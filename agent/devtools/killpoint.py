"""Run the agent and SIGKILL it right after a named journal transition is committed (the kill tests).

``python -m agent.devtools.killpoint TRANSITION -- run --once`` runs the ``rebalancer`` CLI in this process with
the journal's writes watched; when TRANSITION is journaled (its SQLite transaction committed), the process kills
itself with SIGKILL — no ``finally``, no atexit, as a power cut or an OOM kill would. Transitions:

* ``action:pending`` (an action claimed), ``action:confirmed`` / ``action:failed`` / ``action:abandoned``;
* ``attempt:<state>:<purpose>`` — ``state`` one of ``signed`` (raw bytes stored, broadcast ``never``), ``maybe``,
  ``definitely`` (broadcast states), ``mined``, ``reverted``, ``replaced``, ``dropped``… (attempt statuses);
  ``purpose`` ``main``, ``approve``, ``cancel``…

Only the first occurrence kills. Nothing outside ``agent.devtools`` imports this; the agent itself has no hook.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from agent.journal.store import JournalStore

#: the transitions a test can name for one action with an approval (in the order they happen)
ACTION_TRANSITIONS = ("action:pending",
                      "attempt:signed:approve", "attempt:maybe:approve", "attempt:definitely:approve",
                      "attempt:mined:approve",
                      "attempt:signed:main", "attempt:maybe:main", "attempt:definitely:main", "attempt:mined:main",
                      "action:confirmed")


def _kill() -> None:
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _purpose(store: JournalStore, attempt_id: int) -> str:
    return next((a.purpose for a in store.attempts() if a.id == attempt_id), "?")


def install(transition: str, *, kill: Callable[[], None] = _kill) -> None:
    """Patch ``JournalStore`` so that journaling ``transition`` calls ``kill`` (once)."""
    fired: list[str] = []

    def check(name: str) -> None:
        if name == transition and not fired:
            fired.append(name)
            kill()

    def after(method: Callable[..., Any], name_of: Callable[..., str]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapped(self: JournalStore, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            check(name_of(self, result, *args, **kwargs))
            return result
        return wrapped

    JournalStore.begin_action = after(  # type: ignore[method-assign]
        JournalStore.begin_action, lambda s, row, **kw: f"action:{row.state}" if row.mode == "live" else "")
    JournalStore.set_action_state = after(  # type: ignore[method-assign]
        JournalStore.set_action_state, lambda s, _r, action_id, state, **kw: f"action:{state}")
    JournalStore.record_attempt = after(  # type: ignore[method-assign]
        JournalStore.record_attempt, lambda s, _r, **kw: f"attempt:signed:{kw['purpose']}")
    JournalStore.mark_broadcast = after(  # type: ignore[method-assign]
        JournalStore.mark_broadcast, lambda s, _r, attempt_id, state: f"attempt:{state}:{_purpose(s, attempt_id)}")
    JournalStore.mark_attempt = after(  # type: ignore[method-assign]
        JournalStore.mark_attempt,
        lambda s, _r, attempt_id, status, **kw: f"attempt:{status}:{_purpose(s, attempt_id)}")


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] != "--":
        raise SystemExit("usage: python -m agent.devtools.killpoint TRANSITION -- <rebalancer arguments>")
    install(argv[0])
    from agent import cli

    sys.argv = ["rebalancer", *argv[2:]]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
