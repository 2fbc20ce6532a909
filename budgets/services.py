"""Writes for units, projects, funds and budget execution."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import (
    PROJECT_SOURCES,
    UNIT_SOURCES,
    BudgetExecution,
    Project,
    Role,
    Unit,
    UnitBudget,
    UnitMembership,
    UnitYear,
)
from .years import year_message, year_valid


def unit_create(*, code: str, name: str, parent: Unit | None = None, contact: str = "", phone: str = "") -> Unit:
    unit = Unit(code=code, name=name, parent=parent, contact=contact, phone=phone)
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def membership_grant(
    *, user: AbstractBaseUser, unit: Unit, role: str, granted_by: AbstractBaseUser | None = None
) -> UnitMembership:
    """Give a user a role in a unit (and the Django group of that role). Granting twice is harmless.

    `granted_by` is who gave the role, kept in the membership's history.
    """
    from django.contrib.auth.models import Group

    if role not in Role.values:
        raise ValidationError({"role": f"未知角色：{role}"})
    membership = UnitMembership.objects.filter(user=user, unit=unit, role=role).first()
    if membership is None:
        membership = UnitMembership(user=user, unit=unit, role=role)
        membership.full_clean()
        if granted_by is not None:
            membership._history_user = granted_by
        membership.save()
    group, _ = Group.objects.get_or_create(name=Role(role).label)
    user.groups.add(group)
    return membership


def project_create(
    *,
    unit: Unit,
    year: int,
    name: str,
    code: str = "",
    lead: AbstractBaseUser | None = None,
    lead_name: str = "",
    budget_initial: Decimal = Decimal("0"),
    fiscal: Decimal = Decimal("0"),
    carryover: Decimal = Decimal("0"),
    other: Decimal = Decimal("0"),
    budget_adjusted: Decimal | None = None,
) -> Project:
    """Create a project with its funds (万元)."""
    project = Project(
        unit=unit,
        year=year,
        name=name,
        code=code,
        lead=lead,
        lead_name=lead_name,
        budget_initial=budget_initial,
        fiscal=fiscal,
        carryover=carryover,
        other=other,
        budget_adjusted=budget_adjusted,
    )
    project.full_clean()
    project.save()
    return project


def sources_checked(
    *, by_source: dict | None, sources: tuple[tuple[str, str], ...], total: Decimal | None, what: str
) -> dict[str, Decimal | None]:
    """The per-source figures of a total (万元), keyed by the source fields: all None when none is given;
    otherwise a blank source counts as 0 and the sources must add up to the total exactly."""
    by_source = by_source or {}
    unknown = set(by_source) - {field for field, _ in sources}
    if unknown:
        raise ValueError(f"unknown funds sources: {sorted(unknown)}")
    if all(by_source.get(field) is None for field, _ in sources):
        return dict.fromkeys((field for field, _ in sources), None)
    values = {field: by_source.get(field) or Decimal("0") for field, _ in sources}
    for field, label in sources:
        if values[field] < 0:
            raise ValidationError({field: f"{label}不能为负数。"})
    added = sum(values.values(), Decimal("0"))
    if total is None or added != total:
        parts = " + ".join(f"{label} {values[field]}" for field, label in sources)
        raise ValidationError(f"各资金来源的{what}合计 {added} 万元（{parts}），与{what} {total} 万元不一致，请核对。")
    return values


@transaction.atomic
def execution_record(
    *,
    project: Project | None = None,
    unit: Unit | None = None,
    year: int | None = None,
    as_of: dt.date,
    executed: Decimal,
    by_source: dict[str, Decimal | None] | None = None,
    user: AbstractBaseUser | None = None,
) -> BudgetExecution:
    """Record cumulative 执行数 as of a date for a project (or, with only unit and year, the whole unit), with
    its split by source when given (PROJECT_SOURCES, or UNIT_SOURCES for the unit's own figure).

    What depends on it (the goal tables' scores) is the caller's to refresh: see kpi.reports.services.
    """
    if project is None and (unit is None or year is None):
        raise ValidationError("请指定项目，或同时指定预算单位和年度。")
    unit = project.unit if project else unit
    year = project.year if project else year
    if as_of.year != year:
        raise ValidationError({"as_of": f"截至日期 {as_of:%Y-%m-%d} 不在 {year} 年度内。"})
    ensure_year_open(unit_id=unit.pk, year=year)
    # A second figure for the same date is a correction of the first, never an overwrite.
    previous = BudgetExecution.objects.filter(unit=unit, project=project, year=year, as_of=as_of).order_by("-id").first()
    sources = sources_checked(by_source=by_source, sources=PROJECT_SOURCES if project else UNIT_SOURCES,
                              total=executed, what="执行数")
    execution = BudgetExecution(unit=unit, project=project, year=year, as_of=as_of, executed=executed, recorded_by=user,
                                replaces=previous, **sources)
    execution.full_clean()
    execution._history_user = user
    execution.save()
    return execution


def ensure_year_open(*, unit_id: int, year: int) -> None:
    """Refuse any change to a unit's closed year (关账), or to a year outside budgets.years' range, in Chinese."""
    from .selectors import unit_year_is_closed

    if not year_valid(year):  # every write service passes here: no year 99999 is ever stored
        raise ValidationError(year_message(year))
    if unit_year_is_closed(unit_id=unit_id, year=year):
        raise ValidationError(f"{year} 年度已关账，数据只读；如需修改，请单位管理员先重新开放该年度并说明原因。")


@transaction.atomic
def project_budget_adjust(
    *,
    project: Project,
    budget_adjusted: Decimal | None,
    reason: str,
    by_source: dict[str, Decimal | None] | None = None,
    user: AbstractBaseUser | None = None,
) -> Project:
    """Set the 全年预算数 (adjusted budget) with its reason, and its split by source when given
    (PROJECT_SOURCES); None goes back to the 年初预算数 (and its published split)."""
    reason = (reason or "").strip()
    if budget_adjusted is not None and budget_adjusted != project.full_year_budget and not reason:
        raise ValidationError({"adjustment_reason": "调整全年预算数时必须填写调整原因。"})
    ensure_year_open(unit_id=project.unit_id, year=project.year)
    sources = sources_checked(by_source=by_source if budget_adjusted is not None else None,
                              sources=PROJECT_SOURCES, total=budget_adjusted, what="全年预算数")
    project.budget_adjusted = budget_adjusted
    project.adjustment_reason = reason
    for field, value in sources.items():
        setattr(project, f"{field}_adjusted", value)
    project.full_clean()
    project._history_user = user
    project.save(update_fields=["budget_adjusted", "adjustment_reason", *(f"{f}_adjusted" for f in sources)])
    return project


# --- the year's state (关账), project leads ---------------------------------------------------------

CHANGE_REASON_MAX = 100  # simple-history's history_change_reason is a CharField(100)


def unit_year_for_update(*, unit: Unit, year: int) -> UnitYear:
    """The unit's year row, locked for the rest of the transaction (a new, unsaved one if never closed)."""
    return UnitYear.objects.select_for_update().filter(unit=unit, year=year).first() or UnitYear(unit=unit, year=year)


def unit_year_set_closed(
    *, unit_year: UnitYear, closed: bool, user: AbstractBaseUser | None, reason: str = ""
) -> UnitYear:
    """Record that the year is now closed (关账) or open again; a reopening keeps its reason in full, and the
    history record keeps its first CHANGE_REASON_MAX characters."""
    unit_year.closed = closed
    unit_year.changed_by = user
    unit_year.reason = reason
    unit_year.full_clean()
    unit_year._history_user = user
    unit_year._change_reason = (reason or ("关账" if closed else "重新开放"))[:CHANGE_REASON_MAX]
    unit_year.save()
    return unit_year


@transaction.atomic
def project_assign_lead(
    *, project: Project, lead: AbstractBaseUser | None, user: AbstractBaseUser | None
) -> Project:
    """指定项目负责人: the lead must hold the 项目负责人 role in the project's unit; None unassigns.

    The published name (lead_name, from the disclosure) is left as it is: it is what was published.
    """
    if lead is not None and not UnitMembership.objects.filter(
        user=lead, unit_id=project.unit_id, role=Role.LEAD
    ).exists():
        raise ValidationError({"lead": f"所选用户不是{project.unit.name}的项目负责人，请先为其授予项目负责人角色。"})
    if project.lead_id == (lead.pk if lead else None):
        return project
    project.lead = lead
    project.full_clean()
    project._history_user = user
    project.save(update_fields=["lead"])
    return project


@transaction.atomic
def unit_budget_adjust(
    *,
    unit: Unit,
    year: int,
    adjusted: Decimal | None,
    reason: str,
    by_source: dict[str, Decimal | None] | None = None,
    user: AbstractBaseUser | None = None,
) -> UnitBudget:
    """Set a unit's adjusted 全年预算数 for its 部门整体 table, with the reason and its split by source when
    given (UNIT_SOURCES); None: back to the published total."""
    reason = (reason or "").strip()
    budget = UnitBudget.objects.filter(unit=unit, year=year).first() or UnitBudget(unit=unit, year=year)
    if adjusted is not None and adjusted != budget.full_year_budget and not reason:
        raise ValidationError({"adjustment_reason": "调整全年预算数时必须填写调整原因。"})
    ensure_year_open(unit_id=unit.pk, year=year)
    sources = sources_checked(by_source=by_source if adjusted is not None else None, sources=UNIT_SOURCES,
                              total=adjusted, what="全年预算数")
    budget.adjusted, budget.adjustment_reason = adjusted, reason
    for field, value in sources.items():
        setattr(budget, f"{field}_adjusted", value)
    budget.full_clean()
    budget._history_user = user
    budget.save()
    return budget
