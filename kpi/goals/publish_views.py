"""Pages of next year's tables and of publishing: 以上年为基础编制 (a POST from the 年度 page) and the
部门预算公开 page with its two downloads (the disclosure text and the published workbook)."""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from budgets.selectors import units_known_to
from kpi import permissions

from .publishing import download_name, published_tables, render_text, render_xlsx, unpublished_tables
from .rollover import rollover_summary, tables_start_next_year

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_POST
def rollover(request, unit_id: int, year: int):
    """以 year 年为基础编制 year+1 年目标表: the unit's administrators; then the next year's 年度 page."""
    unit = get_object_or_404(units_known_to(user=request.user), pk=unit_id)
    if not permissions.can_administer_unit(request.user, unit.pk):
        raise PermissionDenied("只有本单位的单位管理员可以以上年为基础编制下一年度的绩效目标表。")
    try:
        tables = tables_start_next_year(unit=unit, from_year=year, user=request.user)
    except ValidationError as error:
        messages.error(request, "未编制：" + "；".join(error.messages))
        return redirect("yearclose:unit-year", unit_id=unit.pk, year=year)
    counts = rollover_summary(tables)
    missing = f"其中 {counts['missing']} 个指标没有上年审核通过的实际完成值，已标记“上年无完成值”，请补填上年完成值" if (
        counts["missing"]) else "上年完成值已全部按上年最终审核通过的实际完成值填写"
    messages.success(
        request,
        f"已以 {year} 年为基础编制 {year + 1} 年绩效目标表：{counts['tables']} 张目标表、{counts['indicators']} 个指标；"
        f"{missing}。各表均为草稿，修改后请申报。",
    )
    return redirect("yearclose:unit-year", unit_id=unit.pk, year=year + 1)


def _visible_unit(request, unit_id: int):
    """The unit, for whoever may see its data (its administrators, the reviewers above it); 404 to others,
    whatever the method (a POST to a read-only page is refused only after that: 405)."""
    unit = get_object_or_404(units_known_to(user=request.user), pk=unit_id)
    if not permissions.can_see_unit(request.user, unit.pk):
        raise PermissionDenied("只有本单位的单位管理员和上级主管部门、财政可以查看部门预算公开。")
    if request.method not in ("GET", "HEAD"):
        raise _NotAllowed
    return unit


class _NotAllowed(Exception):
    pass


def _reads_only(view):
    """GET only, the other methods answered 405 after the unit is found (404 first to another unit's users)."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _NotAllowed:
            return HttpResponseNotAllowed(["GET", "HEAD"])
    return wrapped


@login_required
@_reads_only
def publish(request, unit_id: int, year: int):
    """部门预算公开: the approved tables that are published, and those that are not (yet) 已批复."""
    unit = _visible_unit(request, unit_id)
    data = published_tables(unit_id=unit.pk, year=year, unit=unit)
    return render(request, "goals/publish.html", {
        "unit": unit,
        "year": year,
        "published": data.tables,
        "budget": data.budget,
        "unpublished": unpublished_tables(unit_id=unit.pk, year=year),
    })


def _download(request, unit_id: int, year: int, extension: str, render_file, content_type: str):
    unit = _visible_unit(request, unit_id)
    data = published_tables(unit_id=unit.pk, year=year, unit=unit)
    if not data.tables:
        raise Http404(f"{unit.name} {year} 年尚无已批复的绩效目标表，没有可公开的内容。")
    body = render_file(data)
    response = HttpResponse(body.encode() if isinstance(body, str) else body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=download_name(unit, year, extension))
    return response


@login_required
@_reads_only
def publish_text(request, unit_id: int, year: int):
    """The disclosure text of the approved tables (UTF-8), which `import_disclosure` reads back."""
    return _download(request, unit_id, year, "txt", render_text, "text/plain; charset=utf-8")


@login_required
@_reads_only
def publish_xlsx(request, unit_id: int, year: int):
    """The approved tables as the published workbook."""
    return _download(request, unit_id, year, "xlsx", render_xlsx, XLSX)
