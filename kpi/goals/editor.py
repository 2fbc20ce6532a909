"""The goal-table editor (绩效目标表编制): its header forms, the indicator-row formset, the save of both in one
transaction through kpi.goals.services, and how a 指标值 will be scored in words (`target_summary`).

Without JavaScript the page is a plain formset: blank rows at the end, a 删除 checkbox and a 序号 field per
row (Django's can_delete / can_order). static/js/goal_editor.js only adds and moves rows and keeps the same
fields filled, so both paths post the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.forms import BaseModelFormSet, modelformset_factory

from kpi import scoring
from kpi.formatting import plain_decimal, tidy_decimal
from kpi.models import GoalTable, Indicator
from kpi.rescoring.services import goal_tables_rescore_soon
from kpi.targets import Kind, Target, parse_target, target_text

from . import services

# 万元 as the budgets store them: up to four places, never a float.
MONEY = {"max_digits": 16, "decimal_places": 4, "min_value": Decimal("0")}
EXTRA_ROWS = 3
# Published tables hold 5–40 indicator rows; a post claiming thousands is refused before its forms are built.
MAX_ROWS = 200

KIND_LABELS = {
    Kind.POSITIVE: "正向", Kind.REVERSE: "反向", Kind.EQUALS: "等于", Kind.RANGE: "区间",
    Kind.DEADLINE: "时限", Kind.QUALITATIVE: "定性", Kind.UNKNOWN: "无法识别",
}
# How a rule is said in a sentence ("按完成比例赋分", as the review pages write it).
RULE_WORDS = {scoring.Rule.PROPORTIONAL.value: "按完成比例赋分"}
COMPARATORS = {Kind.POSITIVE: "≥", Kind.REVERSE: "≤", Kind.EQUALS: "="}
FLAG_NOTES = {
    "no_comparator": "未写比较符号，按“等于”处理，请确认方向",
    "strict": "“>”“<”按“≥”“≤”计分",
    "approximate": "约数，按所写数值计分",
    "conflicting_comparators": "比较符号相互矛盾，按第一个处理",
    "extra_text": "数值前后的文字未参与计分",
    "range_swapped": "区间上下限写反，已按从小到大处理",
    "period": "按期间的截止日作为时限",
    "deadline_ambiguous": "只写了月份，未写日期",
    "comparator_on_text": "定性指标前的比较符号未参与计分",
    "has_number": "含数字但不构成可计量的目标",
    "invalid_date": "日期不存在",
    "masked": "数字被遮盖",
    "ocr_broken": "数字中混有字母",
    "too_long": "内容过长，不是指标值",
}


# --- how a target will be scored, in words (pure: no database) --------------------------------------------

def target_summary(target: Target, rule: str) -> str:
    """"正向，≥95%，按完成比例赋分": the kind, the target as it will be compared and the rule."""
    kind = target.kind
    if kind == Kind.UNKNOWN:
        return "无法识别的指标值，请改写为“≥95%”“≤50元/人”“2026年12月31日前”等形式"
    if kind in COMPARATORS and target.value is not None:
        shown = f"{COMPARATORS[kind]}{plain_decimal(target.value)}{target.unit}"
    elif kind == Kind.RANGE and target.value is not None and target.upper is not None:
        shown = f"{plain_decimal(target.value)}–{plain_decimal(target.upper)}{target.unit}"
    else:
        shown = target_text(target.raw)
    return f"{KIND_LABELS[kind]}，{shown}，{RULE_WORDS.get(rule, rule)}"


def parse_target_json(*, text: str, level2: str = "", rule: str = "") -> dict:
    """What goals:parse-target answers for a 指标值 being typed: the parsed form, the default rule and
    accumulation, and `summary` with the row's own rule when it has one (else the default)."""
    target = parse_target(text or "")
    default_rule = scoring.default_rule_for(target).value
    chosen = rule if rule in Indicator.Rule.values else default_rule
    return {
        "kind": target.kind.value,
        "kind_label": KIND_LABELS[target.kind],
        "comparator": COMPARATORS.get(target.kind, ""),
        "value": plain_decimal(target.value),
        "upper": plain_decimal(target.upper),
        "unit": target.unit,
        "rule": default_rule,
        "accumulation": str(services.default_accumulation(level2=level2 or "", target=target)),
        "summary": target_summary(target, chosen),
        "flags": list(target.flags),
        "flag_notes": [FLAG_NOTES.get(flag, flag) for flag in target.flags],
    }


# --- the header -----------------------------------------------------------------------------------------

