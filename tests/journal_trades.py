"""Executed swaps written into a journal through the store's public API (the tax and lots tests share them)."""

from __future__ import annotations

from agent.journal.records import ActionState, AttemptStatus, Mode
from agent.journal.store import JournalStore

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
GAS_USED, GAS_PRICE = 100_000, 10 * 10 ** 9  # 0.001 ETH a transaction


def swap(store: JournalStore, n: int, sell: tuple[str, int], buy: tuple[str, int], amount_usd: float) -> None:
    """One confirmed live swap on Ethereum of ``sell`` (token, raw) for ``buy``, its gas mined."""
    cycle = store.start_cycle(mode=Mode.LIVE)
    plan = f"plan-{n}"
    store.record_decision(cycle, rebalance=True, reasons=["test"], plan_id=plan, detail={"actions": [
        {"kind": "swap", "chain": "ethereum", "sell": "x", "buy": "y", "amount_usd": amount_usd}]})
    deltas = [{"token": sell[0], "min_raw": -sell[1], "max_raw": -sell[1]}, {"token": buy[0], "min_raw": 1}]
    row = store.begin_action(key=f"k{n}", chain_id=1, chain="ethereum", plan_id=plan, kind="swap",
                             intent={"expected_deltas": deltas}, mode=Mode.LIVE, cycle_id=cycle)
    att = store.record_attempt(action_id=row.id, purpose="main", chain_id=1, sender="0x" + "1" * 40, nonce=n,
                               tx_hash=f"0x{n:064x}", raw_tx=b"\x01", max_fee_per_gas_wei=GAS_PRICE,
                               max_priority_fee_per_gas_wei=1)
    store.mark_attempt(att, AttemptStatus.MINED, block_number=100 + n, gas_used=GAS_USED,
                       effective_gas_price_wei=GAS_PRICE)
    store.set_action_state(row.id, ActionState.CONFIRMED, result={"observed_deltas": {sell[0]: str(-sell[1]),
                                                                                        buy[0]: str(buy[1])}})
