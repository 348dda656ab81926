"""The demo end to end on a short replay: it trades back into the band, parks stables, writes the report and
leaves no process behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.devtools.demo import run_demo
from agent.devtools.sandbox.anvil import pid_alive

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_short_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    loaded: list[bool] = []
    import agent.devtools.demo as demo_module

    real_start = demo_module.start_world

    def tracking_start(spec, **kw):  # type: ignore[no-untyped-def]  # record the anvil PIDs the demo starts
        proc, world, was_loaded = real_start(spec, **kw)
        started.append(proc.pid)
        loaded.append(was_loaded)
        return proc, world, was_loaded

    monkeypatch.setattr(demo_module, "start_world", tracking_start)
    lines: list[str] = []
    report = tmp_path / "report.html"
    rec = run_demo(report_path=report, bars=10, cycle_every=4, progress=lines.append)

    assert len(started) == 2 and not any(pid_alive(p) for p in started)  # the sandbox is stopped
    assert loaded == [True, True]  # both worlds came from their saved states (official builds, V2 + V3 pools)
    assert lines[-1] == "sandbox stopped"
    swaps = [t for t in rec.trades if t.kind == "swap"]
    assert swaps and all(t.state == "confirmed" for t in swaps)
    assert rec.before["ETH"] > 60  # deliberately off-target at the start
    assert all(abs(rec.after[a] - rec.targets[a]) < 5 for a in rec.targets)  # back inside the band
    assert rec.gas_paid_usd > 0
    assert len(rec.prices["ETH"]) == len(rec.value_usd) == len(rec.base_fee_gwei) > 5
    html = report.read_text()
    assert html.count('class="plotly-graph-div"') >= 4 and "Trades" in html and "sandbox_a" in html
    assert rec.times[0] < min(t.at for t in rec.trades)  # the charts start before the first rebalance
    assert rec.weights["ETH"][0] > 60  # ... off-target, as the wallet started
    deposits = [t for t in rec.trades if t.kind == "deposit" and t.state == "confirmed"]
    assert all(t.amount_usd > 0 for t in deposits)  # the deposit row shows its USD value
