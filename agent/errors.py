"""One error tree for the whole agent. Each class says what the loop does with it: its ``disposition``.

    AgentError                      root; never raised directly                              (drop)
    ├── ConfigError                 bad settings, chain config or command input; names the fix  bad input
    ├── TemporaryError              may work later: the loop retries next cycle               retry
    │   ├── ChainUnavailable        no RPC URL of a chain answered                            retry
    │   ├── TransientRpc            one RPC call failed transiently (timeout, connection, HTTP 5xx,
    │   │   │                       JSON-RPC -32002/-32603); retried with backoff, then the next URL
    │   │   ├── RateLimited         HTTP 429 or JSON-RPC -32005 (limit exceeded)              retry
    │   │   └── BroadcastUnknown    eth_sendRawTransaction got no answer the node explains: the
    │   │                           transaction may be in flight ("maybe"); reconciled by hash and nonce  retry
    │   └── EndpointRefused         an RPC URL answered HTTP 4xx (not 429): the next URL is tried   retry
    ├── QuoteError                  a quote source failed or returned something unusable      drop
    │   ├── QuoteRejected           a quote failed validation; ``check`` names the failed check
    │   ├── QuoteTimeout            no answer within the deadline
    │   ├── QuoteRateLimited        HTTP 429 after the last attempt
    │   └── NoLiquidity             the source has no route for this pair and amount
    ├── ExecutionError              drop the plan and alert: revert, receipt failed, balances off   drop
    │   ├── SimulationFailed        eth_call of the transaction reverted; nothing was sent    drop
    │   ├── PriceMoved              a swap refused by its own min-out or deadline: the quote went
    │   │                           stale; re-quoted in the cycle, else retried next cycle    retry
    │   └── TxRejected              the node refused a signed transaction; drop when it lacks funds,
    │                               else retry next cycle                                     drop|retry
    ├── SignerError                 the signer refused or could not sign                      drop
    ├── SandboxError                the local world (devtools) could not be built or driven   halt
    └── SafetyHalt                  stop the agent: an invariant broke (chain id, missing code…)  halt

Library errors are translated into this tree once per adapter (``agent.chain.rpc.translate_rpc_error``,
``agent.quotes.http.HttpApi``, ``agent.chain.reads`` for reverts); nothing decides on message text. The cycle
dispatches on ``disposition``; the CLI maps it to an exit code (``exit_code``).
"""

from __future__ import annotations

from enum import StrEnum


class Disposition(StrEnum):
    """What the loop does with an error."""

    #: the rest of the plan waits; the next cycle plans afresh (network, rate limit, stale price, gas wait)
    RETRY = "retry"
    #: the plan is dropped and journaled as such; the agent goes on
    DROP = "drop"
    #: the agent stops: continuing could risk funds
    HALT = "halt"
    #: the input (settings, chain file, command argument) is wrong; nothing runs until it is fixed
    BAD_INPUT = "bad_input"


#: process exit codes per disposition (the CLI contract: bad input 2, halt 3, anything else 1)
EXIT_CODES = {Disposition.BAD_INPUT: 2, Disposition.HALT: 3, Disposition.RETRY: 1, Disposition.DROP: 1}


class AgentError(Exception):
    """Root of every error the agent raises on purpose."""

    disposition: Disposition = Disposition.DROP


def disposition_of(exc: BaseException) -> Disposition:
    """The disposition of any exception: an ``AgentError`` says; anything else is a bug and halts."""
    return exc.disposition if isinstance(exc, AgentError) else Disposition.HALT


def exit_code(exc: AgentError) -> int:
    return EXIT_CODES[exc.disposition]


class ConfigError(AgentError):
    """A setting, chain config or input is invalid. The message names it and says how to fix it."""

    disposition = Disposition.BAD_INPUT


class TemporaryError(AgentError):
    """Something that may work on a later attempt (network, rate limit, timeout)."""

    disposition = Disposition.RETRY


class ChainUnavailable(TemporaryError):
    """No RPC URL of a chain answered."""


