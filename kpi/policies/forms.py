"""The policy form: every regional setting of a ScoringPolicy, in the words of the published rules.

执行率封顶 is typed one cap a line, "80 89" (执行率低于 80% 时总分最高 89 分); any of space, comma, colon,
"→" or a tab between the two numbers.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms

from budgets.years import YEAR_RANGE_TEXT, year_valid
from kpi.formatting import plain_decimal
from kpi.models import ScoringPolicy

HUNDRED = Decimal(100)
_CAP_SEPARATORS = re.compile(r"[\s,，:：;；→/、]+")
_NUMBER = re.compile(r"\d+(?:\.\d{1,2})?")
CAPS_EXAMPLE = "例如：80 89"


def parse_caps(text: str) -> list[list]:
    """The caps typed one a line ("80 89") as the stored JSON ([[80, 89], …], strictest rate last as typed);
    forms.ValidationError in Chinese naming the line otherwise."""
    caps, seen = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip().replace("%", "").replace("％", "").replace("分", "")
        if not line:
            continue
        parts = [p for p in _CAP_SEPARATORS.split(line) if p]
        if len(parts) != 2 or not all(_NUMBER.fullmatch(p) for p in parts):
            raise forms.ValidationError(f"第 {number} 行“{line}”应为两个数：执行率低于（%）和总分最高，如“80 89”。")
        below, highest = (Decimal(p) for p in parts)
        if not 0 < below <= HUNDRED:
            raise forms.ValidationError(f"第 {number} 行：执行率应在 0 到 100 之间（填写的是 {plain_decimal(below)}）。")
        if highest > HUNDRED:
            raise forms.ValidationError(f"第 {number} 行：总分最高不能超过 100（填写的是 {plain_decimal(highest)}）。")
        if below in seen:
            raise forms.ValidationError(f"第 {number} 行：执行率 {plain_decimal(below)}% 重复了。")
        seen.add(below)
        caps.append([_json_number(below), _json_number(highest)])
    return caps


def _json_number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def caps_text(caps) -> str:
    """The stored caps as the form shows them, one a line."""
    lines = []
    for pair in caps or ():
        try:
            below, highest = (Decimal(str(v)) for v in pair)
        except (InvalidOperation, TypeError, ValueError):
            continue
        lines.append(f"{plain_decimal(below)} {plain_decimal(highest)}")
    return "\n".join(lines)


def caps_sentence(caps) -> str:
    """"低于 80% 最高 89 分；低于 50% 最高 59 分", or "不设"."""
    parts = []
    for pair in caps or ():
        below, highest = (Decimal(str(v)) for v in pair)
        parts.append(f"低于 {plain_decimal(below)}% 最高 {plain_decimal(highest)} 分")
    return "；".join(parts) or "不设"


class PolicyForm(forms.ModelForm):
    """Create, copy or edit a policy; the caps as text (`parse_caps`)."""

    caps = forms.CharField(
        label="执行率封顶", required=False, widget=forms.Textarea(attrs={"rows": 4, "placeholder": CAPS_EXAMPLE}),
        help_text="每行一条：执行率低于（%） 总分最高，如“80 89”表示执行率低于 80% 时总分最高 89 分；"
                  "同时适用多条时取最严的一条；留空不设。",
    )

    class Meta:
        model = ScoringPolicy
        fields = ("name", "region", "year", "execution_weight", "reverse_formula", "satisfaction_floor",
                  "overachievement_flag", "overachievement_deduction", "whole_points", "reason_below_execution_rate",
                  "reason_over_target_percent", "grade_excellent", "grade_good", "grade_pass")
        help_texts = {
            "year": "留空表示适用所有年度；同一年度有多个政策时，未指定政策的目标表使用最早建立的一个",
            "overachievement_flag": "如 0.20 表示实际超过目标 20% 时提示超额完成（偏离度）",
        }
        error_messages = {"name": {"unique": "已有同名的评分政策，请换一个名称。"}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["caps"] = caps_text(self.instance.execution_caps)
        self.fields["name"].error_messages["required"] = "请填写政策名称。"
        for name in ("execution_weight", "overachievement_flag", "overachievement_deduction", "grade_excellent",
                     "grade_good", "grade_pass"):
            self.fields[name].error_messages["required"] = f"请填写{self.fields[name].label}。"
        for field in self.fields.values():
            if isinstance(field, forms.DecimalField):
                field.error_messages.update({"invalid": "请输入数字。", "max_decimal_places": "最多 2 位小数。",
                                             "min_value": f"{field.label}不能为负数。"})

    def clean_caps(self):
        return parse_caps(self.cleaned_data.get("caps", ""))

    def clean_year(self):
        year = self.cleaned_data.get("year")
        if year is not None and not year_valid(year):
            raise forms.ValidationError(f"年度应在 {YEAR_RANGE_TEXT} 之间（留空表示所有年度）。")
        return year

    def clean_execution_weight(self):
        weight = self.cleaned_data.get("execution_weight")
        if weight is not None and weight > HUNDRED:
            raise forms.ValidationError("预算执行率分值不能超过 100。")
        return weight

    def clean_satisfaction_floor(self):
        return self._percent("satisfaction_floor")

    def clean_reason_below_execution_rate(self):
        return self._percent("reason_below_execution_rate", low_exclusive=True)

    def clean_reason_over_target_percent(self):
        percent = self.cleaned_data.get("reason_over_target_percent")
        if percent is not None and percent <= HUNDRED:
            raise forms.ValidationError("应大于 100（如 130 表示实际超过目标 30% 时须说明原因）。")
        return percent

    def clean_overachievement_deduction(self):
        deduction = self.cleaned_data.get("overachievement_deduction")
        if deduction is not None and deduction > HUNDRED:
            raise forms.ValidationError("扣分不能超过 100。")
        return deduction

    def _percent(self, name: str, *, low_exclusive: bool = False):
        value = self.cleaned_data.get(name)
        if value is not None and (value > HUNDRED or value < 0 or (low_exclusive and value == 0)):
            raise forms.ValidationError(f"应为 {'大于 0' if low_exclusive else '0'} 到 100 之间的百分数。")
        return value

    def clean(self):
        data = super().clean()
        excellent, good, passing = (data.get(n) for n in ("grade_excellent", "grade_good", "grade_pass"))
        if None not in (excellent, good, passing):
            if passing < 0:
                self.add_error("grade_pass", "“中”最低分不能为负数。")
            elif not excellent >= good >= passing:
                self.add_error("grade_good", "等级最低分应为 优 ≥ 良 ≥ 中。")
        return data

    def _post_clean(self):
        self.instance.execution_caps = self.cleaned_data.get("caps", self.instance.execution_caps)
        super()._post_clean()


# What the preview lists as changed, field by field (in the form's order).
SETTING_FIELDS = ("name", "region", "year", "execution_weight", "reverse_formula", "satisfaction_floor",
                  "overachievement_flag", "overachievement_deduction", "execution_caps", "whole_points",
                  "reason_below_execution_rate", "reason_over_target_percent", "grade_excellent", "grade_good",
                  "grade_pass")


def setting_text(policy: ScoringPolicy, name: str) -> str:
    """A setting as a person reads it."""
    value = getattr(policy, name)
    if name == "execution_caps":
        return caps_sentence(value)
    if name == "reverse_formula":
        return policy.get_reverse_formula_display()
    if name == "whole_points":
        return "是" if value else "否"
    if name == "year":
        return "所有年度" if value is None else f"{value} 年"
    if value is None or value == "":
        return "不设"
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return str(value)


def setting_label(name: str) -> str:
    return str(ScoringPolicy._meta.get_field(name).verbose_name)


def settings_changed(old: ScoringPolicy | None, new: ScoringPolicy) -> list[tuple[str, str, str]]:
    """(label, old, new) of every setting the edit changes; for a new policy every setting, old "—"."""
    changes = []
    for name in SETTING_FIELDS:
        after = setting_text(new, name)
        before = setting_text(old, name) if old is not None else "—"
        if before != after:
            changes.append((setting_label(name), before, after))
    return changes
