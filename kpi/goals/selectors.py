"""Reads of goal tables, scoped to what the user may see."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from budgets.selectors import lead_candidates, projects_for_user, units_for_user
from kpi.formatting import actual_text
from kpi.models import Actual, GoalTable, Score

__all__ = ["LastYear", "goal_tables_for_user", "last_year_facts", "lead_candidates", "unit_year_tables"]


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


@dataclass(frozen=True)
class LastYear:
    """上年: what the indicator a row was started from had — its target, final approved actual and the latest
    official score (None when it was never scored)."""

    target: str
    actual: str
    points: Decimal | None
    weight: Decimal


def last_year_facts(*, indicators) -> dict[int, LastYear]:
    """By the id of each given indicator whose `previous` is set (select_related("previous") already
    applied): last year's target, final approved actual and official score. Two queries whatever the number."""
    previous = {i.previous_id: i.previous for i in indicators if i.previous_id}
    if not previous:
        return {}
    actuals = Actual.objects.approved().filter(indicator_id__in=previous).finals()
    points: dict[int, Decimal] = {}
    for score in Score.objects.filter(indicator_id__in=previous, official=True).order_by("indicator_id", "as_of"):
        points[score.indicator_id] = score.points
    facts = {}
    for indicator in indicators:
        before = previous.get(indicator.previous_id)
        if before is None:
            continue
        actual = actuals.get(before.pk)
        text = "" if actual is None else actual_text(value=actual.value, met=actual.met, grade=actual.grade,
                                                      unit=before.unit)
        facts[indicator.pk] = LastYear(target=before.target_raw, actual=text, points=points.get(before.pk),
                                       weight=before.weight)
    return facts
