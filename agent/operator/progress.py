"""Progress of long work on stderr while a cycle runs: split-swap chunks done/total, gas waits against their
threshold. Tails the journal (what the executors already record), so it needs no hook in the execution code."""

from __future__ import annotations

import threading
from typing import Any, TextIO

from agent.journal.store import JournalStore

KINDS = ("twap_plan", "twap_chunk", "twap_done", "twap_abandoned", "gas_wait")


def _gwei(wei: Any) -> str:
    return "?" if wei is None else f"{int(wei) / 1e9:.2f}"


class Progress:
    """A background thread printing one short line (< 80 columns where it can) per journaled step."""

    def __init__(self, journal: JournalStore, stream: TextIO, *, poll_s: float = 1.0) -> None:
        self.journal, self.stream, self.poll_s = journal, stream, poll_s
        self._stop = threading.Event()
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

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.flush()

    def flush(self) -> None:
        for ev in self.journal.events_after(self._last_id, KINDS):
            self._last_id = int(ev["id"])
            line = self.line(ev)
            if line:
                print(line, file=self.stream, flush=True)

    def line(self, ev: dict[str, Any]) -> str | None:
        d, aid = ev["detail"], ev["action_id"]
        if ev["kind"] == "twap_plan":
            self._planned[aid] = int(d["n"])
            return f"split swap: {d['n']} chunk(s) planned ({d['key'][-20:]})"
        if ev["kind"] == "twap_chunk":
            if d.get("state") != "confirmed":
                return f"split swap: chunk {int(d['index']) + 1} {d.get('state')}"
            self._done[aid] = self._done.get(aid, 0) + 1
            return f"split swap: {self._done[aid]}/{self._planned.get(aid, '?')} chunks done"
        if ev["kind"] in ("twap_done", "twap_abandoned"):
            return f"split swap {d['status']}: {d['chunks']} chunk(s)"
        if ev["kind"] == "gas_wait":
            limit = d.get("threshold_wei") or d.get("limit_wei")
            return (f"gas {d.get('state')} on chain {d.get('chain_id')}: base fee {_gwei(d.get('base_fee_wei'))} "
                    f"gwei vs {_gwei(limit)}, {d.get('blocks_waited')} block(s), {d.get('waited_s')} s")
        return None
