"""Unit administration pages: 年度关账, 指定项目负责人, 批复目标表, and a project's 变更记录."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from kpi.models import GoalTable
from kpi.services import goal_table_approve

from .selectors import (
    is_unit_admin,
    lead_candidates,
    project_history,
    projects_for_user,
    units_for_user,
    units_known_to,
    unit_year_get,
    unit_year_history,
    unit_year_tables,
)
from .services import project_assign_lead, unit_year_close, unit_year_reopen


class ReopenForm(forms.Form):
    reason = forms.CharField(label="重新开放原因", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class LeadForm(forms.Form):
    lead = forms.ModelChoiceField(label="项目负责人", queryset=None, required=False, empty_label="（不指定）")

    def __init__(self, *args, unit_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = lead_candidates(unit_id=unit_id)
        self.fields["lead"].label_from_instance = lambda user: (
            f"{user.get_full_name()}（{user.get_username()}）" if user.get_full_name() else user.get_username()
        )


def _require_admin(user, unit_id: int) -> None:
    if not is_unit_admin(user=user, unit_id=unit_id):
        raise PermissionDenied("只有本单位的单位管理员可以进行此操作。")


def _errors(error: ValidationError) -> str:
    return "；".join(error.messages)


@login_required
def unit_year(request, unit_id: int, year: int):
    """年度关账: the year's status, close it, reopen it with a reason, and every close and reopen so far."""
    unit = get_object_or_404(units_known_to(user=request.user), pk=unit_id)
    _require_admin(request.user, unit.pk)
    form = ReopenForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "close":
                unit_year_close(unit=unit, year=year, user=request.user)
                messages.success(request, f"{year} 年度已关账。")
                return redirect("unit-year", unit_id=unit.pk, year=year)
            if action == "reopen":
                form = ReopenForm(request.POST)
                if form.is_valid():
                    unit_year_reopen(unit=unit, year=year, user=request.user, reason=form.cleaned_data["reason"])
                    messages.success(request, f"{year} 年度已重新开放。")
                    return redirect("unit-year", unit_id=unit.pk, year=year)
            else:
                messages.error(request, "未知操作。")
        except ValidationError as error:
            messages.error(request, _errors(error))
    state = unit_year_get(unit_id=unit.pk, year=year)
    return render(
        request,
        "budgets/unit_year.html",
        {
            "unit": unit,
            "year": year,
            "state": state,
            "closed": bool(state and state.closed),
            "form": form,
            "records": unit_year_history(unit_id=unit.pk, year=year),
            "tables": unit_year_tables(unit_id=unit.pk, year=year),
        },
    )


@login_required
def project_lead(request, pk: int):
    """指定项目负责人: pick one of the unit's 项目负责人, or none."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    _require_admin(request.user, project.unit_id)
    form = LeadForm(request.POST or None, unit_id=project.unit_id, initial={"lead": project.lead_id})
    if request.method == "POST" and form.is_valid():
        lead = form.cleaned_data["lead"]
        try:
            project_assign_lead(project=project, lead=lead, user=request.user)
        except ValidationError as error:
            form.add_error("lead", _errors(error))
        else:
            name = (lead.get_full_name() or lead.get_username()) if lead else ""
            messages.success(request, f"已指定项目负责人：{name}。" if lead else "已取消指定项目负责人。")
            return redirect("project-detail", pk=project.pk)
    return render(request, "budgets/project_lead.html", {"project": project, "form": form})


@login_required
@require_POST
def table_approve(request, pk: int):
    """批复目标表 (POST only): the unit administrator approves a draft goal table."""
    table = get_object_or_404(GoalTable.objects.select_related("unit"), pk=pk)
    visible = (
        projects_for_user(user=request.user).filter(pk=table.project_id).exists()
        if table.project_id
        else units_for_user(user=request.user).filter(pk=table.unit_id).exists()
    )
    if not visible:
        raise Http404("没有找到该绩效目标表。")
    _require_admin(request.user, table.unit_id)
    try:
        goal_table_approve(table=table, user=request.user)
    except ValidationError as error:
        messages.error(request, _errors(error))
    else:
        messages.success(request, "绩效目标表已批复。")
    if table.project_id:
        return redirect("project-detail", pk=table.project_id)
    return redirect("unit-year", unit_id=table.unit_id, year=table.year)


@login_required
def project_history_page(request, pk: int):
    """变更记录: everything that changed on the project, newest first."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    return render(
        request, "budgets/project_history.html", {"project": project, "lines": project_history(project=project)}
    )
