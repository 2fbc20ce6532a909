"""年度关账 page: the year's status, close it, reopen it with a reason, and every close and reopen so far."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from budgets.selectors import unit_year_get, unit_year_history, units_known_to
from kpi import permissions
from kpi.goals.selectors import unit_year_tables

from .forms import ReopenForm
from .services import unit_year_close, unit_year_reopen


@login_required
def unit_year(request, unit_id: int, year: int):
    unit = get_object_or_404(units_known_to(user=request.user), pk=unit_id)
    if not permissions.can_close_year(request.user, unit.pk):
        raise PermissionDenied("只有本单位的单位管理员可以进行此操作。")
    form = ReopenForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "close":
                unit_year_close(unit=unit, year=year, user=request.user)
                messages.success(request, f"{year} 年度已关账。")
                return redirect("yearclose:unit-year", unit_id=unit.pk, year=year)
            if action == "reopen":
                form = ReopenForm(request.POST)
                if form.is_valid():
                    unit_year_reopen(unit=unit, year=year, user=request.user, reason=form.cleaned_data["reason"])
                    messages.success(request, f"{year} 年度已重新开放。")
                    return redirect("yearclose:unit-year", unit_id=unit.pk, year=year)
            else:
                messages.error(request, "未知操作。")
        except ValidationError as error:
            messages.error(request, "；".join(error.messages))
    state = unit_year_get(unit_id=unit.pk, year=year)
    return render(
        request,
        "yearclose/unit_year.html",
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
