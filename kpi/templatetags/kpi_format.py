"""Template filters: numbers, percentages and names as `kpi.formatting` shows them everywhere."""
from django import template

from kpi.formatting import percent_text, person_name, plain_decimal

register = template.Library()


@register.filter
def plain(value):
    """{{ actual.value|plain }}: 80 rather than 80.0000 or 8E+1."""
    return "" if value is None else plain_decimal(value)


@register.filter
def percent(rate):
    """{{ rate|percent }}: a fraction as a percentage with two places (0.9321 → 93.21%); "" for None."""
    return percent_text(rate) or ""


@register.filter
def person(user):
    """{{ report.submitted_by|person }}: family name first ("王芳"); the login name when no name is set."""
    return person_name(user)


@register.filter
def indent(depth, step=20):
    """{{ row.depth|indent }}: the left padding, in pixels, of a unit at that depth of the tree."""
    return int(depth) * int(step)
