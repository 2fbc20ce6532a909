"""Reads of the review queue: the submitted reports a user may decide on, oldest first.

Who may decide is kpi.permissions': a unit's administrators approve and return, the 主管部门/财政 reviewers
above it return (`can_approve_reports`, `can_return_reports`). Together that is `units_for_user`: the
administered units and the reviewed subtrees. Here that set is one SQL subquery (a recursive walk down the
unit tree), so that the navigation's count costs one query on every page.
"""
from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL

from budgets.models import Role, Unit, UnitMembership, UnitYear
from budgets.selectors import units_administered_by
from kpi.models import Report


def _units_decided_by(user) -> RawSQL:
    """The ids of the units whose reports the user may approve or return (`units_for_user`), as a subquery."""
    membership, unit = UnitMembership._meta, Unit._meta
    m_user, m_unit, m_role = (membership.get_field(f).column for f in ("user", "unit", "role"))
    u_id, u_parent = unit.pk.column, unit.get_field("parent").column
    sql = (
        f"WITH RECURSIVE reviewed(id) AS ("
        f"SELECT {m_unit} FROM {membership.db_table} WHERE {m_user} = %s AND {m_role} = %s "
        f"UNION SELECT u.{u_id} FROM {unit.db_table} u JOIN reviewed r ON u.{u_parent} = r.id) "
        f"SELECT id FROM reviewed "
        f"UNION SELECT {m_unit} FROM {membership.db_table} WHERE {m_user} = %s AND {m_role} = %s"
    )
    return RawSQL(sql, [user.pk, Role.REVIEWER.value, user.pk, Role.ADMIN.value])


def _submitted_reports(*, user) -> QuerySet[Report]:
    reports = Report.objects.filter(status=Report.Status.SUBMITTED)
    if not user.is_authenticated:
        return reports.none()
    if user.is_superuser:
        return reports
    return reports.filter(table__unit_id__in=_units_decided_by(user))


def _year_closed():
    return Exists(UnitYear.objects.filter(unit_id=OuterRef("table__unit_id"), year=OuterRef("table__year"),
                                          closed=True))


def reports_awaiting_review(*, user) -> QuerySet[Report]:
    """审核队列 — the submitted (已提交) reports the user may approve or return, in years not closed, the
    longest waiting first, with their table, unit, project, submitter and number of actuals (`n_actuals`)."""
    return (
        _submitted_reports(user=user).exclude(_year_closed())
        .select_related("table__unit", "table__project", "submitted_by")
        .annotate(n_actuals=Count("actuals"))
        .order_by("submitted_at", "as_of", "pk")
    )


def review_count(*, user) -> int:
    """How many reports wait for the user's decision (the navigation's “待审核 (3)”). One query."""
    return _submitted_reports(user=user).exclude(_year_closed()).count()


def reports_stuck_in_closed_years(*, user) -> QuerySet[Report]:
    """Submitted reports of years closed (关账) before anyone reviewed them: no one may decide on them until
    the year is reopened, so the queue lists them apart."""
    return (
        _submitted_reports(user=user).filter(_year_closed())
        .select_related("table__unit", "table__project", "submitted_by")
        .order_by("submitted_at", "as_of", "pk")
    )


def approvable_unit_ids(*, user) -> set[int]:
    """The units whose reports the user may also approve (审核通过), not only return: their administrators'."""
    return set(units_administered_by(user=user).values_list("pk", flat=True))
