"""The report page of a goal table (a project's, or the unit's 部门整体 one): actuals as of a date with each
indicator's evidence in the same form, budget execution by funds source, submission, withdrawal and review.

The values are inputs only to whoever may record while the report is open; submitted (until 撤回), closed
(关账) or seen by a reviewer, they are text. A returned report reopens with its values and the reason."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from budgets.models import PROJECT_SOURCES, UNIT_SOURCES
from budgets.selectors import projects_for_user, unit_year_is_closed
from kpi import permissions, scoring
from kpi.formatting import money_text, person_name, plain_decimal
from kpi.goals.selectors import goal_tables_for_user
from kpi.models import Actual, Evidence, GoalTable, Indicator, Report
from kpi.policies.services import execution_reason_keep
from kpi.rescoring.selectors import policy_for_table
from kpi.storage import StorageUnavailable

from . import filetypes, selectors, services
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
    return get_object_or_404(goal_tables_for_user(user=user).select_related("unit", "project__lead"), pk=pk)


def _page_url(table: GoalTable, as_of) -> str:
    return f"{reverse('reports:table', args=[table.pk])}?as_of={as_of:%Y-%m-%d}"


_YES_NO = {True: "1", False: "0"}


@dataclass
class Page:
    """What the report page of a table for a date stands on, for the GET and every POST of the page."""

    table: GoalTable
    may: permissions.TablePermissions
    as_of: dt.date
    indicators: list[Indicator]
    current: dict[int, Actual]  # the actuals now standing for the date (the base of a new entry)
    shown: dict[int, Actual]  # the values shown: a returned report's while it is being corrected
    reports: list[Report]
    report: Report | None  # the newest report of the date
    returned: Report | None  # the returned report this date's page corrects (its reason is shown)
    year_closed: bool
    policy: scoring.Policy  # the scoring policy of the table: its checks apply to what is entered

    @classmethod
    def load(cls, request, table: GoalTable, as_of: dt.date | None = None) -> Page:
        as_of = as_of or _report_date(request, table)
        current = selectors.current_actuals(table=table, as_of=as_of)
        reports = selectors.table_reports(table=table)
        report = next((r for r in reports if r.as_of == as_of), None)
        returned = selectors.returned_for_date(reports, as_of)
        shown = current
        if report is not None and report is returned:
            # Reopened after 退回: the lead corrects what they typed, not an empty page.
            shown = {**current, **selectors.report_actuals(report=returned)}
        return cls(
            table=table, may=permissions.table_permissions(request.user, table), as_of=as_of,
            indicators=list(table.indicators.order_by("order")), current=current, shown=shown, reports=reports,
            report=report, returned=returned,
            year_closed=unit_year_is_closed(unit_id=table.unit_id, year=table.year),
            policy=policy_for_table(table),
        )

    @property
    def closed(self) -> bool:
        return self.year_closed or self.table.status == GoalTable.Status.CLOSED

    @property
    def submitted(self) -> bool:
        return self.report is not None and self.report.status == Report.Status.SUBMITTED

    @property
    def editable(self) -> bool:
        """Whether the values are offered as inputs: to whoever may record, unless closed or waiting for review."""
        return self.may.record and not self.closed and not self.submitted

    @property
    def read_only_reason(self) -> str:
        if self.year_closed:
            return f"{self.table.year} 年度已关账，数据只读。"
        if self.table.status == GoalTable.Status.CLOSED:
            return "该绩效目标表已关闭，数据只读。"
        if self.submitted and self.may.record:
            return "已提交，等待审核：数值只读。如需修改，请先撤回。"
        if self.submitted:
            return "已提交，等待审核。"
        if not self.may.record:
            return "只读：填报由项目负责人或单位管理员进行" + ("；提交后可在此审核。" if self.may.review else "。")
        return ""

    @property
    def url(self) -> str:
        return _page_url(self.table, self.as_of)


def _entry_forms(page: Page, data=None, conflicts=None) -> list[IndicatorEntryForm]:
    """One form per applicable indicator, pre-filled with the values shown for the date."""
    forms = []
    for indicator in page.indicators:
        if indicator.not_applicable:
            continue
        now = page.current.get(indicator.pk)
        shown = page.shown.get(indicator.pk)
        initial = {"base": now.pk if now else ""}
        if shown is not None:
            initial.update({
                "value": plain_decimal(shown.value),
                "met": _YES_NO.get(shown.met, ""), "grade": shown.grade, "points": shown.points,
                "forecast": plain_decimal(shown.forecast),
                "likelihood": shown.likelihood, "deviation_category": shown.deviation_category,
                "deviation_reason": shown.deviation_reason,
                "needs_rectification": _YES_NO.get(shown.needs_rectification, ""),
                "rectification_measures": shown.rectification_measures,
            })
        form = IndicatorEntryForm(data, prefix=f"i{indicator.pk}", indicator=indicator, month=page.as_of.month,
                                  initial=initial, policy=page.policy)
        if conflicts and indicator.pk in conflicts:
            # The page is shown again with what the other person saved as the new base.
            other = conflicts[indicator.pk]
            form.data = form.data.copy()
            form.data[form.add_prefix("base")] = str(other.pk) if other else ""
        form.current, form.shown = now, shown
        form.results = []  # evidence uploaded or removed by this request: [(ok, text)]
        forms.append(form)
    return forms


def _render(request, page: Page, *, forms=None, execution_form=None, return_form=None, status=200):
    table = page.table
    forms = forms if forms is not None else _entry_forms(page)
    previous = selectors.previous_actuals(table=table, as_of=page.as_of)
    evidence = selectors.evidence_by_indicator(table=table)
    named = set(page.returned.review_indicators) if page.returned else set()
    for form in forms:
        form.previous = previous.get(form.indicator.pk)
        form.evidence = evidence.get(form.indicator.pk, [])
        form.named = form.indicator.pk in named
    funds = selectors.table_funds(table)
    execution = selectors.table_executions(table=table).filter(as_of=page.as_of).order_by("-id").first()
    sources = _sources(table)
    if execution_form is None:
        initial = {"executed": money_text(execution.executed) if execution else None,
                   "budget_adjusted": money_text(funds.full_year_budget),
                   "adjustment_reason": funds.adjustment_reason}
        for field, _ in sources:
            initial[f"executed_{field}"] = money_text(getattr(execution, field)) if execution else None
            initial[f"budget_{field}"] = money_text(getattr(funds, f"{field}_adjusted"))
        execution_form = ExecutionForm(initial=initial, sources=sources, may_adjust=page.may.adjust_budget,
                                       current_budget=funds.full_year_budget, policy=page.policy)
    if return_form is None:
        return_form = ReturnForm(indicators=[i for i in page.indicators if not i.not_applicable])
    return render(request, "reports/report.html", {
        "project": table.project, "table": table, "page": page, "as_of": page.as_of, "forms": forms,
        "may": page.may, "report": page.report, "reports": page.reports, "returned": page.returned,
        "named_indicators": [i for i in page.indicators if i.pk in named],
        "funds": funds, "budget_split": _split_text(funds, sources, "_adjusted"),
        "execution": execution, "execution_split": _split_text(execution, sources),
        "execution_form": execution_form, "return_form": return_form,
        "na_indicators": [i for i in page.indicators if i.not_applicable],
        "closed": page.closed, "editable": page.editable, "policy": page.policy,
    }, status=status)


def _sources(table: GoalTable):
    return PROJECT_SOURCES if table.project_id else UNIT_SOURCES


@login_required
def project_report_page(request, pk: int):
    """A project's report page (the address leads know)."""
    project = get_object_or_404(projects_for_user(user=request.user), pk=pk)
    table = get_object_or_404(GoalTable, project=project)
    query = request.META.get("QUERY_STRING")
    return redirect(reverse("reports:table", args=[table.pk]) + (f"?{query}" if query else ""))


