"""Composition root: turn the validated config into the adapters the commands and the cycle use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from eth_account import Account

from agent.chain.rpc import ChainRpc
from agent.config.settings import AppConfig
from agent.errors import ConfigError
from agent.execution.sender import DryRunSender, SendPolicy, TxSender
from agent.journal.store import JournalStore
from agent.ports import Signer

S = TypeVar("S", bound=Signer)


def build_rpcs(config: AppConfig) -> list[ChainRpc]:
    s = config.settings
    return [ChainRpc(chain, cs, timeout_s=s.rpc.rpc_timeout_s, attempts=s.rpc.rpc_attempts)
            for chain, cs in config.enabled()]


def wallet_address(config: AppConfig) -> str:
    """The wallet to read: WALLET_ADDRESS, else the sandbox key's address, else the expected signer address."""
    s = config.settings
    if s.wallet_address:
        return s.wallet_address
    if s.signer_expected_address:
        return s.signer_expected_address
    if s.sandbox_private_key is not None:
        return str(Account.from_key(s.sandbox_private_key.get_secret_value()).address)
    raise ConfigError("WALLET_ADDRESS: not set; set WALLET_ADDRESS=0x… (the wallet to read) or SIGNER_EXPECTED_ADDRESS")


def build_sender(config: AppConfig, rpc: ChainRpc, journal: JournalStore | None, signer: Signer | None,
                 dry_run: bool, wallet: str, sender_options: Mapping[str, Any]) -> TxSender:
    """The chain's sender: dry-run (signs nothing) without a signer or with ``dry_run``; else the live sender,
    with the chain's gas gate (``sender.gas_gate``) that the cycle waits on before each action."""
    chain = rpc.chain
    policy = SendPolicy.from_config(config.settings.execution, config.chain_settings[chain.name], chain)
    options = dict(sender_options)
    if "policy" in options:  # e.g. a test's or simulator's shorter receipt timeout
        policy = policy.model_copy(update=dict(options.pop("policy")))
    if dry_run or signer is None:
        return DryRunSender(rpc, policy, wallet)
    from agent.execution.fee_model import GasTimingConfig
    from agent.execution.live import LiveSender

    timing = GasTimingConfig.from_settings(config.chain_settings[chain.name], chain.block_time_s)
    return LiveSender(rpc, signer, journal, policy, gas_timing=timing, **options)  # type: ignore[arg-type]


@contextmanager
def signer_scope(signer: S) -> Iterator[S]:
    """Own ``signer`` for a ``with``: a hardware device, an external signer's HTTP client… is closed on leaving."""
    try:
        yield signer
    finally:
        close = getattr(signer, "close", None)
        if callable(close):
            close()
