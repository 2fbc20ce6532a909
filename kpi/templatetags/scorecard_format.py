"""Filters of the scorecard pages."""
from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def percent(rate):
    """{{ rate|percent }}: a fraction as a percentage with two places (0.9321 → 93.21%); "" for None."""
    if rate is None or rate == "":
        return ""
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'))}%"


@register.filter
def indent(depth, step=20):
    """{{ row.depth|indent }}: the left padding, in pixels, of a unit at that depth of the tree."""
    return int(depth) * int(step)
