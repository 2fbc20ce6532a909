"""django-tables2 table of the 指标库 list."""
from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from kpi.models import LibraryEntry
from kpi.scorecards.tables import NUM, BaseTable


class LibraryTable(BaseTable):
    name = tables.Column("三级指标", accessor="name", order_by=("name", "pk"))
    level1 = tables.Column("一级指标", accessor="level1")
    level2 = tables.Column("二级指标", accessor="level2")
    target_kind = tables.Column("指标值类型", accessor="target_kind")
    unit = tables.Column("计量单位", accessor="unit", default="—")
    rule = tables.Column("默认赋分规则", accessor="rule", default="—")
    uses_count = tables.Column("使用次数", accessor="uses_count", attrs=NUM)
    recommended = tables.Column("推荐", accessor="recommended", empty_values=())

    class Meta(BaseTable.Meta):
        model = LibraryEntry
        fields = ()
        sequence = ("name", "level1", "level2", "target_kind", "unit", "rule", "uses_count", "recommended")
        empty_text = "没有符合条件的指标。"

    def render_name(self, record, value):
        return format_html('<a href="{}">{}</a>', reverse("library:detail", args=[record.pk]), value)

    def render_target_kind(self, record):
        return record.get_target_kind_display()

    def render_recommended(self, value):
        return "推荐" if value else "—"
