"""Running as a service: JSON logs, the settings' one-line errors, the systemd unit's contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.config.settings import Settings
from tests.paths import REPO_ROOT

BASE = {"chains": "sandbox_a", "targets": "ETH:50,USDC:50"}


def test_log_format_json_writes_one_object_per_line(tmp_path: Path) -> None:
    from agent.journal.store import JournalStore
    from agent.operator.approvals import ApprovalPolicy, gate_plan
    from tests.unit.operator.conftest import make_plan

    path = tmp_path / "j.sqlite"
    with JournalStore.open(path) as j:
        aid = gate_plan(ApprovalPolicy(mode="manual", ttl_s=10**9), j, make_plan(), plan_id="c1-x", cycle_id=None,
                        now=datetime.now(UTC)).approval_id
    env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "JOURNAL_PATH": str(path)}
    out = subprocess.run([sys.executable, "-m", "agent.cli", "approve", str(aid)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stderr.splitlines() if line.strip()]
    assert any(d["msg"] == f"approval {aid} approved by cli" and d["level"] == "INFO" for d in lines), lines
    bad = subprocess.run([sys.executable, "-m", "agent.cli", "--help"], env={**env, "LOG_FORMAT": "xml"},
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "LOG_FORMAT" in bad.stderr


def test_json_formatter_line_is_json() -> None:
    import logging

    from agent.operator.jsonlog import JsonFormatter

    rec = logging.LogRecord("agent.x", logging.INFO, __file__, 1, "plan %s sent", ("c1-abc",), None)
    doc = json.loads(JsonFormatter().format(rec))
    assert doc["msg"] == "plan c1-abc sent" and doc["level"] == "INFO" and doc["logger"] == "agent.x"


@pytest.mark.parametrize(("name", "value"), [("approval", "sometimes"), ("approval", "above:lots"),
                                             ("metrics_addr", "9108"), ("dashboard_addr", "localhost:99999")])
def test_bad_operator_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValidationError, match=r"write e\.g\."):
        Settings(**BASE, **{name: value})


def test_operator_settings_parse() -> None:
    s = Settings(**BASE, approval="ABOVE:5000", metrics_addr="127.0.0.1:9108")
    assert s.approval == "above:5000" and s.metrics_addr == "127.0.0.1:9108"
    assert s.dashboard_addr == "127.0.0.1:8787"  # loopback by default


def test_systemd_unit_runs_the_loop_with_an_env_file_and_restarts() -> None:
    unit = (REPO_ROOT / "deploy" / "rebalancer.service").read_text()
    for line in ("ExecStart=", "EnvironmentFile=", "Restart=on-failure", "KillSignal=SIGTERM", "LOG_FORMAT=json"):
        assert line in unit, line
