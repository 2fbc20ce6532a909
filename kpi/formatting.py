"""How numbers and people are shown, everywhere (pages, exports, e-mails). Pure Python, no Django.

- `plain_decimal`: 80, 4.33, 485.71 — no exponent, no storage zeros;
- `money_text`: an amount in 万元 as published: two places at least, up to four (48.60, 438.768);
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


def actual_text(*, value: Decimal | None, met: bool | None, grade: str, unit: str) -> str:
    """An actual as the 自评表 and the editor show it: the value in the indicator's unit (with the grade when
    one was given too), else 达成 / 未达成, else the grade."""
    if value is not None:
        text = f"{plain_decimal(value)}{unit}"
        return f"{text}（{grade}）" if grade else text
    if met is not None:
        return "达成" if met else "未达成"
    return grade


def tidy_decimal(value: Decimal | None) -> Decimal | None:
    """The same number without the storage's trailing zeros (100.0000 → 100, 80.5000 → 80.5), so texts built
    from it read as published; never in exponent form (1E+2)."""
    if value is None or not value.is_finite():
        return value
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


MONEY_PLACES = 4  # 万元 keep the decimals they were published with, up to four


def money_text(value: Decimal | None) -> str | None:
    """An amount in 万元 as published: `48.6000` → "48.60", `438.7680` → "438.768", `1E+1` → "10.00"."""
    if value is None:
        return None
    value = Decimal(value)
    places = max(2, min(MONEY_PLACES, -tidy_decimal(value).as_tuple().exponent))
    return f"{value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):f}"


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
