"""Forms of the upload pages: goal-table documents, and bulk actuals or execution."""
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from budgets.selectors import units_administered_by
from budgets.years import YEAR_MAX, YEAR_MIN, YEAR_RANGE_TEXT
from kpi.spreadsheets import XlsxRefused, xlsx_check

from .actuals import ACTUALS_COLUMNS, EXECUTION_COLUMNS
from .limits import xlsx_limits

DOCUMENT_TYPES = (".txt", ".md", ".xlsx")
ROWS_TYPES = (".csv", ".xlsx")
ACTUALS_KINDS = {
    "actuals": ("实际完成值", ACTUALS_COLUMNS),
    "execution": ("预算执行", EXECUTION_COLUMNS),
}
# The card style stretches every input to full width; a radio button or checkbox sits beside its label.
_INLINE = {"style": "display: inline; width: auto; margin: 0 4px 0 0"}
_MB = 1024 * 1024


def _checked_upload(upload, accepted: tuple[str, ...], label: str):
    if not upload.name.lower().endswith(accepted):
        raise ValidationError(f"只接受 {label} 文件。")
    if upload.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(f"文件过大（{upload.size / _MB:.1f} MB），上限为 {settings.UPLOAD_MAX_BYTES // _MB} MB。")
    if upload.name.lower().endswith(".xlsx"):
        # Refused here, before the file is stored or any parser (or worker) sees it.
        try:
            xlsx_check(upload.file, limits=xlsx_limits())
        except XlsxRefused as refused:
            raise ValidationError(str(refused)) from None
    return upload


class UploadForm(forms.Form):
    file = forms.FileField(label="文件", help_text=f"部门预算公开文本（.txt / .md）或绩效目标表 Excel 模板（.xlsx），"
                                                 f"不超过 {settings.UPLOAD_MAX_BYTES // _MB} MB")
    year = forms.IntegerField(label="年度", required=False, min_value=YEAR_MIN, max_value=YEAR_MAX, help_text="留空则从文件中读取")
    prune = forms.BooleanField(
        label="删除目标表中文件里没有的指标", required=False, widget=forms.CheckboxInput(attrs=_INLINE),
        help_text="只在重新导入已有的目标表时有用；已有实际完成值的指标不会删除。不勾选则予以保留并在预览中列出",
    )

    def clean_file(self):
        return _checked_upload(self.cleaned_data["file"], DOCUMENT_TYPES, ".txt、.md 或 .xlsx")


class ActualsImportForm(forms.Form):
    file = forms.FileField(
        label="文件",
        help_text=f"CSV（UTF-8 或 GB18030 编码）或 Excel（.xlsx，读取第一个工作表），不超过 "
                  f"{settings.UPLOAD_MAX_BYTES // _MB} MB",
    )
    unit = forms.ModelChoiceField(label="预算单位", queryset=None, empty_label=None)
    year = forms.IntegerField(label="年度", min_value=YEAR_MIN, max_value=YEAR_MAX, help_text="截至日期必须在该年度内")
    kind = forms.ChoiceField(label="导入内容", choices=[(key, label) for key, (label, _) in ACTUALS_KINDS.items()],
                             initial="actuals", widget=forms.RadioSelect(attrs=_INLINE))
    approve = forms.BooleanField(label="导入后提交并审核通过（计入正式得分）", required=False,
                                 widget=forms.CheckboxInput(attrs=_INLINE),
                                 help_text="不勾选则新值保留为草稿，需提交审核后才计入正式得分（预算执行无需审核）")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_administered_by(user=user).order_by("code")
        self.fields["year"].initial = timezone.localdate().year

    def clean_file(self):
        return _checked_upload(self.cleaned_data["file"], ROWS_TYPES, ".csv 或 .xlsx")


class ActualsTemplateForm(forms.Form):
    """The template filled with a unit's indicators (or projects) of a year, downloaded from the upload page."""

    unit = forms.ModelChoiceField(label="预算单位", queryset=None, empty_label=None,
                                  error_messages={"invalid_choice": "请选择您管理的预算单位。"})
    year = forms.IntegerField(label="年度", min_value=YEAR_MIN, max_value=YEAR_MAX,
                              error_messages={"required": "请填写年度。", "invalid": "年度应为四位数字，如 2026。",
                                              "min_value": f"年度应在 {YEAR_RANGE_TEXT} 之间。",
                                              "max_value": f"年度应在 {YEAR_RANGE_TEXT} 之间。"})
    as_of = forms.DateField(label="截至日期", required=False, help_text="可留空；填写则预先填入每一行",
                            widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": "日期应写作 2026-07-31。"})
    kind = forms.ChoiceField(label="模板内容", choices=[(key, label) for key, (label, _) in ACTUALS_KINDS.items()],
                             initial="actuals", widget=forms.RadioSelect(attrs=_INLINE))
    format = forms.ChoiceField(label="格式", choices=[("xlsx", "Excel（.xlsx）"), ("csv", "CSV")], initial="xlsx")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units_administered_by(user=user).order_by("code")
        self.fields["year"].initial = timezone.localdate().year

    def clean(self):
        data = super().clean()
        as_of, year = data.get("as_of"), data.get("year")
        if as_of is not None and year is not None and as_of.year != year:
            self.add_error("as_of", f"截至日期 {as_of:%Y-%m-%d} 不在 {year} 年度内。")
        return data
