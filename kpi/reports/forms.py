"""Forms of the report page: one form per indicator (in the indicator's unit), budget execution, review."""
from __future__ import annotations

from decimal import Decimal

from django import forms

from kpi import scoring
from kpi.entries import EntryError, check_entry, read_quantity
from kpi.lights import Light
from kpi.models import Actual, Indicator

MET_CHOICES = [("", "—"), ("1", "达成"), ("0", "未达成")]


class QuantityField(forms.CharField):
    """A number in the indicator's unit, read as people type it (kpi.entries.read_quantity): "3.1万" in a 人
    field is 31000; how it was read is kept in `form.notes` to be shown beside the input."""

    def __init__(self, *args, unit: str, **kwargs):
        self.unit = unit
        kwargs.setdefault("max_length", 60)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        self.note = ""
        text = super().clean(value)
        if not text:
            return None
        try:
            reading = read_quantity(text, self.unit, label=str(self.label).split("（")[0])
        except EntryError as error:
            raise forms.ValidationError(error.message) from None
        self.note = reading.note
        return reading.value


def grade_bands(weight: Decimal) -> list[tuple[str, str]]:
    """The allowed points of each grade for this weight, as shown beside the input."""
    return [(grade.value, scoring.grade_band(grade, weight).text()) for grade in scoring.Grade]


class IndicatorEntryForm(forms.Form):
    """The actual of one indicator as of the report date; left blank, the indicator is not reported this time."""

    base = forms.CharField(widget=forms.HiddenInput, required=False)
    likelihood = forms.ChoiceField(label="完成目标可能性", required=False,
                                   choices=[("", "—"), *Actual.Likelihood.choices])
    deviation_category = forms.ChoiceField(label="偏差原因类别", required=False,
                                           choices=[("", "—"), *Actual.DeviationCategory.choices])
    deviation_reason = forms.CharField(label="偏差原因", required=False, max_length=2000,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    needs_rectification = forms.ChoiceField(label="是否需要整改", required=False,
                                            choices=[("", "—"), ("1", "是"), ("0", "否")])
    rectification_measures = forms.CharField(label="整改措施", required=False, max_length=2000,
                                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, indicator: Indicator, month: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.month = month
        self.mode = indicator.entry_mode
        self.notes: dict[str, str] = {}  # how a typed number was read ("3.1万" → 31000人), per field
        unit = f"（{indicator.unit}）" if indicator.unit else ""
        if self.mode == "number":
            self.fields["value"] = QuantityField(label=f"实际完成值{unit}", required=False, unit=indicator.unit)
            self.fields["forecast"] = QuantityField(label=f"全年预计完成值{unit}", required=False, unit=indicator.unit)
            self.order_fields(["base", "value", "forecast"])
        elif self.mode == "met":
            self.fields["met"] = forms.ChoiceField(label="是否达成", required=False, choices=MET_CHOICES)
        else:
            self.fields["grade"] = forms.ChoiceField(label="评判等级", required=False,
                                                     choices=[("", "—"), *Actual.Grade.choices])
            self.fields["points"] = forms.DecimalField(
                label="得分", required=False, max_digits=7, decimal_places=2, min_value=0,
                error_messages={"invalid": "请输入数字。", "max_decimal_places": "得分最多 2 位小数。",
                                "min_value": "得分不能为负数。"},
            )
            self.bands = grade_bands(indicator.weight)
        self.light = Light.NONE
        self.is_empty = True

    @property
    def main_field(self) -> str:
        """The field that holds the actual itself (where errors about the whole entry are shown)."""
        return {"number": "value", "met": "met", "grade": "grade"}[self.mode]

    def entered(self) -> dict:
        """The cleaned values in the shape of kpi.reports.services.actual_record's arguments."""
        data = self.cleaned_data
        met = {"1": True, "0": False}.get(data.get("met") or "")
        return {
            "value": data.get("value"),
            "met": met,
            "grade": data.get("grade") or "",
            "points": data.get("points"),
            "forecast": data.get("forecast"),
            "likelihood": data.get("likelihood") or "",
            "deviation_category": data.get("deviation_category") or "",
            "deviation_reason": (data.get("deviation_reason") or "").strip(),
            "needs_rectification": {"1": True, "0": False}.get(data.get("needs_rectification") or ""),
            "rectification_measures": (data.get("rectification_measures") or "").strip(),
        }

    def _clean_fields(self):
        super()._clean_fields()
        for name in ("value", "forecast"):
            note = getattr(self.fields.get(name), "note", "")
            if note and name in self.cleaned_data:
                self.notes[name] = note

    def clean(self):
        data = super().clean()
        indicator = self.indicator
        check = check_entry(
            kind=indicator.target_kind, rule=indicator.rule, target=indicator.target,
            target_value=indicator.target_value, weight=indicator.weight, unit=indicator.unit,
            cumulative=indicator.accumulation == Indicator.Accumulation.CUMULATIVE, month=self.month,
            **self.entered(),
        )
        self.is_empty, self.light = check.empty, check.light
        for name, message in check.errors.items():
            self.add_error(name if name in self.fields else None, message)
        return data


class ExecutionForm(forms.Form):
    """Cumulative 执行数 as of the report date; administrators may also set the adjusted 全年预算数."""

    executed = forms.DecimalField(label="累计执行数（万元）", min_value=0, max_digits=14, decimal_places=2,
                                  error_messages={"invalid": "请输入金额（万元）。", "min_value": "执行数不能为负数。"})
    budget_adjusted = forms.DecimalField(label="全年预算数（调整后，万元）", required=False, min_value=0, max_digits=14,
                                         decimal_places=2)
    adjustment_reason = forms.CharField(label="预算调整原因", required=False, max_length=2000,
                                        widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, may_adjust: bool, current_budget: Decimal, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_budget = current_budget
        if not may_adjust:
            del self.fields["budget_adjusted"], self.fields["adjustment_reason"]

    def clean(self):
        data = super().clean()
        adjusted = data.get("budget_adjusted")
        if adjusted is not None and adjusted != self.current_budget and not (data.get("adjustment_reason") or "").strip():
            self.add_error("adjustment_reason", "调整全年预算数时必须填写调整原因。")
        return data


class ReturnForm(forms.Form):
    reason = forms.CharField(label="退回原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "退回时必须填写原因。"})


class EvidenceForm(forms.Form):
    file = forms.FileField(label="佐证资料", error_messages={"required": "请选择文件。"})
