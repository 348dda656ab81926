"""What a revert means, read from its data: a swap's own price guard (min-out, deadline) versus anything else.

A router that refuses a swap because the output fell below its minimum, or its deadline passed, says the quote
went stale — ``PriceMoved`` (retry with a fresh quote) — rather than that the plan is wrong. The signal is the
revert data the contract returned: an ``Error(string)`` reason of the routers we call, or a custom-error selector.
This table is the one place such reasons are read.
"""

from __future__ import annotations

from eth_utils import keccak

#: ``Error(string)`` reasons (lower-cased fragments) of price guards: Uniswap V2/V3 routers, SwapRouter02, the
#: sandbox aggregator router, and the aggregators' routers (1inch, ParaSwap, KyberSwap, Odos, 0x)
PRICE_GUARD_REASONS = ("insufficient_output_amount", "min_amount_out", "too little received", "min out",
                       "minreturn", "return amount is not enough", "slippage", "expired", "deadline",
                       "transaction too old")
#: custom errors of price guards, by signature
PRICE_GUARD_ERRORS = ("ReturnAmountIsNotEnough(uint256,uint256)", "V2TooLittleReceived()", "V3TooLittleReceived()",
                      "TransactionDeadlinePassed()", "TooLittleReceived()", "DeadlinePassed()")
PRICE_GUARD_SELECTORS = frozenset(keccak(text=sig)[:4] for sig in PRICE_GUARD_ERRORS)


def is_price_guard(*, selector: bytes | None, reason: str) -> bool:
    """Whether a revert (its 4-byte selector when known, and its decoded ``Error(string)`` reason) is a swap's
    price guard firing."""
    if selector is not None and selector in PRICE_GUARD_SELECTORS:
        return True
    text = reason.lower()
    return any(fragment in text for fragment in PRICE_GUARD_REASONS)
