"""Reads for the 绩效自评 pages, scoped to what the user may see."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from budgets.selectors import units_for_user
from kpi.goals.selectors import goal_tables_for_user
from kpi.models import SelfEvalReport


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