@login_required
@never_cache  # the unit's figures as entered: no browser or proxy keeps a copy
def report_page(request, pk: int):
    """Record a goal table's actuals as of a date, in one form for all indicators, with each indicator's
    evidence uploaded in the same form (an upload keeps what was typed)."""
    table = _visible_table(request.user, pk)
    page = Page.load(request, table)
    if request.method != "POST":
        return _render(request, page)
    if not page.may.record:
        raise PermissionDenied("只有项目负责人或单位管理员可以填报。")
    if not page.editable:
        messages.error(request, "未保存：" + page.read_only_reason)
        return _render(request, page)
    action = request.POST.get("action")
    forms = _entry_forms(page, data=request.POST)
    by_indicator = {form.indicator.pk: form for form in forms}
    disk_full = _evidence_changes(request, page, by_indicator)
    if action not in ("save", "submit"):
        # 上传 / 删除 of a file: the values stay as typed and unsaved; the result is shown beside the row.
        for form in forms:
            form.show_as_typed()
        return _render(request, page, forms=forms, status=503 if disk_full else 200)

    if all(form.is_valid() for form in forms):
        entries = [
            services.Entry(indicator=form.indicator, base_actual_id=int(form.cleaned_data["base"] or 0) or None,
                           values=form.entered())
            for form in forms if not form.is_empty
        ]
        try:
            report, saved = services.report_entries_save(table=table, as_of=page.as_of, entries=entries,
                                                          user=request.user)
            if action == "submit":
                report = report or Report.objects.filter(table=table, as_of=page.as_of,
                                                         status=Report.Status.DRAFT).first()
                if report is None:
                    raise ValidationError("没有可提交的草稿：请先填写实际完成值。")
                services.report_submit(report=report, user=request.user)
        except services.EntryConflict as conflict:
            forms = _entry_forms(page, data=request.POST, conflicts=conflict.conflicts)
            for form in forms:
                form.is_valid()
                form.results = by_indicator[form.indicator.pk].results
                if form.indicator.pk in conflict.conflicts:
                    other = conflict.conflicts[form.indicator.pk]
                    who = person_name(other.recorded_by) if other and other.recorded_by else "他人"
                    form.add_error(form.main_field, f"保存期间 {who} 已更新该指标，请核对后再次保存（您填写的内容已保留）。")
            messages.error(request, "有指标在您填写期间已被他人更新，未保存任何内容。")
        except ValidationError as error:
            messages.error(request, "未保存：" + "；".join(error.messages))
        else:
            if action == "submit":
                messages.success(request, f"已保存 {saved} 项并提交审核。" if saved else "已提交审核。")
            else:
                messages.success(request, f"已保存 {saved} 项。" if saved else "没有修改，无需保存。")
            for form in forms:
                for note in form.notes.values():
                    messages.info(request, f"“{form.indicator.name}”：{note}")
                for ok, text in form.results:
                    (messages.success if ok else messages.error)(request, f"“{form.indicator.name}”：{text}")
            return redirect(page.url)
    else:
        messages.error(request, "有填写错误，请按提示修改（已填写的内容均已保留）。")
    return _render(request, page, forms=forms)


