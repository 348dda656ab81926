from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from agent.journal.store import JournalStore
from agent.planning.models import Action, Plan

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def make_plan(usd: str = "1000", raw: int = 10**18, sell: str = "WETH") -> Plan:
    action = Action(kind="swap", chain="sandbox_a", sell=sell, buy="USDC", amount_raw=raw, amount_usd=Decimal(usd),
                    reason="WETH over target", est_cost_usd=Decimal("0.5"), est_gas=150_000)
    return Plan(created_at=NOW, rebalance=True, reasons=("drift",), targets={"WETH": Decimal(50)}, actions=(action,))


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[JournalStore]:
    with JournalStore.open(tmp_path / "journal.sqlite") as store:
        yield store
