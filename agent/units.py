"""The one home of unit conversions: raw integer amounts ↔ Decimal token units, wei ↔ gwei ↔ native coin.

Exact for every uint256: the arithmetic runs in a context wide enough for 78 digits plus any decimals, so
``to_raw(to_units(raw, d), d) == raw`` always holds (the default 28-digit context would round large
amounts). ``to_raw`` rounds toward zero unless told otherwise (never sell or promise more than held).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal

NATIVE_DECIMALS = 18
GWEI_DECIMALS = 9
WEI_PER_GWEI = 10**GWEI_DECIMALS
WEI_PER_NATIVE = 10**NATIVE_DECIMALS
#: 78 digits of uint256 + up to 77 decimals + room to spare.
_EXACT = Context(prec=200)


def to_units(raw: int | Decimal, decimals: int) -> Decimal:
    """``raw`` smallest units as a Decimal number of whole units (e.g. 1_500_000 USDC raw → 1.5)."""
    return Decimal(raw).scaleb(-decimals, context=_EXACT)


def to_raw(amount: Decimal, decimals: int, *, rounding: str = ROUND_DOWN) -> int:
    """``amount`` whole units as raw smallest units, rounded with ``rounding`` (toward zero by default)."""
    return int(Decimal(amount).scaleb(decimals, context=_EXACT).to_integral_value(rounding=rounding, context=_EXACT))


def is_whole_raw(amount: Decimal, decimals: int) -> bool:
    """True when ``amount`` has no more decimals than the token (its raw value is an integer)."""
    scaled = Decimal(amount).scaleb(decimals, context=_EXACT)
    return scaled == scaled.to_integral_value(context=_EXACT)


def wei_to_native(wei: int) -> Decimal:
    """Wei as whole native coin (ETH) units."""
    return to_units(wei, NATIVE_DECIMALS)


def gas_cost_native(gas: int, gas_price_wei: int) -> Decimal:
    """What ``gas`` units cost at ``gas_price_wei``, in whole native coin."""
    return wei_to_native(gas * gas_price_wei)


def gwei_to_wei(gwei: Decimal | None) -> int | None:
    """A gwei setting (may have decimals) as wei, rounded to the nearest wei; None stays None."""
    return None if gwei is None else to_raw(gwei, GWEI_DECIMALS, rounding=ROUND_HALF_EVEN)


def wei_to_gwei(wei: int) -> Decimal:
    return to_units(wei, GWEI_DECIMALS)


def format_gwei(wei: int) -> str:
    """Wei as gwei for humans: three decimals at most, trailing zeros dropped (``1.5``, ``30``)."""
    return f"{wei_to_gwei(wei):.3f}".rstrip("0").rstrip(".")
