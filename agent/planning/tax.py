"""Realised gains from the journal's executed swaps, through the tax lots (``agent.planning.lots``), and the
tax-aware planner's rule (pure: rows in, numbers out).

Trades: every *confirmed, live* swap action of the journal. Its quantities are the balance changes observed on chain
(``result.observed_deltas``; the planned amounts when none were observed). Its USD value: the stable leg's amount when
one side is a stablecoin (1 unit = 1 USD); otherwise the ``amount_usd`` the plan recorded for that action (the price
the agent read when it planned). Fees: the gas of every mined transaction of the action (approvals included) times
the native token's USD price (``native_usd``: the price history beside the journal at that time, or the trade's own
price when the native asset is one of its legs); a buy adds it to the lot's cost, a sell deducts it from the
proceeds, a swap between two risky assets splits it half and half. Stablecoins are cash: they open no lots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from agent.planning.lots import Disposal, LotBook, LotMethod, YearSummary, summarise_year

ZERO = Decimal(0)
WEI = Decimal(10) ** 18


@dataclass(frozen=True)
class Trade:
    at: datetime
    sell: str
    sell_qty: Decimal
    buy: str
    buy_qty: Decimal
    usd: Decimal
    fee_usd: Decimal
    usd_source: str  # "stable leg" | "plan"
    sell_stable: bool
    buy_stable: bool
    action: str


@dataclass(frozen=True)
class TokenInfo:
    symbol: str  # the portfolio asset (WETH counts as ETH)
    decimals: int
    stable: bool


def _when(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _planned(decisions: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for d in decisions:
        if d.get("plan_id"):
            out[d["plan_id"]] = list((d.get("detail") or {}).get("actions", []))
    return out


def _gas_native(action: Mapping[str, Any]) -> Decimal:
    wei = sum(int(a.get("gas_used") or 0) * int(a.get("effective_gas_price_wei") or 0)
              for a in action.get("attempts", []) if a.get("status") == "mined")
    return Decimal(wei) / WEI


def trades_from_journal(view: Mapping[str, Any], tokens: Callable[[str, str], TokenInfo | None],
                        native_usd: Callable[[str, datetime], Decimal | None]) -> tuple[list[Trade], list[str]]:
    """(the executed swaps oldest first, warnings) from ``JournalStore.summary`` output; ``tokens(chain, address)``
    names a token, ``native_usd(chain, at)`` prices the chain's native token."""
    plans = _planned(view.get("decisions", []))
    trades, warnings = [], []
    for a in sorted(view.get("actions", []), key=lambda r: r["id"]):
        if a.get("mode") != "live" or a.get("state") != "confirmed" or a.get("kind") != "swap":
            continue
        observed = (a.get("result") or {}).get("observed_deltas") or {}
        deltas = {d["token"]: int(observed.get(d["token"], d["min_raw"]))
                  for d in (a.get("intent") or {}).get("expected_deltas", []) if d["token"] != "native"}
        named = {t: tokens(a["chain"], t) for t in deltas}
        if len(deltas) != 2 or any(v is None for v in named.values()):
            warnings.append(f"action {a['idempotency_key']}: not a two-token swap of known tokens; left out")
            continue
        (s_tok, s_raw), (b_tok, b_raw) = sorted(deltas.items(), key=lambda kv: kv[1])
        s, b = named[s_tok], named[b_tok]
        assert s is not None and b is not None
        sq, bq = Decimal(-s_raw) / 10 ** s.decimals, Decimal(b_raw) / 10 ** b.decimals
        at = _when(a["updated_at"])
        if s.stable or b.stable:
            usd, source = (sq if s.stable else bq), "stable leg"
        else:
            match = [p for p in plans.get(a["plan_id"], []) if p.get("sell") in (s.symbol, s_tok)
                     or p.get("buy") in (b.symbol, b_tok)]
            if not match:
                warnings.append(f"action {a['idempotency_key']}: no stable leg and no planned USD amount; left out")
                continue
            usd, source = Decimal(str(match[0]["amount_usd"])), "plan"
        gas = _gas_native(a)
        price = native_usd(a["chain"], at) if gas else ZERO
        if price is None:
            warnings.append(f"action {a['idempotency_key']}: no native price at {at:%Y-%m-%d %H:%M}; its gas "
                            "is left out of cost and proceeds")
            price = ZERO
        trades.append(Trade(at, s.symbol, sq, b.symbol, bq, usd, gas * price, source, s.stable, b.stable,
                            a["idempotency_key"]))
    return trades, warnings


def realise(trades: Iterable[Trade], method: LotMethod, book: LotBook | None = None) -> list[Disposal]:
    """Run the trades through a lot book (opening lots already in ``book``); the disposals, oldest first."""
    book = book or LotBook(method=method)
    out: list[Disposal] = []
    for t in trades:
        half = t.fee_usd / 2 if not (t.sell_stable or t.buy_stable) else t.fee_usd
        if not t.sell_stable:
            out += book.sell(asset=t.sell, at=t.at, quantity=t.sell_qty, usd=t.usd, fee_usd=half, method=method)
        if not t.buy_stable:
            book.buy(asset=t.buy, at=t.at, quantity=t.buy_qty, usd=t.usd, fee_usd=half)
    return out


def year_report(disposals: Iterable[Disposal], year: int) -> YearSummary:
    return summarise_year(disposals, year)


def tax_aware_skip(book: LotBook, *, asset: str, at: datetime, quantity: Decimal, usd: Decimal,
                   drift_benefit_usd: Decimal, fee_usd: Decimal = ZERO) -> str | None:
    """TAX_AWARE: the reason to skip this sell when its estimated tax exceeds the drift it removes, else None."""
    if book.held(asset) < quantity:
        return None  # lots not known: no estimate, the planner decides as usual
    est = book.estimate_sale(asset=asset, at=at, quantity=quantity, usd=usd, fee_usd=fee_usd)
    if est.tax_usd > drift_benefit_usd:
        terms = sorted({f"{d.term}-term {'loss' if d.gain_usd < 0 else 'gain'}" for d in est.disposals})
        return (f"sell {usd:,.2f} USD of {asset}: estimated tax {est.tax_usd:,.2f} USD on a gain of "
                f"{est.gain_usd:,.2f} USD ({book.method}: {len(est.disposals)} lots, {', '.join(terms)}) exceeds "
                f"its drift benefit {drift_benefit_usd:,.2f} USD (TAX_AWARE)")
    return None
