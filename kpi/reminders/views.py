"""逾期未报: per unit and month, the projects whose lead has not yet reported (the list the reminders mail)."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from budgets.selectors import units_for_user
from kpi.models import GoalTable

from .selectors import Period, month_period, overdue_projects, reminder_period


def _period(request, today: dt.date) -> Period:
    """The month asked for in `?month=YYYY-MM`, else the one the reminders of this month are about."""
    default = reminder_period(today=today)
    raw = request.GET.get("month", "").strip()[:16]
    if not raw:
        return default
    try:
        first = dt.date.fromisoformat(f"{raw}-01")
    except ValueError:
        first = None
    if first is None or not 2000 <= first.year <= 2100:
        messages.error(request, f"月份“{raw}”无效，应写作 {default.end:%Y-%m}；已显示 {default.month}。")
        return default
    return month_period(year=first.year, month=first.month)


@login_required
def overdue(request):
    """The overdue list of the units the user may see (administrators' own, reviewers' subtrees)."""
    units = list(units_for_user(user=request.user).order_by("code"))
    if not units:
        raise PermissionDenied("逾期未报名单只对单位管理员和主管部门/财政审核人员开放。")
    today = timezone.localdate()
    period = _period(request, today)
    chosen = None
    raw_unit = request.GET.get("unit", "").strip()
    if raw_unit:
        chosen = next((u for u in units if str(u.pk) == raw_unit), None)
        if chosen is None:
            messages.error(request, "所选单位不存在或您无权查看，已显示全部单位。")
    scope = [chosen] if chosen else units
    items = overdue_projects(period=period, unit_ids=[u.pk for u in scope])
    tables = dict(
        GoalTable.objects.filter(scope=GoalTable.Scope.PROJECT, year=period.end.year, unit__in=[u.pk for u in scope])
        .order_by().values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n")
    )
    by_unit: dict[int, list] = {}
    for item in items:
        by_unit.setdefault(item.unit_id, []).append(item)
    rows = [{"unit": u, "tables": tables.get(u.pk, 0), "overdue": by_unit.get(u.pk, [])} for u in scope]
    years = sorted(
        {period.end.year, reminder_period(today=today).end.year,
         *GoalTable.objects.filter(scope=GoalTable.Scope.PROJECT, unit__in=[u.pk for u in units])
         .order_by().values_list("year", flat=True).distinct()},
        reverse=True,
    )
    months = [month_period(year=y, month=m) for y in years for m in range(12, 0, -1)]
    return render(request, "reminders/overdue.html", {
        "period": period, "units": units, "chosen": chosen, "rows": rows, "total": len(items),
        "past_due": today > period.due, "today": today, "months": months,
    })
