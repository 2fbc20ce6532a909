"""Who may do what: named predicates, used by views and templates alike (one place, server-side).

Which objects a user may *see* is decided by the scoped querysets of the selectors
(`budgets.selectors.units_for_user`, `projects_for_user`, `kpi.goals.selectors.goal_tables_for_user`): a
page first finds its object through them (404 otherwise), then asks a predicate here before it writes.
"""
from __future__ import annotations

from dataclasses import dataclass

from budgets.models import Role, Unit, UnitMembership
from budgets.selectors import (
    is_unit_admin,
    projects_editable_by,
    unit_subtree_ids,
    units_administered_by,
    units_for_user,
)
from kpi.models import GoalTable


def can_administer_unit(user, unit_id: int) -> bool:
    """单位管理员 of the unit (superusers administer every unit)."""
    return is_unit_admin(user=user, unit_id=unit_id)


def can_record(user, table: GoalTable) -> bool:
    """May record actuals, execution and evidence of the table: a project's lead or the unit's
    administrators; only administrators for the unit's 部门整体 table."""
    if table.project_id:
        return projects_editable_by(user=user).filter(pk=table.project_id).exists()
    return can_administer_unit(user, table.unit_id)


def can_approve_reports(user, table: GoalTable) -> bool:
    """May approve (审核通过) the table's submitted reports: the unit's administrators."""
    return can_administer_unit(user, table.unit_id)


def can_return_reports(user, table: GoalTable) -> bool:
    """May return (退回) the table's submitted reports: the unit's administrators and the 主管部门/财政
    reviewers above it."""
    return units_for_user(user=user).filter(pk=table.unit_id).exists()


def can_adjust_budget(user, table: GoalTable) -> bool:
    """May set the adjusted 全年预算数 of the table's funds: the unit's administrators."""
    return can_administer_unit(user, table.unit_id)


def can_approve_table(user, table: GoalTable) -> bool:
    """May approve (批复) the goal table directly: the unit's administrators, while it is a draft imported from
    a published disclosure (its 批复 happened outside Jixiao). A table written in Jixiao is 申报'd, reviewed
    and ratified instead (`can_submit_table`, `can_review_table`, `can_ratify_table`)."""
    return (table.status == GoalTable.Status.DRAFT and bool(table.source)
            and can_administer_unit(user, table.unit_id))


def can_write_table(user, table: GoalTable) -> bool:
    """May write the goal table in the editor (its header and rows): a project's lead or the unit's
    administrators; only administrators for the unit's 部门整体 table. Whether the table is still open to
    edits (草稿 or 已退回, year not closed) is `table_is_editable`."""
    return can_record(user, table)


def table_is_editable(table: GoalTable) -> bool:
    """A table is edited freely while 草稿 or 已退回; once 申报 it waits for review, after 批复 a change is a 调整."""
    return table.status in GoalTable.EDITABLE


def can_submit_table(user, table: GoalTable) -> bool:
    """May 申报 the table (and later propose a 调整): the unit's administrators."""
    return can_administer_unit(user, table.unit_id)


def reviewer_units(user) -> set[int]:
    """The units a 主管部门/财政 reviewer's memberships are on (not their subtrees)."""
    if not user.is_authenticated:
        return set()
    return set(UnitMembership.objects.filter(user=user, role=Role.REVIEWER).values_list("unit_id", flat=True))


def can_review_table(user, table: GoalTable) -> bool:
    """May pass (审核通过) or return (退回) a 申报'd table: the 主管部门 — a reviewer whose unit is above the
    table's unit (superusers too). A unit does not review its own tables."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    own = reviewer_units(user)
    return table.unit_id not in own and table.unit_id in unit_subtree_ids(unit_ids=own)


def can_ratify_table(user, table: GoalTable) -> bool:
    """May 批复 a table the 主管部门 passed: the finance side — a reviewer on a top unit of the tree (财政, no
    主管部门 above it) that covers the table's unit, or a superuser."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    roots = set(Unit.objects.filter(pk__in=reviewer_units(user), parent__isnull=True).values_list("pk", flat=True))
    return bool(roots) and table.unit_id in unit_subtree_ids(unit_ids=roots) and table.unit_id not in roots


def can_assign_lead(user, project) -> bool:
    """May name the project's lead: the unit's administrators."""
    return can_administer_unit(user, project.unit_id)


def can_close_year(user, unit_id: int) -> bool:
    """May close (关账) and reopen the unit's year: its administrators."""
    return can_administer_unit(user, unit_id)


def can_import(user) -> bool:
    """May upload goal tables and bulk actuals: administrators of at least one unit."""
    return units_administered_by(user=user).exists()


def can_see_scorecards(user) -> bool:
    """May open the scorecards: whoever may see at least one unit's data — a superuser, or anyone with a
    membership (an administrator sees their unit, a reviewer the subtree that starts at theirs: as
    `units_for_user`, without reading the unit tree). One query, on every page's navigation."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or UnitMembership.objects.filter(user=user, role__in=(Role.ADMIN, Role.REVIEWER)).exists()


def can_manage_policies(user) -> bool:
    """May open the 评分政策 pages: superusers and 主管部门/财政 reviewers (not unit administrators: a
    policy scores every unit of its year, not only theirs). Which policies a reviewer may change is
    narrowed by `kpi.policies.selectors.policies_for_user`."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return UnitMembership.objects.filter(user=user, role=Role.REVIEWER).exists()


def can_curate_library(user) -> bool:
    """May curate the 指标库 (explanations, standards, defaults, 推荐, merging synonyms): superusers and
    主管部门/财政 reviewers, never unit administrators or leads. Which entries they see is narrowed by
    `kpi.library.selectors.entries_for_user`."""
    return can_manage_policies(user)


def can_see_unit(user, unit_id: int) -> bool:
    """May see the unit's scorecard and monitoring: its administrators and the reviewers above it."""
    return units_for_user(user=user).filter(pk=unit_id).exists()


@dataclass(frozen=True)
class TablePermissions:
    """What the user may do on one goal table's pages, for the view and its template (`may.record`, …)."""

    record: bool
    approve_reports: bool
    return_reports: bool
    adjust_budget: bool
    approve_table: bool

    @property
    def review(self) -> bool:
        return self.approve_reports or self.return_reports


def table_permissions(user, table: GoalTable) -> TablePermissions:
    admin = can_administer_unit(user, table.unit_id)
    return TablePermissions(
        record=can_record(user, table),
        approve_reports=admin,
        return_reports=admin or can_return_reports(user, table),
        adjust_budget=admin,
        approve_table=admin and table.status == GoalTable.Status.DRAFT and bool(table.source),
    )
