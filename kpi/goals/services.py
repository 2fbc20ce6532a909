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
    indicator.save()
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
    """批复: the unit administrator approves a draft goal table; re-imports leave it alone from then on."""
    table = GoalTable.objects.select_for_update().get(pk=table.pk)
    if table.status != GoalTable.Status.DRAFT:
        raise ValidationError(f"该绩效目标表当前为“{table.get_status_display()}”，只有草稿可以批复。")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    if not table.indicators.exists():
        raise ValidationError("该绩效目标表还没有任何指标，不能批复。")
    table.status = GoalTable.Status.APPROVED
    table.full_clean()
    table._history_user = user
    table.save(update_fields=["status"])
    return table
