"""The upload pages: goal-table documents (upload, stored preview, confirm, progress), the Excel template
and a table's export, and bulk actuals or execution (all or nothing, every error listed)."""
import re
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from budgets.years import year_valid
from kpi import permissions
from kpi.goals.selectors import goal_tables_for_user
from kpi.models import ImportJob

from . import services
from .actuals import ActualsImportError, actuals_import, filled_template
from .forms import ACTUALS_KINDS, ActualsImportForm, ActualsTemplateForm, UploadForm
from .xlsx import blank_template, write_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')  # what a file name may not hold on Windows


def _require_importer(user, what: str) -> None:
    if not permissions.can_import(user):
        raise PermissionDenied(f"只有单位管理员可以{what}。")


def _job_for(user, pk: int) -> ImportJob:
    jobs = ImportJob.objects.all() if user.is_superuser else ImportJob.objects.filter(created_by=user)
    return get_object_or_404(jobs.defer("content"), pk=pk)


def _download(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
def upload(request):
    """Upload a file; the worker reads, checks and previews it (once, stored) before anything is written."""
    _require_importer(request.user, "导入绩效目标表")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = services.import_job_create(
            user=request.user, data=upload.read(), filename=upload.name, year=form.cleaned_data["year"],
            prune=form.cleaned_data["prune"],
        )
        return redirect("importers:detail", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user).defer("content", "preview")[:10]
    return render(request, "importers/upload.html", {"form": form, "jobs": jobs})


PREVIEW_TABLES_PER_PAGE = 20  # a province's document holds a thousand tables: the preview is paged


def _detail_context(request, job: ImportJob, **extra) -> dict:
    """The stored preview, a page of its tables at a time (the tables that cannot be imported are listed
    on every page), or progress and result."""
    context = {"job": job, "progress": services.import_job_progress(job=job), **extra}
    if job.status == ImportJob.Status.PREVIEW:
        tables = job.preview.get("tables", [])
        context["page"] = Paginator(tables, PREVIEW_TABLES_PER_PAGE).get_page(request.GET.get("page"))
        context["refused"] = [t for t in tables if t.get("errors")]
    return context


@login_required
def detail(request, pk: int):
    """The stored preview (before confirmation) or progress and result (after)."""
    job = _job_for(request.user, pk)
    return render(request, "importers/detail.html", _detail_context(request, job))


@login_required
@require_POST
def confirm(request, pk: int):
    job = _job_for(request.user, pk)
    _require_importer(request.user, "导入绩效目标表")
    try:
        services.import_job_confirm(job=job, user=request.user)
    except services.ImportRefused as refused:
        return render(request, "importers/detail.html", _detail_context(request, job, error=str(refused)), status=403)
    except ValidationError as error:
        return render(request, "importers/detail.html", _detail_context(request, job, error=error.messages[0]),
                      status=409)
    return redirect("importers:detail", pk=job.pk)


@login_required
def progress(request, pk: int):
    return JsonResponse(services.import_job_progress(job=_job_for(request.user, pk)))


@login_required
def template(request):
    """The empty Excel template of the 项目支出绩效目标表."""
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    if not year_valid(year):
        year = timezone.localdate().year
    return _download(blank_template(year), f"项目支出绩效目标表模板-{year}.xlsx", XLSX)


@login_required
def export(request, pk: int):
    """A goal table in the Excel template (import it back unchanged, or edit and re-import)."""
    table = get_object_or_404(goal_tables_for_user(user=request.user), pk=pk)
    data = write_workbook(services.document_from_tables(tables=[table]))
    name = f"{table.year}-{table.project.name if table.project_id else table.unit.name + '-部门整体'}-绩效目标表.xlsx"
    return _download(data, name, XLSX)


# --- bulk actuals and execution ----------------------------------------------------------------

TEMPLATE_PREFIX = "template"


@login_required
def actuals_upload(request):
    """Upload a file of actuals or execution; it is imported whole or not at all, every error listed."""
    _require_importer(request.user, "批量导入实际完成值")
    form = ActualsImportForm(request.POST or None, request.FILES or None, user=request.user)
    errors, result = [], None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload_file = data["file"]
        try:
            result = actuals_import(
                unit=data["unit"], year=data["year"], rows_source=upload_file.read(), filename=upload_file.name,
                execution=data["kind"] == "execution", approve=data["approve"], user=request.user,
            )
        except ActualsImportError as error:
            errors = error.errors
    # Thousands of bad rows would make a page of megabytes: the first ones shown, all of them downloadable.
    errors_url = ""
    if len(errors) > services.ERRORS_SHOWN:
        token = services.actuals_errors_keep(user=request.user, errors=errors)
        errors_url = reverse("importers:actuals-errors", args=[token])
    # The template to download is offered for the unit and year chosen above.
    initial = {"unit": form["unit"].value(), "year": form["year"].value(), "kind": form["kind"].value()}
    template_form = ActualsTemplateForm(prefix=TEMPLATE_PREFIX, user=request.user, initial=initial)
    return render(request, "importers/actuals.html", {
        "form": form, "errors": errors[:services.ERRORS_SHOWN], "errors_total": len(errors),
        "errors_shown": services.ERRORS_SHOWN, "errors_url": errors_url, "result": result,
        "template_form": template_form,
    })


@login_required
def actuals_errors(request, token: str):
    """Every error of a refused import, as CSV: its uploader's (or a superuser's), as an import job is."""
    errors = services.actuals_errors_for(user=request.user, token=token)
    if errors is None:
        raise Http404("错误清单不存在或已过期（保留 24 小时），请重新上传文件。")
    return _download(services.errors_csv(errors), "导入错误清单.csv", "text/csv; charset=utf-8")


@login_required
def actuals_filled_template(request):
    """The template filled with the chosen unit's indicators of the year (one row each; or, for execution,
    its projects), in xlsx or csv: fill in the values and upload it as it is."""
    _require_importer(request.user, "批量导入实际完成值")
    template_form = ActualsTemplateForm(request.GET or None, prefix=TEMPLATE_PREFIX, user=request.user)
    if not template_form.is_bound:
        return redirect("importers:actuals")
    if not template_form.is_valid():
        form = ActualsImportForm(user=request.user)
        return render(request, "importers/actuals.html",
                      {"form": form, "errors": [], "result": None, "template_form": template_form}, status=400)
    data = template_form.cleaned_data
    kind, unit, year, fmt = data["kind"], data["unit"], data["year"], data["format"]
    content = filled_template(kind=kind, unit=unit, year=year, as_of=data["as_of"], fmt=fmt)
    name = f"{year}-{_UNSAFE_NAME.sub('_', unit.name)}-{ACTUALS_KINDS[kind][0]}导入模板.{fmt}"
    return _download(content, name, XLSX if fmt == "xlsx" else "text/csv; charset=utf-8")


@login_required
def actuals_template(request):
    """An empty CSV with the header row (UTF-8 with BOM, so that Excel reads the Chinese correctly)."""
    _require_importer(request.user, "批量导入实际完成值")
    kind = request.GET.get("kind") or "actuals"
    if kind not in ACTUALS_KINDS:
        raise Http404("未知的模板类型。")
    label, columns = ACTUALS_KINDS[kind]
    return _download(("\ufeff" + ",".join(columns) + "\r\n").encode("utf-8"), f"{label}导入模板.csv",
                     "text/csv; charset=utf-8")
