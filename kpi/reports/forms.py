"""Forms of the report page: one form per indicator (in the indicator's unit), budget execution, review."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.forms.utils import ErrorDict

from kpi import scoring
from kpi.entries import EntryError, check_entry, check_execution, read_quantity
from kpi.formatting import plain_decimal
from kpi.lights import Light
from kpi.models import Actual, Indicator
from kpi.policies.services import EXECUTION_REASON_MAX

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
    """The actual of one indicator as of the report date; left blank, the indicator is not reported this time.
    Checked under the table's scoring `policy` (its explanation thresholds, its scoring)."""

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

    def __init__(self, *args, indicator: Indicator, month: int, policy: scoring.Policy = scoring.DEFAULT_POLICY,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.month = month
        self.policy = policy
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

    # Shown as text where the values are read-only, and for the last report before the date.
    current = shown = previous = None

    def actual_text(self, actual: Actual | None) -> str:
        """An actual's value as a person reads it: "80 人次", "达成", "达成年度指标 18 分"."""
        if actual is None:
            return ""
        if actual.value is not None:
            return f"{plain_decimal(actual.value)} {self.indicator.unit}".strip()
        if actual.met is not None:
            return "达成" if actual.met else "未达成"
        return f"{actual.grade} {plain_decimal(actual.points)} 分" if actual.points is not None else actual.grade

    @property
    def shown_text(self) -> str:
        return self.actual_text(self.shown)

    @property
    def previous_text(self) -> str:
        return self.actual_text(self.previous)

    @property
    def shown_details(self) -> list[tuple[str, str]]:
        """The shown actual's forecast, likelihood, deviation and rectification, as (label, text), when given."""
        a = self.shown
        if a is None:
            return []
        unit = f" {self.indicator.unit}" if self.indicator.unit else ""
        details = [
            ("全年预计完成值", f"{plain_decimal(a.forecast)}{unit}" if a.forecast is not None else ""),
            ("完成目标可能性", a.likelihood), ("偏差原因类别", a.deviation_category), ("偏差原因", a.deviation_reason),
            ("是否需要整改", {True: "是", False: "否"}.get(a.needs_rectification, "")),
            ("整改措施", a.rectification_measures),
        ]
        return [(label, text) for label, text in details if text]

    def show_as_typed(self) -> None:
        """Show the bound values again exactly as typed, without judging them (an evidence upload is no save)."""
        self._errors = ErrorDict()
        self.cleaned_data = {}

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
            policy=self.policy, **self.entered(),
        )
        self.is_empty, self.light = check.empty, check.light
        for name, message in check.errors.items():
            self.add_error(name if name in self.fields else None, message)
        return data


def _money_field(label: str, what: str) -> forms.DecimalField:
    """An amount in 万元; `what` names it in the messages ("执行数", "本年财政拨款的执行数", …)."""
    return forms.DecimalField(
        label=label, required=False, min_value=0, max_digits=16, decimal_places=4,
        error_messages={"invalid": "请输入金额（万元）。", "min_value": f"{what}不能为负数。",
                        "max_decimal_places": "金额最多 4 位小数（万元）。", "max_digits": f"{what}过大，请核对。",
                        "max_whole_digits": f"{what}过大，请核对。"},
    )


class ExecutionForm(forms.Form):
    """Cumulative 执行数 as of the report date, split by funds source; administrators may also set the
    adjusted 全年预算数, its split and the reason. `sources` is budgets.models.PROJECT_SOURCES or
    UNIT_SOURCES; the per-source fields are executed_<field> and budget_<field>.

    A total left blank is the sum of its sources; whether the sources add up to the total is the services'
    check (budgets.services.sources_checked), shown beside the form. Where the table's scoring `policy` asks
    a reason for a 执行率 below its rate, the form has a deviation_reason field, required then."""

    def __init__(self, *args, sources: tuple[tuple[str, str], ...], may_adjust: bool, current_budget: Decimal,
                 policy: scoring.Policy = scoring.DEFAULT_POLICY, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = sources
        self.may_adjust = may_adjust
        self.current_budget = current_budget
        self.policy = policy
        self.fields["executed"] = _money_field("累计执行数（万元）", "执行数")
        for field, label in sources:
            self.fields[f"executed_{field}"] = _money_field(f"其中：{label}", f"{label}的执行数")
        if may_adjust:
            self.fields["budget_adjusted"] = _money_field("全年预算数（调整后，万元）", "全年预算数")
            for field, label in sources:
                self.fields[f"budget_{field}"] = _money_field(f"其中：{label}", f"{label}的全年预算数")
            self.fields["adjustment_reason"] = forms.CharField(label="预算调整原因", required=False, max_length=2000,
                                                               widget=forms.Textarea(attrs={"rows": 2}))
        if policy.reason_below_execution_rate is not None:
            rate = plain_decimal(policy.reason_below_execution_rate)
            self.fields["deviation_reason"] = forms.CharField(
                label="执行率偏差原因", required=False, max_length=EXECUTION_REASON_MAX,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=f"评分政策“{policy.name}”规定：预算执行率低于 {rate}% 时须说明原因（{EXECUTION_REASON_MAX} 字以内）。",
                error_messages={"max_length": f"执行率偏差原因最多 {EXECUTION_REASON_MAX} 字（已填 %(show_value)d 字）。"},
            )

    def executed_fields(self):
        return [self[f"executed_{field}"] for field, _ in self.sources]

    def budget_fields(self):
        return [self[f"budget_{field}"] for field, _ in self.sources] if self.may_adjust else []

    def split(self, prefix: str) -> dict[str, Decimal | None]:
        return {field: self.cleaned_data.get(f"{prefix}{field}") for field, _ in self.sources}

    def _total(self, data, name: str, prefix: str) -> Decimal | None:
        total = data.get(name)
        parts = [v for v in self.split(prefix).values() if v is not None]
        if total is None and parts and name not in self.errors:
            total = data[name] = sum(parts, Decimal("0"))
        return total

    def clean(self):
        data = super().clean()
        if self._total(data, "executed", "executed_") is None and "executed" not in self.errors:
            self.add_error("executed", "请填写累计执行数（或各资金来源的执行数）。")
        if self.may_adjust:
            adjusted = self._total(data, "budget_adjusted", "budget_")
            reason = (data.get("adjustment_reason") or "").strip()
            if adjusted is not None and adjusted != self.current_budget and not reason:
                self.add_error("adjustment_reason", "调整全年预算数时必须填写调整原因。")
        if "deviation_reason" in self.fields and "executed" not in self.errors:
            budget = data.get("budget_adjusted") if self.may_adjust else None
            check = check_execution(
                budget=self.current_budget if budget is None else budget, executed=data.get("executed"),
                deviation_reason=data.get("deviation_reason") or "", policy=self.policy,
            )
            for name, message in check.errors.items():
                self.add_error(name, message)
        return data

    def add_service_error(self, error) -> None:
        """A ValidationError of the services, beside the field it names (else above the form)."""
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)


class ReturnForm(forms.Form):
    """退回: the reason, and the indicators it is about (shown beside them to the lead)."""

    reason = forms.CharField(label="退回原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "退回时必须填写原因。"})
    indicators = forms.TypedMultipleChoiceField(
        label="涉及的指标（可多选）", required=False, coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "所选指标不属于该绩效目标表。"},
    )

    def __init__(self, *args, indicators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicators"].choices = [(indicator.pk, indicator.name) for indicator in indicators]


class EvidenceForm(forms.Form):
    file = forms.FileField(label="佐证资料", error_messages={"required": "请选择文件。"})
