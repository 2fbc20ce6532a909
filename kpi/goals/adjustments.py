"""调整 — changing an approved (已批复) table's targets, weights or rules, with a reason and a date from which
the new values are in force (domain.md §9).

An adjustment is proposed by the unit's administrator (`adjustment_propose`: each row keeps the values it
replaces), then goes through the table's own review: 申报 (refused while the table *as adjusted* has a 必须修改
finding), 审核通过 or 退回 by the 主管部门, 批复 by the finance side, every step a GoalTableStep with the
adjustment set. On 批复 each adjusted indicator keeps its approved values as an IndicatorVersion in force until
`effective_from`, takes the new ones through `indicator_update` (which keeps the IndicatorChange) and the table
is rescored: a score as of a date before `effective_from` still uses the old target
(kpi.rescoring.services scores each date with the version in force).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from budgets.services import ensure_year_open
from kpi import permissions
from kpi.goals.review import has_blocking
from kpi.goals.review_selectors import table_findings
from kpi.goals.services import indicator_parse_target, indicator_update
from kpi.goals.workflow import (
    NOT_RATIFIER,
    NOT_RETURNER,
    NOT_REVIEWER,
    REASON_REQUIRED,
    blocking_message,
    clean_text,
)
from kpi.models import Adjustment, AdjustmentRow, GoalTable, GoalTableStep, Indicator, IndicatorVersion
from kpi.rescoring.services import goal_tables_rescore_soon

Status = Adjustment.Status
Action = GoalTableStep.Action

NOT_PROPOSER = "只有本单位的单位管理员可以提出或申报指标调整。"
TARGET_LIMIT = 300  # Indicator.target_raw


def _locked(adjustment: Adjustment) -> Adjustment:
    return Adjustment.objects.select_for_update().select_related("table").get(pk=adjustment.pk)


def _refuse_state(adjustment: Adjustment, allowed, verb: str) -> None:
    if adjustment.status not in allowed:
        shown = "、".join(Status(s).label for s in allowed)
        raise ValidationError(f"该指标调整当前为“{adjustment.get_status_display()}”，只有{shown}的调整可以{verb}。")


def _move(adjustment: Adjustment, *, to: str, action: str, user, reason: str = "") -> Adjustment:
    before = adjustment.status
    adjustment.status = to
    adjustment.full_clean()
    adjustment.save(update_fields=["status", "approved_at"])
    GoalTableStep.objects.create(table=adjustment.table, adjustment=adjustment, action=action, from_status=before,
                                 to_status=to, reason=reason, by=user if user and user.is_authenticated else None)
    return adjustment


def _row_values(indicator: Indicator, values: Mapping) -> tuple[str, Decimal, str]:
    """The proposed (target_raw, weight, rule) of one indicator, its current values where not given."""
    target_raw = clean_text(values.get("target_raw") or indicator.target_raw, label=f"指标“{indicator.name}”的指标值",
                            limit=TARGET_LIMIT)
    raw_weight = values.get("weight")
    try:
        weight = indicator.weight if raw_weight in (None, "") else Decimal(str(raw_weight).strip())
    except InvalidOperation:
        raise ValidationError(f"指标“{indicator.name}”的分值权重“{str(raw_weight)[:20]}”不是数字。") from None
    # NaN and Infinity parse as Decimals; more than the column holds would fail in the database instead
    if not weight.is_finite() or not 0 <= weight <= 100 or -weight.as_tuple().exponent > 2:
        raise ValidationError(f"指标“{indicator.name}”的分值权重应为 0 到 100 之间、最多两位小数的数。")
    rule = values.get("rule") or indicator.rule
    if rule not in Indicator.Rule.values:
        raise ValidationError(f"指标“{indicator.name}”的赋分规则“{rule}”无效。")
    return target_raw, weight, rule


@transaction.atomic
def adjustment_propose(table: GoalTable, user: AbstractBaseUser, reason: str, effective_from: dt.date,
                       rows) -> Adjustment:
    """提出调整 of an approved table: `rows` maps each indicator (or its id) to its new values
    ({"target_raw", "weight", "rule"}, any of them; the others stay), or is a list of such dicts with an
    "indicator" key. Rows that change nothing are dropped; the values in force now are kept beside the new."""
    table = GoalTable.objects.select_for_update().order_by("pk").get(pk=table.pk)
    if not permissions.can_submit_table(user, table):
        raise PermissionDenied(NOT_PROPOSER)
    if table.status != GoalTable.Status.APPROVED:
        raise ValidationError(f"该绩效目标表当前为“{table.get_status_display()}”，只有已批复的目标表需要走调整流程；"
                              "未批复的目标表请直接修改。")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    reason = clean_text(reason, label="调整原因")
    if not reason:
        raise ValidationError({"reason": "提出调整时必须填写调整原因。"})
    if effective_from is None:
        raise ValidationError({"effective_from": "请填写调整的生效日期。"})
    if effective_from.year != table.year:
        raise ValidationError({"effective_from": f"生效日期须在 {table.year} 年度内。"})
    if table.adjustments.filter(status__in=Adjustment.OPEN).exists():
        raise ValidationError("该目标表已有一项调整正在办理，请先完成或撤回该调整。")

    items = rows.items() if isinstance(rows, Mapping) else ((r["indicator"], r) for r in rows)
    indicators = {i.pk: i for i in table.indicators.all()}
    proposed: list[AdjustmentRow] = []
    for key, values in items:
        indicator = indicators.get(key.pk if isinstance(key, Indicator) else int(key))
        if indicator is None:
            raise ValidationError("调整的指标不属于该绩效目标表。")
        target_raw, weight, rule = _row_values(indicator, values)
        if (target_raw, weight, rule) == (indicator.target_raw, indicator.weight, indicator.rule):
            continue
        proposed.append(AdjustmentRow(
            indicator=indicator, target_raw=target_raw, weight=weight, rule=rule,
            old_target_raw=indicator.target_raw, old_weight=indicator.weight, old_rule=indicator.rule,
        ))
    if not proposed:
        raise ValidationError("没有任何指标的指标值、分值权重或赋分规则发生变化，无需调整。")
    last = IndicatorVersion.objects.filter(indicator__in=[r.indicator for r in proposed]).aggregate(
        last=Max("valid_until"))["last"]
    if last is not None and effective_from < last:
        raise ValidationError({"effective_from": f"生效日期不能早于上次调整的生效日期（{last:%Y-%m-%d}）。"})

    adjustment = Adjustment(table=table, reason=reason, effective_from=effective_from,
                            created_by=user if user.is_authenticated else None)
    adjustment.full_clean()
    adjustment.save()
    for row in proposed:
        row.adjustment = adjustment
        row.full_clean()
    AdjustmentRow.objects.bulk_create(proposed)
    return adjustment


class _Rollback(Exception):
    pass


def adjusted_findings(adjustment: Adjustment) -> list:
    """The quality review of the table as it would be with the adjustment's rows applied (written inside a
    savepoint, reviewed, rolled back: the review reads the database). Writes: only for POSTs."""
    findings: list = []
    try:
        with transaction.atomic():
            for row in adjustment.rows.select_related("indicator"):
                indicator = row.indicator
                indicator.target_raw, indicator.weight, indicator.rule = row.target_raw, row.weight, row.rule
                indicator_parse_target(indicator)
                Indicator.objects.filter(pk=indicator.pk).update(
                    target_raw=indicator.target_raw, target_kind=indicator.target_kind,
                    target_value=indicator.target_value, target_upper=indicator.target_upper, unit=indicator.unit,
                    target_flags=indicator.target_flags, weight=row.weight, rule=row.rule)
            findings = table_findings(GoalTable.objects.get(pk=adjustment.table_id))
            raise _Rollback
    except _Rollback:
        pass
    return findings


@transaction.atomic
def adjustment_submit(adjustment: Adjustment, user: AbstractBaseUser) -> Adjustment:
    """申报 an adjustment: refused while the table as adjusted has a 必须修改 finding."""
    adjustment = _locked(adjustment)
    if not permissions.can_submit_table(user, adjustment.table):
        raise PermissionDenied(NOT_PROPOSER)
    _refuse_state(adjustment, (Status.DRAFT, Status.RETURNED), "申报")
    ensure_year_open(unit_id=adjustment.table.unit_id, year=adjustment.table.year)
    findings = adjusted_findings(adjustment)
    if has_blocking(findings):
        raise ValidationError(blocking_message(findings, verb="申报调整"))
    return _move(adjustment, to=Status.SUBMITTED, action=Action.SUBMIT, user=user)


@transaction.atomic
def adjustment_pass(adjustment: Adjustment, user: AbstractBaseUser, note: str = "") -> Adjustment:
    """审核通过 an adjustment (the 主管部门)."""
    adjustment = _locked(adjustment)
    if not permissions.can_review_table(user, adjustment.table):
        raise PermissionDenied(NOT_REVIEWER)
    _refuse_state(adjustment, (Status.SUBMITTED,), "审核通过")
    return _move(adjustment, to=Status.PASSED, action=Action.PASS, user=user, reason=clean_text(note, label="审核意见"))


@transaction.atomic
def adjustment_return(adjustment: Adjustment, user: AbstractBaseUser, reason: str) -> Adjustment:
    """退回 an adjustment with a reason (the 主管部门; the finance side once it is passed)."""
    adjustment = _locked(adjustment)
    reason = clean_text(reason, label="退回原因")
    _refuse_state(adjustment, (Status.SUBMITTED, Status.PASSED), "退回")
    table = adjustment.table
    allowed = permissions.can_review_table(user, table) or (
        adjustment.status == Status.PASSED and permissions.can_ratify_table(user, table))
    if not allowed:
        raise PermissionDenied(NOT_RETURNER)
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    return _move(adjustment, to=Status.RETURNED, action=Action.RETURN, user=user, reason=reason)


@transaction.atomic
def adjustment_withdraw(adjustment: Adjustment, user: AbstractBaseUser) -> Adjustment:
    """撤回 an adjustment not yet approved (the unit's administrator): a new one may then be proposed."""
    adjustment = _locked(adjustment)
    if not permissions.can_submit_table(user, adjustment.table):
        raise PermissionDenied(NOT_PROPOSER)
    _refuse_state(adjustment, Adjustment.OPEN, "撤回")
    return _move(adjustment, to=Status.WITHDRAWN, action=Action.WITHDRAW, user=user)


@transaction.atomic
def adjustment_ratify(adjustment: Adjustment, user: AbstractBaseUser) -> Adjustment:
    """批复 an adjustment (the finance side): the approved values become versions in force until
    `effective_from`, the indicators take the new ones (IndicatorChange kept), the table is rescored."""
    adjustment = _locked(adjustment)
    table = GoalTable.objects.select_for_update().order_by("pk").get(pk=adjustment.table_id)
    if not permissions.can_ratify_table(user, table):
        raise PermissionDenied(NOT_RATIFIER)
    _refuse_state(adjustment, (Status.PASSED,), "批复")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    rows = list(adjustment.rows.select_related("indicator", "indicator__table"))
    held = set(IndicatorVersion.objects.filter(
        indicator__in=[r.indicator_id for r in rows], valid_until=adjustment.effective_from,
    ).values_list("indicator_id", flat=True))
    for row in rows:
        indicator = row.indicator
        # A second adjustment from the same date replaces the first's values: the version before it stays.
        if indicator.pk not in held:
            IndicatorVersion.objects.create(
                indicator=indicator, valid_until=adjustment.effective_from, adjustment=adjustment,
                target_raw=indicator.target_raw, target_kind=indicator.target_kind,
                target_value=indicator.target_value, target_upper=indicator.target_upper, unit=indicator.unit,
                weight=indicator.weight, rule=indicator.rule,
            )
        indicator.target_raw, indicator.weight, indicator.rule = row.target_raw, row.weight, row.rule
        indicator_update(indicator=indicator, user=user,
                         source=f"调整（{adjustment.effective_from:%Y-%m-%d} 起）：{adjustment.reason}")
    # versions change what each date is scored with, whatever indicator_update saw
    goal_tables_rescore_soon(table_ids=[table.pk])
    adjustment.approved_at = timezone.now()
    return _move(adjustment, to=Status.APPROVED, action=Action.APPROVE, user=user)

