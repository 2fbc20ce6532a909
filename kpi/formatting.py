"""How numbers are shown: plain decimals without exponent or trailing zeros (80, 4.33, 485.71)."""
from decimal import Decimal


def plain_decimal(value: Decimal | None) -> str | None:
    """`Decimal("80.0000")` → "80", `Decimal("0.0350")` → "0.035"; never scientific notation (8E+1)."""
    if value is None:
        return None
    return format(value.normalize(), "f")


def tidy_decimal(value: Decimal | None) -> Decimal | None:
    """The same number without the storage's trailing zeros (100.0000 → 100, 80.5000 → 80.5), so texts built
    from it read as published; never in exponent form (1E+2)."""
    if value is None or not value.is_finite():
        return value
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
