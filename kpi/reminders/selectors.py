"""Reads of the reminders: the period due and the projects overdue for it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.urls import reverse

from budgets.models import UnitYear
from kpi.formatting import person_name
from kpi.models import GoalTable, Report


@dataclass(frozen=True)
class Period:
    """监控期 — the calendar month whose year-to-date figures are due."""

    start: dt.date
    end: dt.date

    @property
    def month(self) -> str:
        return f"{self.end.year}年{self.end.month}月"

    @property
    def label(self) -> str:
        return f"{self.month}（截至 {self.end:%Y-%m-%d}）"

    @property
    def due(self) -> dt.date:
        """The day the month's figures are due: JIXIAO_REMINDER_DAY of the month after it."""
        return self.end + dt.timedelta(days=settings.JIXIAO_REMINDER_DAY)


@dataclass(frozen=True)
class Overdue:
    """One overdue project, with what the e-mails and the overdue page show of it."""

    project_id: int
    project_name: str
    unit_id: int
    unit_name: str
    lead: object | None  # the lead's user, if the project has one
    lead_name: str
    path: str
    report_path: str = ""  # the report page at the period's end, where the lead enters the figures due
    table_id: int | None = None
    last_reported: dt.date | None = None  # the latest date reported before the period (returned ones excepted)


def reminder_period(*, today: dt.date) -> Period:
    """The month due by the reminder day of `today`'s month: the previous calendar month."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return Period(start=end.replace(day=1), end=end)


def month_period(*, year: int, month: int) -> Period:
    """The monitoring period of a calendar month."""
    start = dt.date(year, month, 1)
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return Period(start=start, end=end)


def overdue_projects(*, period: Period, unit_ids=None, lead=None) -> list[Overdue]:
    """Projects whose goal table has no report (returned ones excepted) as of the period or later.

    `unit_ids` keeps the projects of those units (a page's scope, see `units_for_user`), `lead` those the
    user leads. One query.
    """
    counted = Report.objects.filter(table=OuterRef("pk")).exclude(status=Report.Status.RETURNED)
    year_closed = UnitYear.objects.filter(unit=OuterRef("unit"), year=OuterRef("year"), closed=True)
    tables = GoalTable.objects.filter(
        scope=GoalTable.Scope.PROJECT,
        year=period.end.year,
    ).exclude(status=GoalTable.Status.CLOSED)  # a table under review (申报 … 批复) still reports its actuals
    if unit_ids is not None:
        tables = tables.filter(unit_id__in=unit_ids)
    if lead is not None:
        tables = tables.filter(Q(project__lead=lead))
    tables = (
        tables.exclude(Exists(counted.filter(as_of__gte=period.start)))
        .exclude(Exists(year_closed))
        .annotate(last_reported=Subquery(
            counted.order_by().values("table").annotate(last=Max("as_of")).values("last")[:1]
        ))
        .select_related("project__unit", "project__lead")
        .order_by("project__unit__code", "project__name")
    )
    return [
        Overdue(
            project_id=table.project_id,
            project_name=table.project.name,
            unit_id=table.project.unit_id,
            unit_name=table.project.unit.name,
            lead=table.project.lead,
            lead_name=_lead_name(table.project),
            path=reverse("scorecards:project", args=[table.project_id]),
            report_path=f"{reverse('reports:project', args=[table.project_id])}?as_of={period.end:%Y-%m-%d}",
            table_id=table.pk,
            last_reported=table.last_reported,
        )
        for table in tables
    ]


def _lead_name(project) -> str:
    if project.lead is not None:
        return person_name(project.lead)
    return project.lead_name or "未指定"


@dataclass(frozen=True)
class Due:
    """The date a goal table's report page should open on for the person who records it, and why."""

    as_of: dt.date | None  # None: the page's own default date
    why: str  # 已退回 / 草稿 / 本月应报 / ""
    waiting: int = 0  # submitted reports of the table waiting for review

    @property
    def query(self) -> str:
        return f"?as_of={self.as_of:%Y-%m-%d}" if self.as_of else ""


def report_dates_needing(*, tables, today: dt.date) -> dict[int, Due]:
    """Per goal table, the report date that needs its lead: a returned report not yet corrected (the oldest
    first), else a draft not yet submitted, else the month due by this month's reminder day. One query."""
    period = reminder_period(today=today)
    by_table: dict[int, list[tuple[dt.date, str, int]]] = {}
    for table_id, as_of, status, pk in (
        Report.objects.filter(table__in=tables).order_by("table_id", "as_of", "pk")
        .values_list("table_id", "as_of", "status", "pk")
    ):
        by_table.setdefault(table_id, []).append((as_of, status, pk))
    due = {}
    for table in tables:
        reports = by_table.get(table.pk, [])
        # A return is answered once a later report (a new draft, submitted or approved) exists for its date.
        answered = {(as_of, pk) for as_of, status, pk in reports if status != Report.Status.RETURNED}
        returned = [
            as_of for as_of, status, pk in reports
            if status == Report.Status.RETURNED and not any(d == as_of and p > pk for d, p in answered)
        ]
        drafts = [as_of for as_of, status, _ in reports if status == Report.Status.DRAFT]
        waiting = sum(1 for _, status, _ in reports if status == Report.Status.SUBMITTED)
        if returned:
            due[table.pk] = Due(returned[0], Report.Status.RETURNED.label, waiting)
        elif drafts:
            due[table.pk] = Due(drafts[0], Report.Status.DRAFT.label, waiting)
        elif period.end.year == table.year:
            reported = any(status != Report.Status.RETURNED and as_of >= period.start for as_of, status, _ in reports)
            due[table.pk] = Due(period.end, "" if reported else "本月应报", waiting)
        else:
            due[table.pk] = Due(None, "", waiting)
    return due
