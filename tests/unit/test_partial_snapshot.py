"""Never trade blind: an unread balance is unknown (not zero) and makes the snapshot partial."""

from __future__ import annotations

from decimal import Decimal

from agent.portfolio.models import ChainSnapshot, Snapshot
from agent.portfolio.reader import build_snapshot
from agent.portfolio.valuation import plan_price_calls
from tests.unit.portfolio_factory import WALLET, chain_snapshot, chains, snapshot


def test_a_fully_read_snapshot_is_not_partial() -> None:
    snap = snapshot({"ETH": Decimal(10)}, {"USDC": Decimal(1000)})
    assert not snap.partial and snap.unread == [] and not snap.nothing_read


def test_an_unavailable_chain_makes_it_partial_and_is_named() -> None:
    cs = chains()
    down = ChainSnapshot(chain="sandbox_b", chain_id=31338, available=False, error="no RPC endpoint answered")
    snap = Snapshot(wallet=WALLET, chains=(chain_snapshot(cs["sandbox_a"], {"ETH": Decimal(1)}), down))
    assert snap.partial and snap.unread == ["sandbox_b"] and not snap.nothing_read
    reason = snap.partial_reason()
    assert "sandbox_b" in reason and "no RPC endpoint answered" in reason and "RPC_URL" in reason
    assert "\n" not in reason


def test_nothing_read() -> None:
    down = [ChainSnapshot(chain=n, chain_id=i, available=False) for n, i in (("sandbox_a", 31337), ("sandbox_b", 2))]
    snap = Snapshot(wallet=WALLET, chains=tuple(down))
    assert snap.partial and snap.nothing_read and snap.unread == ["sandbox_a", "sandbox_b"]


def test_a_balance_that_did_not_read_is_listed_as_unread() -> None:
    chain = chains()["sandbox_a"]
    calls = plan_price_calls(chain)
    values = {("block", ""): (5,), ("native", ""): None, ("token", "USDC"): (10**6,)}
    cs = build_snapshot(chain, WALLET, values, calls)  # type: ignore[arg-type]
    assert "ETH" in cs.unread and "USDC" not in cs.unread and "WETH" in cs.unread
    snap = Snapshot(wallet=WALLET, chains=(cs,))
    assert snap.partial and "sandbox_a:ETH" in snap.unread and "sandbox_a:ETH" in snap.partial_reason()
