"""The upload page of goal-table files: upload, preview, confirm, follow the import's progress."""
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from budgets.selectors import units_administered_by
from kpi.models import ImportJob

from . import service
from .parsed import NotADisclosure
from .xlsx import blank_template

ACCEPTED = (".txt", ".md", ".xlsx")


class UploadForm(forms.Form):
    file = forms.FileField(label="文件", help_text="部门预算公开文本（.txt / .md）或绩效目标表 Excel 模板（.xlsx），不超过 20 MB")
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100, help_text="留空则从文件中读取")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ACCEPTED):
            raise ValidationError("只接受 .txt、.md 或 .xlsx 文件。")
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise ValidationError(f"文件过大（{upload.size / 1024 / 1024:.1f} MB），上限为 20 MB。")
        return upload


def _require_unit_admin(user) -> None:
    if not units_administered_by(user=user).exists():
        raise PermissionDenied("只有单位管理员可以导入绩效目标表。")


def _job_for(user, pk: int) -> ImportJob:
    jobs = ImportJob.objects.all() if user.is_superuser else ImportJob.objects.filter(created_by=user)
    return get_object_or_404(jobs, pk=pk)


@login_required
def upload(request):
    """Upload a file; it is read and checked, then previewed before anything is written."""
    _require_unit_admin(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job, _document = service.import_job_create(
                user=request.user, data=upload.read(), filename=upload.name, year=form.cleaned_data["year"]
            )
        except (NotADisclosure, service.ImportRefused) as error:
            form.add_error("file", str(error))
        else:
            return redirect("import-detail", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user).defer("content")[:10]
    return render(request, "kpi/import_upload.html", {"form": form, "jobs": jobs})


@login_required
def detail(request, pk: int):
    """Preview (before confirmation) or progress and result (after)."""
    job = _job_for(request.user, pk)
    context = {"job": job, "progress": service.import_job_progress(job=job)}
    if job.status == ImportJob.Status.PREVIEW:
        document = service.import_job_document(job=job)
        outcome = service.goal_tables_import(document=document, user=request.user, dry_run=True)
        context.update(document=document, tables=list(zip(document.tables, outcome.tables)))
    return render(request, "kpi/import_detail.html", context)


@login_required
@require_POST
def confirm(request, pk: int):
    job = _job_for(request.user, pk)
    _require_unit_admin(request.user)
    try:
        service.import_job_confirm(job=job)
    except ValidationError as error:
        return render(request, "kpi/import_detail.html",
                      {"job": job, "progress": service.import_job_progress(job=job), "error": error.messages[0]},
                      status=409)
    return redirect("import-detail", pk=job.pk)


@login_required
def progress(request, pk: int):
    return JsonResponse(service.import_job_progress(job=_job_for(request.user, pk)))


@login_required
def template(request):
    """The empty Excel template of the 项目支出绩效目标表."""
    from django.utils import timezone

    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    response = HttpResponse(
        blank_template(year), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(f'项目支出绩效目标表模板-{year}.xlsx')}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@login_required
def export(request, pk: int):
    """A goal table in the Excel template (import it back unchanged, or edit and re-import)."""
    from kpi.selectors import goal_tables_for_user

    from .xlsx import write_workbook

    table = get_object_or_404(goal_tables_for_user(user=request.user), pk=pk)
    data = write_workbook(service.document_from_tables(tables=[table]))
    name = f"{table.year}-{table.project.name if table.project_id else table.unit.name + '-部门整体'}-绩效目标表.xlsx"
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response
