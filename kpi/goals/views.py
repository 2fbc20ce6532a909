"""Goal-table pages: 批复 (approve a draft table) and 指定项目负责人 (the project's lead)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from budgets.selectors import projects_for_user
from budgets.services import project_assign_lead
from kpi import permissions
from kpi.formatting import person_name

from . import services
from .forms import LeadForm
from .selectors import goal_tables_for_user

ADMIN_ONLY = "只有本单位的单位管理员可以进行此操作。"


@login_required
@require_POST
def table_approve(request, pk: int):
    """批复目标表 (POST only): the unit administrator approves a draft goal table."""
    table = get_object_or_404(goal_tables_for_user(user=request.user), pk=pk)
    if not permissions.can_administer_unit(request.user, table.unit_id):
        raise PermissionDenied(ADMIN_ONLY)
    try:
        services.goal_table_approve(table=table, user=request.user)
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, "绩效目标表已批复。")
    if table.project_id:
        return redirect("scorecards:project", pk=table.project_id)
    return redirect("yearclose:unit-year", unit_id=table.unit_id, year=table.year)


@login_required
def project_lead(request, pk: int):
    """指定项目负责人: pick one of the unit's 项目负责人, or none."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    if not permissions.can_assign_lead(request.user, project):
        raise PermissionDenied(ADMIN_ONLY)
    form = LeadForm(request.POST or None, unit_id=project.unit_id, initial={"lead": project.lead_id})
    if request.method == "POST" and form.is_valid():
        lead = form.cleaned_data["lead"]
        try:
            project_assign_lead(project=project, lead=lead, user=request.user)
        except ValidationError as error:
            form.add_error("lead", "；".join(error.messages))
        else:
            messages.success(request, f"已指定项目负责人：{person_name(lead)}。" if lead else "已取消指定项目负责人。")
            return redirect("scorecards:project", pk=project.pk)
    return render(request, "goals/lead.html", {"project": project, "form": form})
