"""Progress of long work on stderr while a cycle runs: split-swap chunks done/total, gas waits against their
threshold and deadline. Tails the journal (what the executors already record), so it needs no hook in the
execution code; as an observer of the cycle (``on_event``) it prints a gas wait or a finished action at once."""

from __future__ import annotations

import threading
from typing import Any, TextIO

from agent.journal.store import JournalStore

KINDS = ("twap_plan", "twap_chunk", "twap_done", "twap_abandoned", "gas_wait")
#: cycle events after which the journal's tail is printed without waiting for the next poll
FLUSH_ON = frozenset({"gas_wait", "trade", "drop", "retry", "cycle_end"})


def _gwei(wei: Any) -> str:
    return "?" if wei is None else f"{int(wei) / 1e9:.2f}"


def _what(key: str) -> str:
    """``c1-ab12:2:swap:sandbox_a:WETH>WBTC`` → ``WETH>WBTC on sandbox_a`` (the key as it is otherwise)."""
    parts = key.split("#", 1)[0].split(":")
    return f"{parts[-1]} on {parts[-2]}" if len(parts) >= 4 else key


class Progress:
    """A background thread printing one short line (< 80 columns) per journaled step."""

    def __init__(self, journal: JournalStore, stream: TextIO, *, poll_s: float = 1.0) -> None:
        self.journal, self.stream, self.poll_s = journal, stream, poll_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._planned: dict[int, int] = {}
        self._done: dict[int, int] = {}
        last = journal.events_after(0, KINDS, limit=1_000_000)
        self._last_id = int(last[-1]["id"]) if last else 0
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.flush()

    def on_event(self, event: Any) -> None:
        """An observer of the cycle: print what the journal has now after a gas wait or a finished action."""
        if str(event.kind) in FLUSH_ON:
            self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.flush()

    def flush(self) -> None:
        with self._lock:
            for ev in self.journal.events_after(self._last_id, KINDS):
                self._last_id = int(ev["id"])
                line = self.line(ev)
                if line:
                    print(line, file=self.stream, flush=True)

    def line(self, ev: dict[str, Any]) -> str | None:
        d, aid = ev["detail"], ev["action_id"]
        if ev["kind"] == "twap_plan":
            self._planned[aid] = int(d["n"])
            return f"split swap {_what(str(d['key']))}: {d['n']} chunk(s) planned"
        if ev["kind"] == "twap_chunk":
            if d.get("state") != "confirmed":
                return f"split swap: chunk {int(d['index']) + 1} {d.get('state')}"
            self._done[aid] = self._done.get(aid, 0) + 1
            return f"split swap: {self._done[aid]}/{self._planned.get(aid, '?')} chunks done"
        if ev["kind"] in ("twap_done", "twap_abandoned"):
            return f"split swap {d['status']}: {d['chunks']} chunk(s)"
        if ev["kind"] == "gas_wait":
            return gas_line(d)
        return None


def gas_line(d: dict[str, Any]) -> str:
    """``gas waiting on 31337: base fee 30.00 > 20.00 gwei, 3 blocks, 36 s of 600 s`` (threshold: the optimal
    timing's stopping threshold when there is one, else the chain's limit; the deadline when it is known)."""
    limit = d.get("threshold_wei") or d.get("limit_wei")
    where = d.get("chain") or d.get("chain_id")
    deadline = d.get("deadline_s")
    waited = f"{float(d.get('waited_s') or 0):.0f} s" + (f" of {float(deadline):.0f} s" if deadline else "")
    return (f"gas {d.get('state')} on {where}: base fee {_gwei(d.get('base_fee_wei'))} vs {_gwei(limit)} gwei, "
            f"{d.get('blocks_waited')} block(s), {waited}")
