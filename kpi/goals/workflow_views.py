"""The 申报 → 审核 → 批复 pages: a table's workflow page (status, steps, findings, peer notes, buttons,
adjustments), its POST actions, and the reviewers' queue of tables (and adjustments) awaiting a decision.

Views stay thin: a scoped selector finds the object (404 otherwise), a service decides; a refusal's Chinese
message is shown on the workflow page (a wrong user gets the 403 page with it)."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from kpi import permissions
from kpi.goals import adjustments as adjusting
from kpi.goals import workflow
from kpi.goals.review_selectors import table_findings
from kpi.library.selectors import peer_notes
from kpi.models import Adjustment, GoalTable, Indicator

from .selectors import goal_tables_for_user
from .workflow_selectors import (
    adjustments_awaiting_decision,
    review_scope,
    table_adjustments,
    table_steps,
    tables_awaiting_decision,
)

Status = GoalTable.Status


@dataclass(frozen=True)
class WorkflowPermissions:
    """The buttons the user may press on one table's workflow page."""

    submit: bool
    pass_: bool
    return_: bool
    ratify: bool
    approve_direct: bool
    propose: bool
    review: bool  # a reviewer (主管部门 or 财政) of this table: sees the peer notes
    reviewer: bool
    ratifier: bool
    proposer: bool


def workflow_permissions(user, table: GoalTable, *, open_adjustment: bool) -> WorkflowPermissions:
    submitter = permissions.can_submit_table(user, table)
    reviewer = permissions.can_review_table(user, table)
    ratifier = permissions.can_ratify_table(user, table)
    return WorkflowPermissions(
        submit=submitter and table.status in workflow.SUBMIT_FROM,
        pass_=reviewer and table.status == Status.SUBMITTED,
        return_=table.status in workflow.RETURN_FROM and (reviewer or (ratifier and table.status == Status.PASSED)),
        ratify=ratifier and table.status == Status.PASSED,
        approve_direct=permissions.can_approve_table(user, table),
        propose=submitter and table.status == Status.APPROVED and not open_adjustment,
        review=reviewer or ratifier,
        reviewer=reviewer,
        ratifier=ratifier,
        proposer=submitter,
    )


def _table(request, pk: int) -> GoalTable:
    return get_object_or_404(goal_tables_for_user(user=request.user), pk=pk)


@login_required
def table_workflow(request, pk: int):
    """申报与审核 — the table's status, its steps, its quality findings, the buttons the user may press and
    its adjustments (approved beside adjusted values; a form to propose one after 批复)."""
    table = _table(request, pk)  # before the method check: an outsider's POST is a 404 too, never a 405
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    indicators = list(table.indicators.order_by("order", "id"))
    adjustments = list(table_adjustments(table=table))
    open_adjustment = next((a for a in adjustments if a.status in Adjustment.OPEN), None)
    may = workflow_permissions(request.user, table, open_adjustment=open_adjustment is not None)
    notes = peer_notes(table) if may.review else {}
    for line, indicator in enumerate(indicators, start=1):
        indicator.line = line
        indicator.peer_note = notes.get(indicator.pk, "")
    for adjustment in adjustments:
        adjustment.may = _adjustment_buttons(adjustment, may)
    steps = list(table_steps(table=table))
    for step in steps:
        step.from_label, step.to_label = workflow.status_label(step.from_status), workflow.status_label(step.to_status)
    return render(request, "goals/workflow.html", {
        "table": table, "indicators": indicators, "steps": steps,
        "findings": table_findings(table), "may": may, "adjustments": adjustments,
        "open_adjustment": open_adjustment, "rules": Indicator.Rule.choices,
    })


def _adjustment_buttons(adjustment: Adjustment, may: WorkflowPermissions) -> dict[str, bool]:
    s = Adjustment.Status
    return {
        "submit": may.proposer and adjustment.status in (s.DRAFT, s.RETURNED),
        "withdraw": may.proposer and adjustment.status in Adjustment.OPEN,
        "pass": may.reviewer and adjustment.status == s.SUBMITTED,
        "return": (may.reviewer and adjustment.status in (s.SUBMITTED, s.PASSED))
        or (may.ratifier and adjustment.status == s.PASSED),
        "ratify": may.ratifier and adjustment.status == s.PASSED,
    }


