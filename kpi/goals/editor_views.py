"""The goal-table editor (编制绩效目标表), the live 指标值 check it calls, and the table's 变更记录."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from budgets.models import UnitBudget
from budgets.selectors import unit_year_is_closed
from kpi import permissions
from kpi.goals.review_selectors import table_findings
from kpi.history.selectors import table_history
from kpi.models import GoalTable
from kpi.rescoring.selectors import policies_by_table

from .editor import (
    ProjectHeaderForm,
    RowError,
    UnitHeaderForm,
    editor_save,
    indicator_formset,
    parse_target_json,
)
from .selectors import goal_tables_for_user, last_year_facts

NOT_YOURS_PROJECT = "只有该项目的项目负责人或本单位的单位管理员可以编制此绩效目标表。"
NOT_YOURS_UNIT = "部门整体绩效目标表只能由本单位的单位管理员编制。"


def _status_note(table: GoalTable, year_closed: bool) -> str:
    """Why the table is read-only here ("" when it is open to edits)."""
    if year_closed:
        return f"{table.year} 年度已关账，绩效目标表只读；如需修改，请单位管理员先重新开放该年度。"
    if table.status in GoalTable.EDITABLE:
        return ""
    if table.status == GoalTable.Status.APPROVED:
        return "该绩效目标表已批复，不能直接修改；如需修改指标值、权重或赋分规则，请提出调整（需说明原因并重新审核）。"
    if table.status == GoalTable.Status.CLOSED:
        return "该绩效目标表已关闭，只读。"
    return f"该绩效目标表{table.get_status_display()}，正在审核中，只读；退回后可继续修改。"


@login_required
def table_edit(request, pk: int):
    """编制绩效目标表: the header and the indicator rows of a project's table (its lead or the unit's
    administrators) or of the unit's 部门整体 table (administrators only), while 草稿 or 已退回."""
    table = get_object_or_404(goal_tables_for_user(user=request.user).select_related("project__unit"), pk=pk)
    if not permissions.can_write_table(request.user, table):
        raise PermissionDenied(NOT_YOURS_PROJECT if table.project_id else NOT_YOURS_UNIT)
    year_closed = unit_year_is_closed(unit_id=table.unit_id, year=table.year)
    note = _status_note(table, year_closed)
    if request.method == "POST" and not permissions.table_is_editable(table):
        raise PermissionDenied(note)
    budget = None if table.project_id else UnitBudget.objects.filter(unit_id=table.unit_id, year=table.year).first()
    header_class = ProjectHeaderForm if table.project_id else UnitHeaderForm
    initial = header_class.initial_for(table) if table.project_id else header_class.initial_for(table, budget)
    queryset = table.indicators.select_related("previous").order_by("order")
    if request.method == "POST":
        header_form = header_class(request.POST, prefix="head", initial=initial)
        formset = indicator_formset(table, request.POST, queryset=queryset)
        if _save(request, table, header_form, formset):
            messages.success(request, "绩效目标表已保存。")
            return redirect(f"{reverse('goals:edit', args=[table.pk])}?saved=1")
    else:
        header_form = header_class(prefix="head", initial=initial)
        formset = indicator_formset(table, queryset=queryset)

    indicators = [f.instance for f in formset.initial_forms]  # as saved on a GET; as typed after a refused POST
    facts = last_year_facts(indicators=indicators)
    policy = policies_by_table([table])[table.pk]
    # of the table as saved (what 申报 will check), on every visit; a GET has read its rows already
    findings = table_findings(table, policy=policy, indicators=indicators if request.method == "GET" else None)
    rows = [_row(form, facts) for form in formset.forms]
    context = {
        "table": table, "header_form": header_form, "formset": formset, "rows": rows,
        "editable": not note, "note": note, "policy": policy,
        "weight_target": Decimal(100) - policy.execution_weight,
        "weight_sum": sum((row["weight"] for row in rows if not row["deleted"]), Decimal(0)),
        "findings": findings,
        "has_previous": bool(facts), "budget": budget,
    }
    return render(request, "goals/editor.html", context)


def _save(request, table, header_form, formset) -> bool:
    """Validate and write; the errors go onto the forms (and the page keeps everything typed)."""
    if not (header_form.is_valid() and formset.is_valid()):
        return False
    try:
        editor_save(table=table, header_form=header_form, formset=formset, user=request.user)
    except RowError as refused:
        refused.form.add_error(None, "；".join(refused.error.messages))
        return False
    except ValidationError as error:
        if hasattr(error, "error_dict") and set(error.error_dict) <= set(header_form.fields):
            for field, errors in error.error_dict.items():
                header_form.add_error(field, errors)
        else:
            header_form.add_error(None, "；".join(error.messages))
        return False
    return True  # the row services keep the 指标库 in step (library_sync_soon)


def _row(form, facts) -> dict:
    """One row of the page: the form, last year beside it, and how its 指标值 will be scored."""
    typed = form["target_raw"].value() or ""
    rule = form["rule"].value() or ""
    summary = ""
    if typed:
        summary = parse_target_json(text=typed, level2=form["level2"].value() or "", rule=rule)["summary"]
    try:
        weight = Decimal(str(form["weight"].value() or "0"))
    except (InvalidOperation, ValueError):
        weight = Decimal(0)
    deleted = bool(form.is_bound and form["DELETE"].value() not in (None, False, "", "off"))
    instance = form.instance if form.instance.pk else None
    return {"form": form, "last_year": facts.get(instance.pk) if instance else None, "summary": summary,
            "weight": weight if weight.is_finite() else Decimal(0), "deleted": deleted,
            "missing": bool(instance and instance.last_year_missing)}


@login_required
@require_GET
def parse_target_view(request):
    """GET ?target=…&level2=…[&rule=…]: how the 指标值 being typed will be read and scored (JSON)."""
    text = request.GET.get("target", "")[:400]
    return JsonResponse(parse_target_json(text=text, level2=request.GET.get("level2", "")[:50],
                                          rule=request.GET.get("rule", "")),
                        json_dumps_params={"ensure_ascii": False})


@login_required
def table_changes(request, pk: int):
    """变更记录 of a goal table: who changed what and when (the table, its rows and its header)."""
    table = get_object_or_404(goal_tables_for_user(user=request.user), pk=pk)
    return render(request, "goals/editor_history.html", {
        "table": table, "lines": table_history(table=table),
        "may_edit": permissions.can_write_table(request.user, table),
    })

