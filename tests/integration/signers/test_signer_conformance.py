"""One conformance class for the ``Signer`` port, run against every adapter and every fake behind it.

All of them hold anvil's account 0 (the simulators' test mnemonic), so each must return, byte for byte, the
raw transaction eth-account makes of the same fields: a fake (the Clef/Web3Signer server, the Ledger APDU
simulator, the Trezor simulator) cannot drift from the real signing without this class failing for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from agent.chain.reads import decode_raw
from agent.devtools.simulators.testkit import ANVIL_0, DEFAULT_PATH, RECIPIENT, eth_account_raw, make_tx
from agent.models import UnsignedTx
from agent.ports import Signer
from agent.signers.external import ExternalSigner
from agent.signers.keystore import open_keystore_signer
from agent.signers.ledger import LedgerSigner
from agent.signers.local import LocalKeySigner
from tests.integration.signers.fake_external_signer import FakeSignerServer

Factory = Callable[[pytest.FixtureRequest, LocalAccount, Path], Iterator[Signer]]


def _local(_request: pytest.FixtureRequest, account: LocalAccount, _tmp: Path) -> Iterator[Signer]:
    yield LocalKeySigner.from_key(account.key)


def _keystore(_request: pytest.FixtureRequest, account: LocalAccount, tmp: Path) -> Iterator[Signer]:
    path = tmp / "UTC--conformance"
    path.write_text(json.dumps(Account.encrypt(account.key, "pw", kdf="pbkdf2", iterations=2)))
    yield open_keystore_signer(path, "pw")


def _external(flavor: str) -> Factory:
    def make(_request: pytest.FixtureRequest, account: LocalAccount, _tmp: Path) -> Iterator[Signer]:
        with FakeSignerServer(account, flavor=flavor) as server:
            signer = ExternalSigner(server.url)
            try:
                yield signer
            finally:
                signer.close()

    return make


def _ledger_seam(request: pytest.FixtureRequest, _account: LocalAccount, _tmp: Path) -> Iterator[Signer]:
    yield LedgerSigner(request.getfixturevalue("ledger_sim"), DEFAULT_PATH)


def _ledger_tcp(request: pytest.FixtureRequest, _account: LocalAccount, _tmp: Path) -> Iterator[Signer]:
    with LedgerSigner.open(DEFAULT_PATH, env=request.getfixturevalue("ledger_server").env) as signer:
        yield signer


def _trezor(request: pytest.FixtureRequest, _account: LocalAccount, _tmp: Path) -> Iterator[Signer]:
    sim = request.getfixturevalue("trezor_sim")  # skips without trezorlib
    from agent.devtools.simulators.trezor_sim import SimulatorTransport
    from agent.signers.trezor import TrezorSigner

    signer = TrezorSigner.connect(DEFAULT_PATH, transport=SimulatorTransport(sim))
    try:
        yield signer
    finally:
        signer.close()


def _trezor_udp(request: pytest.FixtureRequest, _account: LocalAccount, _tmp: Path) -> Iterator[Signer]:
    server = request.getfixturevalue("trezor_udp")
    from agent.signers.trezor import TrezorSigner

    signer = TrezorSigner.open(DEFAULT_PATH, env={"TREZOR_PATH": server.path})
    try:
        yield signer
    finally:
        signer.close()


ADAPTERS: dict[str, Factory] = {
    "local-key": _local, "keystore": _keystore, "external-clef": _external("clef"),
    "external-web3signer": _external("web3signer"), "ledger-apdu-sim": _ledger_seam, "ledger-tcp": _ledger_tcp,
    "trezor-sim": _trezor, "trezor-udp": _trezor_udp,
}


@pytest.fixture(params=sorted(ADAPTERS))
def signer(request: pytest.FixtureRequest, anvil_account: LocalAccount, tmp_path: Path) -> Iterator[Signer]:
    yield from ADAPTERS[request.param](request, anvil_account, tmp_path)


class TestSignerConformance:
    def test_is_a_signer_for_the_key(self, signer: Signer) -> None:
        assert isinstance(signer, Signer)
        assert signer.address == ANVIL_0

    @pytest.mark.parametrize("data_len", [0, 300])
    def test_signs_exactly_what_eth_account_signs(self, signer: Signer, anvil_account: LocalAccount,
                                                  data_len: int) -> None:
        tx = make_tx(data_len)
        raw = signer.sign_transaction(tx)
        assert raw == eth_account_raw(anvil_account, tx)
        assert decode_raw(raw) == tx  # every field signed as given, nothing added or changed
        assert Account.recover_transaction(raw) == signer.address

    def test_chain_id_and_nonce_are_part_of_the_signature(self, signer: Signer) -> None:
        one = UnsignedTx(chain_id=31337, nonce=7, to=RECIPIENT, value_wei=1, gas=21_000,
                         max_fee_per_gas_wei=2 * 10**9, max_priority_fee_per_gas_wei=10**9)
        other = one.model_copy(update={"chain_id": 8453, "nonce": 8})
        raw_one, raw_other = signer.sign_transaction(one), signer.sign_transaction(other)
        assert raw_one != raw_other
        assert (decode_raw(raw_one).chain_id, decode_raw(raw_one).nonce) == (31337, 7)
        assert (decode_raw(raw_other).chain_id, decode_raw(raw_other).nonce) == (8453, 8)
        assert {Account.recover_transaction(raw_one), Account.recover_transaction(raw_other)} == {ANVIL_0}
