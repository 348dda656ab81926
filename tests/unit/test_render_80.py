"""Every table at 80 columns (a non-terminal: CI, a log file): no line wider than 80, no value cut to ``sandbo…``,
full transaction hashes and the wallet address whole on one line. Long values on purpose."""

from __future__ import annotations

from typing import Any

import pytest

from agent.commands import render
from agent.commands.journal import _render as render_journal
from agent.commands.plan import render_plan
from agent.commands.run import render_cycle

HASH = "0x" + "9f" * 32
WALLET = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
LONG_REASON = ("ETH is +29.62 pp from target: sell 60000.00 USD into USDC; WBTC is -24.94 pp from target: buy "
               "59100.00 USD with USDC (direct pool, 11.58 USD cheaper)")
CHAIN = "sandbox_arbitrum_long_name"


def fits(text: str) -> list[str]:
    lines = text.splitlines()
    assert lines, "nothing was printed"
    too_wide = [ln for ln in lines if len(ln) > 80]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in text, text
    return lines


def action(i: int, **kw: Any) -> dict[str, Any]:
    return {"kind": "swap", "chain": CHAIN, "sell": "WETH", "buy": "WBTC", "amount_raw": str(10**22 + i),
            "amount_usd": 1_234_567.89, "est_cost_usd": 868.39, "reason": LONG_REASON, "state": "confirmed",
            "source": "kyberswap,paraswap", "error": None, "gas_paid_wei": str(4_354_810_483_460_123),
            "tx_hashes": [HASH], "key": f"c12-d77184afe5:{i}:swap:{CHAIN}:WETH>WBTC", **kw}


def test_plan_fits_80_columns() -> None:
    doc = {"rebalance": True, "reasons": [LONG_REASON], "actions": [action(i) for i in range(4)],
           "skipped": [{"what": "swap USDC>WBTC on " + CHAIN, "why": LONG_REASON}], "est_cost_usd": 3473.56}
    with render.recording(80) as (out, _):
        render_plan(doc)
    lines = fits(out.export_text(clear=False))
    assert any(CHAIN in ln for ln in lines)  # the chain's whole name, never cut
    assert "direct pool, 11.58 USD cheaper" in " ".join(lines)


def test_run_cycle_fits_80_columns_with_full_hashes() -> None:
    doc = {"cycle_id": 7, "at": "2026-12-01T23:19:55.765932+00:00", "rebalance": True, "reasons": [LONG_REASON],
           "actions": [action(0), action(1, state="failed", error="QuoteError: every source failed " * 4,
                                         tx_hashes=[])],
           "approval": None, "parking": [{"key": f"park:{CHAIN}:1:0:deposit:USDC:sUSDC", "state": "confirmed"}],
           "dropped_because": LONG_REASON, "total_usd_after": 236477.16,
           "allocation_after": [{"symbol": s, "drift_pp": 0.05} for s in ("ETH", "WBTC", "USDC", "SOL")]}
    with render.recording(80) as (out, _):
        render_cycle(doc)
    lines = fits(out.export_text(clear=False))
    assert any(HASH in ln for ln in lines)  # the full hash, on one line
    assert any("0.004355" in ln for ln in lines)  # gas in ETH (every wei is in --json)


def test_journal_fits_80_columns() -> None:
    attempt = {"purpose": "main", "nonce": 28, "tx_hash": HASH, "broadcast": "definitely", "status": "mined"}
    doc = {"journal": "/var/lib/rebalancer/treasury-main/journal.sqlite",
           "cycles": [{"id": 1, "started_at": "2026-12-01T23:19:55.766+00:00", "mode": "live", "status": "dropped",
                       "note": LONG_REASON}],
           "decisions": [{"id": 1, "cycle_id": 1, "plan_id": "c1-d77184afe5", "rebalance": 1,
                          "reasons": [LONG_REASON]}],
           "actions": [{"id": 15, "idempotency_key": action(0)["key"] + "#chunk10", "chain": CHAIN, "kind": "swap",
                        "state": "confirmed", "error": LONG_REASON, "attempts": [attempt, attempt]}],
           "events": [{"id": 19, "created_at": "2026-12-01T23:21:39.220+00:00", "kind": "allocation",
                       "detail": {"at": "2026-12-01T23:19:55+00:00", "total_usd": "236477.1643819936557694813106",
                                  "wallet": WALLET}}]}
    with render.recording(80) as (out, _):
        render_journal(doc)
    lines = fits(out.export_text(clear=False))
    assert sum(HASH in ln for ln in lines) == 2
    assert "journal.sqlite" in out.export_text(clear=False)


def test_backtest_table_fits_80_columns() -> None:
    from agent.commands.backtest import _print

    run = {"strategy": "monthly calendar with a long name", "final_usd": 1_234_567.0, "return_pct": 1134.5,
           "cagr_pct": 95.12, "volatility_pct": 57.7, "max_drawdown_pct": 61.4, "sharpe": 1.0443, "sortino": 1.48,
           "rebalances": 191, "trades": 1240, "costs_usd": 23_847.0, "mean_max_drift_pp": 2.45, "events": []}
    doc = {"from": "2019-01-01", "to": "2022-12-31", "bars": 1461, "interval": "1d",
           "targets": {"ETH": 40.0, "WBTC": 30.0, "USDC": 30.0}, "runs": [run], "benchmarks": [run]}
    with render.recording(80) as (out, _):
        _print(doc, None)
    fits(out.export_text(clear=False))
    assert "monthly calendar" in out.export_text(clear=False) and "1,234,567" in out.export_text(clear=False)


def test_a_wallet_line_never_wraps_inside_the_address() -> None:
    with render.recording(50) as (out, _):
        render.line(f"wallet {WALLET}")
    assert WALLET in out.export_text(clear=False).splitlines()[0]


@pytest.mark.parametrize("value,digits,expected", [("0.33231677", 7, "0.3323168"), ("1234567.89", 6, "1,234,568"),
                                                   ("0", 6, "0"), ("12.5", 6, "12.5")])
def test_fmt_sig(value: str, digits: int, expected: str) -> None:
    from decimal import Decimal

    assert render.fmt_sig(Decimal(value), digits) == expected
