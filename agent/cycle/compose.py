"""Composition root: turn the validated config into the adapters the commands and the cycle use."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from eth_account import Account

from agent.chain.rpc import ChainRpc
from agent.config.settings import AppConfig
from agent.errors import ConfigError
from agent.execution.guard import GuardedSender
from agent.execution.sender import DryRunSender, SendPolicy, TxSender
from agent.journal.store import JournalStore
from agent.ports import Signer

S = TypeVar("S", bound=Signer)
log = logging.getLogger(__name__)


def build_rpcs(config: AppConfig) -> list[ChainRpc]:
    s = config.settings
    return [ChainRpc(chain, cs, timeout_s=s.rpc.rpc_timeout_s, attempts=s.rpc.rpc_attempts)
            for chain, cs in config.enabled()]


def signer_wallet(config: AppConfig) -> str | None:
    """The address ``SIGNER`` signs for, resolved without unlocking anything (``agent.signers.address``);
    a SIGNER that does not parse raises ``ConfigError`` here, at start-up, whatever the command."""
    s = config.settings
    if not s.signer:
        return None
    from agent.signers.address import signer_address

    key = s.sandbox_private_key.get_secret_value() if s.sandbox_private_key is not None else None
    return signer_address(s.signer, expected=s.signer_expected_address, sandbox_key=key)


def wallet_address(config: AppConfig) -> str:
    """The wallet to read: WALLET_ADDRESS, else SIGNER's address, else the expected signer address, else the
    sandbox key's address. SIGNER is parsed (and checked against WALLET_ADDRESS) in every case."""
    s = config.settings
    from_signer = signer_wallet(config)
    if s.wallet_address:
        if from_signer is not None and from_signer != s.wallet_address:
            log.warning("WALLET_ADDRESS %s is not the address SIGNER signs for (%s); reading WALLET_ADDRESS",
                        s.wallet_address, from_signer)
        return s.wallet_address
    if from_signer is not None:
        return from_signer
    if s.signer_expected_address:
        return s.signer_expected_address
    if s.sandbox_private_key is not None:
        return str(Account.from_key(s.sandbox_private_key.get_secret_value()).address)
    raise ConfigError("WALLET_ADDRESS: not set; set WALLET_ADDRESS=0x… (the wallet to read), a SIGNER whose "
                      "address is known (anvil:N, keystore:PATH) or SIGNER_EXPECTED_ADDRESS")


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
    execution = config.settings.execution
    if execution.pause_file is not None:  # a pause during a gas wait abandons the action before it is signed
        pause, stop = execution.pause_file, options.get("should_stop")
        options["should_stop"] = lambda: pause.exists() or bool(stop and stop())
    live = LiveSender(rpc, signer, journal, policy, gas_timing=timing, **options)  # type: ignore[arg-type]
    if execution.pause_file is None and execution.max_daily_gas_usd is None:
        return live
    return GuardedSender(live, pause_file=execution.pause_file, max_daily_gas_usd=execution.max_daily_gas_usd,
                         gas_spent_usd=None if journal is None else lambda: daily_spent(journal)[1])


def daily_spent(journal: JournalStore, now: datetime | None = None) -> tuple[Decimal, Decimal]:
    """(trade USD, gas USD) the journal records for the last 24 hours (the daily limits' rolling window)."""
    from agent.journal.spending import spent_since

    return spent_since(journal, (now or datetime.now(UTC)) - timedelta(hours=24))


@contextmanager
def signer_scope(signer: S) -> Iterator[S]:
    """Own ``signer`` for a ``with``: a hardware device, an external signer's HTTP client… is closed on leaving."""
    try:
        yield signer
    finally:
        close = getattr(signer, "close", None)
        if callable(close):
            close()
