"""One journal per chain (#14 item 5), on real anvil nodes: the journal records the chain's genesis hash and
refuses a reset chain (a new anvil, same chain id); nonce-gap filling is bounded by MAX_NONCE_GAP_FILL, each
fill explained in the journal; `sandbox up` retires the old sandbox journal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3

from agent.config.chains import load_chain
from agent.cycle.steps import verify_genesis
from agent.devtools.sandbox.anvil import AnvilProcess, start_anvil
from agent.devtools.sandbox.journal import retire_journal
from agent.errors import SafetyHalt
from agent.execution.intent import TxRequest
from agent.execution.live import LiveSender
from agent.journal.genesis import GenesisMismatch, check_genesis, recorded_genesis
from agent.journal.store import JournalStore
from tests.integration.execution.helpers import FAST, chain_rpc, wallet_signer

pytestmark = [pytest.mark.anvil]

CHAIN = load_chain("sandbox_a")


@pytest.fixture
def anvil() -> Iterator[AnvilProcess]:
    node = start_anvil(chain_id=CHAIN.chain_id)
    try:
        yield node
    finally:
        node.stop()


def test_a_reset_chain_is_refused_naming_the_chain_and_the_fix(tmp_path: Path, anvil: AnvilProcess) -> None:
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        verify_genesis(journal, [chain_rpc(CHAIN, anvil.url)])
        first = recorded_genesis(journal, CHAIN.chain_id)
        assert first == Web3(Web3.HTTPProvider(anvil.url)).to_hex(
            Web3(Web3.HTTPProvider(anvil.url)).eth.get_block(0)["hash"])
        verify_genesis(journal, [chain_rpc(CHAIN, anvil.url)])  # the same chain again: fine
        time.sleep(1.1)  # anvil's genesis carries its start time: a later start is another history
        reset = start_anvil(chain_id=CHAIN.chain_id)
        try:
            with pytest.raises(GenesisMismatch) as info:
                verify_genesis(journal, [chain_rpc(CHAIN, reset.url)])
        finally:
            reset.stop()
        message = str(info.value)
        assert "chain sandbox_a" in message and "SANDBOX_A_RPC_URL" in message and "JOURNAL_PATH" in message
        assert isinstance(info.value, SafetyHalt)  # exit 3: a person looks first
        assert recorded_genesis(journal, CHAIN.chain_id) == first  # the journal still names the first chain


def test_plan_compares_but_never_records(tmp_path: Path) -> None:
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        check_genesis(journal, chain="x", chain_id=5, rpc_env="X", genesis_hash="0xAA", record=False)
        assert recorded_genesis(journal, 5) is None
        check_genesis(journal, chain="x", chain_id=5, rpc_env="X", genesis_hash="0xaa")
        assert recorded_genesis(journal, 5) == "0xaa"
        with pytest.raises(GenesisMismatch):
            check_genesis(journal, chain="x", chain_id=5, rpc_env="X", genesis_hash="0xbb", record=False)


def _journal_mined(journal: JournalStore, nonces: range) -> None:
    """Attempts a previous chain mined at ``nonces`` (what a journal kept across a sandbox reset holds)."""
    signer = wallet_signer()
    for n in nonces:
        attempt = journal.record_attempt(action_id=None, purpose="main", chain_id=CHAIN.chain_id,
                                         sender=signer.address, nonce=n, tx_hash=f"0x{n:064x}", raw_tx=b"\x02",
                                         max_fee_per_gas_wei=10**9, max_priority_fee_per_gas_wei=10**8)
        journal.mark_broadcast(attempt, "definitely")
        journal.mark_attempt(attempt, "mined", block_number=n + 1)


def _request() -> TxRequest:
    return TxRequest(chain_id=CHAIN.chain_id, purpose="main", to=wallet_signer().address, gas=21_000, plan_id="p")


def test_more_gaps_than_the_bound_halt_and_nothing_is_sent(tmp_path: Path, anvil: AnvilProcess) -> None:
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        _journal_mined(journal, range(5))
        sender = LiveSender(chain_rpc(CHAIN, anvil.url), wallet_signer(), journal, FAST, progress=lambda _p: None)
        with pytest.raises(SafetyHalt, match=r"5 nonce gaps .* more than MAX_NONCE_GAP_FILL=3.*fresh JOURNAL_PATH"):
            sender.send(_request())
        assert w3.eth.get_transaction_count(wallet_signer().address) == 0  # not one self-transfer
        assert journal.events("nonce_gap") == []


def test_gaps_within_the_bound_are_filled_each_explained(tmp_path: Path, anvil: AnvilProcess) -> None:
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        _journal_mined(journal, range(2))
        policy = FAST.model_copy(update={"max_nonce_gap_fill": 2})
        sender = LiveSender(chain_rpc(CHAIN, anvil.url), wallet_signer(), journal, policy, progress=lambda _p: None)
        outcome = sender.send(_request())
        assert outcome.status == "mined" and outcome.nonce == 2
        assert w3.eth.get_transaction_count(wallet_signer().address) == 3
        gaps = journal.events("nonce_gap")
        assert [g["detail"]["nonce"] for g in gaps] == [0, 1]
        assert all("later transactions would wait behind it" in g["detail"]["why"] for g in gaps)


def test_sandbox_up_keeps_the_old_journal_aside(tmp_path: Path) -> None:
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        journal.start_cycle()
    (tmp_path / "journal.prices.sqlite").write_bytes(b"")
    moved = retire_journal(tmp_path)
    assert moved is not None and moved.exists() and moved.name.startswith("journal.2")
    assert not (tmp_path / "journal.sqlite").exists() and not (tmp_path / "journal.prices.sqlite").exists()
    with JournalStore.open(moved) as old:
        assert old.summary().cycles  # the previous sandbox's history is intact
    assert retire_journal(tmp_path) is None  # nothing to move: nothing said
