"""The report page of a goal table (a project's, or the unit's 部门整体 one): actuals as of a date, budget
execution, evidence, submission and review."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from budgets.selectors import projects_for_user, unit_year_is_closed
from kpi import permissions
from kpi.formatting import person_name, plain_decimal
from kpi.goals.selectors import goal_tables_for_user
from kpi.models import Evidence, GoalTable, Indicator, Report

from . import selectors, services
from .forms import EvidenceForm, ExecutionForm, IndicatorEntryForm, ReturnForm


def _report_date(request, table: GoalTable) -> dt.date:
    """The date the page reports as of: ?as_of=, else today (or 31 Dec for a past year, 1 Jan for a future one)."""
    raw = request.POST.get("as_of") or request.GET.get("as_of")
    if raw:
        try:
            as_of = dt.date.fromisoformat(raw)
        except ValueError:
            as_of = None
        if as_of is not None and as_of.year == table.year:
            return as_of
        messages.error(request, f"截至日期“{raw}”无效，应为 {table.year} 年内的日期（如 {table.year}-07-31）。")
    today = timezone.localdate()
    if today.year == table.year:
        return today
    return dt.date(table.year, 12, 31) if today.year > table.year else dt.date(table.year, 1, 1)


def _visible_table(user, pk: int) -> GoalTable:
    return get_object_or_404(goal_tables_for_user(user=user).select_related("unit", "project"), pk=pk)


def _page_url(table: GoalTable, as_of) -> str:
    return f"{reverse('reports:table', args=[table.pk])}?as_of={as_of:%Y-%m-%d}"


_YES_NO = {True: "1", False: "0"}


def _entry_forms(table, indicators, as_of, data=None, current=None, conflicts=None):
    """One form per applicable indicator, pre-filled with the actual now standing for the date."""
    forms = []
    for indicator in indicators:
        if indicator.not_applicable:
            continue
        now = current.get(indicator.pk) if current is not None else None
        initial = {"base": now.pk if now else ""}
        if now is not None:
            initial.update({
                "value": plain_decimal(now.value),
                "met": _YES_NO.get(now.met, ""), "grade": now.grade, "points": now.points,
                "forecast": plain_decimal(now.forecast),
                "likelihood": now.likelihood, "deviation_category": now.deviation_category,
                "deviation_reason": now.deviation_reason,
                "needs_rectification": _YES_NO.get(now.needs_rectification, ""),
                "rectification_measures": now.rectification_measures,
            })
        form = IndicatorEntryForm(data, prefix=f"i{indicator.pk}", indicator=indicator, month=as_of.month,
                                  initial=initial)
        if conflicts and indicator.pk in conflicts:
            # The page is shown again with what the other person saved as the new base.
            other = conflicts[indicator.pk]
            form.data = form.data.copy()
            form.data[form.add_prefix("base")] = str(other.pk) if other else ""
        form.current = now
        forms.append(form)
    return forms


@login_required
def project_report_page(request, pk: int):
    """A project's report page (the address leads know)."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    table = get_object_or_404(GoalTable, project=project)
    query = request.META.get("QUERY_STRING")
    return redirect(reverse("reports:table", args=[table.pk]) + (f"?{query}" if query else ""))


@login_required
def report_page(request, pk: int):
    """Record a goal table's actuals as of a date, in one form for all indicators."""
    table = _visible_table(request.user, pk)
    may = permissions.table_permissions(request.user, table)
    as_of = _report_date(request, table)
    indicators = list(table.indicators.order_by("order"))
    current = selectors.current_actuals(table=table, as_of=as_of)
    data = request.POST if request.method == "POST" and request.POST.get("action") in ("save", "submit") else None
    if data is not None and not may.record:
        raise PermissionDenied("只有项目负责人或单位管理员可以填报。")
    forms = _entry_forms(table, indicators, as_of, data=data, current=current)

    if data is not None and all(form.is_valid() for form in forms):
        entries = [
            services.Entry(indicator=form.indicator, base_actual_id=int(form.cleaned_data["base"] or 0) or None,
                           values=form.entered())
            for form in forms if not form.is_empty
        ]
        try:
            report, saved = services.report_entries_save(table=table, as_of=as_of, entries=entries,
                                                          user=request.user)
            if request.POST.get("action") == "submit":
                report = report or Report.objects.filter(table=table, as_of=as_of, status=Report.Status.DRAFT).first()
                if report is None:
                    raise ValidationError("没有可提交的草稿：请先填写实际完成值。")
                services.report_submit(report=report, user=request.user)
        except services.EntryConflict as conflict:
            forms = _entry_forms(table, indicators, as_of, data=data, current=current, conflicts=conflict.conflicts)
            for form in forms:
                form.is_valid()
                if form.indicator.pk in conflict.conflicts:
                    other = conflict.conflicts[form.indicator.pk]
                    who = person_name(other.recorded_by) if other and other.recorded_by else "他人"
                    form.add_error(form.main_field, f"保存期间 {who} 已更新该指标，请核对后再次保存（您填写的内容已保留）。")
            messages.error(request, "有指标在您填写期间已被他人更新，未保存任何内容。")
        except ValidationError as error:
            messages.error(request, "未保存：" + "；".join(error.messages))
        else:
            if request.POST.get("action") == "submit":
                messages.success(request, f"已保存 {saved} 项并提交审核。")
            else:
                messages.success(request, f"已保存 {saved} 项。" if saved else "没有修改，无需保存。")
            return redirect(_page_url(table, as_of))
    elif data is not None:
        messages.error(request, "有填写错误，请按提示修改（已填写的内容均已保留）。")

    previous = selectors.previous_actuals(table=table, as_of=as_of)
    evidence = selectors.evidence_by_indicator(table=table)
    for form in forms:
        form.previous = previous.get(form.indicator.pk)
        form.evidence = evidence.get(form.indicator.pk, [])
    reports = selectors.table_reports(table=table)
    report = next((r for r in reports if r.as_of == as_of), None)
    funds = selectors.table_funds(table)
    execution = selectors.table_executions(table=table).filter(as_of=as_of).order_by("-id").first()
    execution_form = ExecutionForm(
        initial={"executed": execution.executed if execution else None, "budget_adjusted": funds.full_year_budget,
                 "adjustment_reason": funds.adjustment_reason},
        may_adjust=may.adjust_budget, current_budget=funds.full_year_budget,
    )
    return render(request, "reports/report.html", {
        "project": table.project, "table": table, "funds": funds, "as_of": as_of, "forms": forms, "may": may,
        "report": report, "reports": reports, "execution": execution, "execution_form": execution_form,
        "return_form": ReturnForm(), "evidence_form": EvidenceForm(),
        "na_indicators": [i for i in indicators if i.not_applicable],
        "closed": unit_year_is_closed(unit_id=table.unit_id, year=table.year),
    })


