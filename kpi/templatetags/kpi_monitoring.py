"""{% monitoring_cut_form unit year %}: the way from a scorecard or a project page to the unit's 绩效运行监控表,
with the cut month chosen there (1–7月 by default). Shown only to whoever may see the unit."""
from django import template

from kpi import permissions
from kpi.monitoring.selectors import DEFAULT_CUT_MONTH, month_end

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
