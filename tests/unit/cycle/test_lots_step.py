"""The journal's tax lots in the live decision: stop-loss reads the cost basis of the executed trades (plus the opening
lots of TAX_OPENING_LOTS), TAX_AWARE skips a sell whose tax exceeds its drift benefit with the reason and prefers loss
or long-term lots, and a journal the lots cannot explain turns both off with a reason (journals written through the
store's public API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from agent.config.settings import load_config
from agent.cycle.steps import decide, lots_for, make_plan
from agent.journal.prices import PriceHistory, history_path_for
from agent.journal.store import JournalStore
from tests.journal_trades import USDC, WETH
from tests.journal_trades import swap as _swap
from tests.unit.portfolio_factory import snapshot

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _clock() -> None:
    """The journal's rows carry the real clock: each test decides a minute after it starts (gas is priced from the
    history of the two days before each swap, so a stale ``now`` from collection time would miss it)."""
    global NOW
    NOW = datetime.now(UTC) + timedelta(minutes=1)
#: 15 WETH at 3,000 (the factory's price) and 15,000 USDC: ETH 75 % against a 60 % target (sell 9,000 USD of it;
#: removing 15 pp of drift is worth 1,350 USD, while 3 ETH bought at 1,000 realise 6,000 of gain: 2,220 of tax)
SNAP = snapshot({"WETH": Decimal(15), "USDC": Decimal(15_000)})


def _config(tmp: Path, **extra: str):  # type: ignore[no-untyped-def]
    env = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": "http://127.0.0.1:9", "TARGETS": "ETH:60,USDC:40",
           "JOURNAL_PATH": str(tmp / "journal.sqlite"), "MIN_TRADE_USD": "50", **extra}
    return load_config(env, env_file=Path("/nonexistent"))


def _journal(tmp: Path, eth_cost_usd: int) -> Path:
    """A journal that bought 15 ETH for ``eth_cost_usd`` USDC (one live, confirmed swap with mined gas)."""
    path = tmp / "journal.sqlite"
    with JournalStore.open(path) as store:
        _swap(store, 1, (USDC, eth_cost_usd * 10 ** 6), (WETH, 15 * 10 ** 18), float(eth_cost_usd))
    with PriceHistory.open(history_path_for(path)) as prices:  # ETH traded at the cost basis two days ago
        prices.record_cycle(NOW - timedelta(days=2), {"ETH": Decimal(eth_cost_usd) / 15, "USDC": Decimal(1)})
    return path


def test_stop_loss_fires_on_the_cost_basis_of_the_journals_trades(tmp_path: Path) -> None:
    _journal(tmp_path, 60_000)  # 4,000 USD per ETH; now 3,000: 25 % below the basis
    cfg = _config(tmp_path, STOP_LOSS_PCT="20", STOP_SELL_PCT="50", STOP_STABLE="USDC")
    with JournalStore.open(cfg.settings.journal_path) as journal:
        lots = lots_for(cfg, journal)
        assert lots is not None and lots.book is not None
        decision = decide(cfg, SNAP, journal, NOW, lots=lots)
    assert decision.rule == "stop_loss"
    assert decision.inputs["stops"] == [{"asset": "ETH", "kind": "stop_loss", "vs_basis": -0.25}]
    # gas 0.001 ETH valued at the price history's ETH (4,000) is part of the cost: (60,000 + 4) / 15
    assert decision.inputs["lots"]["cost_basis_usd"]["ETH"] == float(Decimal(60_004) / 15)
    assert float(decision.targets["ETH"]) < 60  # half of the ETH weight moves into the stable
    assert "cost basis 4000.27 USD" in decision.reasons[0]


def test_without_a_loss_on_the_basis_the_stop_stays_quiet(tmp_path: Path) -> None:
    _journal(tmp_path, 30_000)  # 2,000 per ETH: now 50 % above
    cfg = _config(tmp_path, STOP_LOSS_PCT="20")
    with JournalStore.open(cfg.settings.journal_path) as journal:
        decision = decide(cfg, SNAP, journal, NOW, lots=lots_for(cfg, journal))
    assert decision.rule == "threshold"


def _sells(cfg, journal: JournalStore) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    lots = lots_for(cfg, journal)
    decision = decide(cfg, SNAP, journal, NOW, record_prices=False, lots=lots)
    plan = make_plan(cfg, SNAP, decision, NOW, lots=lots)
    return [a.sell for a in plan.actions if a.kind == "swap"], [s.why for s in plan.skipped]


def test_tax_aware_skips_the_taxable_sell_with_the_reason(tmp_path: Path) -> None:
    _journal(tmp_path, 15_000)  # 1,000 per ETH, bought minutes ago: selling at 3,000 is a short-term gain
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        sold, _ = _sells(_config(tmp_path), journal)
        assert sold == ["WETH"]  # without TAX_AWARE the drift is sold down
        sold, why = _sells(_config(tmp_path, TAX_AWARE="true"), journal)
    assert sold == []
    [reason] = [w for w in why if "TAX_AWARE" in w]
    assert "min-tax" in reason and "short-term gain" in reason and "exceeds its drift benefit" in reason


def test_tax_aware_prefers_the_opening_lots_at_a_loss_and_sells(tmp_path: Path) -> None:
    _journal(tmp_path, 15_000)
    lots = tmp_path / "opening.csv"
    lots.write_text("asset,acquired_at,quantity,cost_usd\nETH,2021-11-09,20,96000\n")  # 4,800 an ETH: long-term loss
    cfg = _config(tmp_path, TAX_AWARE="true", TAX_OPENING_LOTS=str(lots))
    with JournalStore.open(cfg.settings.journal_path) as journal:
        sold, why = _sells(cfg, journal)
        fifo_sold, _ = _sells(_config(tmp_path, TAX_AWARE="true", TAX_OPENING_LOTS=str(lots), TAX_LOT_METHOD="lifo"),
                              journal)
    assert sold == ["WETH"] and not [w for w in why if "TAX_AWARE" in w]  # min-tax sells the loss lots first
    assert fifo_sold == []  # LIFO would sell the cheap recent lots: a short-term gain, skipped


def test_a_journal_the_lots_cannot_explain_turns_the_rules_off_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with JournalStore.open(path) as store:  # sells 1 ETH it never bought (no opening lots imported)
        _swap(store, 1, (WETH, 10 ** 18), (USDC, 3000 * 10 ** 6), 3000.0)
    cfg = _config(tmp_path, STOP_LOSS_PCT="20", TAX_AWARE="true")
    with JournalStore.open(path) as journal:
        decision = decide(cfg, SNAP, journal, NOW, record_prices=False, lots=lots_for(cfg, journal))
    assert decision.rule == "threshold"
    assert any("tax lots unusable" in r for r in decision.reasons)
    [warning] = [w for w in decision.inputs["lots"]["warnings"] if w.startswith("tax lots")]
    assert "import the opening lots" in warning
