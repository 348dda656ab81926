"""SIGKILL the agent right after each journal transition of one action, restart it, and find one trade (#14).

The action is the one-swap plan of ``harness.TARGETS``: claim (``action:pending``) → its exact approval (signed,
``maybe``, ``definitely``, ``mined``) → the swap (the same four) → ``action:confirmed``. For each transition a
``rebalancer run --once`` process is killed (``agent.devtools.killpoint``: SIGKILL once the transition's SQLite
transaction is committed), then a second ``run --once`` on the same journal restarts it. The end state must be the
uninterrupted run's: one swap, its approval, the same balances up to gas.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config.chains import default_chains_dir
from agent.devtools.killpoint import ACTION_TRANSITIONS
from agent.journal.store import JournalStore
from tests.integration.faults.harness import Chain, Outcome, agent_env, differences, module_chain, outcome, reverted

pytestmark = [pytest.mark.anvil, pytest.mark.slow, pytest.mark.xdist_group("kills")]


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    yield from module_chain()


def fast_chains_dir(tmp: Path) -> Path:
    """sandbox_a's chain file with a 1 s block time: the sender polls receipts every 0.25 s (not 3 s)."""
    out = tmp / "chains"
    out.mkdir(exist_ok=True)
    text = (default_chains_dir() / "sandbox_a.toml").read_text()
    (out / "sandbox_a.toml").write_text(re.sub(r"(?m)^block_time_s = .*$", "block_time_s = 1.0", text))
    return out


def agent(chain: Chain, tmp: Path, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "REBALANCER_"))},
           **agent_env(chain.anvil.url, tmp), "CHAINS_DIR": str(fast_chains_dir(tmp))}
    args = ["-m", "agent.devtools.killpoint", kill_at, "--"] if kill_at else ["-m", "agent.cli"]
    return subprocess.run([sys.executable, *args, "run", "--once"], cwd=tmp, env=env, capture_output=True,
                          text=True, timeout=180)


def journaled(journal: JournalStore, transition: str) -> bool:
    """The killed run's journal ends at ``transition``: its newest action or attempt is in that state."""
    kind, state, *purpose = transition.split(":")
    if kind == "action":
        return journal.action(1).state == state  # the run's one action
    attempts = [a for a in journal.attempts() if a.purpose == purpose[0]]
    last = attempts[-1] if attempts else None
    return last is not None and ((state == "signed" and last.broadcast == "never") or last.broadcast == state
                                 or last.status == state)


@pytest.fixture(scope="module")
def uninterrupted(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    with reverted(chain) as fresh:
        block, nonce = fresh.w3.eth.block_number, fresh.nonce()
        done = agent(fresh, tmp_path_factory.mktemp("uninterrupted"))
        assert done.returncode == 0, done.stderr[-2000:]
        return outcome(fresh, block, nonce)


def test_the_uninterrupted_run_is_one_swap_and_its_approval(uninterrupted: Outcome) -> None:
    assert (uninterrupted.swaps, uninterrupted.transactions) == (1, 2)


@pytest.mark.parametrize("transition", ACTION_TRANSITIONS)
def test_killed_at_each_transition_then_restarted_trades_once(chain: Chain, uninterrupted: Outcome, tmp_path: Path,
                                                              transition: str) -> None:
    with reverted(chain) as fresh:
        block, nonce = fresh.w3.eth.block_number, fresh.nonce()
        killed = agent(fresh, tmp_path, kill_at=transition)
        assert killed.returncode == -9, f"{transition}: not killed ({killed.returncode}): {killed.stderr[-1500:]}"
        with JournalStore.open(tmp_path / "journal.sqlite") as journal:
            assert journaled(journal, transition), f"{transition}: the journal does not show it"
        restarted = agent(fresh, tmp_path)
        assert restarted.returncode == 0, restarted.stderr[-2000:]
        assert differences(outcome(fresh, block, nonce), uninterrupted) == [], transition
        with JournalStore.open(tmp_path / "journal.sqlite") as journal:
            mains = [a for a in journal.attempts() if a.purpose == "main" and a.status == "mined"]
            assert len(mains) == 1, transition
            assert journal.open_actions() == []
