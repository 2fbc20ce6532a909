"""Writes for goal tables and their indicators. Views, importers, the admin and tasks call these."""
from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from budgets.models import Project, Unit
from budgets.services import ensure_year_open
from kpi import scoring
from kpi.formatting import plain_decimal
from kpi.library.services import library_sync_soon
from kpi.models import Actual, GoalTable, Indicator, IndicatorChange
from kpi.rescoring.services import goal_tables_mark_changed, goal_tables_rescore_soon
from kpi.targets import Target, parse_target

# The indicator fields a score depends on: changing one rescores the table (and, once actuals exist,
# a target, weight or rule change is kept as an IndicatorChange).
SCORED_FIELDS = ("target_raw", "weight", "rule", "not_applicable", "accumulation")
TRACKED_CHANGES = {"target_raw": IndicatorChange.Field.TARGET, "weight": IndicatorChange.Field.WEIGHT,
                   "rule": IndicatorChange.Field.RULE}


def default_accumulation(*, level2: str, target: Target) -> str:
    """数量指标 are year-to-date counts (cumulative); rates, standards and satisfaction are levels."""
    if "数量" in level2 and target.unit not in ("%", "％"):
        return Indicator.Accumulation.CUMULATIVE
    return Indicator.Accumulation.LEVEL


@transaction.atomic
def goal_table_create(
    *,
    unit: Unit,
    year: int,
    project: Project | None = None,
    overall_goal: str = "",
    status: str = GoalTable.Status.DRAFT,
    weights_defaulted: bool = False,
    source: str = "",
) -> GoalTable:
    """Create a project's (or, without project, the unit's 部门整体) goal table."""
    ensure_year_open(unit_id=unit.pk, year=year)
    table = GoalTable(
        scope=GoalTable.Scope.PROJECT if project else GoalTable.Scope.UNIT,
        unit=unit,
        project=project,
        year=year,
        overall_goal=overall_goal,
        status=status,
        weights_defaulted=weights_defaulted,
        source=source,
    )
    table.full_clean()
    table.save()
    return table


@transaction.atomic
def goal_table_update(*, table: GoalTable, user: AbstractBaseUser | None = None) -> GoalTable:
    """Save an edited goal table (its header, its policy): kept in the history and rescored."""
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    table.full_clean()
    table._history_user = user
    table.save()
    goal_tables_rescore_soon(table_ids=[table.pk])
    return table


def indicator_parse_target(indicator: Indicator) -> Target:
    """Fill the parsed form of the indicator's 指标值 (kind, value, upper, unit, flags) from its raw text."""
    target = parse_target(indicator.target_raw)
    indicator.target_kind = target.kind.value
    indicator.target_value = target.value
    indicator.target_upper = target.upper
    indicator.unit = target.unit[:50]
    indicator.target_flags = list(target.flags)
    return target


