"""Reads of the report page: the actuals standing for a date, the ones before it, the table's reports."""
from __future__ import annotations

import datetime as dt

from budgets.models import BudgetExecution, Project, UnitBudget
from kpi.models import Actual, Evidence, GoalTable, Report


def current_actuals(*, table: GoalTable, as_of: dt.date) -> dict[int, Actual]:
    """Per indicator, the actual now standing for this date (a returned report's excepted): the one a new
    entry for that date corrects."""
    current: dict[int, Actual] = {}
    for actual in (
        Actual.objects.filter(indicator__table=table, as_of=as_of).that_count()
        .select_related("report", "recorded_by").order_by("id")
    ):
        current[actual.indicator_id] = actual
    return current


def report_actuals(*, report: Report) -> dict[int, Actual]:
    """Per indicator, the last actual recorded in one report (a returned one's values, shown to correct)."""
    actuals: dict[int, Actual] = {}
    for actual in Actual.objects.filter(report=report).select_related("report", "recorded_by").order_by("id"):
        actuals[actual.indicator_id] = actual
    return actuals


def returned_for_date(reports: list[Report], as_of: dt.date) -> Report | None:
    """The returned report a date's page is correcting: the newest returned one of the date, unless an
    approved report came after it. `reports` is `table_reports(...)` (newest first)."""
    for report in reports:
        if report.as_of != as_of:
            continue
        if report.status == Report.Status.RETURNED:
            return report
        if report.status == Report.Status.APPROVED:
            return None
    return None


def previous_actuals(*, table: GoalTable, as_of: dt.date) -> dict[int, Actual]:
    """The last value reported before the date, per indicator, shown beside the input."""
    previous: dict[int, Actual] = {}
    for actual in (
        Actual.objects.filter(indicator__table=table, as_of__lt=as_of).that_count()
        .select_related("report").order_by("as_of", "id")
    ):
        previous[actual.indicator_id] = actual
    return previous


def evidence_by_indicator(*, table: GoalTable) -> dict[int, list[Evidence]]:
    """The table's evidence files per indicator, oldest first, with who uploaded them."""
    evidence: dict[int, list[Evidence]] = {}
    for item in Evidence.objects.filter(indicator__table=table).select_related("uploaded_by").order_by("uploaded_at", "id"):
        evidence.setdefault(item.indicator_id, []).append(item)
    return evidence


def table_reports(*, table: GoalTable) -> list[Report]:
    """Every report of the table, newest first, with who submitted and reviewed it."""
    return list(Report.objects.filter(table=table).select_related("submitted_by", "reviewed_by", "created_by")
                .order_by("-as_of", "-id"))


def table_executions(*, table: GoalTable):
    """The execution figures that feed the table: its project's, or the unit's own for the 部门整体 table."""
    if table.project_id:
        return BudgetExecution.objects.filter(project_id=table.project_id)
    return BudgetExecution.objects.filter(unit_id=table.unit_id, year=table.year, project__isnull=True)


def table_funds(table: GoalTable) -> Project | UnitBudget:
    """Where the table's 全年预算数 lives: the project, or the unit's 年度预算 for the 部门整体 table."""
    if table.project_id:
        return table.project
    return UnitBudget.objects.filter(unit=table.unit, year=table.year).first() or UnitBudget(unit=table.unit,
                                                                                            year=table.year)
