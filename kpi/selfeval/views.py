"""绩效自评 pages: download one table's 自评表, a unit's page (missing items, kept reports, the bundle)."""
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from budgets.selectors import units_for_user
from kpi.models import SelfEvalReport
from kpi.selectors import goal_tables_for_user

from . import services
from .data import NoTables, unit_evaluation
from .selectors import selfeval_reports_for_user, selfeval_reports_of_unit


@login_required
def download(request, table_pk: int):
    """A table's 自评表 as xlsx or pdf (kept as a SelfEvalReport), for anyone who may see the table."""
    table = get_object_or_404(goal_tables_for_user(user=request.user), pk=table_pk)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in services.TABLE_FORMATS:
        return HttpResponseBadRequest("不支持的格式：只能下载 xlsx 或 pdf。".encode(), content_type="text/plain; charset=utf-8")
    report = services.table_report_keep(table=table, fmt=fmt, user=request.user)
    return _file_response(report)


@login_required
def unit_page(request, unit_pk: int, year: int):
    """A unit's self-evaluation of the year: missing items, kept reports, the bundle and its progress."""
    unit = get_object_or_404(units_for_user(user=request.user).select_related("parent"), pk=unit_pk)
    try:
        evaluation, error = unit_evaluation(unit=unit, year=year), ""
    except NoTables as no_tables:
        evaluation, error = None, str(no_tables)
    reports = selfeval_reports_of_unit(unit=unit, year=year)
    running = next((r for r in reports if r.table_id is None and r.status in (
        SelfEvalReport.Status.PENDING, SelfEvalReport.Status.RUNNING)), None)
    return render(request, "kpi/selfeval/unit.html", {
        "unit": unit, "year": year, "evaluation": evaluation, "error": error, "reports": reports,
        "running": running,
    })


@login_required
@require_POST
def bundle_start(request, unit_pk: int, year: int):
    """Queue the bundle (one zip of every 自评表) of the unit's year."""
    unit = get_object_or_404(units_for_user(user=request.user), pk=unit_pk)
    services.selfeval_bundle_start(unit=unit, year=year, user=request.user)
    return redirect("selfeval-unit", unit_pk=unit.pk, year=year)


@login_required
def progress(request, pk: int):
    report = get_object_or_404(selfeval_reports_for_user(user=request.user), pk=pk)
    return JsonResponse(services.bundle_progress(report=report))


@login_required
def report_file(request, pk: int):
    """A kept report's file, for whoever may see its table (or, for a bundle, its unit)."""
    report = get_object_or_404(
        selfeval_reports_for_user(user=request.user), pk=pk, status=SelfEvalReport.Status.DONE
    )
    if not report.file:
        return HttpResponseBadRequest("该报告没有文件。".encode(), content_type="text/plain; charset=utf-8")
    return _file_response(report)


def _file_response(report: SelfEvalReport) -> FileResponse:
    return FileResponse(report.file.open("rb"), as_attachment=True, filename=services.download_name(report),
                        content_type=services.CONTENT_TYPES[report.format])
