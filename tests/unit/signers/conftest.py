"""Fixtures for the signer protocol-conformance tests (simulators, not devices)."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from agent.signers.simulators.testkit import anvil_account_0


@pytest.fixture(scope="session")
def anvil_account() -> LocalAccount:
    return anvil_account_0()
