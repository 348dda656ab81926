"""Exact-amount approvals to allow-listed spenders only (pure planning + the allow-list).

The spenders that may ever receive an approval on a chain: every ``spenders`` entry of every aggregator,
the Uniswap V2 router, SwapRouter02 and the chain's vaults, minus any ``never_approve`` entry. An approval
is planned only when the current allowance is short; it approves exactly the amount needed (never "unlimited"),
and tokens flagged ``approve_requires_zero`` get a reset to 0 first when their allowance is non-zero.
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


def plan_approval(chain: ChainConfig, approval: Approval, *, current_allowance_raw: int) -> list[tuple[str, bytes]]:
    """The approval calls needed, as ``(purpose, calldata)`` to ``approval.token``: none, one or two."""
    check_approval(chain, approval)
    if current_allowance_raw >= approval.amount_raw:
        return []
    token = chain.token_by_address(approval.token)
    calls: list[tuple[str, bytes]] = []
    if token is not None and token.approve_requires_zero and current_allowance_raw > 0:
        calls.append(("approve-reset", approve_calldata(approval.spender, 0)))
    calls.append(("approve", approve_calldata(approval.spender, approval.amount_raw)))
    return calls
