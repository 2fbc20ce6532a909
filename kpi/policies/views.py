"""评分政策 pages: the list, and one form to create (also as a copy of another) or edit a policy.

Saving is two steps: the form posts to itself with step=preview and gets, without anything written, what the
save would change once rescored (indicator scores, totals and grades, the ten largest changes and why); the
preview posts the same values again with step=confirm to save them. "返回修改" shows the form as typed.
"""
from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from kpi.models import ScoringPolicy
from kpi.permissions import can_manage_policies

from .forms import PolicyForm, settings_changed
from .selectors import policies_for_user, policy_overview
from .services import policy_preview, policy_save

FORBIDDEN = "只有主管部门/财政审核人员可以管理评分政策。"
# What a copy takes from its source: every setting but the name (and the version, which starts again at 1).
COPIED_FIELDS = ("region", "year", "reverse_formula", "satisfaction_floor", "overachievement_flag",
                 "execution_weight", "overachievement_deduction", "execution_caps", "whole_points",
                 "reason_below_execution_rate", "reason_over_target_percent", "grade_excellent", "grade_good",
                 "grade_pass")


def _require_manager(request) -> None:
    if not can_manage_policies(request.user):
        raise PermissionDenied(FORBIDDEN)


@login_required
def policy_list(request):
    """The policies the user may manage, each with the tables it scores now; the built-in default first."""
    _require_manager(request)
    return render(request, "policies/list.html", {"overview": policy_overview(user=request.user)})


@login_required
def policy_create(request):
    """A new policy for a region and year, from the defaults."""
    _require_manager(request)
    return _policy_form(request, instance=ScoringPolicy(), original=None, title="新建评分政策")


@login_required
def policy_copy(request, pk: int):
    """A new policy starting from another one's settings."""
    source = get_object_or_404(policies_for_user(user=request.user), pk=pk)
    instance = ScoringPolicy(**{name: getattr(source, name) for name in COPIED_FIELDS})
    instance.execution_caps = list(source.execution_caps or [])
    return _policy_form(request, instance=instance, original=None, title=f"复制评分政策：{source}",
                        initial={"name": f"{source.name}（副本）"}, source=source)


@login_required
def policy_edit(request, pk: int):
    policy = get_object_or_404(policies_for_user(user=request.user), pk=pk)
    original = copy.copy(policy)  # as stored: the form writes the edit into `policy`
    return _policy_form(request, instance=policy, original=original, title=f"修改评分政策：{original}")


def _policy_form(request, *, instance: ScoringPolicy, original: ScoringPolicy | None, title: str,
                 initial: dict | None = None, source: ScoringPolicy | None = None):
    context = {"title": title, "original": original, "source": source}
    if request.method != "POST":
        return render(request, "policies/form.html", {**context, "form": PolicyForm(instance=instance,
                                                                                    initial=initial)})
    form = PolicyForm(request.POST, instance=instance)
    step = request.POST.get("step")
    if step == "edit" or not form.is_valid():
        if step != "edit":
            messages.error(request, "未保存：请按提示修改（已填写的内容均已保留）。")
        return render(request, "policies/form.html", {**context, "form": form})
    policy = form.instance
    if step == "confirm":
        previewed = request.POST.get("previewed_version")
        try:
            saved = policy_save(policy=policy, user=request.user,
                                previewed_version=int(previewed) if previewed and previewed.isdigit() else None)
        except ValidationError as error:
            messages.error(request, "未保存：" + "；".join(error.messages))
        else:
            messages.success(request, f"已保存“{saved}”。使用该政策的目标表将在一分钟内重新评分，评分完成前显示“评分更新中”。")
            return redirect("policies:list")
    preview = policy_preview(policy=policy, user=request.user)
    return render(request, "policies/preview.html", {
        **context, "form": form, "preview": preview, "policy": policy,
        "changes": settings_changed(original, policy),
        "previewed_version": original.version if original else "",
    })
