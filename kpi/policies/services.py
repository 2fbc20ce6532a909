"""Writes of the 评分政策 pages, and keeping the explanations a policy requires.

`policy_preview` and `policy_save` are the two steps of the policy form: what saving would change (nothing
written), then the save itself, refused when the policy changed meanwhile or when it would rescore tables of
units the user may not see. `execution_reason_keep` keeps the reason a low 执行率 needs.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from budgets.models import BudgetExecution
from kpi.models import ScoringPolicy
from kpi.rescoring.services import (
    RescoreDiff,
    policy_change_preview,
    policy_tables_concerned,
    scoring_policy_save,
)

from .selectors import other_policy_of_year, tables_outside

REASON_PREFIX = "执行率偏差原因："
# What the history keeps of a reason is 100 characters (simple_history's history_change_reason).
EXECUTION_REASON_MAX = 100 - len(REASON_PREFIX)


@dataclass
class PolicyPreview:
    """What saving the form would do: the tables rescored and what changes; why it may not be saved."""

    diff: RescoreDiff
    outside: int  # tables concerned in units the user may not see: the save is refused
    shadowed_by: ScoringPolicy | None  # an older policy of the year the tables follow instead

    @property
    def may_save(self) -> bool:
        return not self.outside


def policy_preview(*, policy: ScoringPolicy, user) -> PolicyPreview:
    """What saving this edit (or new policy) would change once the tables it concerns are rescored —
    computed without writing (`kpi.rescoring.services.policy_change_preview`)."""
    diff = policy_change_preview(policy=policy)
    outside = tables_outside(user=user, table_ids=diff.table_ids)
    shadowed = None
    if not policy.pk or _year_changed(policy):
        shadowed = other_policy_of_year(policy=policy)
    return PolicyPreview(diff=diff, outside=outside, shadowed_by=shadowed)


def _year_changed(policy: ScoringPolicy) -> bool:
    return ScoringPolicy.objects.filter(pk=policy.pk).exclude(year=policy.year).exists()


@transaction.atomic
def policy_save(*, policy: ScoringPolicy, user, previewed_version: int | None) -> ScoringPolicy:
    """Save the edit previewed at `previewed_version` (None: a new policy) as the next version and mark the
    tables it concerns for rescoring. ValidationError, in Chinese, when the policy was changed since the
    preview or the save would rescore tables of units the user may not see."""
    if policy.pk:
        stored = ScoringPolicy.objects.select_for_update().get(pk=policy.pk)
        if previewed_version != stored.version:
            raise ValidationError(f"评分政策“{stored.name}”在您预览之后已被修改（现为第 {stored.version} 版），"
                                  "请重新预览后再保存。")
    outside = tables_outside(user=user, table_ids=policy_tables_concerned(policy=policy))
    if outside:
        raise ValidationError(f"保存后将重新评分 {outside} 张您无权查看的单位的目标表：请由可以查看这些单位的"
                              "财政审核人员或系统管理员保存。")
    return scoring_policy_save(policy=policy)


def execution_reason_keep(*, execution: BudgetExecution, reason: str) -> None:
    """Keep the deviation reason a low 执行率 needs with the execution figure it explains: as the reason of
    its latest history record, shown on the project's 变更记录 (at most EXECUTION_REASON_MAX characters)."""
    reason = (reason or "").strip()
    if not reason:
        return
    record = BudgetExecution.history.filter(id=execution.pk).order_by("-history_date", "-history_id").first()
    if record is not None:
        record.history_change_reason = f"{REASON_PREFIX}{reason[:EXECUTION_REASON_MAX]}"
        record.save(update_fields=["history_change_reason"])
