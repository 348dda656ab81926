"""A cycle owns its quote sources (one HTTP client per source per chain, shared by every quote of the cycle) and
closes them at its end; the run command owns the signer and closes it when it leaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.chain.rpc import ChainRpc
from agent.config.settings import load_config
from agent.cycle.compose import signer_scope
from agent.cycle.resources import CycleResources
from agent.quotes.base import HttpSource


def _rpc_and_settings():  # type: ignore[no-untyped-def]
    env = {"CHAINS": "sandbox_a", "SANDBOX_A_RPC_URL": "http://127.0.0.1:9", "TARGETS": "ETH:100",
           "QUOTE_SOURCES": "onchain,0x,odos"}
    cfg = load_config(env, env_file=Path("/nonexistent"))
    return ChainRpc(*cfg.enabled()[0]), cfg.settings.aggregators


def test_one_set_of_sources_per_chain_per_cycle_closed_at_its_end() -> None:
    rpc, aggregators = _rpc_and_settings()
    with CycleResources(aggregators) as resources:
        first = resources.sources(rpc)
        again = resources.sources(rpc)
        assert [s.name for s in first] == ["onchain", "0x", "odos"]
        assert all(a is b for a, b in zip(first, again, strict=True))  # the same clients, not new ones
        http = [s for s in first if isinstance(s, HttpSource)]
        assert len(http) == 2 and not any(s.api.closed for s in http)
    assert all(s.api.closed for s in http)
    with pytest.raises(RuntimeError):
        resources.sources(rpc)


def test_sources_are_closed_even_when_the_cycle_fails() -> None:
    rpc, aggregators = _rpc_and_settings()
    with pytest.raises(ZeroDivisionError), CycleResources(aggregators) as resources:
        http = [s for s in resources.sources(rpc) if isinstance(s, HttpSource)]
        1 / 0  # noqa: B018
    assert http and all(s.api.closed for s in http)


def test_signer_scope_closes_the_signer() -> None:
    class Device:
        address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        closed = 0

        def sign_transaction(self, tx: object) -> bytes:
            return b""

        def close(self) -> None:
            self.closed += 1

    device = Device()
    with pytest.raises(KeyboardInterrupt), signer_scope(device) as signer:
        assert signer is device
        raise KeyboardInterrupt
    assert device.closed == 1