def _evidence_changes(request, page: Page, by_indicator: dict[int, IndicatorEntryForm]) -> bool:
    """Store the files chosen in the page's rows and remove the file asked for; each result goes beside
    its indicator's row (form.results). True when a file was not stored because the disk is full."""
    disk_full = False
    for pk, form in by_indicator.items():
        for upload in request.FILES.getlist(f"evidence-{pk}"):
            try:
                evidence = services.evidence_add(indicator=form.indicator, upload=upload, user=request.user,
                                                 max_bytes=settings.UPLOAD_MAX_BYTES)
            except StorageUnavailable as error:
                disk_full = True
                form.results.append((False, f"“{upload.name}”未上传：{error.message}"))
            except ValidationError as error:
                form.results.append((False, f"“{upload.name}”未上传：" + "；".join(error.messages)))
            else:
                form.results.append((True, f"已上传“{evidence.original_name}”。"))
    pressed = by_indicator.get(int(request.POST["upload"])) if request.POST.get("upload", "").isdigit() else None
    if pressed is not None and not pressed.results:
        pressed.results.append((False, "请先选择要上传的文件，再点击“上传”。"))
    remove = request.POST.get("remove_evidence")
    if remove:
        evidence = get_object_or_404(Evidence.objects.select_related("indicator__table"),
                                     pk=int(remove) if remove.isdigit() else 0, indicator__table=page.table)
        form = by_indicator.get(evidence.indicator_id)
        try:
            services.evidence_remove(evidence=evidence, user=request.user)
        except ValidationError as error:
            result = (False, f"“{evidence.original_name}”未删除：" + "；".join(error.messages))
        else:
            result = (True, f"已删除“{evidence.original_name}”。")
        if form is not None:
            form.results.append(result)
        else:
            (messages.success if result[0] else messages.error)(request, result[1])
    return disk_full


def _money(value) -> str:
    return f"{plain_decimal(value)} 万元"


def _split_text(figures, sources, suffix: str = "") -> str:
    """"本年财政拨款 40 万元，上年结转 6 万元" of a row's per-source figures; "" when none was recorded."""
    if figures is None:
        return ""
    return "，".join(f"{label} {_money(getattr(figures, field + suffix))}" for field, label in sources
                    if getattr(figures, field + suffix) is not None)


def _execution_saved_text(saved: services.ExecutionSaved, as_of: dt.date, sources) -> str:
    """Exactly what was recorded, in one sentence."""
    parts = []
    if saved.execution is not None:
        split = _split_text(saved.execution, sources)
        parts.append(f"已记录截至 {as_of:%Y-%m-%d} 的累计执行数 {_money(saved.execution.executed)}"
                     + (f"（其中{split}）" if split else ""))
    if saved.funds is not None:
        split = _split_text(saved.funds, sources, "_adjusted")
        parts.append(f"全年预算数调整为 {_money(saved.funds.full_year_budget)}" + (f"（其中{split}）" if split else "")
                     + (f"，调整原因：{saved.funds.adjustment_reason}" if saved.funds.adjustment_reason else ""))
    return "；".join(parts) + "。" if parts else "预算执行没有修改，无需保存。"


