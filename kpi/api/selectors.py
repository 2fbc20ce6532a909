"""Reads of the API: a user's tokens, the token a secret stands for, and goal tables and reports as the API
shows them — through the pages' own selectors (the scorecard, the lights, the report page's reads)."""
from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from budgets.models import PROJECT_SOURCES, UNIT_SOURCES
from budgets.selectors import unit_year_is_closed
from kpi.lights import Light
from kpi.models import GoalTable, Report
from kpi.monitoring.selectors import table_statuses
from kpi.reports.selectors import report_actuals, table_executions, table_funds, table_reports
from kpi.scorecards.selectors import latest_table_scores, table_scorecard

from .models import AccessToken

# A token's secret starts with this, so that it is recognised (in a log, in a leaked file) for what it is.
SECRET_START = "jx_"


def secret_digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256 (the secret is random enough that no slow hash is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def tokens_for_user(*, user) -> QuerySet[AccessToken]:
    """The user's own tokens, newest first, revoked ones included (they are listed as revoked)."""
    return AccessToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_for_secret(*, secret: str) -> AccessToken | None:
    """The active token a secret stands for, with its user; None when it is unknown or revoked."""
    if not secret.startswith(SECRET_START):
        return None
    return (AccessToken.objects.select_related("user")
            .filter(digest=secret_digest(secret), revoked_at__isnull=True).first())


# --- goal tables -----------------------------------------------------------------------------------

def tables_with_totals(*, tables: list[GoalTable]) -> list[GoalTable]:
    """The tables of a page of the list, each with `official_total` (its latest official TableScore, or None)
    and `api_light` (its worst light). A fixed number of queries, whatever the number of tables."""
    if not tables:
        return tables
    totals = latest_table_scores(tables=GoalTable.objects.filter(pk__in=[t.pk for t in tables]))
    statuses = table_statuses(tables=tables)
    for table in tables:
        table.official_total = totals.get(table.pk)
        table.api_light = statuses[table.pk].light.value
    return tables


def table_detail(*, table: GoalTable) -> GoalTable:
    """One goal table as the API shows it, as `api_*` attributes: its indicators with their latest official
    and provisional scores and latest actual (kpi.scorecards.selectors.table_scorecard, the project page's)
    and their lights (kpi.monitoring.selectors.table_statuses), its totals, funds and the year's state.
    A fixed number of queries, whatever the number of indicators."""
    indicators, totals = table_scorecard(table=table)
    status = table_statuses(tables=[table], indicators=indicators)[table.pk]
    _with_recorders([i.latest_actual for i in indicators if i.latest_actual is not None])
    for indicator in indicators:
        indicator.light = status.indicator_lights.get(indicator.pk, Light.NONE).value
    table.official_total = totals["official"]
    table.api_light = status.light.value
    table.api_budget_light = status.budget_light.value
    table.api_scores = totals
    table.api_indicators = indicators
    table.api_funds = funds_of(table=table, execution=status.execution, execution_rate=status.execution_rate)
    table.api_year_closed = unit_year_is_closed(unit_id=table.unit_id, year=table.year)
    return table


def funds_of(*, table: GoalTable, execution, execution_rate) -> dict:
    """A table's funds — the project's, or the unit's 年度预算 for its 部门整体 table — per source, with the
    latest 执行数 given."""
    funds = table_funds(table)
    sources = PROJECT_SOURCES if table.project_id else UNIT_SOURCES
    return {
        "initial": funds.budget_initial if table.project_id else funds.total,
        "budget": funds.full_year_budget,
        "adjustment_reason": funds.adjustment_reason,
        "sources": [
            {"source": field, "label": label, "initial": getattr(funds, field),
             "budget": getattr(funds, f"{field}_adjusted"),
             "executed": getattr(execution, field) if execution is not None else None}
            for field, label in sources
        ],
        "execution": execution,
        "execution_rate": execution_rate,
    }


def _with_recorders(actuals) -> None:
    """Who recorded each actual, in one query (the scorecard's actuals come without)."""
    ids = {a.recorded_by_id for a in actuals if a.recorded_by_id}
    people = get_user_model().objects.in_bulk(ids) if ids else {}
    for actual in actuals:
        actual.recorded_by = people.get(actual.recorded_by_id)


def project_table(*, project) -> GoalTable:
    """The project's goal table; without one, an unsaved table of the project's unit and year, so that its
    budget execution goes through the report page's own service and permissions (they read the project)."""
    table = GoalTable.objects.filter(project=project).select_related("unit", "project__lead").first()
    if table is None:
        table = GoalTable(scope=GoalTable.Scope.PROJECT, unit=project.unit, project=project, year=project.year)
    return table


def execution_of(*, table: GoalTable, as_of=None):
    """The table's latest 执行数 (of the date, when given), with who recorded it."""
    executions = table_executions(table=table).select_related("recorded_by")
    if as_of is not None:
        executions = executions.filter(as_of=as_of)
    return executions.order_by("-as_of", "-id").first()


# --- reports ---------------------------------------------------------------------------------------

def report_shown(*, report_id: int) -> Report:
    """A report with who made, submitted and reviewed it, and `api_entries`: the latest actual of each
    indicator in it (kpi.reports.selectors.report_actuals), in the table's order."""
    report = Report.objects.select_related("table", "created_by", "submitted_by", "reviewed_by").get(pk=report_id)
    actuals = report_actuals(report=report)
    order = dict(report.table.indicators.values_list("pk", "order")) if actuals else {}
    report.api_entries = sorted(actuals.values(), key=lambda a: (order.get(a.indicator_id, 0), a.indicator_id))
    return report


def report_of_date(*, table: GoalTable, as_of) -> Report | None:
    """The newest report of the table for the date (any status), as the report page finds it."""
    return next((r for r in table_reports(table=table) if r.as_of == as_of), None)