class ProjectHeaderForm(forms.Form):
    """项目支出绩效目标表's header: the project's name, 负责人 and funds split (万元), 项目总体目标."""

    name = forms.CharField(label="项目名称", max_length=200)
    lead_name = forms.CharField(label="项目负责人", max_length=50, required=False)
    budget_initial = forms.DecimalField(label="年初预算数（万元）", **MONEY)
    fiscal = forms.DecimalField(label="其中：财政拨款", **MONEY, required=False)
    carryover = forms.DecimalField(label="上年结转", **MONEY, required=False)
    other = forms.DecimalField(label="其他资金", **MONEY, required=False)
    overall_goal = forms.CharField(label="项目总体目标", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    SOURCES = ("fiscal", "carryover", "other")

    @classmethod
    def initial_for(cls, table: GoalTable) -> dict:
        p = table.project
        # money shown as published (438.768, 0), not with the column's four places
        return {"name": p.name, "lead_name": p.lead_name, "budget_initial": tidy_decimal(p.budget_initial),
                "fiscal": tidy_decimal(p.fiscal), "carryover": tidy_decimal(p.carryover),
                "other": tidy_decimal(p.other), "overall_goal": table.overall_goal}

    def clean(self):
        data = super().clean()
        for field in self.SOURCES:
            if field in data and data[field] is None:
                data[field] = Decimal("0")
        if self.errors or data.get("budget_initial") is None:
            return data
        added = sum((data[f] for f in self.SOURCES), Decimal("0"))
        if added != data["budget_initial"]:
            raise ValidationError(
                f"项目资金不平衡：其中财政拨款 {plain_decimal(data['fiscal'])} + 上年结转 {plain_decimal(data['carryover'])}"
                f" + 其他资金 {plain_decimal(data['other'])} = {plain_decimal(added)} 万元，"
                f"与年初预算数 {plain_decimal(data['budget_initial'])} 万元不一致，请核对。"
            )
        return data

    def header(self) -> dict:
        return {f: self.cleaned_data[f] for f in services.PROJECT_HEADER_FIELDS}


class UnitHeaderForm(forms.Form):
    """部门整体绩效目标表's header: 部门联系人, 联系电话, 年度绩效目标 and the 年度预算 split (万元)."""

    contact = forms.CharField(label="部门联系人", max_length=50, required=False)
    phone = forms.CharField(label="联系电话", max_length=50, required=False)
    overall_goal = forms.CharField(label="年度绩效目标", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    fiscal_superior = forms.DecimalField(label="财政资金（上级安排）", **MONEY, required=False)
    fiscal_local = forms.DecimalField(label="财政资金（本级安排）", **MONEY, required=False)
    other = forms.DecimalField(label="其他资金", **MONEY, required=False)

    @classmethod
    def initial_for(cls, table: GoalTable, budget) -> dict:
        initial = {"contact": table.unit.contact, "phone": table.unit.phone, "overall_goal": table.overall_goal}
        if budget is not None:
            initial.update(fiscal_superior=tidy_decimal(budget.fiscal_superior),
                           fiscal_local=tidy_decimal(budget.fiscal_local), other=tidy_decimal(budget.other))
        return initial

    def clean(self):
        data = super().clean()
        for field in services.UNIT_BUDGET_FIELDS:
            if field in data and data[field] is None:
                data[field] = Decimal("0")
        return data

    def header(self) -> dict:
        return {f: self.cleaned_data[f] for f in (*services.UNIT_HEADER_FIELDS, *services.UNIT_BUDGET_FIELDS)}


# --- the indicator rows ---------------------------------------------------------------------------------

ROW_FIELDS = ("level1", "level2", "name", "target_raw", "basis", "last_year", "weight", "rule", "evidence",
              "accumulation")


class IndicatorRowForm(forms.ModelForm):
    """One indicator row. A blank 赋分规则 or 累计/水平 takes the default for the target's kind."""

    rule = forms.ChoiceField(label="指标赋分规则", required=False,
                             choices=[("", "（按指标值默认）"), *Indicator.Rule.choices])
    accumulation = forms.ChoiceField(label="累计或水平", required=False,
                                     choices=[("", "（按指标默认）"), *Indicator.Accumulation.choices])

    class Meta:
        model = Indicator
        fields = ROW_FIELDS
        widgets = {
            "level1": forms.TextInput(attrs={"size": 8, "list": "level1-options"}),
            "level2": forms.TextInput(attrs={"size": 10, "list": "level2-options"}),
            "name": forms.TextInput(attrs={"size": 18}),
            "target_raw": forms.TextInput(attrs={"size": 12, "class": "target-input"}),
            "basis": forms.Textarea(attrs={"rows": 1, "cols": 14}),
            "last_year": forms.TextInput(attrs={"size": 8}),
            "weight": forms.NumberInput(attrs={"step": "0.01", "min": "0", "class": "weight-input", "style": "width:5em"}),
            "evidence": forms.Textarea(attrs={"rows": 1, "cols": 12}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.weight is not None:
            self.initial["weight"] = tidy_decimal(self.instance.weight)  # 20 as published, not the column's 20.00

    def clean(self):
        data = super().clean()
        target_raw = data.get("target_raw")
        if target_raw:
            target = parse_target(target_raw)
            if not data.get("rule"):
                data["rule"] = scoring.default_rule_for(target).value
            if not data.get("accumulation"):
                data["accumulation"] = services.default_accumulation(level2=data.get("level2") or "", target=target)
        return data


class BaseIndicatorFormSet(BaseModelFormSet):
    default_error_messages = {"too_many_forms": "一张绩效目标表最多 %(num)d 行指标，请删减后再保存。"}

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["ORDER"].label = "序号"
        form.fields["ORDER"].widget.attrs.update({"class": "order-input", "style": "width:3.5em", "min": "1"})
        form.fields["DELETE"].label = "删除"
        form.fields["DELETE"].widget.attrs.update({"class": "delete-input"})


IndicatorFormSet = modelformset_factory(
    Indicator, form=IndicatorRowForm, formset=BaseIndicatorFormSet, fields=ROW_FIELDS, extra=EXTRA_ROWS,
    can_delete=True, can_order=True, max_num=MAX_ROWS, absolute_max=MAX_ROWS, validate_max=True,
)


def indicator_formset(table: GoalTable, data=None, *, queryset=None):
    queryset = queryset if queryset is not None else table.indicators.select_related("previous").order_by("order")
    return IndicatorFormSet(data, queryset=queryset, prefix="rows")


# --- the save -------------------------------------------------------------------------------------------

@dataclass
class RowError(Exception):
    """A service refused one row (e.g. deleting an indicator that has actuals): shown on that row."""

    form: forms.Form
    error: ValidationError


def editor_save(*, table: GoalTable, header_form: forms.Form, formset, user) -> None:
    """Write the header and every row in one transaction (a savepoint inside the request's), through
    kpi.goals.services: deletions first, then the rows in their new order. Raises ValidationError (the table,
    the year) or RowError (one row); either way nothing is kept.

    The (table, order) uniqueness holds at every step: the rows whose 序号 changes are first moved out of the
    way (past every current and every new number) in one UPDATE, then each is saved with its new number."""
    with transaction.atomic():
        services.goal_table_header_update(table=table, overall_goal=header_form.cleaned_data["overall_goal"],
                                          header=header_form.header(), user=user)
        for form in formset.deleted_forms:
            if form.instance.pk:
                try:
                    services.indicator_delete(indicator=form.instance, user=user)
                except ValidationError as error:
                    raise RowError(form, error) from None
        rows = list(formset.ordered_forms)
        kept = [form.instance.pk for form in rows if form.instance.pk]
        # Rows added since the page was opened (another tab, an import) keep their place after these.
        others = list(table.indicators.exclude(pk__in=kept).exclude(
            pk__in=[f.instance.pk for f in formset.deleted_forms if f.instance.pk]).order_by("order"))
        final = {id(form): number for number, form in enumerate(rows, start=1)}
        moved = [form.instance.pk for form in rows if form.instance.pk and form.instance.order != final[id(form)]]
        moved += [indicator.pk for number, indicator in enumerate(others, start=len(rows) + 1)
                  if indicator.order != number]
        if moved:
            top = table.indicators.aggregate(top=Max("order"))["top"] or 0
            Indicator.objects.filter(pk__in=moved).update(order=F("order") + top + len(rows) + len(others) + 1)
        created = False
        for form in rows:
            number = final[id(form)]
            try:
                if form.instance.pk:
                    if form.instance.pk in moved or form.has_changed():
                        form.instance.order = number
                        services.indicator_update(indicator=form.instance, user=user, source="绩效目标表编制")
                else:
                    data = form.cleaned_data
                    services.indicator_create(table=table, order=number, user=user,
                                              **{name: data[name] for name in ROW_FIELDS})
                    created = True
            except ValidationError as error:
                raise RowError(form, error) from None
        for number, indicator in enumerate(others, start=len(rows) + 1):
            if indicator.pk in moved:
                indicator.order = number
                services.indicator_update(indicator=indicator, user=user)
        if created:  # indicator_create only marks the table (an import builds it row by row): score it now
            goal_tables_rescore_soon(table_ids=[table.pk])