@login_required
@require_POST
def execution_save(request, pk: int):
    """Record cumulative 执行数 (and, for administrators, the adjusted 全年预算数) as of the page's date."""
    table = _visible_table(request.user, pk)
    may = permissions.table_permissions(request.user, table)
    if not may.record:
        raise PermissionDenied("只有项目负责人或单位管理员可以填报预算执行。")
    as_of = _report_date(request, table)
    funds = selectors.table_funds(table)
    form = ExecutionForm(request.POST, may_adjust=may.adjust_budget, current_budget=funds.full_year_budget)
    back = _page_url(table, as_of)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"预算执行未保存：{label}{'：' if label else ''}{'；'.join(errors)}")
        return redirect(back)
    try:
        adjusted = form.cleaned_data.get("budget_adjusted")
        if may.adjust_budget and adjusted is not None and adjusted != funds.full_year_budget:
            services.budget_adjust(project=table.project, unit=table.unit, year=table.year, adjusted=adjusted,
                                   reason=form.cleaned_data.get("adjustment_reason", ""), user=request.user)
        services.execution_report(project=table.project, unit=table.unit, year=table.year, as_of=as_of,
                                  executed=form.cleaned_data["executed"], user=request.user)
    except ValidationError as error:
        messages.error(request, "预算执行未保存：" + "；".join(error.messages))
    else:
        messages.success(request, f"已记录截至 {as_of:%Y-%m-%d} 的累计执行数 {form.cleaned_data['executed']} 万元。")
    return redirect(back)


@login_required
@require_POST
def report_review(request, pk: int):
    """Approve (unit administrators) or return with a reason (administrators and 主管部门 reviewers)."""
    report = get_object_or_404(Report, pk=pk, table__in=goal_tables_for_user(user=request.user))
    table = report.table
    action = request.POST.get("action")
    back = _page_url(table, report.as_of)
    try:
        if action == "approve":
            if not permissions.can_approve_reports(request.user, table):
                raise PermissionDenied("只有单位管理员可以审核通过。")
            services.report_approve(report=report, user=request.user)
            messages.success(request, "已审核通过，该填报的数值计入正式得分。")
        elif action == "return":
            if not permissions.can_return_reports(request.user, table):
                raise PermissionDenied("您无权退回该填报。")
            form = ReturnForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors["reason"])
            services.report_return(report=report, reason=form.cleaned_data["reason"], user=request.user)
            messages.success(request, "已退回，退回原因将显示给项目负责人。")
        else:
            raise ValidationError("未知的审核操作。")
    except ValidationError as error:
        messages.error(request, "操作未完成：" + "；".join(error.messages))
    return redirect(back)


@login_required
@require_POST
def evidence_upload(request, pk: int, indicator_pk: int):
    table = _visible_table(request.user, pk)
    indicator = get_object_or_404(Indicator.objects.select_related("table"), pk=indicator_pk, table=table)
    if not permissions.can_record(request.user, table):
        raise PermissionDenied("只有项目负责人或单位管理员可以上传佐证资料。")
    form = EvidenceForm(request.POST, request.FILES)
    as_of = request.POST.get("as_of", "")
    back = f"{reverse('reports:table', args=[table.pk])}?as_of={as_of}#i{indicator.pk}"
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        evidence = services.evidence_add(indicator=indicator, upload=form.cleaned_data["file"], user=request.user,
                                         max_bytes=settings.UPLOAD_MAX_BYTES)
    except ValidationError as error:
        messages.error(request, f"“{indicator.name}”的佐证资料未上传：" + "；".join(error.messages))
    else:
        messages.success(request, f"已上传“{evidence.original_name}”。")
    return redirect(back)


@login_required
def evidence_download(request, pk: int):
    """Only people who may see the project get the file; it is always sent as a download."""
    evidence = get_object_or_404(
        Evidence.objects.select_related("indicator"), pk=pk,
        indicator__table__in=goal_tables_for_user(user=request.user),
    )
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.original_name,
                        content_type=evidence.content_type)
