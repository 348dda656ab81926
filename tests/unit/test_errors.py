"""Every error class says what the loop does with it, and the CLI's exit code follows from that."""

from __future__ import annotations

import pytest

from agent.cli import exit_code_for
from agent.errors import (
    AgentError,
    ChainUnavailable,
    ConfigError,
    Disposition,
    EndpointRefused,
    ExecutionError,
    NoLiquidity,
    PriceMoved,
    QuoteError,
    QuoteRejected,
    QuoteTimeout,
    RateLimited,
    SafetyHalt,
    SandboxError,
    SignerError,
    SimulationFailed,
    TemporaryError,
    TransientRpc,
    TxRejected,
    disposition_of,
)
from agent.execution.gas_wait import GasWaitAborted, GasWaitTimeout


@pytest.mark.parametrize(("exc", "disposition", "code"), [
    (ConfigError("X: bad"), Disposition.BAD_INPUT, 2),
    (SafetyHalt("chain id"), Disposition.HALT, 3),
    (SandboxError("deploy reverted"), Disposition.HALT, 3),
    (TemporaryError("later"), Disposition.RETRY, 1),
    (ChainUnavailable("none answered"), Disposition.RETRY, 1),
    (TransientRpc("503", status=503), Disposition.RETRY, 1),
    (RateLimited("429", status=429), Disposition.RETRY, 1),
    (EndpointRefused("401", status=401), Disposition.RETRY, 1),
    (GasWaitTimeout("deadline"), Disposition.RETRY, 1),
    (GasWaitAborted("stop"), Disposition.RETRY, 1),
    (PriceMoved("min out"), Disposition.RETRY, 1),
    (TxRejected("pool full", reason="pool_full"), Disposition.RETRY, 1),
    (TxRejected("no funds", reason="insufficient_funds"), Disposition.DROP, 1),
    (ExecutionError("deltas off"), Disposition.DROP, 1),
    (SimulationFailed("reverted"), Disposition.DROP, 1),
    (QuoteError("0x", "http_status: HTTP 400", kind="http_status"), Disposition.DROP, 1),
    (SignerError("locked"), Disposition.DROP, 1),
])
def test_disposition_and_exit_code(exc: AgentError, disposition: Disposition, code: int) -> None:
    assert exc.disposition == disposition
    assert disposition_of(exc) == disposition
    assert exit_code_for(exc) == code


def test_anything_outside_the_tree_halts() -> None:
    assert disposition_of(RuntimeError("a bug")) == Disposition.HALT


def test_quote_errors_carry_their_kind() -> None:
    assert NoLiquidity("odos", "no_liquidity: no route").kind == "no_liquidity"
    assert QuoteTimeout("0x", "timeout: 8s").kind == "timeout"
    assert QuoteError.of("1inch", "bad_response", "x is not a number").reason == "bad_response: x is not a number"
    assert QuoteError.of("1inch", "bad_response", "x").kind == "bad_response"
    assert QuoteRejected("0x", "price_deviation", "too far").kind == "price_deviation"
    assert QuoteError("odos", "something").kind == "error"
