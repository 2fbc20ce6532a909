"""Reads of the 申报 → 审核 → 批复 workflow: a table's steps and adjustments, and the reviewers' queues.

Who reviews is kpi.permissions' (`can_review_table`: a reviewer above the unit; `can_ratify_table`: a
reviewer on a top unit of the tree, the finance side); the queues apply the same rules as querysets.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from budgets.models import Role, UnitMembership
from budgets.selectors import unit_subtree_ids
from kpi.models import Adjustment, AdjustmentRow, GoalTable, GoalTableStep


def table_steps(*, table: GoalTable) -> QuerySet[GoalTableStep]:
    """Every step of the table and of its adjustments, oldest first, with who took it."""
    return table.steps.select_related("by").order_by("at", "id")


def table_adjustments(*, table: GoalTable) -> QuerySet[Adjustment]:
    """The table's adjustments, newest first, each with its rows (approved beside adjusted values)."""
    return table.adjustments.select_related("created_by").prefetch_related(
        Prefetch("rows", queryset=AdjustmentRow.objects.select_related("indicator").order_by("indicator__order"))
    ).order_by("-created_at", "-id")


@dataclass(frozen=True)
class ReviewScope:
    """The units whose tables a user reviews (主管部门) and ratifies (财政); `everything` for superusers."""

    review: frozenset[int]
    ratify: frozenset[int]
    everything: bool = False
    reviewer: bool = False  # has a reviewer's role at all (even on a unit with nothing below it)

    @property
    def empty(self) -> bool:
        return not (self.everything or self.review or self.ratify)


def review_scope(*, user) -> ReviewScope:
    """Two queries for a reviewer (memberships with their units' parents, the tree), none for others."""
    if not user.is_authenticated:
        return ReviewScope(frozenset(), frozenset())
    if user.is_superuser:
        return ReviewScope(frozenset(), frozenset(), everything=True, reviewer=True)
    own = dict(UnitMembership.objects.filter(user=user, role=Role.REVIEWER).values_list("unit_id", "unit__parent_id"))
    if not own:
        return ReviewScope(frozenset(), frozenset())
    roots = {pk for pk, parent in own.items() if parent is None}
    below_own = unit_subtree_ids(unit_ids=own) - set(own)
    ratify = (unit_subtree_ids(unit_ids=roots) - roots) if roots else set()
    return ReviewScope(frozenset(below_own), frozenset(ratify), reviewer=True)


def tables_awaiting_decision(*, user, scope: ReviewScope | None = None) -> QuerySet[GoalTable]:
    """已申报 tables the user reviews (审核) and 审核通过 tables the user ratifies (批复), oldest change first,
    with their unit and project."""
    tables = _awaiting(GoalTable.objects.all(), scope or review_scope(user=user), GoalTable.Status, unit="unit_id")
    return tables.select_related("unit", "project").order_by("changed_at", "pk")


def adjustments_awaiting_decision(*, user, scope: ReviewScope | None = None) -> QuerySet[Adjustment]:
    """Adjustments 已申报 (for the 主管部门) and 审核通过 (for the finance side), oldest first."""
    adjustments = _awaiting(Adjustment.objects.all(), scope or review_scope(user=user), Adjustment.Status,
                            unit="table__unit_id")
    return adjustments.select_related("table__unit", "table__project").order_by("created_at", "pk")


def _awaiting(rows: QuerySet, scope: ReviewScope, status, *, unit: str) -> QuerySet:
    """Of tables or adjustments: the 已申报 ones of the units the scope reviews and the 审核通过 ones of the
    units it ratifies (`unit`: the lookup of the row's unit)."""
    if scope.empty:
        return rows.none()
    if scope.everything:
        return rows.filter(status__in=[status.SUBMITTED, status.PASSED])
    return rows.filter(Q(status=status.SUBMITTED, **{f"{unit}__in": scope.review})
                       | Q(status=status.PASSED, **{f"{unit}__in": scope.ratify}))

