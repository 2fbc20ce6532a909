"""Writes for units, projects, funds and budget execution."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import BudgetExecution, Project, Role, Unit, UnitMembership


def unit_create(*, code: str, name: str, parent: Unit | None = None, contact: str = "", phone: str = "") -> Unit:
    unit = Unit(code=code, name=name, parent=parent, contact=contact, phone=phone)
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def membership_grant(*, user: AbstractBaseUser, unit: Unit, role: str) -> UnitMembership:
    """Give a user a role in a unit (and the Django group of that role). Granting twice is harmless."""
    from django.contrib.auth.models import Group

    if role not in Role.values:
        raise ValidationError({"role": f"未知角色：{role}"})
    membership, _ = UnitMembership.objects.get_or_create(user=user, unit=unit, role=role)
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


@transaction.atomic
def execution_record(
    *,
    project: Project | None = None,
    unit: Unit | None = None,
    year: int | None = None,
    as_of: dt.date,
    executed: Decimal,
    user: AbstractBaseUser | None = None,
) -> BudgetExecution:
    """Record cumulative 执行数 as of a date for a project (or, with only unit and year, the whole unit).

    The affected goal tables are rescored after commit.
    """
    from kpi.models import GoalTable
    from kpi.services import goal_tables_rescore_soon

    if project is None and (unit is None or year is None):
        raise ValidationError("请指定项目，或同时指定预算单位和年度。")
    unit = project.unit if project else unit
    year = project.year if project else year
    if as_of.year != year:
        raise ValidationError({"as_of": f"截至日期 {as_of:%Y-%m-%d} 不在 {year} 年度内。"})
    ensure_year_open(unit_id=unit.pk, year=year)
    execution = BudgetExecution(unit=unit, project=project, year=year, as_of=as_of, executed=executed, recorded_by=user)
    execution.full_clean()
    execution.save()
    tables = GoalTable.objects.filter(project=project) if project else GoalTable.objects.filter(
        unit=unit, year=year, scope=GoalTable.Scope.UNIT
    )
    goal_tables_rescore_soon(table_ids=tables.values_list("pk", flat=True))
    return execution


def ensure_year_open(*, unit_id: int, year: int) -> None:
    """Refuse any change to a unit's closed year (关账), in Chinese."""
    from .selectors import unit_year_is_closed

    if unit_year_is_closed(unit_id=unit_id, year=year):
        raise ValidationError(f"{year} 年度已关账，数据只读；如需修改，请单位管理员先重新开放该年度并说明原因。")
