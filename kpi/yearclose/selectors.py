"""Reads of the 年度关账 page: what is still open in a unit's year, per goal table."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef

from kpi.models import Actual, GoalTable, Indicator, Report


@dataclass
class OpenItems:
    """What of one goal table is not finished: drafts not submitted (未提交的草稿), submitted reports not
    reviewed (待审核), applicable indicators without any actual that counts (无实际完成值)."""

    table: GoalTable
    drafts: list[Report] = field(default_factory=list)
    submitted: list[Report] = field(default_factory=list)
    missing: list[Indicator] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.drafts or self.submitted or self.missing)


@dataclass
class YearOpenItems:
    tables: list[OpenItems]

    @property
    def open_tables(self) -> list[OpenItems]:
        return [t for t in self.tables if t.any]

    @property
    def drafts(self) -> int:
        return sum(len(t.drafts) for t in self.tables)

    @property
    def submitted(self) -> int:
        return sum(len(t.submitted) for t in self.tables)

    @property
    def missing(self) -> int:
        return sum(len(t.missing) for t in self.tables)


def year_open_items(*, tables: list[GoalTable]) -> YearOpenItems:
    """The open items of the year's goal tables (`kpi.goals.selectors.unit_year_tables`), in their order.
    Two queries, whatever the number of tables, reports or indicators."""
    items = {t.pk: OpenItems(table=t) for t in tables}
    for report in (
        Report.objects.filter(table_id__in=list(items), status__in=Report.OPEN)
        .select_related("submitted_by", "created_by").order_by("as_of", "pk")
    ):
        target = items[report.table_id].submitted if report.status == Report.Status.SUBMITTED else \
            items[report.table_id].drafts
        target.append(report)
    counted = Actual.objects.that_count().filter(indicator=OuterRef("pk"))
    for indicator in (
        Indicator.objects.filter(table_id__in=list(items), not_applicable=False)
        .exclude(Exists(counted)).order_by("table_id", "order")
    ):
        items[indicator.table_id].missing.append(indicator)
    return YearOpenItems(tables=list(items.values()))
