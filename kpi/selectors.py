"""Reads for goal tables and scores."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from budgets.models import BudgetExecution, Project

from . import scoring
from .models import Actual, GoalTable, Indicator, Report, Score, TableScore
from .monitoring import Light, budget_light, indicator_light, worst_light


def latest_table_scores(*, tables: QuerySet[GoalTable], official: bool = True) -> dict[int, TableScore]:
    """The most recent official (or provisional) total of each table, keyed by table id (one query)."""
    latest = (
        TableScore.objects.filter(table=OuterRef("table"), official=official).order_by("-as_of").values("pk")[:1]
    )
    return {ts.table_id: ts for ts in TableScore.objects.filter(table__in=tables, pk=Subquery(latest))}


def _newest(rows, *, official: bool):
    return next((row for row in rows if row.official == official), None)


def _pending(provisional, official):
    """A provisional figure is worth showing only when it is as recent as the official one."""
    if provisional is None or (official is not None and provisional.as_of < official.as_of):
        return None
    return provisional


def project_with_scorecard(*, project: Project) -> tuple[GoalTable | None, list[Indicator], dict]:
    """A project's goal table and its indicators, each with `latest_score` (official), `pending_score`
    (provisional, when a report awaits approval) and `latest_actual`; plus the latest totals
    `{"official": TableScore|None, "pending": TableScore|None}`. A fixed number of queries.
    """
    table = GoalTable.objects.filter(project=project).first()
    if table is None:
        return None, [], {"official": None, "pending": None}
    indicators = list(
        table.indicators.order_by("order").prefetch_related(
            Prefetch("scores", queryset=Score.objects.order_by("-as_of"), to_attr="scores_newest_first"),
            Prefetch(
                "actuals",
                queryset=Actual.objects.exclude(report__status="returned").order_by("-as_of", "-id"),
                to_attr="actuals_newest_first",
            ),
        )
    )
    for indicator in indicators:
        indicator.latest_score = _newest(indicator.scores_newest_first, official=True)
        indicator.pending_score = _pending(_newest(indicator.scores_newest_first, official=False),
                                           indicator.latest_score)
        indicator.latest_actual = indicator.actuals_newest_first[0] if indicator.actuals_newest_first else None
    totals = list(table.totals.order_by("-as_of"))
    official = _newest(totals, official=True)
    return table, indicators, {"official": official, "pending": _pending(_newest(totals, official=False), official)}


def goal_tables_for_user(*, user) -> QuerySet[GoalTable]:
    """Goal tables the user may see: those of visible projects, and the 部门整体 tables of visible units."""
    from django.db.models import Q

    from budgets.selectors import projects_for_user, units_for_user

    return GoalTable.objects.select_related("unit", "project").filter(
        Q(project__in=projects_for_user(user=user)) | Q(project__isnull=True, unit__in=units_for_user(user=user))
    )


@dataclass
class TableStatus:
    """Where a goal table stands today: its lights (domain.md §6), last update and latest report."""

    as_of: dt.date | None = None
    light: Light = Light.NONE  # the worst of the budget light and the indicator lights
    budget_light: Light = Light.NONE
    indicator_lights: dict[int, Light] = field(default_factory=dict)
    last_update: dt.datetime | None = None
    report: Report | None = None  # the latest report (any status)


def table_statuses(*, tables: list[GoalTable]) -> dict[int, TableStatus]:
    """Lights, last update and latest report of each table, from the latest year-to-date figures
    (provisional: what was entered, approved or not, returned reports excepted). Five queries in all.

    The tables need `project` loaded (select_related) for their budgets.
    """
    statuses = {t.pk: TableStatus() for t in tables}
    if not tables:
        return statuses
    ids = list(statuses)
    indicators = list(Indicator.objects.filter(table_id__in=ids, not_applicable=False))
    latest_actual: dict[int, Actual] = {}
    for actual in (
        Actual.objects.filter(indicator__table_id__in=ids).exclude(report__status=Report.Status.RETURNED)
        .order_by("as_of", "id")
    ):
        latest_actual[actual.indicator_id] = actual
    table_of_project = {t.project_id: t.pk for t in tables if t.project_id}
    executions: dict[int, BudgetExecution] = {}
    for execution in BudgetExecution.objects.filter(project_id__in=table_of_project).order_by("as_of", "id"):
        executions[table_of_project[execution.project_id]] = execution
    for report in Report.objects.filter(table_id__in=ids).order_by("as_of", "id"):
        statuses[report.table_id].report = report

    by_table: dict[int, list[tuple[Indicator, Actual]]] = {}
    for indicator in indicators:
        actual = latest_actual.get(indicator.pk)
        by_table.setdefault(indicator.table_id, []).append((indicator, actual))
    for table in tables:
        status = statuses[table.pk]
        execution = executions.get(table.pk)
        dates = [a.as_of for _, a in by_table.get(table.pk, []) if a is not None]
        stamps = [a.recorded_at for _, a in by_table.get(table.pk, []) if a is not None]
        if execution is not None:
            dates.append(execution.as_of)
            stamps.append(execution.recorded_at)
        if not dates:
            continue
        status.as_of, status.last_update = max(dates), max(stamps)
        month = status.as_of.month
        if execution is not None and table.project_id:
            rate = scoring.score_execution(budget=table.project.full_year_budget, executed=execution.executed).rate
            status.budget_light = budget_light(rate=rate, month=month)
        for indicator, actual in by_table.get(table.pk, []):
            status.indicator_lights[indicator.pk] = _indicator_light(indicator, actual, month)
        status.light = worst_light([status.budget_light, *status.indicator_lights.values()])
    return statuses


def _indicator_light(indicator: Indicator, actual: Actual | None, month: int) -> Light:
    if actual is None:
        return Light.NONE
    ratio = None
    try:
        ratio = scoring.score_indicator(
            rule=indicator.rule, target=indicator.target,
            actual=actual.value if actual.value is not None else actual.met,
            weight=indicator.weight, grade=actual.grade or None, points=actual.points,
        ).ratio
    except scoring.ScoringError:
        pass
    return indicator_light(
        kind=indicator.target_kind, cumulative=indicator.accumulation == Indicator.Accumulation.CUMULATIVE,
        target_value=indicator.target_value, actual=actual.value, met=actual.met, grade=actual.grade,
        score_ratio=ratio, month=month,
    )
