"""绩效运行监控表 pages: the index of the units the user may see, the unit's report at a cut date, and its
Excel download."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from budgets.selectors import units_for_user

from .selectors import (
    DEFAULT_CUT_MONTH,
    LIGHT_ORDER,
    default_cut,
    monitoring_report,
    monitoring_units,
    month_end,
)
from .xlsx import monitoring_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _unit_and_cut(request, unit_pk: int, year: int, *, warn: bool):
    """The unit, if the user may see it (unit administrators, reviewers above, superusers; 404 otherwise),
    and the cut asked for in `?cut=YYYY-MM-DD`: the default (July 31) when absent or invalid."""
    unit = get_object_or_404(units_for_user(user=request.user), pk=unit_pk)
    if not dt.MINYEAR < year < dt.MAXYEAR:
        raise Http404("年度无效。")
    raw = request.GET.get("cut", "").strip()
    if not raw:
        return unit, default_cut(year)
    try:
        cut = dt.date.fromisoformat(raw[:32])
    except ValueError:
        cut = None
    if cut is None or cut.year != year:
        fallback = default_cut(year)
        if warn:
            messages.error(
                request,
                f"截至日期“{raw[:32]}”无效：应为 {year} 年内的日期，格式如 {fallback:%Y-%m-%d}。"
                f"已按默认的 1–{DEFAULT_CUT_MONTH}月（截至 {fallback.year}年{fallback.month}月{fallback.day}日）显示。",
            )
        return unit, fallback
    return unit, cut


def _choice(request, name: str, *, low: int, high: int, what: str) -> tuple[int | None, str]:
    """An integer GET parameter within [low, high]: (value, "") or (None, the Chinese reason it was ignored)."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None, ""
    try:
        value = int(raw[:8])
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        return None, f"{what}“{raw[:32]}”无效，应为 {low}–{high} 之间的整数"
    return value, ""


@login_required
def monitoring_home(request):
    """绩效运行监控: the units the user may see, each opening its 监控表 at the year and cut month chosen
    here (1–7月 by default)."""
    year, year_error = _choice(request, "year", low=2000, high=2100, what="年度")
    month, month_error = _choice(request, "month", low=1, high=12, what="月份")
    found = monitoring_units(user=request.user, year=year)
    year = year if year is not None else found.default_year
    month = month if month is not None else DEFAULT_CUT_MONTH
    for error in (year_error, month_error):
        if error:
            messages.error(request, f"{error}，已按{year}年 1–{month}月显示。")
    cut = month_end(year, month)
    return render(request, "monitoring/home.html", {
        "units": found.units, "years": found.years, "year": year, "month": month, "cut": cut,
        "months": range(1, 13),
    })


@login_required
def unit_monitoring(request, unit_pk: int, year: int):
    """绩效运行监控表 of a unit: one table per project with its lights, and counts per colour."""
    unit, cut = _unit_and_cut(request, unit_pk, year, warn=True)
    report = monitoring_report(unit=unit, year=year, cut=cut)
    months = [(month, month_end(year, month)) for month in range(1, 13)]
    summary = [(light, report.counts[light], report.indicator_counts[light]) for light in LIGHT_ORDER]
    return render(
        request,
        "monitoring/unit.html",
        {"report": report, "unit": unit, "year": year, "cut": cut, "months": months, "summary": summary},
    )


@login_required
def unit_monitoring_xlsx(request, unit_pk: int, year: int):
    """The same report as an Excel form (an invalid cut falls back to the default, as on the page)."""
    unit, cut = _unit_and_cut(request, unit_pk, year, warn=False)
    data = monitoring_workbook(monitoring_report(unit=unit, year=year, cut=cut))
    name = f"{year}-{unit.name}-绩效运行监控表-1-{cut.month}月.xlsx"
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
