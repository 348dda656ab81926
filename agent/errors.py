"""One error tree for the whole agent. Each class says what the loop should do.

    AgentError                      root; never raised directly
    ├── ConfigError                 stop: bad settings or chain config; message names the setting and the fix
    ├── TemporaryError              retry later: RPC down, HTTP 429/5xx, timeouts
    │   └── ChainUnavailable        one chain could not be reached through any of its RPC URLs
    ├── QuoteError                  a quote source failed or returned something unusable
    │   └── QuoteRejected           a quote failed validation; ``check`` names the failed check
    ├── ExecutionError              drop the plan and alert: simulation revert, receipt failed, balances off
    │   └── SimulationFailed        eth_call of the transaction reverted; nothing was sent
    ├── SignerError                 the signer refused or could not sign (device locked, wrong password…)
    └── SafetyHalt                  stop the agent: an invariant broke (chain id mismatch, missing code…)
"""

from __future__ import annotations


class AgentError(Exception):
    """Root of every error the agent raises on purpose."""


class ConfigError(AgentError):
    """A setting or chain config is invalid. The message names it and says how to fix it."""


class TemporaryError(AgentError):
    """Something that may work on a later attempt (network, rate limit, timeout)."""


class ChainUnavailable(TemporaryError):
    """No RPC URL of a chain answered."""


class QuoteError(AgentError):
    """A quote source failed (HTTP error, malformed response, no liquidity)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class QuoteRejected(QuoteError):
    """A quote was returned but failed a validation check; it must never be signed."""

    def __init__(self, source: str, check: str, detail: str) -> None:
        super().__init__(source, f"{check}: {detail}")
        self.check = check
        self.detail = detail


class ExecutionError(AgentError):
    """A planned action could not be executed; the plan is dropped and the failure journaled."""


class SimulationFailed(ExecutionError):
    """The eth_call simulation reverted; nothing was sent."""


class SignerError(AgentError):
    """The signer could not or would not sign."""


class SafetyHalt(AgentError):
    """An invariant broke; the agent stops rather than risk funds."""
