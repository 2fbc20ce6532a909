"""django-tables2 tables of the scorecards: one base table sets the template and CSS, the others subclass it."""
from __future__ import annotations

from decimal import Decimal

import django_tables2 as tables
from django.db.models import Case, F, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from budgets.models import Project
from kpi.formatting import money_text, percent_text, person_name

from .selectors import GRADES, light_of

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}
DASH = "—"


class DecimalColumn(tables.Column):
    """A number shown and exported with a fixed number of places (SQLite hands annotations back unrounded)."""

    def __init__(self, *args, places: int = 2, **kwargs):
        self.quantum = Decimal(1).scaleb(-places)
        kwargs.setdefault("attrs", NUM)
        kwargs.setdefault("default", DASH)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return str(Decimal(value).quantize(self.quantum))

    def value(self, value):
        return Decimal(value).quantize(self.quantum)


class MoneyColumn(DecimalColumn):
    """万元 as published: two places at least, up to four (kpi.formatting.money_text)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, places=4, **kwargs)

    def render(self, value):
        return money_text(value)

    def value(self, value):
        return Decimal(money_text(value))


class BaseTable(tables.Table):
    """Every Jixiao table: the site's grid look, Chinese empty text, our pagination labels."""

    class Meta:
        template_name = "scorecards/table.html"
        attrs = {"class": "grid"}
        empty_text = "没有记录。"


def _nulls_last(queryset, name: str, is_descending: bool):
    """Order by an annotation with the unscored (NULL) rows always last, on SQLite as on PostgreSQL."""
    expression = F(name).desc(nulls_last=True) if is_descending else F(name).asc(nulls_last=True)
    return queryset.order_by(expression, "name", "pk"), True


class UnitScorecardTable(BaseTable):
    """单位绩效看板: one row per project of the unit and year (rows from `scorecard_rows`)."""

    project = tables.Column("项目", accessor="name", order_by=("name", "pk"))
    lead = tables.Column("项目负责人", accessor="lead_name", order_by=("lead_name", "name"), empty_values=())
    budget = MoneyColumn("全年预算数（万元）", accessor="full_budget")
    executed = MoneyColumn("执行数（万元）", accessor="executed")
    execution_rate = tables.Column("执行率", accessor="execution_rate", attrs=NUM, empty_values=(),
                                   exclude_from_export=True)
    # The spreadsheet gets the rate as a number (93.21), not as text ("93.21%").
    execution_rate_percent = tables.Column("执行率（%）", accessor="execution_rate", visible=False, orderable=False)
    execution_points = DecimalColumn("执行率得分", accessor="execution_points")
    indicator_points = DecimalColumn("指标得分", accessor="indicator_points")
    total = DecimalColumn("总分", accessor="total")
    grade = tables.Column("等级", accessor="grade", default=DASH)
    light = tables.Column("监控", accessor="light", empty_values=(), attrs={"td": {"class": "nowrap"}})
    last_update = tables.Column("最近更新", accessor="last_update", empty_values=(), attrs={"td": {"class": "nowrap"}})

    class Meta(BaseTable.Meta):
        model = Project
        fields = ()
        sequence = ("project", "lead", "budget", "executed", "execution_rate", "execution_rate_percent",
                    "execution_points", "indicator_points", "total", "grade", "light", "last_update")
        empty_text = "没有符合条件的项目。"

    # --- cells: render_* for the page, value_* for the export ----------------------------------------

    def render_project(self, record, value):
        return format_html('<a href="{}">{}</a>', reverse("scorecards:project", args=[record.pk]), value)

    def value_project(self, value):
        return value

    def _lead(self, record) -> str:
        if record.lead_name:
            return record.lead_name
        if record.lead_id:
            return person_name(record.lead)
        return ""

    def render_lead(self, record):
        return self._lead(record) or DASH

    def value_lead(self, record):
        return self._lead(record)

    def render_execution_rate(self, record, value):
        if value is not None:
            return percent_text(value)
        return "未定义" if record.full_budget == 0 else DASH

    def value_execution_rate_percent(self, value):
        return (value * 100).quantize(Decimal("0.01"))

    def render_total(self, column, value):
        return format_html("<strong>{}</strong>", column.render(value))

    def value_total(self, column, value):
        return column.value(value)

    def render_light(self, record):
        light = light_of(record)
        return format_html('<span class="light light-{}" title="{}"></span>{}', light.value, light.label, light.label)

    def value_light(self, record):
        return light_of(record).label

    def _last_update(self, record) -> str:
        return f"{timezone.localtime(record.last_update):%Y-%m-%d %H:%M}" if record.last_update else ""

    def render_last_update(self, record):
        return self._last_update(record) or DASH

    def value_last_update(self, record):
        return self._last_update(record)

    # --- sorting in the database -----------------------------------------------------------------------

    def order_budget(self, queryset, is_descending):
        return _nulls_last(queryset, "full_budget", is_descending)

    def order_executed(self, queryset, is_descending):
        return _nulls_last(queryset, "executed", is_descending)

    def order_execution_rate(self, queryset, is_descending):
        return _nulls_last(queryset, "execution_rate", is_descending)

    def order_execution_points(self, queryset, is_descending):
        return _nulls_last(queryset, "execution_points", is_descending)

    def order_indicator_points(self, queryset, is_descending):
        return _nulls_last(queryset, "indicator_points", is_descending)

    def order_total(self, queryset, is_descending):
        return _nulls_last(queryset, "total", is_descending)

    def order_grade(self, queryset, is_descending):
        # 优 before 良 before 中 before 差 (their code points do not sort that way), unscored last.
        rank = Case(*[When(grade=g, then=Value(i)) for i, g in enumerate(GRADES)],
                    default=Value(None), output_field=IntegerField())
        return _nulls_last(queryset.annotate(grade_rank=rank), "grade_rank", is_descending)

    def order_light(self, queryset, is_descending):
        # Ascending: worst first (红 黄 蓝 绿 未填报), the rank the rescore stored.
        return _nulls_last(queryset, "light_rank", is_descending)

    def order_last_update(self, queryset, is_descending):
        return _nulls_last(queryset, "last_update", is_descending)
