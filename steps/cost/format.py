"""How a cost reads on a page. Pure: no Django import.

Three significant digits, at least two decimals, at most six, rounded half up:
$0.0123, $0.000456, $0.0015, $1.23, $1.50, $12.35, $1,234.50. A cost below $0.000001 that is not zero shows
as "<$0.000001", and zero as "$0" (a step with a price and no tokens), so a tiny cost never
reads as free.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SIGNIFICANT = 3
MIN_DECIMALS, MAX_DECIMALS = 2, 6
SMALLEST = Decimal(1).scaleb(-MAX_DECIMALS)


def rounded(value: Decimal) -> Decimal:
    """The displayed value, as a Decimal (tests and tooltips use it)."""
    if value == 0:
        return Decimal(0)
    # adjusted(): the exponent of the leading digit (0.0123 -> -2)
    decimals = SIGNIFICANT - 1 - value.copy_abs().adjusted()
    decimals = max(MIN_DECIMALS, min(MAX_DECIMALS, decimals))
    shown = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    # $0.0015, not $0.00150: trailing zeros past the cents say nothing
    while shown.as_tuple().exponent < -MIN_DECIMALS and shown.as_tuple().digits[-1] == 0:
        shown = shown.quantize(Decimal(1).scaleb(shown.as_tuple().exponent + 1))
    return shown


def usd(value: Decimal) -> str:
    if value == 0:
        return "$0"
    if abs(value) < SMALLEST:
        return f"<${SMALLEST}" if value > 0 else f"-<${SMALLEST}"
    shown = rounded(value)
    sign = "-" if shown < 0 else ""
    return f"{sign}${abs(shown):,}"
