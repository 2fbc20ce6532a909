"""Reads of the reminders: the period due and the projects overdue for it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
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


@dataclass(frozen=True)
class Overdue:
    """One overdue project, with what the e-mails show of it."""

    project_id: int
    project_name: str
    unit_id: int
    unit_name: str
    lead: object | None  # the lead's user, if the project has one
    lead_name: str
    path: str


def reminder_period(*, today: dt.date) -> Period:
    """The month due by the reminder day of `today`'s month: the previous calendar month."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return Period(start=end.replace(day=1), end=end)


def overdue_projects(*, period: Period) -> list[Overdue]:
    """Projects whose goal table has no report (returned ones excepted) as of the period or later."""
    reported = Report.objects.filter(table=OuterRef("pk"), as_of__gte=period.start).exclude(
        status=Report.Status.RETURNED
    )
    year_closed = UnitYear.objects.filter(unit=OuterRef("unit"), year=OuterRef("year"), closed=True)
    tables = (
        GoalTable.objects.filter(
            scope=GoalTable.Scope.PROJECT,
            status__in=[GoalTable.Status.DRAFT, GoalTable.Status.APPROVED],
            year=period.end.year,
        )
        .exclude(Exists(reported))
        .exclude(Exists(year_closed))
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
        )
        for table in tables
    ]


def _lead_name(project) -> str:
    if project.lead is not None:
        return person_name(project.lead)
    return project.lead_name or "未指定"
