"""Senders: the only place that assigns nonces, signs, broadcasts and waits for receipts.

``TxSender`` is the seam the pipeline talks to. ``LiveSender`` (``agent.execution.live``) signs and
broadcasts; ``DryRunSender`` here simulates nothing further, signs nothing and records what would be
sent (nonce, fees, and whether the gas policy would wait). Dry-run is this adapter, not flags.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Protocol, TextIO

from pydantic import BaseModel, ConfigDict, Field

from agent.chain.reads import fetch_fee_inputs, fetch_nonces
from agent.chain.rpc import ChainRpc
from agent.config.chains import ChainConfig
from agent.config.settings import ChainSettings, ExecutionSettings
from agent.execution.fees import plan_fees
from agent.execution.gas_wait import GasWaitProgress
from agent.execution.intent import TxOutcome, TxRequest
from agent.journal.records import Mode
from agent.units import gwei_to_wei

log = logging.getLogger(__name__)

#: Crash-injection seam for the kill tests: ``before_broadcast`` / ``after_broadcast`` (optionally
#: ``:PURPOSE``, e.g. ``before_broadcast:main``). Inert unless the variable is set.
CRASH_ENV = "REBALANCER_CRASH_AT"


def crash_point(point: str, purpose: str) -> None:
    wanted = os.environ.get(CRASH_ENV)
    if wanted and wanted in (point, f"{point}:{purpose}"):
        os.kill(os.getpid(), signal.SIGKILL)


class SendPolicy(BaseModel):
    """How one chain's transactions are priced, waited for and replaced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_base_fee_wei: int | None = None
    hard_cap_wei: int | None = None
    gas_wait_deadline_s: float = Field(default=3600.0, gt=0)
    priority_fee_percentile: float = Field(default=20.0, ge=0, le=100)
    #: a transaction not mined after this many blocks is replaced (fees +12.5%) or cancelled
    replace_after_blocks: int = Field(default=3, ge=1)
    #: stop waiting for a receipt after this many blocks or seconds (the attempt stays journaled as in flight;
    #: the time bound is what ends the wait on a chain that stopped producing blocks)
    receipt_timeout_blocks: int = Field(default=200, ge=1)
    receipt_timeout_s: float = Field(default=600.0, gt=0)
    poll_s: float = Field(default=1.0, gt=0)
    gas_margin: float = Field(default=1.25, ge=1.0)
    #: a receipt counts once this many blocks are on top of its block and it is still canonical (0: at once);
    #: a receipt a reorg removed puts the same signed bytes back on the wire
    confirmations: int = Field(default=0, ge=0)
    #: give up waiting for those blocks after this long (the attempt stays journaled and is reconciled later)
    confirm_timeout_s: float = Field(default=900.0, gt=0)
    #: at most this many nonce gaps are filled before a send; more halts (``MAX_NONCE_GAP_FILL``)
    max_nonce_gap_fill: int = Field(default=3, ge=0)

    @classmethod
    def from_config(cls, settings: ExecutionSettings, chain_settings: ChainSettings, chain: ChainConfig) -> SendPolicy:
        return cls(max_base_fee_wei=gwei_to_wei(chain_settings.max_base_fee_gwei),
                   hard_cap_wei=gwei_to_wei(chain_settings.hard_cap_gwei),
                   gas_wait_deadline_s=chain_settings.gas_wait_deadline_s,
                   priority_fee_percentile=settings.priority_fee_percentile,
                   replace_after_blocks=settings.replace_after_blocks,
                   poll_s=min(max(chain.block_time_s / 4, 0.25), 3.0),
                   receipt_timeout_s=max(120.0, 25 * chain.block_time_s),
                   confirmations=chain_settings.confirmations,
                   confirm_timeout_s=max(900.0, 20 * chain_settings.confirmations * chain.block_time_s),
                   max_nonce_gap_fill=settings.max_nonce_gap_fill)


class TxSender(Protocol):
    """Turns a simulated ``TxRequest`` into an outcome. ``mode`` is ``Mode.LIVE`` or ``Mode.DRY_RUN``."""

    mode: Mode

    @property
    def address(self) -> str: ...

    def send(self, req: TxRequest) -> TxOutcome:
        """Price, sign, journal, broadcast and wait (live) — or report what would be sent (dry-run)."""
        ...

    def resume(self, action_id: int) -> list[TxOutcome]:
        """Settle the action's journaled attempts that may be in flight; outcomes per nonce."""
        ...


class TerminalProgress:
    """Gas-wait progress as one updating line on a terminal (stderr), or INFO log lines otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, progress: GasWaitProgress) -> None:
        line = progress.line()
        if self.stream.isatty():
            end = "\n" if progress.state != "waiting" else ""
            self.stream.write("\r\033[K" + line + end)
            self.stream.flush()
        else:
            log.info("%s", line)


class DryRunSender:
    """Signs nothing and sends nothing; ``report`` lists every transaction a live run would send now."""

    mode = Mode.DRY_RUN

    def __init__(self, rpc: ChainRpc, policy: SendPolicy, address: str) -> None:
        self.rpc = rpc
        self.policy = policy
        self._address = address
        self._offset = 0
        self.report: list[TxOutcome] = []

    @property
    def address(self) -> str:
        return self._address

    def send(self, req: TxRequest) -> TxOutcome:
        inputs = fetch_fee_inputs(self.rpc, percentile=self.policy.priority_fee_percentile)
        decision = plan_fees(base_fee_wei=inputs.base_fee_wei, priority_fee_wei=inputs.priority_fee_wei,
                             limit_wei=self.policy.max_base_fee_wei, hard_cap_wei=self.policy.hard_cap_wei,
                             urgent=req.urgent)
        _, pending = fetch_nonces(self.rpc, self._address)
        note = decision.reason if decision.send else f"would wait: {decision.reason}"
        outcome = TxOutcome(purpose=req.purpose, status="dry_run", nonce=pending + self._offset, to=req.to,
                            gas_used=req.gas, max_fee_per_gas_wei=decision.max_fee_per_gas_wei or None,
                            max_priority_fee_per_gas_wei=decision.max_priority_fee_per_gas_wei or None,
                            fee_note=note)
        self._offset += 1
        self.report.append(outcome)
        log.info("dry-run: chain %s plan %s would send %s to %s (gas %s, nonce %s): %s", req.chain_id,
                 req.plan_id, req.purpose, req.to, req.gas, outcome.nonce, note)
        return outcome

    def resume(self, action_id: int) -> list[TxOutcome]:
        return []
