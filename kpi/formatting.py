"""How numbers are shown: plain decimals without exponent or trailing zeros (80, 4.33, 485.71)."""
from decimal import Decimal


def plain_decimal(value: Decimal | None) -> str | None:
    """`Decimal("80.0000")` → "80", `Decimal("0.0350")` → "0.035"; never scientific notation (8E+1)."""
    if value is None:
        return None
    return format(value.normalize(), "f")