@login_required
@require_POST
def execution_save(request, pk: int):
    """Record cumulative 执行数 by source (and, for administrators, the adjusted 全年预算数 and its split) as of
    the page's date. On an error the page is shown again with everything as typed."""
    table = _visible_table(request.user, pk)
    page = Page.load(request, table)
    if not page.may.record:
        raise PermissionDenied("只有项目负责人或单位管理员可以填报预算执行。")
    funds = selectors.table_funds(table)
    sources = _sources(table)
    form = ExecutionForm(request.POST, sources=sources, may_adjust=page.may.adjust_budget,
                         current_budget=funds.full_year_budget, policy=page.policy)
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.table_execution_record(
                table=table, as_of=page.as_of, executed=data["executed"], executed_by_source=form.split("executed_"),
                budget=data.get("budget_adjusted") if page.may.adjust_budget else None,
                budget_by_source=form.split("budget_") if page.may.adjust_budget else None,
                reason=data.get("adjustment_reason", ""), user=request.user,
            )
        except ValidationError as error:
            form.add_service_error(error)
        else:
            reason = data.get("deviation_reason") or ""
            if reason.strip():
                # Kept with the figure it explains (or, re-saved unchanged, with the one standing for the date).
                execution = saved.execution or selectors.table_executions(table=table).filter(
                    as_of=page.as_of).order_by("-id").first()
                if execution is not None:
                    execution_reason_keep(execution=execution, reason=reason)
            messages.success(request, _execution_saved_text(saved, page.as_of, sources))
            return redirect(page.url + "#execution")
    messages.error(request, "预算执行未保存：请按提示修改（已填写的内容均已保留）。")
    return _render(request, page, execution_form=form)


@login_required
@require_POST
def report_review(request, pk: int):
    """Approve (unit administrators) or return with a reason and the indicators it names (administrators and
    主管部门 reviewers)."""
    report = get_object_or_404(Report, pk=pk, table__in=goal_tables_for_user(user=request.user))
    table = _visible_table(request.user, report.table_id)
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
            form = ReturnForm(request.POST, indicators=table.indicators.filter(not_applicable=False))
            if not form.is_valid():
                messages.error(request, "未退回：请按提示修改。")
                return _render(request, Page.load(request, table, as_of=report.as_of), return_form=form)
            services.report_return(report=report, reason=form.cleaned_data["reason"],
                                   indicator_ids=form.cleaned_data["indicators"], user=request.user)
            messages.success(request, "已退回，退回原因将显示给项目负责人。")
        else:
            raise ValidationError("未知的审核操作。")
    except ValidationError as error:
        messages.error(request, "操作未完成：" + "；".join(error.messages))
    return redirect(back)


@login_required
@require_POST
def report_withdraw(request, pk: int):
    """撤回: whoever may record takes a submitted report back to a draft, until it is reviewed."""
    report = get_object_or_404(Report, pk=pk, table__in=goal_tables_for_user(user=request.user))
    table = report.table
    if not permissions.can_record(request.user, table):
        raise PermissionDenied("只有项目负责人或单位管理员可以撤回填报。")
    try:
        services.report_withdraw(report=report, user=request.user)
    except ValidationError as error:
        messages.error(request, "未撤回：" + "；".join(error.messages))
    else:
        messages.success(request, "已撤回：填报恢复为草稿，修改后可重新提交审核。")
    return redirect(_page_url(table, report.as_of))


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
    except StorageUnavailable as error:
        messages.error(request, f"“{indicator.name}”的佐证资料未上传：{error.message}")
    except ValidationError as error:
        messages.error(request, f"“{indicator.name}”的佐证资料未上传：" + "；".join(error.messages))
    else:
        messages.success(request, f"已上传“{evidence.original_name}”。")
    return redirect(back)


@login_required
def evidence_download(request, pk: int):
    """Only people who may see the project get the file; it is always sent as a download, its type and
    extension those of its content (judged again, so files kept under older rules are sent safely too)."""
    evidence = get_object_or_404(
        Evidence.objects.select_related("indicator"), pk=pk,
        indicator__table__in=goal_tables_for_user(user=request.user),
    )
    handle = evidence.file.open("rb")
    content_type, filename = filetypes.download_type(handle, evidence.original_name)
    handle.seek(0)
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
