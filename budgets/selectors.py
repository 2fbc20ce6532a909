"""Reads for units and projects, scoped to what the user may see. Every view goes through these."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Project, Role, Unit, UnitMembership, UnitYear


def unit_subtree_ids(*, unit_ids) -> set[int]:
    """The units and all units under them (the 主管部门 tree), in one query."""
    return _below(_unit_parents(), unit_ids)


def unit_tree_ids(*, unit_ids) -> set[int]:
    """Every unit of the trees these units are in: up to each one's top unit, then all below it. One query."""
    parents = _unit_parents()
    roots = set()
    for pk in unit_ids:
        seen = set()
        while parents.get(pk) is not None and pk not in seen:  # `seen`: a parent cycle written by hand
            seen.add(pk)
            pk = parents[pk]
        roots.add(pk)
    return _below(parents, roots)


def _unit_parents() -> dict[int, int | None]:
    return dict(Unit.objects.values_list("pk", "parent_id"))


def _below(parents: dict[int, int | None], unit_ids) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in parents.items():
        children.setdefault(parent_id, []).append(pk)
    found, stack = set(), list(unit_ids)
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, ()))
    return found


def units_for_user(*, user) -> QuerySet[Unit]:
    """Units whose data the user may see: an administrator's own units, a reviewer's whole subtree."""
    if not user.is_authenticated:
        return Unit.objects.none()
    if user.is_superuser:
        return Unit.objects.all()
    memberships = list(UnitMembership.objects.filter(user=user).values_list("unit_id", "role"))
    admin_units = {unit for unit, role in memberships if role == Role.ADMIN}
    reviewed = unit_subtree_ids(unit_ids=[unit for unit, role in memberships if role == Role.REVIEWER])
    return Unit.objects.filter(pk__in=admin_units | reviewed)


def projects_for_user(*, user) -> QuerySet[Project]:
    """Projects the user may see: superusers all; administrators and reviewers those of their units;
    a project lead the projects they lead."""
    projects = Project.objects.select_related("unit", "lead")
    if not user.is_authenticated:
        return projects.none()
    if user.is_superuser:
        return projects
    return projects.filter(Q(lead=user) | Q(unit__in=units_for_user(user=user)))


def units_administered_by(*, user) -> QuerySet[Unit]:
    """Units the user administers (单位管理员): every unit for a superuser."""
    if not user.is_authenticated:
        return Unit.objects.none()
    if user.is_superuser:
        return Unit.objects.all()
    return Unit.objects.filter(memberships__user=user, memberships__role=Role.ADMIN).distinct()


def units_reviewed_by(*, user) -> QuerySet[Unit]:
    """Units whose actuals the user may return (and, as administrator, approve): own admin units and,
    for a 主管部门/财政 reviewer, every unit under theirs."""
    return units_for_user(user=user)


def projects_editable_by(*, user) -> QuerySet[Project]:
    """Projects whose actuals the user may record: a lead's own projects, every project of an administrator's units."""
    projects = Project.objects.select_related("unit", "lead")
    if not user.is_authenticated:
        return projects.none()
    if user.is_superuser:
        return projects
    return projects.filter(Q(lead=user) | Q(unit__in=units_administered_by(user=user)))


def unit_year_is_closed(*, unit_id: int, year: int) -> bool:
    """Whether the unit has closed the year (关账): everything of that year is read-only."""
    return UnitYear.objects.filter(unit_id=unit_id, year=year, closed=True).exists()


# --- administration pages: permissions, 关账, history ----------------------------------------------

def is_unit_admin(*, user, unit_id: int) -> bool:
    """Whether the user administers the unit (单位管理员); superusers administer every unit."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return UnitMembership.objects.filter(user=user, unit_id=unit_id, role=Role.ADMIN).exists()


def units_known_to(*, user) -> QuerySet[Unit]:
    """Units the user may know of: those they may see, plus those they hold a role in or lead a project of.

    A lead sees no unit's data, but knows their own unit: its administration pages answer them 403, not 404.
    """
    if not user.is_authenticated:
        return Unit.objects.none()
    if user.is_superuser:
        return Unit.objects.all()
    return Unit.objects.filter(
        Q(pk__in=units_for_user(user=user).values("pk")) | Q(memberships__user=user) | Q(projects__lead=user)
    ).distinct()


def lead_candidates(*, unit_id: int):
    """Users holding the 项目负责人 role in the unit: who may be named a project's lead."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        memberships__unit_id=unit_id, memberships__role=Role.LEAD
    ).distinct().order_by("username")


def unit_year_get(*, unit_id: int, year: int):
    """The unit's year row (None while it was never closed), with who last changed it."""
    return UnitYear.objects.select_related("changed_by").filter(unit_id=unit_id, year=year).first()


def unit_year_history(*, unit_id: int, year: int):
    """Every close and reopen of the unit's year, newest first, with who did it."""
    return UnitYear.history.filter(unit_id=unit_id, year=year).select_related(
        "history_user", "changed_by"
    ).order_by("-history_date", "-history_id")
