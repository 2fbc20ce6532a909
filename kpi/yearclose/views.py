"""年度关账 page: what is still open in the year, close it (with the administrator's explicit word while
reports wait for review), reopen it with a reason, and every close and reopen so far."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from budgets.selectors import unit_year_get, unit_year_history, units_known_to
from kpi import permissions
from kpi.goals.selectors import unit_year_tables

from .forms import CloseForm, ReopenForm
from .selectors import year_open_items
from .services import unit_year_close, unit_year_reopen


@login_required
def unit_year(request, unit_id: int, year: int):
    unit = get_object_or_404(units_known_to(user=request.user), pk=unit_id)
    if not permissions.can_close_year(request.user, unit.pk):
        raise PermissionDenied("只有本单位的单位管理员可以进行年度关账和重新开放。")
    close_form, reopen_form = CloseForm(), ReopenForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "close":
                close_form = CloseForm(request.POST)
                if close_form.is_valid():
                    unit_year_close(unit=unit, year=year, user=request.user, force=close_form.cleaned_data["force"])
                    messages.success(request, f"{year} 年度已关账。该年度的数据现为只读，审核通过和退回也不能再进行。")
                    return redirect("yearclose:unit-year", unit_id=unit.pk, year=year)
            elif action == "reopen":
                reopen_form = ReopenForm(request.POST)
                if reopen_form.is_valid():
                    unit_year_reopen(unit=unit, year=year, user=request.user,
                                     reason=reopen_form.cleaned_data["reason"])
                    messages.success(request, f"{year} 年度已重新开放，各绩效目标表已恢复关账前的状态。")
                    return redirect("yearclose:unit-year", unit_id=unit.pk, year=year)
            else:
                messages.error(request, "未知操作。")
        except ValidationError as error:
            # A field's reason goes beside the field (the 确认 checkbox, the reopening reason); others on top.
            form = close_form if action == "close" else reopen_form
            fields = error.message_dict if hasattr(error, "error_dict") else {}
            for name, errors in fields.items():
                if name in form.fields:
                    form.add_error(name, errors)
            others = [m for name, errors in fields.items() if name not in form.fields for m in errors]
            if others or not fields:
                messages.error(request, "未完成：" + "；".join(others or error.messages))
    state = unit_year_get(unit_id=unit.pk, year=year)
    closed = bool(state and state.closed)
    tables = list(unit_year_tables(unit_id=unit.pk, year=year))
    return render(
        request,
        "yearclose/unit_year.html",
        {
            "unit": unit,
            "year": year,
            "state": state,
            "closed": closed,
            "close_form": close_form,
            "form": reopen_form,
            "records": unit_year_history(unit_id=unit.pk, year=year),
            "tables": tables,
            "open": None if closed else year_open_items(tables=tables),
        },
    )
