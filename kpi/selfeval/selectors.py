"""Reads for the 绩效自评 pages, scoped to what the user may see."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum

from budgets.selectors import units_for_user
from kpi.goals.selectors import goal_tables_for_user
from kpi.models import GoalTable, SelfEvalReport


def selfeval_reports_for_user(*, user) -> QuerySet[SelfEvalReport]:
    """Kept reports the user may open: those of tables they may see, and the bundles of units they may see."""
    return SelfEvalReport.objects.select_related("unit", "table__project", "generated_by").filter(
        Q(table__in=goal_tables_for_user(user=user).values("pk"))
        | Q(table__isnull=True, unit__in=units_for_user(user=user))
    )


def selfeval_reports_of_unit(*, unit, year: int, limit: int = 50) -> list[SelfEvalReport]:
    """The newest kept reports of a unit's year (bundles and single tables), for the unit page."""
    return list(
        SelfEvalReport.objects.filter(unit=unit, year=year)
        .select_related("unit", "table__project", "generated_by").defer("snapshot")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class UnitOverview:
    """The head of a unit's self-evaluation page, counted in SQL over every table of the year (not just the
    page shown): tables, tables still being rescored, tables without an official total, and indicators the
    official scores lack an approved actual for (from the stored summaries, `TableSummary.official_missing`)."""

    tables: int
    stale: int
    unscored: int
    missing_actuals: int


def unit_overview(*, unit, year: int) -> UnitOverview:
    """Counts over the unit's tables of the year, in one query (see UnitOverview)."""
    counts = GoalTable.objects.filter(unit=unit, year=year).aggregate(
        tables=Count("pk"),
        stale=Count("pk", filter=GoalTable.STALE),
        unscored=Count("pk", filter=Q(summary__official_total__isnull=True)),
        missing_actuals=Sum("summary__official_missing"),
    )
    return UnitOverview(tables=counts["tables"], stale=counts["stale"], unscored=counts["unscored"],
                        missing_actuals=counts["missing_actuals"] or 0)


def unit_tables_ordered(*, unit, year: int) -> QuerySet[GoalTable]:
    """The unit's goal tables of the year in the order of the self-evaluation (the 部门整体 table first, then the
    projects by name), with what `evaluations_build` needs, to be paginated in SQL."""
    return (GoalTable.objects.filter(unit=unit, year=year).select_related("unit__parent", "project")
            .order_by(F("project__name").asc(nulls_first=True), "pk"))
