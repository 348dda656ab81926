"""Checks made before every transaction is sent (#14 item 8): the pause file and the daily gas budget.

``GuardedSender`` wraps a live sender: each ``send`` (an approval, a swap, each chunk of a split swap, a vault
move, a gap fill's action) first looks for ``PAUSE_FILE`` and at the gas paid in the last 24 hours. Either
refuses with a ``TemporaryError`` (nothing was signed; the cycle leaves the rest of its plan to a later cycle).
Settling what is already in flight (``resume``, rebroadcasts, cancels) is never blocked: it sends nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent.errors import TemporaryError
from agent.execution.intent import TxOutcome, TxRequest


class SendPaused(TemporaryError):
    """PAUSE_FILE exists: nothing is sent while it does."""


class GasBudgetSpent(TemporaryError):
    """MAX_DAILY_GAS_USD is used up for the last 24 hours."""


def check_pause(pause_file: Path | None) -> None:
    if pause_file is not None and pause_file.exists():
        raise SendPaused(f"paused: PAUSE_FILE {pause_file} exists, so nothing is sent; remove the file to resume")


class GuardedSender:
    """A live sender that checks the pause file and the daily gas budget before each transaction."""

    def __init__(self, inner: Any, *, pause_file: Path | None, max_daily_gas_usd: Decimal | None = None,
                 gas_spent_usd: Callable[[], Decimal] | None = None) -> None:
        self.inner = inner
        self.pause_file = pause_file
        self.max_daily_gas_usd = max_daily_gas_usd
        self.gas_spent_usd = gas_spent_usd

    def __getattr__(self, name: str) -> Any:  # mode, address, gas_gate, progress, resume, cancel…
        return getattr(self.inner, name)

    def check(self) -> None:
        check_pause(self.pause_file)
        if self.max_daily_gas_usd is not None and self.gas_spent_usd is not None:
            spent = self.gas_spent_usd()
            if spent >= self.max_daily_gas_usd:
                raise GasBudgetSpent(f"gas paid in the last 24 h ({spent:,.2f} USD) reached MAX_DAILY_GAS_USD="
                                     f"{self.max_daily_gas_usd}; nothing is sent until the window has room")

    def send(self, req: TxRequest) -> TxOutcome:
        self.check()
        return self.inner.send(req)
