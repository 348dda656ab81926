"""Exact-amount approvals to allow-listed spenders only (pure planning + the allow-list).

The spenders that may ever receive an approval on a chain: every ``spenders`` entry of every aggregator,
the Uniswap V2 router, SwapRouter02 and the chain's vaults, minus any ``never_approve`` entry. An approval
is planned only when the current allowance is short; it approves exactly the amount needed (never "unlimited"),
and tokens flagged ``approve_requires_zero`` get a reset to 0 first when their allowance is non-zero (so does an
unflagged token whose direct non-zero → non-zero approve reverts in simulation, as USDT's does, bare). Approvals
are sent as raw calldata and never decoded, so a token whose approve returns nothing (USDT) is fine.
"""

from __future__ import annotations

from agent.chain.reads import approve_calldata
from agent.config.chains import ChainConfig
from agent.errors import ExecutionError
from agent.execution.intent import Approval


def allowed_spenders(chain: ChainConfig) -> frozenset[str]:
    allowed = {s for allow in chain.aggregators.values() for s in allow.spenders}
    if chain.uniswap_v2 is not None:
        allowed.add(chain.uniswap_v2.router)
    if chain.uniswap_v3 is not None and chain.uniswap_v3.swap_router02 is not None:
        allowed.add(chain.uniswap_v3.swap_router02)
    allowed |= {v.address for v in chain.vaults}
    never = {s for allow in chain.aggregators.values() for s in allow.never_approve}
    return frozenset(allowed - never)


def check_approval(chain: ChainConfig, approval: Approval) -> None:
    """Refuse an approval of an unknown token or to a spender outside the chain's allow-list."""
    if chain.token_by_address(approval.token) is None:
        raise ExecutionError(f"chain {chain.name}: refusing to approve {approval.token}: not a token in "
                             f"chains/{chain.name}.toml")
    if approval.spender not in allowed_spenders(chain):
        raise ExecutionError(
            f"chain {chain.name}: refusing to approve spender {approval.spender}: it is not an allow-listed "
            f"spender (aggregators.*.spenders, uniswap_v2.router, uniswap_v3.swap_router02 or a vault in "
            f"chains/{chain.name}.toml)")


def needs_zero_first(chain: ChainConfig, approval: Approval, *, current_allowance_raw: int) -> bool | None:
    """True when the token is flagged ``approve_requires_zero`` and holds a stale non-zero allowance; None when a
    non-zero allowance is short on an unflagged token (the caller should find out by simulating the direct
    approve: USDT-like tokens revert it bare); False when no reset can be needed."""
    if current_allowance_raw == 0 or current_allowance_raw >= approval.amount_raw:
        return False
    token = chain.token_by_address(approval.token)
    return True if token is not None and token.approve_requires_zero else None


def plan_approval(chain: ChainConfig, approval: Approval, *, current_allowance_raw: int,
                  direct_approve_reverts: bool = False) -> list[tuple[str, bytes]]:
    """The approval calls needed, as ``(purpose, calldata)`` to ``approval.token``: none, one or two.

    ``direct_approve_reverts``: a simulated non-zero → non-zero approve reverted (a USDT-like token the chain
    file does not flag), so the allowance is reset to 0 first as for a flagged token.
    """
    check_approval(chain, approval)
    if current_allowance_raw >= approval.amount_raw:
        return []
    calls: list[tuple[str, bytes]] = []
    reset = needs_zero_first(chain, approval, current_allowance_raw=current_allowance_raw)
    if reset or (reset is None and direct_approve_reverts):
        calls.append(("approve-reset", approve_calldata(approval.spender, 0)))
    calls.append(("approve", approve_calldata(approval.spender, approval.amount_raw)))
    return calls
