"""The external JSON-RPC signer (Clef, Web3Signer) against the fake signer server on loopback."""

from __future__ import annotations

import pytest

from agent.errors import SignerError
from agent.signers.external import ExternalSigner
from agent.signers.factory import open_signer
from tests.integration.signers.fake_external_signer import FakeSignerServer
from tests.signing import ACCOUNT, EXPECTED_RAW, TX


@pytest.mark.parametrize("flavor", ["clef", "web3signer"])
def test_external_signer_both_flavors(flavor: str) -> None:
    with FakeSignerServer(ACCOUNT, flavor=flavor) as server:
        signer = open_signer(f"external:{server.url}", expected_address=ACCOUNT.address, env={})
        assert isinstance(signer, ExternalSigner) and signer.flavor == flavor
        assert signer.sign_transaction(TX) == EXPECTED_RAW
        sent = server.requests[-1]
        method = "account_signTransaction" if flavor == "clef" else "eth_signTransaction"
        assert sent["method"] == method
        assert sent["params"][0]["from"] == ACCOUNT.address and sent["params"][0]["nonce"] == "0x3"
        signer.close()


def test_external_refusal_and_tampering_are_signer_errors() -> None:
    with FakeSignerServer(ACCOUNT) as server:
        signer = ExternalSigner(server.url)
        server.refuse = True
        with pytest.raises(SignerError, match="refused to sign: Request denied"):
            signer.sign_transaction(TX)
        server.refuse, server.tamper = False, True
        with pytest.raises(SignerError, match="differs from the one requested"):
            signer.sign_transaction(TX)
        with pytest.raises(SignerError, match="does not hold"):
            ExternalSigner(server.url, address="0x000000000000000000000000000000000000dEaD")
