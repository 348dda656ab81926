"""SIGKILL just before and just after broadcasting the swap → restart → exactly one swap on chain."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from agent.execution.sender import CRASH_ENV
from agent.journal.records import AttemptStatus
from agent.journal.store import JournalStore
from tests.integration.execution.helpers import erc20, swap_events, token_swap_intent
from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _child(url: str, journal: Path, payload: Path, crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at:
        env[CRASH_ENV] = crash_at
    return subprocess.run([sys.executable, "-m", "tests.integration.execution.crash_child", url, str(journal),
                           str(payload)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("point", ["before_broadcast", "after_broadcast"])
def test_killed_around_broadcast_restart_swaps_exactly_once(world, tmp_path: Path, point: str) -> None:  # type: ignore[no-untyped-def]
    w3 = Web3(Web3.HTTPProvider(world.rpc_url))
    usdc = erc20(w3, world.token("USDC"))
    pair = world.pairs[("uniswap", "WETH", "USDC")]
    start_block, start_nonce = w3.eth.block_number, w3.eth.get_transaction_count(world.wallet)
    usdc_before = usdc.functions.balanceOf(world.wallet).call()
    amount = 2_000 * 10**6
    intent = token_swap_intent(w3, world.chain, world.router, world.wallet, key=f"crash-{point}", sell="USDC",
                               buy="WETH", amount_raw=amount)
    payload, journal = tmp_path / "in.pickle", tmp_path / "journal.sqlite"
    payload.write_bytes(pickle.dumps((world.chain, intent)))

    crashed = _child(world.rpc_url, journal, payload, f"{point}:main")
    assert crashed.returncode == -9, crashed.stderr
    with JournalStore.open(journal) as store:
        [main] = store.attempts(status=AttemptStatus.PENDING)
        assert main.purpose == "main" and main.broadcast == "maybe"
        assert store.open_actions()[0].idempotency_key == intent.idempotency_key
    assert swap_events(w3, pair, start_block + 1) == (1 if point == "after_broadcast" else 0)

    restarted = _child(world.rpc_url, journal, payload, None)
    assert restarted.returncode == 0, restarted.stderr
    doc = json.loads(restarted.stdout.strip().splitlines()[-1])
    assert doc["state"] == "confirmed"
    assert doc["reconcile"]["mined" if point == "after_broadcast" else "rebroadcast"] == [main.tx_hash]

    assert swap_events(w3, pair, start_block + 1) == 1
    assert usdc.functions.balanceOf(world.wallet).call() == usdc_before - amount
    assert usdc.functions.allowance(world.wallet, world.router).call() == 0
    assert w3.eth.get_transaction_count(world.wallet) == start_nonce + 2  # the approval and one swap
    with JournalStore.open(journal) as store:
        mains = [a for a in store.attempts() if a.purpose == "main"]
        assert [(a.tx_hash, a.status) for a in mains] == [(main.tx_hash, "mined")]
        assert store.open_actions() == []