def indicator_create(
    *,
    table: GoalTable,
    level1: str,
    level2: str,
    name: str,
    target_raw: str,
    weight: Decimal,
    rule: str | None = None,
    order: int | None = None,
    basis: str = "",
    last_year: str = "",
    evidence: str = "",
    accumulation: str | None = None,
    not_applicable: bool = False,
    not_applicable_reason: str = "",
    user: AbstractBaseUser | None = None,
) -> Indicator:
    """Add an indicator row; the target text is parsed and the rule defaults to the kind's rule."""
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    if order is None:
        order = (table.indicators.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    indicator = Indicator(
        table=table, order=order, level1=level1, level2=level2, name=name, target_raw=target_raw,
        basis=basis, last_year=last_year, weight=Decimal(weight), evidence=evidence,
        not_applicable=not_applicable, not_applicable_reason=not_applicable_reason,
    )
    target = indicator_parse_target(indicator)
    indicator.rule = rule or scoring.default_rule_for(target).value
    indicator.accumulation = accumulation or default_accumulation(level2=level2, target=target)
    indicator.full_clean()
    indicator._history_user = user
    indicator.save()
    library_sync_soon(table_ids=[table.pk])
    # Marked, not enqueued: a table is built row by row; the sweep (or the first actual) scores it.
    goal_tables_mark_changed(table_ids=[table.pk])
    return indicator


@transaction.atomic
def indicator_update(*, indicator: Indicator, user: AbstractBaseUser | None = None, source: str = "") -> Indicator:
    """Save an edited indicator (the admin's inline rows, later the table editor).

    The 指标值 is parsed again, so its kind and value never go stale; a changed target, weight or rule of an
    indicator that already has actuals is kept as a dated IndicatorChange; the table is rescored.
    """
    table = indicator.table
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    before = Indicator.objects.filter(pk=indicator.pk).first() if indicator.pk else None
    indicator_parse_target(indicator)
    indicator.full_clean()
    indicator._history_user = user
    indicator.save()
    library_sync_soon(table_ids=[table.pk])
    if before is None:
        goal_tables_rescore_soon(table_ids=[table.pk])
        return indicator
    if Actual.objects.filter(indicator=indicator).exists():
        IndicatorChange.objects.bulk_create(
            IndicatorChange(indicator=indicator, field=kind, old_value=_shown(getattr(before, name)),
                            new_value=_shown(getattr(indicator, name)), source=source[:255], changed_by=user)
            for name, kind in TRACKED_CHANGES.items()
            if getattr(before, name) != getattr(indicator, name)
        )
    if any(getattr(before, name) != getattr(indicator, name) for name in SCORED_FIELDS):
        goal_tables_rescore_soon(table_ids=[table.pk])
    return indicator


def _shown(value) -> str:
    return (plain_decimal(value) if isinstance(value, Decimal) else str(value))[:300]


@transaction.atomic
def indicator_delete(*, indicator: Indicator, user: AbstractBaseUser | None = None) -> None:
    """Remove an indicator row; one that already has actuals is refused (its history would be lost)."""
    table = indicator.table
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    if Actual.objects.filter(indicator=indicator).exists():
        raise ValidationError(f"指标“{indicator.name}”已有实际完成值，不能删除；如不再考核，请标记为不适用并说明原因。")
    indicator._history_user = user
    indicator.delete()
    library_sync_soon(table_ids=[table.pk])
    goal_tables_rescore_soon(table_ids=[table.pk])


@transaction.atomic
def indicator_set_not_applicable(*, indicator: Indicator, not_applicable: bool, reason: str = "") -> Indicator:
    """Mark an indicator 不适用 (with a written reason) or applicable again; the table total is rescaled."""
    if not_applicable and not reason.strip():
        raise ValidationError({"not_applicable_reason": "标记为不适用时必须填写原因。"})
    indicator.not_applicable = not_applicable
    indicator.not_applicable_reason = reason.strip() if not_applicable else ""
    indicator.full_clean()
    indicator.save(update_fields=["not_applicable", "not_applicable_reason"])
    goal_tables_rescore_soon(table_ids=[indicator.table_id])
    return indicator


@transaction.atomic
def goal_table_approve(*, table: GoalTable, user: AbstractBaseUser | None = None) -> GoalTable:
    """批复 of an imported table: the unit administrator approves a draft goal table imported from a published
    disclosure (its 批复 happened outside Jixiao); re-imports leave it alone from then on. A table written in
    Jixiao goes the whole way instead (kpi.goals.workflow: 申报 → 审核 → 批复)."""
    from kpi.goals.workflow import record_direct_approval

    table = GoalTable.objects.select_for_update().order_by("pk").get(pk=table.pk)
    if not table.source:
        raise ValidationError("该绩效目标表是在本系统中编制的，须经申报、主管部门审核和财政批复，不能直接批复。")
    if table.status != GoalTable.Status.DRAFT:
        raise ValidationError(f"该绩效目标表当前为“{table.get_status_display()}”，只有草稿可以批复。")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    if not table.indicators.exists():
        raise ValidationError("该绩效目标表还没有任何指标，不能批复。")
    table.status = GoalTable.Status.APPROVED
    table.full_clean()
    table._history_user = user
    table.save(update_fields=["status"])
    record_direct_approval(table, user)
    return table


# The header fields the goal-table editor writes besides the table's own overall_goal (domain.md §1).
PROJECT_HEADER_FIELDS = ("name", "lead_name", "budget_initial", "fiscal", "carryover", "other")
UNIT_HEADER_FIELDS = ("contact", "phone")
UNIT_BUDGET_FIELDS = ("fiscal_superior", "fiscal_local", "other")


@transaction.atomic
def goal_table_header_update(
    *, table: GoalTable, overall_goal: str, header: dict, user: AbstractBaseUser | None = None
) -> GoalTable:
    """Save the editor's header: 项目总体目标 / 年度绩效目标 on the table, and the project's name, 负责人 and funds
    split (PROJECT_HEADER_FIELDS) or the unit's contact and 年度预算 (UNIT_HEADER_FIELDS, UNIT_BUDGET_FIELDS; the
    UnitBudget row is created when missing). Only what changed is saved, so the history shows real edits."""
    from budgets.models import UnitBudget

    ensure_year_open(unit_id=table.unit_id, year=table.year)
    if table.project_id:
        project = table.project
        added = sum((header[f] for f in ("fiscal", "carryover", "other")), Decimal("0"))
        if added != header["budget_initial"]:
            raise ValidationError({"budget_initial": (
                f"其中财政拨款、上年结转、其他资金合计 {plain_decimal(added)} 万元，与年初预算数 "
                f"{plain_decimal(header['budget_initial'])} 万元不一致，请核对。")})
        _save_changed(project, {f: header[f] for f in PROJECT_HEADER_FIELDS}, user)
    else:
        _save_changed(table.unit, {f: header[f] for f in UNIT_HEADER_FIELDS}, user)
        budget = UnitBudget.objects.filter(unit_id=table.unit_id, year=table.year).first()
        values = {f: header[f] for f in UNIT_BUDGET_FIELDS}
        if budget is None:
            budget = UnitBudget(unit_id=table.unit_id, year=table.year, **values)
            budget.full_clean()
            budget._history_user = user
            budget.save()
        else:
            _save_changed(budget, values, user)
    if table.overall_goal != overall_goal:
        table.overall_goal = overall_goal
        goal_table_update(table=table, user=user)
    return table


def _save_changed(obj, values: dict, user) -> None:
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return
    for name in changed:
        setattr(obj, name, values[name])
    obj.full_clean()
    obj._history_user = user
    obj.save(update_fields=changed)
