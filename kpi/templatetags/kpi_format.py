from django import template

from kpi.formatting import plain_decimal

register = template.Library()


@register.filter
def plain(value):
    """{{ actual.value|plain }}: 80 rather than 80.0000 or 8E+1."""
    return "" if value is None else plain_decimal(value)
