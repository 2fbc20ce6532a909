"""The fiscal years Jixiao accepts, in one place: budgets and kpi (which may import budgets, never back) check
every year from a URL, a query string, a form or a file against this range before reading or storing it."""
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

YEAR_MIN = 2000
YEAR_MAX = 2100
YEAR_RANGE_TEXT = f"{YEAR_MIN} 到 {YEAR_MAX}"


def year_valid(year) -> bool:
    return isinstance(year, int) and not isinstance(year, bool) and YEAR_MIN <= year <= YEAR_MAX


def year_message(year) -> str:
    return f"年度“{year}”无效：应在 {YEAR_RANGE_TEXT} 之间。"


def year_check(year: int) -> None:
    """Refuse, in Chinese, a year outside YEAR_MIN–YEAR_MAX (a write service's first check)."""
    if not year_valid(year):
        raise ValidationError({"year": year_message(year)})


# On the model fields (so the admin and every full_clean refuse such a year too).
YEAR_VALIDATORS = [
    MinValueValidator(YEAR_MIN, message=f"年度应在 {YEAR_RANGE_TEXT} 之间。"),
    MaxValueValidator(YEAR_MAX, message=f"年度应在 {YEAR_RANGE_TEXT} 之间。"),
]


class YearConverter:
    """<year:year> in a URL: four digits from YEAR_MIN to YEAR_MAX; anything else matches no URL (404)."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        year = int(value)
        if not year_valid(year):
            raise ValueError(year_message(value))  # Django reads a ValueError as "no match"
        return year

    def to_url(self, value) -> str:
        return str(value)
