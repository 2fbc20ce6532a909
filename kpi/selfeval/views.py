"""绩效自评 pages: one table's 自评表 (download, or keep a copy), a unit's page (missing items, kept reports,
the bundle). Downloads read the stored official scores: a table still being rescored is not handed out."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST

from budgets.selectors import units_for_user
from kpi.goals.selectors import goal_tables_for_user
from kpi.models import SelfEvalReport
from kpi.storage import StorageUnavailable

from . import services
from .data import no_tables, policies_text, tables_evaluation
from .selectors import selfeval_reports_for_user, selfeval_reports_of_unit, unit_overview, unit_tables_ordered

STALE_MESSAGE = "评分更新中：该绩效目标表有尚未计入得分的修改，请稍候约一分钟再下载。"


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message.encode(), status=status, content_type="text/plain; charset=utf-8")


@login_required
@require_http_methods(["GET", "POST"])
def download(request, table_pk: int):
    """A table's 自评表 as xlsx or pdf, for anyone who may see the table. GET renders it from the stored
    scores and keeps nothing; POST (存档) also keeps it as a SelfEvalReport with the data it shows."""
    table = get_object_or_404(goal_tables_for_user(user=request.user), pk=table_pk)
    fmt = request.POST.get("format") if request.method == "POST" else request.GET.get("format", "xlsx")
    if fmt not in services.TABLE_FORMATS:
        return HttpResponseBadRequest("不支持的格式：只能下载 xlsx 或 pdf。".encode(), content_type="text/plain; charset=utf-8")
    if table.is_stale:
        return _text(STALE_MESSAGE, 409)
    if request.method == "POST":
        try:
            report = services.table_report_keep(table=table, fmt=fmt, user=request.user)
        except StorageUnavailable as error:  # logged with its traceback; nothing kept
            return _text(error.message, 503)
        return _file_response(report)
    data, _evaluation = services.table_report_render(table=table, fmt=fmt, generated_at=timezone.localtime())
    report = SelfEvalReport(unit=table.unit, year=table.year, table=table, format=fmt)
    response = HttpResponse(data, content_type=services.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = _attachment(services.download_name(report))
    return response


def _attachment(name: str) -> str:
    return content_disposition_header(as_attachment=True, filename=name)


PAGE_SIZE = 50  # tables per page of the unit page: each is evaluated in full (its missing items)


@login_required
def unit_page(request, unit_pk: int, year: int):
    """A unit's self-evaluation of the year: the head counted over every table in SQL, then one page of the
    tables (their missing items, downloads), the kept reports, the bundle and its progress. Only the page's
    tables are evaluated, so the page costs the same for 5 projects or 1,000."""
    unit = get_object_or_404(units_for_user(user=request.user).select_related("parent"), pk=unit_pk)
    overview = unit_overview(unit=unit, year=year)
    evaluation, error, page = None, "", None
    if overview.tables:
        paginator = Paginator(unit_tables_ordered(unit=unit, year=year), PAGE_SIZE)
        paginator.count = overview.tables  # counted with the head: not counted again
        page = paginator.get_page(request.GET.get("page"))
        evaluation = tables_evaluation(unit=unit, year=year, tables=list(page.object_list))
    else:
        error = str(no_tables(unit=unit, year=year))
    reports = selfeval_reports_of_unit(unit=unit, year=year)
    for report in reports:  # the policies by their Chinese names, not their stored versions
        report.policy_name = policies_text(report.policy_version)
    running = next((r for r in reports if r.table_id is None and r.status in (
        SelfEvalReport.Status.PENDING, SelfEvalReport.Status.RUNNING)), None)
    stale = {t.pk for t in page.object_list if t.is_stale} if page else set()
    return render(request, "selfeval/unit.html", {
        "unit": unit, "year": year, "evaluation": evaluation, "error": error, "reports": reports,
        "running": running, "stale": stale, "overview": overview, "page": page,
    })


@login_required
@require_POST
def bundle_start(request, unit_pk: int, year: int):
    """Queue the bundle (one zip of every 自评表) of the unit's year."""
    unit = get_object_or_404(units_for_user(user=request.user), pk=unit_pk)
    services.selfeval_bundle_start(unit=unit, year=year, user=request.user)
    return redirect("selfeval:unit", unit_pk=unit.pk, year=year)


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
