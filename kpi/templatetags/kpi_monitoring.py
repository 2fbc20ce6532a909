"""Tags of 绩效运行监控.

- {% monitoring_cut_form unit year %}: the way from a scorecard or a project page to the unit's 绩效运行监控表,
  with the cut month chosen there (1–7月 by default). Shown only to whoever may see the unit.
- {% monitoring_lines block %}: the indicator rows of a block of the 监控表 page, rendered in Python.
"""
from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from kpi import permissions
from kpi.formatting import plain_decimal
from kpi.monitoring.selectors import DEFAULT_CUT_MONTH, month_end
from kpi.templatetags.kpi_format import target_shown

register = template.Library()


@register.inclusion_tag("monitoring/_cut_form.html", takes_context=True)
def monitoring_cut_form(context, unit, year, allowed=None, label=""):
    """A small GET form opening `monitoring:unit` at the month picked. `allowed=True` skips the check when
    the page already knows the user may see the unit (its scorecard, an administrator); otherwise
    `kpi.permissions.can_see_unit` decides, so a lead, who may not see the unit, gets no form."""
    if not allowed:
        request = context.get("request")
        user = getattr(request, "user", None)
        allowed = user is not None and permissions.can_see_unit(user, unit.pk)
    return {
        "allowed": allowed, "unit": unit, "year": year, "label": label, "default_month": DEFAULT_CUT_MONTH,
        "months": [(month, month_end(year, month)) for month in range(1, 13)],
    }


_RECTIFY = {True: "是", False: "否"}  # 是否需要整改; blank when nothing was reported


@register.simple_tag
def monitoring_lines(block):
    """The ``<tr>`` of each indicator line of a `TableBlock` (templates/monitoring/unit.html), the HTML the
    template loop gave, byte for byte (a test compares them): a template variable lookup per cell, and the
    properties of a line asked several times each, were most of the page's rendering time (20 projects ×
    their indicators × 12 cells). Every value is escaped as ``{{ }}`` escapes it."""
    shown_targets: dict[str, str] = {}  # tables copied from one template repeat their targets
    parts = []
    for line in block.lines:
        indicator, actual = line.indicator, line.actual
        unit = conditional_escape(indicator.unit)
        raw = indicator.target_raw
        target = shown_targets.get(raw)
        if target is None:
            target = shown_targets[raw] = target_shown(raw)
        if actual is None:
            value = '<span class="missing">未填报</span>'
            status = "—"
        else:
            if actual.value is not None:
                value = f"{conditional_escape(plain_decimal(actual.value))}{unit}"
            else:
                value = conditional_escape(line.value_text)  # None reads "None", as {{ }} wrote it
            state = "approved" if line.approved else "pending"
            status = (f'<span class="{state}">{conditional_escape(line.status_label)}</span><br>'
                      f'<small class="explain">截至 {actual.as_of.month}月{actual.as_of.day}日</small>')
        if line.forecast is not None:
            forecast = f"{conditional_escape(plain_decimal(line.forecast))}{unit}"
            if line.forecast_projected:
                forecast += '<br><small class="explain">按进度推算</small>'
        elif actual is not None:
            forecast = "—"
        else:
            forecast = '<span class="missing">未填报</span>'
        rectify = _RECTIFY.get(line.needs_rectification, "")
        light = line.light
        label = conditional_escape(light.label)
        parts.append(
            "\n  <tr>\n"
            f"    <td>{conditional_escape(indicator.level1)}</td><td>{conditional_escape(indicator.level2)}</td>"
            f"<td>{conditional_escape(indicator.name)}</td>\n"
            f"    <td>{target}</td>\n"
            f'    <td class="num">{value}</td>\n'
            f"    <td>{status}</td>\n"
            f'    <td class="num">{forecast}</td>\n'
            f"    <td>{conditional_escape(line.deviation or '')}</td>\n"
            f"    <td>{conditional_escape(line.likelihood)}</td>\n"
            f"    <td>{rectify}</td>\n"
            f"    <td>{linebreaksbr(line.rectification_measures, autoescape=True)}</td>\n"
            f'    <td><span class="light light-{conditional_escape(light)}" title="{label}"></span>{label}</td>\n'
            "  </tr>\n  "
        )
    return mark_safe("".join(parts))