def _done(request, table: GoalTable, action, success: str, **kwargs):
    try:
        action(table, request.user, **kwargs)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, success)
    return redirect("goals:workflow", pk=table.pk)


@login_required
@require_POST
def table_submit(request, pk: int):
    return _done(request, _table(request, pk), workflow.table_submit, "绩效目标表已申报，等待主管部门审核。")


@login_required
@require_POST
def table_pass(request, pk: int):
    return _done(request, _table(request, pk), workflow.table_pass, "已审核通过，等待财政部门批复。",
                 note=request.POST.get("note", ""))


@login_required
@require_POST
def table_return(request, pk: int):
    return _done(request, _table(request, pk), workflow.table_return, "已退回，单位修改后可重新申报。",
                 reason=request.POST.get("reason", ""))


@login_required
@require_POST
def table_ratify(request, pk: int):
    return _done(request, _table(request, pk), workflow.table_ratify, "绩效目标表已批复。")


def _proposed_rows(post, indicators) -> dict[int, dict]:
    """The new values typed beside each indicator (an empty box keeps the value in force)."""
    rows = {}
    for indicator in indicators:
        values = {name: post.get(f"{name}_{indicator.pk}", "").strip() for name in ("target_raw", "weight", "rule")}
        if any(values.values()):
            rows[indicator.pk] = values
    return rows


@login_required
@require_POST
def adjustment_propose(request, pk: int):
    """提出调整 of an approved table: reason, 生效日期 and the new values of the rows that change."""
    table = _table(request, pk)
    raw_date = request.POST.get("effective_from", "").strip()
    try:
        effective_from = parse_date(raw_date) if raw_date else None
    except ValueError:
        effective_from = None
    if raw_date and effective_from is None:
        messages.error(request, f"生效日期“{raw_date}”不是有效日期（格式：2026-07-01）。")
        return redirect("goals:workflow", pk=table.pk)
    rows = _proposed_rows(request.POST, table.indicators.all())
    try:
        adjusting.adjustment_propose(table, request.user, request.POST.get("reason", ""), effective_from, rows)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, "已提出调整（草稿），请核对后申报。")
    return redirect("goals:workflow", pk=table.pk)


ADJUSTMENT_ACTIONS = {
    "submit": (adjusting.adjustment_submit, "调整已申报，等待主管部门审核。", None),
    "pass": (adjusting.adjustment_pass, "调整已审核通过，等待财政部门批复。", "note"),
    "return": (adjusting.adjustment_return, "调整已退回。", "reason"),
    "ratify": (adjusting.adjustment_ratify, "调整已批复，生效日期起的得分使用调整后的指标。", None),
    "withdraw": (adjusting.adjustment_withdraw, "调整已撤回。", None),
}


@login_required
@require_POST
def adjustment_step(request, pk: int, action: str):
    """One step of an adjustment through the review (申报, 审核通过, 退回, 批复, 撤回)."""
    adjustment = get_object_or_404(
        Adjustment.objects.filter(table__in=goal_tables_for_user(user=request.user)), pk=pk)
    if action not in ADJUSTMENT_ACTIONS:
        raise Http404("没有这个操作。")
    service, success, text = ADJUSTMENT_ACTIONS[action]
    kwargs = {text: request.POST.get(text, "")} if text else {}
    try:
        service(adjustment, request.user, **kwargs)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, success)
    return redirect("goals:workflow", pk=adjustment.table_id)


@login_required
@require_GET
def table_queue(request):
    """待审核的目标表 — 已申报 tables for the 主管部门 reviewer, 审核通过 ones for the finance reviewer, and the
    adjustments likewise, oldest first."""
    scope = review_scope(user=request.user)
    tables = list(tables_awaiting_decision(user=request.user, scope=scope))
    adjustments = list(adjustments_awaiting_decision(user=request.user, scope=scope))
    return render(request, "goals/workflow_queue.html", {
        "tables": tables, "adjustments": adjustments, "reviewer": scope.reviewer,
    })
