"""One conformance class for the ``TxSender`` port: the live sender on anvil and the dry-run sender.

Both take the same ``TxRequest`` and must answer with the same outcome shape (purpose, nonce, recipient,
fees under the policy); they differ only where the port says they do: live mines it, dry-run leaves the
chain untouched. A dry run that drifted from what live would send (another nonce, no fees) fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from agent.devtools.simulators.testkit import RECIPIENT
from agent.execution.intent import TxRequest
from agent.execution.live import LiveSender
from agent.execution.sender import DryRunSender, TxSender
from agent.journal.records import Mode
from agent.journal.store import JournalStore

from .helpers import FAST, chain_rpc, wallet_signer

pytestmark = pytest.mark.anvil
CAPPED = FAST.model_copy(update={"hard_cap_wei": 100 * 10**9})


@pytest.fixture(params=[Mode.LIVE, Mode.DRY_RUN], ids=["live", "dry-run"])
def sender(request: pytest.FixtureRequest, world: Any, tmp_path: Path) -> Iterator[TxSender]:
    rpc = chain_rpc(world.chain, world.rpc_url)
    if request.param == Mode.DRY_RUN:
        yield DryRunSender(rpc, CAPPED, world.wallet)
        return
    with JournalStore.open(tmp_path / "journal.sqlite") as journal:
        yield LiveSender(rpc, wallet_signer(), journal, CAPPED, progress=lambda _p: None)


class TestTxSenderConformance:
    def test_names_its_mode_and_address(self, sender: TxSender, world: Any) -> None:
        assert sender.mode in (Mode.LIVE, Mode.DRY_RUN)
        assert sender.address == world.wallet

    def test_send_answers_with_the_nonce_fees_and_recipient(self, sender: TxSender, world: Any) -> None:
        w3 = Web3(Web3.HTTPProvider(world.rpc_url))
        nonce, before = w3.eth.get_transaction_count(world.wallet), w3.eth.get_balance(RECIPIENT)
        req = TxRequest(chain_id=world.chain.chain_id, purpose="main", to=RECIPIENT, value_wei=12_345, gas=21_000)
        outcome = sender.send(req)
        assert (outcome.purpose, outcome.nonce, outcome.to) == ("main", nonce, RECIPIENT)
        assert outcome.max_fee_per_gas_wei is not None and outcome.max_priority_fee_per_gas_wei is not None
        assert 0 < outcome.max_priority_fee_per_gas_wei <= outcome.max_fee_per_gas_wei
        assert outcome.max_fee_per_gas_wei <= CAPPED.hard_cap_wei  # type: ignore[operator]
        if sender.mode == Mode.LIVE:
            assert outcome.status == "mined" and outcome.tx_hash and outcome.block_number
            assert w3.eth.get_transaction_count(world.wallet) == nonce + 1
            assert w3.eth.get_balance(RECIPIENT) - before == 12_345
        else:
            assert outcome.status == "dry_run"
            assert w3.eth.get_transaction_count(world.wallet) == nonce and w3.eth.get_balance(RECIPIENT) == before

    def test_resume_of_an_action_with_nothing_journaled_is_empty(self, sender: TxSender) -> None:
        assert sender.resume(424242) == []
