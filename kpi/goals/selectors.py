"""Reads of goal tables, scoped to what the user may see."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from budgets.selectors import lead_candidates, projects_for_user, units_for_user
from kpi.models import GoalTable

__all__ = ["goal_tables_for_user", "lead_candidates", "unit_year_tables"]


def goal_tables_for_user(*, user) -> QuerySet[GoalTable]:
    """Goal tables the user may see: those of visible projects, and the 部门整体 tables of visible units."""
    return GoalTable.objects.select_related("unit", "project").filter(
        Q(project__in=projects_for_user(user=user)) | Q(project__isnull=True, unit__in=units_for_user(user=user))
    )


def unit_year_tables(*, unit_id: int, year: int) -> QuerySet[GoalTable]:
    """The unit's goal tables of the year (the 部门整体 table first, then the projects by name)."""
    return GoalTable.objects.filter(unit_id=unit_id, year=year).select_related("project").order_by(
        "scope", "project__name"
    )
