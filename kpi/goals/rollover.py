"""以上年为基础编制 — start a unit's goal tables of next year from this year's (domain.md §9).

`tables_start_next_year` copies every goal table of the unit's year into the next year as a 草稿, with
every indicator, and fills 上年完成值 from the final approved actual of each indicator. It writes in bulk
(a fixed number of queries whatever the number of projects and indicators) and is refused, in Chinese,
when the next year already has tables for the unit: a second call duplicates nothing.

What is copied and what is not:

- projects: a new `Project` of the next year with the same name, code, lead and published lead name (an
  existing next-year project of that name, made by hand, is used instead). Funds start at 0: next year's
  budget is set when the finance bureau approves it (批复), and a copied figure would be shown, scored
  (预算执行率) and published as if it had been approved. A budget of 0 leaves the execution rate undefined,
  which the pages already show as "not yet known";
- the 部门整体 table, with a `UnitBudget` row of zeros for the next year when there is none, so the table's
  header has its 年度预算 row to fill in;
- each table's 总体目标 and `weights_defaulted`; not its scoring policy (a table without one uses the
  year's policy, which is what a new year's table should be scored under);
- each indicator's levels, name, target (with its parsed form, which an import may have completed from
  the name's unit), basis, weight, rule, evidence and accumulation; not 不适用 (a reason of last year).
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from simple_history.utils import bulk_create_with_history

from budgets.models import Project, Unit, UnitBudget
from budgets.services import ensure_year_open
from budgets.years import year_message, year_valid
from kpi.formatting import plain_decimal
from kpi.library.services import library_sync_soon
from kpi.models import Actual, GoalTable, Indicator
from kpi.rescoring.services import goal_tables_rescore_soon

MET_TEXT = {True: "已完成", False: "未完成"}
# Field validation only: the foreign keys are the rows just read or written (Django would query each one),
# and the database enforces the uniqueness and check constraints anyway.
_FIELDS_ONLY = {"validate_unique": False, "validate_constraints": False}


def last_year_text(*, value: Decimal | None, met: bool | None, grade: str, unit: str) -> str:
    """上年完成值 as a table shows it: the value with the indicator's unit ("96.5%", "3.2万人次"), else
    已完成 / 未完成, else the grade."""
    if value is not None:
        return f"{plain_decimal(value)}{unit}"
    if met is not None:
        return MET_TEXT[met]
    return grade


def final_actuals(*, indicator_ids: Iterable[int]) -> dict[int, Actual]:
    """The final approved actual of each indicator (latest date, then the latest correction), in one query."""
    return (Actual.objects.approved().filter(indicator_id__in=list(indicator_ids))
            .only("indicator_id", "as_of", "value", "met", "grade").finals())


def _order(table: GoalTable) -> tuple:
    """The 部门整体 table first, then the projects by name."""
    return (table.scope != GoalTable.Scope.UNIT, table.project.name if table.project_id else "")


def _refuse_existing(unit: Unit, year: int) -> None:
    existing = sorted(GoalTable.objects.filter(unit=unit, year=year).select_related("project"), key=_order)
    if existing:
        names = "、".join(t.project.name if t.project_id else "部门整体绩效目标表" for t in existing[:5])
        more = f"等 {len(existing)} 张" if len(existing) > 5 else f"共 {len(existing)} 张"
        raise ValidationError(
            f"{unit.name} {year} 年已有绩效目标表（{names}，{more}），不能再以 {year - 1} 年为基础编制；"
            f"请直接编辑 {year} 年的目标表。"
        )


@transaction.atomic
def tables_start_next_year(*, unit: Unit, from_year: int, user: AbstractBaseUser | None = None) -> list[GoalTable]:
    """Copy the unit's goal tables of `from_year` into `from_year + 1` as drafts (see the module docstring).

    Returns the new tables (the 部门整体 table first, then the projects by name). Refused (ValidationError,
    in Chinese) for a year out of range, a closed next year, a year without tables, or a next year that
    already has tables for the unit."""
    year = from_year + 1
    for checked in (from_year, year):
        if not year_valid(checked):
            raise ValidationError(year_message(checked))
    # One rollover of a unit at a time: a double click waits for the first, then finds its tables.
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    ensure_year_open(unit_id=unit.pk, year=year)
    _refuse_existing(unit, year)
    sources = sorted(GoalTable.objects.filter(unit=unit, year=from_year).select_related("project"), key=_order)
    if not sources:
        raise ValidationError(f"{unit.name} {from_year} 年没有绩效目标表，无法以其为基础编制 {year} 年的目标表。")
    indicators = list(Indicator.objects.filter(table__in=sources).order_by("table_id", "order"))
    final = final_actuals(indicator_ids=[i.pk for i in indicators])

    projects = _next_projects(unit, year, [t.project for t in sources if t.project_id], user)
    if any(t.scope == GoalTable.Scope.UNIT for t in sources):
        _unit_budget_ensure(unit, year, user)

    tables = []
    for source in sources:
        table = GoalTable(
            scope=source.scope, unit=unit, project=projects.get(source.project_id), year=year,
            overall_goal=source.overall_goal, status=GoalTable.Status.DRAFT,
            # No `source`: the table is written in Jixiao now (an imported table's 批复 is recorded directly;
            # this one goes through 申报 → 审核 → 批复). `previous` says where it came from.
            weights_defaulted=source.weights_defaulted, previous=source,
        )
        table.full_clean(exclude=["unit", "project", "policy", "previous"], **_FIELDS_ONLY)
        tables.append(table)
    tables = bulk_create_with_history(tables, GoalTable, default_user=user)
    new_table = {t.previous_id: t for t in tables}

    copies = []
    for old in indicators:
        actual = final.get(old.pk)
        copy = Indicator(
            table=new_table[old.table_id], order=old.order, level1=old.level1, level2=old.level2, name=old.name,
            target_raw=old.target_raw, target_kind=old.target_kind, target_value=old.target_value,
            target_upper=old.target_upper, unit=old.unit, target_flags=list(old.target_flags or ()),
            basis=old.basis, weight=old.weight, rule=old.rule, evidence=old.evidence,
            accumulation=old.accumulation, previous=old,
            last_year=last_year_text(value=actual.value, met=actual.met, grade=actual.grade,
                                     unit=old.unit)[:200] if actual else "",
            last_year_missing=actual is None,
        )
        copy.full_clean(exclude=["table", "previous"], **_FIELDS_ONLY)
        copies.append(copy)
    if copies:
        bulk_create_with_history(copies, Indicator, default_user=user)

    table_ids = [t.pk for t in tables]
    goal_tables_rescore_soon(table_ids=table_ids)
    library_sync_soon(table_ids=table_ids)  # the 指标库 learns the new tables once they are committed
    return tables


def _next_projects(unit: Unit, year: int, olds: list[Project], user) -> dict[int, Project]:
    """Next year's project for each of this year's (old project id → project), created in bulk."""
    existing = {p.name: p for p in Project.objects.filter(unit=unit, year=year, name__in=[p.name for p in olds])}
    created = []
    for old in olds:
        if old.name in existing:
            continue
        project = Project(unit=unit, year=year, name=old.name, code=old.code, lead_id=old.lead_id,
                          lead_name=old.lead_name)
        project.full_clean(exclude=["unit", "lead"], **_FIELDS_ONLY)
        created.append(project)
    if created:
        for project in bulk_create_with_history(created, Project, default_user=user):
            existing[project.name] = project
    return {old.pk: existing[old.name] for old in olds}


def _unit_budget_ensure(unit: Unit, year: int, user) -> None:
    if UnitBudget.objects.filter(unit=unit, year=year).exists():
        return
    budget = UnitBudget(unit=unit, year=year)
    budget.full_clean(exclude=["unit"], **_FIELDS_ONLY)
    budget._history_user = user
    budget.save()


def rollover_summary(tables: list[GoalTable]) -> dict[str, int]:
    """The counts the success message names: tables, indicators, indicators without last year's actual."""
    counts = Indicator.objects.filter(table__in=tables).aggregate(
        indicators=Count("pk"), missing=Count("pk", filter=Q(last_year_missing=True)))
    return {"tables": len(tables), **counts}
