"""申报 → 审核 → 批复 of a goal table written in Jixiao (domain.md §9), every step kept as a GoalTableStep.

草稿 / 已退回 → 已申报 (the unit's administrator, refused while a 必须修改 finding remains) → 审核通过 (the
主管部门) or 已退回 with a reason → 已批复 (the finance side). A refused action raises ValidationError (wrong
state, missing reason, blocking findings) or PermissionDenied (wrong user), each with a Chinese message, and
changes nothing. Tables imported from a published disclosure were approved outside Jixiao: they keep the
direct 批复 of `kpi.goals.services.goal_table_approve`.
"""
from __future__ import annotations

import re

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from budgets.services import ensure_year_open
from kpi import permissions
from kpi.goals.review import MUST, has_blocking
from kpi.goals.review_selectors import table_findings
from kpi.models import Adjustment, GoalTable, GoalTableStep

Status = GoalTable.Status
Action = GoalTableStep.Action

# Which statuses each action starts from (the same for a table and for an adjustment of it).
SUBMIT_FROM = (Status.DRAFT, Status.RETURNED)
RETURN_FROM = (Status.SUBMITTED, Status.PASSED)

NOT_SUBMITTER = "只有本单位的单位管理员可以申报绩效目标表。"
NOT_REVIEWER = "只有主管部门的审核人可以审核（通过或退回）本单位的绩效目标表。"
NOT_RATIFIER = "只有财政部门的审核人可以批复绩效目标表。"
NOT_RETURNER = "只有主管部门或财政部门的审核人可以退回绩效目标表。"
REASON_REQUIRED = "退回时必须填写原因。"
TEXT_LIMIT = 1000  # characters of a reason or a review note
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never typed; PostgreSQL refuses NUL outright


def clean_text(value, *, label: str, limit: int = TEXT_LIMIT) -> str:
    """A reason or note as typed, trimmed; refused (in Chinese, nothing saved) when it is too long or holds
    control characters."""
    text = str(value or "").strip()
    if _CONTROL.search(text):
        raise ValidationError(f"{label}含有不可见的控制字符，请删除后重新填写。")
    if len(text) > limit:
        raise ValidationError(f"{label}不能超过 {limit} 个字（现为 {len(text)} 个字）。")
    return text


def status_label(status: str) -> str:
    """The Chinese name of a table or adjustment status code (a step keeps codes)."""
    labels = dict(Status.choices) | dict(Adjustment.Status.choices)
    return labels.get(status, status)


def blocking_message(findings, *, verb: str = "申报") -> str:
    """The refusal naming each 必须修改 finding (its row when it has one)."""
    named = []
    for finding in findings:
        if finding.severity != MUST:
            continue
        where = f"第 {finding.line} 行“{finding.indicator}”：" if finding.line else (
            f"“{finding.indicator}”：" if finding.indicator else "")
        named.append(f"{where}{finding.message}")
    return f"还有 {len(named)} 项必须修改的问题，不能{verb}：" + "；".join(named)


def _locked(table: GoalTable) -> GoalTable:
    # order_by("pk"): the default ordering joins the nullable project, which FOR UPDATE cannot lock.
    return GoalTable.objects.select_for_update().order_by("pk").get(pk=table.pk)


def _refuse_state(table: GoalTable, allowed, verb: str) -> None:
    if table.status not in allowed:
        shown = "、".join(status_label(s) for s in allowed)
        raise ValidationError(f"该绩效目标表当前为“{table.get_status_display()}”，只有{shown}的目标表可以{verb}。")


def _move(table: GoalTable, *, to: str, action: str, user, reason: str = "") -> GoalTable:
    """Set the locked table's status and record the step (who, when, from, to, reason)."""
    before = table.status
    table.status = to
    table.full_clean()
    table._history_user = user
    table._change_reason = f"{Action(action).label}：{reason}"[:100] if reason else Action(action).label
    table.save(update_fields=["status"])
    GoalTableStep.objects.create(table=table, action=action, from_status=before, to_status=to,
                                 reason=reason, by=user if user and user.is_authenticated else None)
    return table


@transaction.atomic
def table_submit(table: GoalTable, user: AbstractBaseUser) -> GoalTable:
    """申报: the unit's administrator submits a 草稿 or 已退回 table to its 主管部门; refused while the quality
    review has a 必须修改 finding (each named in the message)."""
    table = _locked(table)
    if not permissions.can_submit_table(user, table):
        raise PermissionDenied(NOT_SUBMITTER)
    _refuse_state(table, SUBMIT_FROM, "申报")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    if not table.indicators.exists():
        raise ValidationError("该绩效目标表还没有任何指标，不能申报。")
    findings = table_findings(table)
    if has_blocking(findings):
        raise ValidationError(blocking_message(findings))
    return _move(table, to=Status.SUBMITTED, action=Action.SUBMIT, user=user)


@transaction.atomic
def table_pass(table: GoalTable, user: AbstractBaseUser, note: str = "") -> GoalTable:
    """审核通过: the 主管部门 passes a 申报'd table on to the finance side, with an optional note."""
    table = _locked(table)
    if not permissions.can_review_table(user, table):
        raise PermissionDenied(NOT_REVIEWER)
    _refuse_state(table, (Status.SUBMITTED,), "审核通过")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    return _move(table, to=Status.PASSED, action=Action.PASS, user=user, reason=clean_text(note, label="审核意见"))


def may_return(user, table: GoalTable) -> bool:
    """退回: the 主管部门 returns a 申报'd or passed table; the finance side a passed one."""
    if table.status == Status.SUBMITTED:
        return permissions.can_review_table(user, table)
    return permissions.can_review_table(user, table) or permissions.can_ratify_table(user, table)


@transaction.atomic
def table_return(table: GoalTable, user: AbstractBaseUser, reason: str) -> GoalTable:
    """退回 with a reason: the unit edits the table again and submits it anew."""
    table = _locked(table)
    reason = clean_text(reason, label="退回原因")
    _refuse_state(table, RETURN_FROM, "退回")
    if not may_return(user, table):
        raise PermissionDenied(NOT_RETURNER)
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    return _move(table, to=Status.RETURNED, action=Action.RETURN, user=user, reason=reason)


@transaction.atomic
def table_ratify(table: GoalTable, user: AbstractBaseUser) -> GoalTable:
    """批复: the finance side approves a table the 主管部门 passed; from then on a change is a 调整."""
    table = _locked(table)
    if not permissions.can_ratify_table(user, table):
        raise PermissionDenied(NOT_RATIFIER)
    _refuse_state(table, (Status.PASSED,), "批复")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    return _move(table, to=Status.APPROVED, action=Action.APPROVE, user=user)


def record_direct_approval(table: GoalTable, user) -> None:
    """The step of an imported table's direct 批复 (kpi.goals.services.goal_table_approve)."""
    GoalTableStep.objects.create(
        table=table, action=Action.APPROVE, from_status=Status.DRAFT, to_status=Status.APPROVED,
        reason="导入的已公开目标表（批复在本系统之外完成）",
        by=user if user is not None and user.is_authenticated else None,
    )
