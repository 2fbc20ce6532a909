"""How numbers and people are shown, everywhere (pages, exports, e-mails). Pure Python, no Django.

- `plain_decimal`: 80, 4.33, 485.71 — no exponent, no storage zeros;
- `percent_text`: a fraction as a percentage with two places (0.9321 → "93.21%");
- `person_name`: a person as Chinese users write a name, family name first and no space ("王芳").
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")


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


def percent_text(fraction: Decimal | float | str | None) -> str | None:
    """0.4321 → "43.21%" (ROUND_HALF_UP); None (an undefined or missing rate) → None."""
    if fraction is None or fraction == "":
        return None
    return f"{(Decimal(fraction) * 100).quantize(_CENT, ROUND_HALF_UP)}%"


def person_name(user) -> str:
    """A user's name, family name first ("王芳", never "芳 王"); the login name when no name is set.

    Takes any object with `last_name`, `first_name` and `get_username()` (Django's user model).
    """
    if user is None:
        return ""
    last, first = (user.last_name or "").strip(), (user.first_name or "").strip()
    if last and first and (last + first).isascii():
        return f"{first} {last}"  # a Latin name keeps its own order and space
    return f"{last}{first}" or user.get_username()
