"""The upload page of actuals and budget execution (批量导入实际完成值), for unit administrators."""
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from budgets.selectors import units_administered_by

from .actuals_import import ACTUALS_COLUMNS, EXECUTION_COLUMNS, ActualsImportError, actuals_import

ACCEPTED = (".csv", ".xlsx")
KINDS = {
    "actuals": ("实际完成值", ACTUALS_COLUMNS),
    "execution": ("预算执行", EXECUTION_COLUMNS),
}
# The card style stretches every input to full width; a radio button or checkbox sits beside its label.
_INLINE = {"style": "display: inline; width: auto; margin: 0 4px 0 0"}


class ActualsImportForm(forms.Form):
    file = forms.FileField(
        label="文件",
        help_text=f"CSV（UTF-8 或 GB18030 编码）或 Excel（.xlsx，读取第一个工作表），不超过 "
                  f"{settings.UPLOAD_MAX_BYTES // 1024 // 1024} MB",
    )
    unit = forms.ModelChoiceField(label="预算单位", queryset=None, empty_label=None)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, help_text="截至日期必须在该年度内")
    kind = forms.ChoiceField(label="导入内容", choices=[(key, label) for key, (label, _) in KINDS.items()],
                             initial="actuals", widget=forms.RadioSelect(attrs=_INLINE))
    approve = forms.BooleanField(label="导入后提交并审核通过（计入正式得分）", required=False,
                                 widget=forms.CheckboxInput(attrs=_INLINE),
                                 help_text="不勾选则新值保留为草稿，需提交审核后才计入正式得分（预算执行无需审核）")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_administered_by(user=user).order_by("code")
        self.fields["year"].initial = timezone.localdate().year

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ACCEPTED):
            raise ValidationError("只接受 .csv 或 .xlsx 文件。")
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise ValidationError(f"文件过大（{upload.size / 1024 / 1024:.1f} MB），上限为 "
                                  f"{settings.UPLOAD_MAX_BYTES // 1024 // 1024} MB。")
        return upload


def _require_unit_admin(user) -> None:
    if not units_administered_by(user=user).exists():
        raise PermissionDenied("只有单位管理员可以批量导入实际完成值。")


@login_required
def upload(request):
    """Upload a file of actuals or execution; it is imported whole or not at all, every error listed."""
    _require_unit_admin(request.user)
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
    return render(request, "kpi/actuals_import.html", {"form": form, "errors": errors, "result": result})


@login_required
def template(request):
    """An empty CSV with the header row (UTF-8 with BOM, so that Excel reads the Chinese correctly)."""
    _require_unit_admin(request.user)
    kind = request.GET.get("kind") or "actuals"
    if kind not in KINDS:
        raise Http404("未知的模板类型。")
    label, columns = KINDS[kind]
    response = HttpResponse(("\ufeff" + ",".join(columns) + "\r\n").encode("utf-8"),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{label}导入模板.csv')}"
    return response