class TransientRpc(TemporaryError):
    """One RPC call failed in a way worth retrying (timeout, connection, HTTP 5xx, overloaded node)."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        #: the HTTP status, when there was one
        self.status = status
        #: the JSON-RPC error code, when there was one
        self.code = code


class RateLimited(TransientRpc):
    """The endpoint asked us to slow down (HTTP 429, JSON-RPC -32005)."""


class BroadcastUnknown(TransientRpc):
    """``eth_sendRawTransaction`` ended without an answer the node explains (transport error, HTTP 5xx, timeout,
    dropped connection, a generic JSON-RPC error): the node may have accepted the transaction. Its attempt stays
    ``maybe`` and is reconciled by hash and by nonce before anything else is signed for that nonce."""


class EndpointRefused(TemporaryError):
    """An RPC URL answered with HTTP 4xx (bad key, wrong path, forbidden): not retried, the next URL is."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class QuoteError(AgentError):
    """A quote source failed (HTTP error, malformed response, no liquidity). ``kind`` names the failure."""

    kind = "error"

    def __init__(self, source: str, reason: str, *, kind: str | None = None) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        if kind is not None:
            self.kind = kind

    @classmethod
    def of(cls, source: str, kind: str, detail: str) -> QuoteError:
        """``QuoteError(source, "<kind>: <detail>", kind=kind)``: the reason starts with its kind."""
        return cls(source, f"{kind}: {detail}", kind=kind)


class QuoteRejected(QuoteError):
    """A quote was returned but failed a validation check; it must never be signed."""

    def __init__(self, source: str, check: str, detail: str) -> None:
        super().__init__(source, f"{check}: {detail}", kind=check)
        self.check = check
        self.detail = detail


class QuoteTimeout(QuoteError):
    """The source did not answer within its deadline."""

    kind = "timeout"


class QuoteRateLimited(QuoteError):
    """The source kept answering HTTP 429."""

    kind = "rate_limited"


class NoLiquidity(QuoteError):
    """The source has no route for this pair and amount."""

    kind = "no_liquidity"


class ExecutionError(AgentError):
    """A planned action could not be executed; the plan is dropped and the failure journaled."""

    disposition = Disposition.DROP


class SimulationFailed(ExecutionError):
    """The eth_call simulation reverted; nothing was sent."""


class PriceMoved(ExecutionError):
    """A swap was refused by its own min-out or deadline (in simulation or on chain): the quote went stale.

    The swap executor re-quotes a few times within the cycle; past that the plan waits for the next cycle."""

    disposition = Disposition.RETRY

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        #: whether a transaction was mined (and reverted) — False when only the simulation refused
        self.sent = sent


class TxRefusal(StrEnum):
    """Why a node refused a signed transaction, when it said so (the message families in ``agent.chain.rpc``)."""

    #: the node already has these exact bytes
    ALREADY_KNOWN = "already_known"
    #: the sender's nonce moved past this one: some transaction (ours or not) holds it
    NONCE_TOO_LOW = "nonce_too_low"
    #: another transaction at this nonce is in the node's pool and this one does not outbid it
    REPLACEMENT_UNDERPRICED = "replacement_underpriced"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    #: below the node's minimum fee or the block's base fee
    UNDERPRICED = "underpriced"
    INTRINSIC_GAS_TOO_LOW = "intrinsic_gas_too_low"
    INVALID_SENDER = "invalid_sender"
    GAS_LIMIT = "gas_limit"
    FEE_CAP = "fee_cap"
    POOL_FULL = "pool_full"
    OVERSIZED = "oversized"
    NONCE_TOO_HIGH = "nonce_too_high"


class TxRejected(ExecutionError):
    """The node refused a signed transaction and said why: ``reason`` is one of ``agent.chain.rpc.TX_REFUSALS``.

    Only these definite answers exist (anything unexplained is ``BroadcastUnknown``). ``insufficient_funds`` drops
    the plan; ``already_known``/``nonce_too_low``/``replacement_underpriced`` mean the transaction, or one at its
    nonce, is already there (``holds_nonce``: the attempt stays "maybe" and is looked up); the others (underpriced,
    intrinsic gas too low, invalid sender…) mean the node does not have it, retried next cycle."""

    def __init__(self, message: str, *, reason: TxRefusal | str) -> None:
        super().__init__(message)
        self.reason = TxRefusal(reason)
        self.disposition = Disposition.DROP if self.reason == TxRefusal.INSUFFICIENT_FUNDS else Disposition.RETRY

    @property
    def holds_nonce(self) -> bool:
        """The node has this transaction or another one at its nonce: it is not proof of "never broadcast"."""
        return self.reason in NONCE_HELD_REFUSALS


#: refusals that say the node already has this transaction, or another one at its nonce
NONCE_HELD_REFUSALS = frozenset({TxRefusal.ALREADY_KNOWN, TxRefusal.NONCE_TOO_LOW, TxRefusal.REPLACEMENT_UNDERPRICED})


class SignerError(AgentError):
    """The signer could not or would not sign."""


class SandboxError(AgentError):
    """The local world (anvil, deployed contracts, the replica, the market simulator) failed to build or act."""

    disposition = Disposition.HALT


class SafetyHalt(AgentError):
    """An invariant broke; the agent stops rather than risk funds."""

    disposition = Disposition.HALT
