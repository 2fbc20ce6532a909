"""Template filters: numbers, percentages and names as `kpi.formatting` shows them everywhere."""
from django import template
from django.utils.html import format_html

from kpi.formatting import money_text, percent_text, person_name, plain_decimal
from kpi.targets import target_text

register = template.Library()


@register.filter
def plain(value):
    """{{ actual.value|plain }}: 80 rather than 80.0000 or 8E+1."""
    return "" if value is None else plain_decimal(value)


@register.filter
def money(value):
    """{{ project.full_year_budget|money }}: 万元 as published, two places at least (48.60, 438.768)."""
    return "" if value is None or value == "" else money_text(value)


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


@register.filter
def target(raw):
    """{{ indicator.target_raw|target }}: the 指标值 as a person writes it (≥98%, not $\\geq 98\\%$)."""
    return target_text(raw)


@register.simple_tag
def target_shown(raw):
    """{% target_shown indicator.target_raw %}: the tidy 指标值, with the published text one click away
    when the two differ."""
    shown = target_text(raw)
    if shown == (raw or "").strip():
        return format_html('<span class="target">{}</span>', shown)
    return format_html('<details class="target"><summary>{}</summary><small>原文：{}</small></details>', shown, raw)
