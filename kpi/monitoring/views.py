"""绩效运行监控表 pages: the index of the units the user may see, the unit's report at a cut date, and its
Excel download."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from budgets.selectors import units_for_user
from budgets.years import YEAR_MAX, YEAR_MIN
from kpi.enqueue import send_now
from kpi.lights import Light

from .selectors import (
    DEFAULT_CUT_MONTH,
    LIGHT_ORDER,
    default_cut,
    monitoring_page,
    monitoring_report,
    monitoring_units,
    month_end,
)
from .tasks import monitoring_xlsx_run
from .xlsx import (
    EXPORT_IN_TASK_OVER,
    export_fail,
    export_job,
    export_start,
    monitoring_workbook,
    without_cyclic_gc,
)

BROKER_DOWN = "任务队列暂时无法连接，监控表未能开始生成。请稍后重新点击“生成 Excel（绩效运行监控表）”。"

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
    year, year_error = _choice(request, "year", low=YEAR_MIN, high=YEAR_MAX, what="年度")
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


def _light_filter(request) -> Light | None:
    """`?light=red` (a colour of the summary), None when absent; an unknown colour is said and ignored."""
    raw = request.GET.get("light", "").strip()
    if not raw:
        return None
    try:
        return Light(raw[:16])
    except ValueError:
        messages.error(request, f"监控灯“{raw[:32]}”无效，已显示全部项目。")
        return None


@login_required
def unit_monitoring(request, unit_pk: int, year: int):
    """绩效运行监控表 of a unit: the 部门整体 table and one page of projects (optionally of one light), each
    with its lights, and the whole unit's counts per colour at the cut."""
    unit, cut = _unit_and_cut(request, unit_pk, year, warn=True)
    light = _light_filter(request)
    found = monitoring_page(unit=unit, year=year, cut=cut, page=request.GET.get("page", "1")[:8], light=light)
    months = [(month, month_end(year, month)) for month in range(1, 13)]
    summary = [(each, found.counts[each], found.indicator_counts[each]) for each in LIGHT_ORDER]
    query = {"cut": cut.isoformat(), **({"light": light.value} if light else {})}
    job = export_job(request.GET.get("export", ""))
    if job is not None and not _job_visible(request, job, unit_pk=unit.pk):
        job = None
    return render(request, "monitoring/unit.html", {
        "report": found.report, "found": found, "page": found.page, "light": light, "unit": unit, "year": year,
        "cut": cut, "months": months, "summary": summary, "query": urlencode(query),
        "export_in_task": found.project_count > EXPORT_IN_TASK_OVER, "job": job,
    })


@login_required
def unit_monitoring_xlsx(request, unit_pk: int, year: int):
    """The same report as an Excel form (an invalid cut falls back to the default, as on the page): built
    in the request whatever the unit's size (the page offers large units a task with a progress bar)."""
    unit, cut = _unit_and_cut(request, unit_pk, year, warn=False)
    with without_cyclic_gc():  # the report's 20,000 model objects too
        data = monitoring_workbook(monitoring_report(unit=unit, year=year, cut=cut))
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(_file_name(unit, year, cut))}"
    return response


def _file_name(unit, year: int, cut: dt.date) -> str:
    return f"{year}-{unit.name}-绩效运行监控表-1-{cut.month}月.xlsx"


@login_required
@require_POST
def unit_monitoring_export(request, unit_pk: int, year: int):
    """Start building the unit's 监控表 xlsx in a task (`?cut=` as on the page); back to the page, which
    shows its progress bar and then the file."""
    unit, cut = _unit_and_cut(request, unit_pk, year, warn=False)
    job = export_start(unit=unit, year=year, cut=cut, user=request.user)
    # With the broker down the job is marked failed with a message, instead of waiting "排队中" for a task
    # that was never sent.
    transaction.on_commit(lambda: send_now(monitoring_xlsx_run, job.token) or export_fail(token=job.token,
                                                                                         error=BROKER_DOWN))
    url = reverse("monitoring:unit", args=[unit.pk, year])
    return redirect(f"{url}?cut={cut.isoformat()}&export={job.token}#export")


def _job_visible(request, job, *, unit_pk: int | None = None) -> bool:
    """Only who started an export sees it, while they may still see its unit."""
    if job.user_id != request.user.pk or (unit_pk is not None and job.unit_id != unit_pk):
        return False
    return units_for_user(user=request.user).filter(pk=job.unit_id).exists()


def _visible_job(request, token: str):
    job = export_job(token)
    if job is None or not _job_visible(request, job):
        raise Http404("没有这个导出任务，或已过期。")
    return job


@login_required
def export_progress(request, token: str):
    """What the progress bar shows, as JSON (with the file's URL once done)."""
    job = _visible_job(request, token)
    return JsonResponse({
        "status": job.status, "status_display": job.status_display, "done": job.done, "total": job.total,
        "percent": job.percent, "error": job.error,
        "file_url": reverse("monitoring:export-file", args=[token]) if job.status == "done" else "",
    })


@login_required
def export_file(request, token: str):
    """The file of a finished export."""
    job = _visible_job(request, token)
    if job.status != "done" or not job.file or not default_storage.exists(job.file):
        raise Http404("文件尚未生成。")
    unit = get_object_or_404(units_for_user(user=request.user), pk=job.unit_id)
    return FileResponse(default_storage.open(job.file, "rb"), as_attachment=True,
                        filename=_file_name(unit, job.year, job.cut), content_type=XLSX)
