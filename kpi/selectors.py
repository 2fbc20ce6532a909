"""Reads for goal tables and scores."""
from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from budgets.models import Project

from .models import Actual, GoalTable, Indicator, Score, TableScore


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
