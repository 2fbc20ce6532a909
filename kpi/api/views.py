"""The API's views, thin as the pages' are: find the object through the user's scoped selectors (404
otherwise, for every method), ask the `kpi.permissions` predicates (403), then call the same services as
the report page with the page's own forms checking what was sent — no second set of rules. And the page
where people create and revoke their personal access tokens.
"""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets.models import PROJECT_SOURCES
from budgets.selectors import projects_for_user, units_for_user
from budgets.services import ensure_year_open
from budgets.years import YEAR_MAX, YEAR_MIN
from kpi import permissions, scoring
from kpi.formatting import money_text, person_name
from kpi.goals.selectors import goal_tables_for_user, unit_year_tables
from kpi.models import GoalTable, Report
from kpi.reports import selectors as report_selectors
from kpi.reports import services as reports
from kpi.reports.forms import ExecutionForm, IndicatorEntryForm, ReturnForm
from kpi.selfeval.data import NoTables, unit_evaluation

from . import selectors
from . import serializers as out
from . import services as api_services
from .errors import conflict, invalid, service_error
from .forms import TokenForm
from .idempotency import HEADER, idempotent

# --- shared -----------------------------------------------------------------------------------------

ERROR = inline_serializer("Error", fields={
    "detail": serializers.CharField(),
    "errors": serializers.DictField(help_text="按字段（entries 按条目）列出的说明；没有则为 {}"),
})
IDEMPOTENCY = OpenApiParameter(
    HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="重试时使用同一个键（如 UUID），返回第一次成功的结果而不重复写入；24 小时内有效。",
)


def _errors(*codes: int) -> dict:
    described = {
        400: "所填内容有误（按字段说明）", 401: "未认证，或令牌无效、已撤销", 403: "无权进行此操作（如只读令牌写入）",
        404: "不存在，或不在您可查看的范围内", 409: "对象的状态不允许（已关账、已提交、他人已更新、评分更新中）",
        422: f"{HEADER} 已用于另一个请求", 429: "请求过于频繁",
    }
    return {code: OpenApiResponse(ERROR, description=described[code]) for code in codes}


READ_ERRORS = (401, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422, 429)


class ApiView(APIView):
    """An API view of one object: a method it does not have answers 404 too when the object is not the
    user's (as a page does), 405 only to someone who may see it."""

    def visible_object(self, request, **kwargs):
        return None

    def http_method_not_allowed(self, request, *args, **kwargs):
        self.visible_object(request, **kwargs)
        return super().http_method_not_allowed(request, *args, **kwargs)


def _body(serializer_class, data) -> dict:
    """What was sent, checked for its shape (types, required fields, unknown fields) — 400 otherwise."""
    if not isinstance(data, dict):
        raise invalid({"non_field_errors": ["请求体应为 JSON 对象。"]})
    serializer = serializer_class(data=data)
    errors = {} if serializer.is_valid() else dict(serializer.errors)
    for name in sorted(set(data) - set(serializer.fields)):
        errors[name] = [f"未知字段“{name}”。"]
    if errors:
        raise invalid(errors)
    return serializer.validated_data


def _form_errors(form, renamed: dict | None = None) -> dict:
    """A page form's errors keyed by the API's names (the form's non-field errors as non_field_errors)."""
    renamed = {NON_FIELD_ERRORS: "non_field_errors", **(renamed or {})}
    return {renamed.get(name, name): list(errors) for name, errors in form.errors.items()}


def _refuse_closed(table: GoalTable) -> None:
    """409 when the table's year is closed (关账) or the table itself is: nothing of it changes."""
    try:
        ensure_year_open(unit_id=table.unit_id, year=table.year)
    except ValidationError as error:
        raise conflict("；".join(error.messages)) from None
    if table.status == GoalTable.Status.CLOSED:
        raise conflict("该绩效目标表已关闭，不能再填报。")


def _visible_table(user, pk: int) -> GoalTable:
    return get_object_or_404(goal_tables_for_user(user=user).select_related("unit", "project__lead"), pk=pk)


def _visible_report(user, pk: int) -> Report:
    return get_object_or_404(Report.objects.select_related("table__unit", "table__project"), pk=pk,
                             table__in=goal_tables_for_user(user=user))


def _report_response(report: Report, *, code=status.HTTP_200_OK, saved=None, notes=None) -> Response:
    report = selectors.report_shown(report_id=report.pk)
    if saved is None:
        return Response(out.ReportSerializer(report).data, status=code)
    report.saved, report.api_notes = saved, notes or {}
    return Response(out.ReportSavedSerializer(report).data, status=code)


# --- units and goal tables --------------------------------------------------------------------------

class UnitList(APIView):
    @extend_schema(summary="可查看的预算单位", tags=["单位"], responses={200: out.UnitSerializer(many=True), **_errors(401, 429)},
                   description="单位管理员：本单位；主管部门/财政审核：其下所有单位；项目负责人：无（只看本人负责的项目）。")
    def get(self, request):
        units = units_for_user(user=request.user).order_by("code", "pk")
        return Response(out.UnitSerializer(units, many=True).data)


class TablePages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _int_parameter(request, name: str, errors: dict, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not raw.strip().isdecimal() or not low <= int(raw) <= high:
        label = {"year": "年度", "unit": "单位 id"}[name]
        errors[name] = [f"{label}“{raw}”无效，请填写整数" + ("（如 2026）。" if name == "year" else "。")]
        return None
    return int(raw)


class TableList(APIView):
    pagination_class = TablePages

    @extend_schema(
        summary="可查看的绩效目标表（分页）", tags=["绩效目标表"],
        parameters=[
            OpenApiParameter("year", OpenApiTypes.INT, description="年度，如 2026"),
            OpenApiParameter("unit", OpenApiTypes.INT, description="预算单位 id（不可查看的单位没有结果）"),
        ],
        responses={200: out.TableSummarySerializer(many=True), **_errors(400, 401, 429)},
    )
    def get(self, request):
        errors = {}
        year = _int_parameter(request, "year", errors, low=YEAR_MIN, high=YEAR_MAX)
        unit = _int_parameter(request, "unit", errors)
        if errors:
            raise invalid(errors)
        tables = goal_tables_for_user(user=request.user).select_related("unit", "project__lead")
        if year is not None:
            tables = tables.filter(year=year)
        if unit is not None:
            tables = tables.filter(unit_id=unit)
        tables = tables.order_by("unit__code", "year", "scope", "project__name", "pk")
        paginator = self.pagination_class()
        page = selectors.tables_with_totals(tables=list(paginator.paginate_queryset(tables, request, view=self)))
        return paginator.get_paginated_response(out.TableSummarySerializer(page, many=True).data)


class TableDetail(ApiView):
    def visible_object(self, request, pk):
        return _visible_table(request.user, pk)

    @extend_schema(summary="绩效目标表：表头、资金、指标及其最新得分、总分、等级和监控灯", tags=["绩效目标表"],
                   responses={200: out.TableDetailSerializer, **_errors(*READ_ERRORS)})
    def get(self, request, pk: int):
        table = selectors.table_detail(table=self.visible_object(request, pk))
        return Response(out.TableDetailSerializer(table).data)


# --- reports: entries, submit, withdraw, approve, return --------------------------------------------

_YES_NO = {True: "1", False: "0", None: ""}
# The fields each way of entering an actual takes (kpi.entries.entry_mode), as the page's row shows them.
_MODE_FIELDS = {"number": ("value", "forecast"), "met": ("met",), "grade": ("grade", "points")}
_MODE_HINT = {"number": "请填写 value（及 forecast）", "met": "请填写 met（true 或 false）",
              "grade": "请填写 grade 和 points"}


def _entry_form_data(entry: dict) -> dict:
    """An API entry as the report page's row would have posted it."""
    def text(name):
        value = entry.get(name)
        return "" if value is None else str(value)

    data = {name: text(name) for name in ("value", "grade", "points", "forecast", "likelihood", "deviation_category",
                                          "deviation_reason", "rectification_measures")}
    data["met"] = _YES_NO[entry.get("met")]
    data["needs_rectification"] = _YES_NO[entry.get("needs_rectification")]
    return data


def _entry_errors(indicator, entry: dict, month: int) -> tuple[IndicatorEntryForm | None, dict]:
    """The report page's form of the indicator filled with the entry: (the form, {}) or (None, its errors)."""
    mode = indicator.entry_mode
    foreign = {
        name: [f"该指标的填报方式为 {mode}，不填 {name}：{_MODE_HINT[mode]}。"]
        for fields in _MODE_FIELDS.values() for name in fields
        if name not in _MODE_FIELDS[mode] and entry.get(name) not in (None, "")
    }
    if foreign:
        return None, foreign
    form = IndicatorEntryForm(_entry_form_data(entry), indicator=indicator, month=month)
    if not form.is_valid():
        return None, _form_errors(form)
    return form, {}


def _conflict_text(other) -> str:
    if other is None:
        return "该指标的现值已不是您看到的记录（现在没有计入的值）：请核对后以 base=null 再次提交。"
    who = person_name(other.recorded_by) if other.recorded_by else "他人"
    return f"保存期间 {who} 已更新该指标（现值为第 {other.pk} 号记录）：请核对后以 base={other.pk} 再次提交。"


ENTRY_FIELDS = frozenset(out.EntryInSerializer().fields)
MAX_ENTRIES = 1000


def _report_head(data, table: GoalTable) -> tuple[dt.date, list]:
    """The date and the list of entries of a report's body (each entry is checked on its own) — 400 otherwise."""
    if not isinstance(data, dict):
        raise invalid({"non_field_errors": ["请求体应为 JSON 对象：{\"as_of\": …, \"entries\": […]}。"]})
    errors = {name: [f"未知字段“{name}”。"] for name in sorted(set(data) - {"as_of", "entries"})}
    as_of = None
    try:
        as_of = serializers.DateField().run_validation(data.get("as_of", serializers.empty))
    except serializers.ValidationError as error:
        errors["as_of"] = list(error.detail)
    else:
        if as_of.year != table.year:
            errors["as_of"] = [f"截至日期“{as_of:%Y-%m-%d}”无效，应为 {table.year} 年内的日期（如 {table.year}-07-31）。"]
    entries = data.get("entries")
    if not isinstance(entries, list) or not entries:
        errors["entries"] = ["请以列表给出至少一个指标的填报：[{\"indicator\": 指标 id, \"value\": \"…\"}, …]。"]
    elif len(entries) > MAX_ENTRIES:
        errors["entries"] = [f"一次最多 {MAX_ENTRIES} 条。"]
    if errors:
        raise invalid(errors)
    return as_of, entries


def _entry_shape(raw) -> tuple[dict, dict]:
    """(the entry as sent, checked for its types; its problems) — an object with known fields only."""
    if not isinstance(raw, dict):
        return {}, {"non_field_errors": ["每条填报应为 JSON 对象。"]}
    serializer = out.EntryInSerializer(data=raw)
    problems = {} if serializer.is_valid() else dict(serializer.errors)
    problems.update({name: [f"未知字段“{name}”。"] for name in sorted(set(raw) - ENTRY_FIELDS)})
    return (serializer.validated_data if not problems else {}), problems


class TableReports(ApiView):
    def visible_object(self, request, pk):
        return _visible_table(request.user, pk)

    @extend_schema(
        summary="填报实际完成值（草稿）", tags=["填报与审核"],
        description=(
            "与填报页面相同的校验（kpi.entries.check_entry，经页面的表单）：数字按指标的计量单位读取（“3.1万”），"
            "比率不超过 100%，偏离目标时须填偏差原因和类别，等级须在分数段内……每条的错误写在 errors.entries 的"
            "对应位置。与现值相同的条目不再记录；都没有变化时返回 200 和该日期的填报。`base` 给出时，若该指标在此"
            "之后已被他人保存，返回 409，什么都不保存。"
        ),
        request=out.ReportInSerializer, parameters=[IDEMPOTENCY],
        responses={201: out.ReportSavedSerializer, 200: out.ReportSavedSerializer, **_errors(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request, pk: int):
        table = self.visible_object(request, pk)
        if not permissions.can_record(request.user, table):
            raise PermissionDenied("只有项目负责人或单位管理员可以填报。")
        _refuse_closed(table)
        as_of, raw_entries = _report_head(request.data, table)
        standing = selectors.report_of_date(table=table, as_of=as_of)
        if standing is not None and standing.status == Report.Status.SUBMITTED:
            raise conflict(f"截至 {as_of:%Y-%m-%d} 的填报已提交，正在等待审核，暂不能修改；如需修改，请先撤回。")

        indicators = {i.pk: i for i in table.indicators.all()}
        current = report_selectors.current_actuals(table=table, as_of=as_of)
        filled, errors, seen, sent = [], [], set(), []
        for raw in raw_entries:
            entry, problems = _entry_shape(raw)
            if not problems:
                indicator = indicators.get(entry["indicator"])
                if indicator is None:
                    problems["indicator"] = ["该指标不属于此绩效目标表。"]
                elif indicator.pk in seen:
                    problems["indicator"] = ["同一指标在 entries 中只能出现一次。"]
                elif indicator.not_applicable:
                    problems["indicator"] = ["该指标已标记为不适用，不能填报实际完成值。"]
                else:
                    form, problems = _entry_errors(indicator, entry, as_of.month)
                    if form is not None:
                        filled.append((entry, form))
                seen.add(entry["indicator"])
            sent.append(entry.get("indicator"))
            errors.append(problems)
        if any(errors):
            raise invalid({"entries": errors})

        entries = []
        for entry, form in filled:
            if form.is_empty:
                continue  # left blank: not reported this time, as on the page
            now = current.get(form.indicator.pk)
            base = entry["base"] if "base" in entry else (now.pk if now else None)
            entries.append(reports.Entry(indicator=form.indicator, base_actual_id=base, values=form.entered()))
        try:
            report, saved = reports.report_entries_save(table=table, as_of=as_of, entries=entries, user=request.user)
        except reports.EntryConflict as clash:
            per_entry = [
                {"base": [_conflict_text(clash.conflicts[indicator])]}
                if indicator in clash.conflicts else {}
                for indicator in sent
            ]
            raise conflict("有指标在您提交之前已被他人更新，未保存任何内容。", {"entries": per_entry}) from None
        except ValidationError as error:
            raise service_error(error) from None
        notes = {str(form.indicator.pk): form.notes for _entry, form in filled if form.notes}
        if report is not None:
            return _report_response(report, code=status.HTTP_201_CREATED, saved=saved, notes=notes)
        standing = selectors.report_of_date(table=table, as_of=as_of)
        if standing is None:
            raise invalid({"entries": ["没有填写任何实际完成值。"]}, detail="没有填写任何实际完成值，未保存。")
        return _report_response(standing, saved=0, notes=notes)


class ReportAction(ApiView):
    """One step of a report's review, through the report page's service and predicate."""

    def visible_object(self, request, pk):
        return _visible_report(request.user, pk)

    def allowed(self, user, table) -> bool:
        raise NotImplementedError

    refusal = ""

    def perform(self, request, report: Report) -> Report:
        raise NotImplementedError

    @idempotent
    def post(self, request, pk: int):
        report = self.visible_object(request, pk)
        if not self.allowed(request.user, report.table):
            raise PermissionDenied(self.refusal)
        try:
            report = self.perform(request, report)
        except ValidationError as error:
            raise service_error(error) from None
        return _report_response(report)


_REPORT_ACTION = {"request": None, "parameters": [IDEMPOTENCY], "tags": ["填报与审核"],
                  "responses": {200: out.ReportSerializer, **_errors(*WRITE_ERRORS)}}


class ReportSubmit(ReportAction):
    refusal = "只有项目负责人或单位管理员可以提交填报。"

    def allowed(self, user, table):
        return permissions.can_record(user, table)

    def perform(self, request, report):
        _refuse_closed(report.table)
        return reports.report_submit(report=report, user=request.user)

    @extend_schema(summary="提交审核（草稿 → 已提交）", description="项目负责人或单位管理员；填报中须有实际完成值。",
                   **_REPORT_ACTION)
    def post(self, request, pk: int):
        return super().post(request, pk)


class ReportWithdraw(ReportAction):
    refusal = "只有项目负责人或单位管理员可以撤回填报。"

    def allowed(self, user, table):
        return permissions.can_record(user, table)

    def perform(self, request, report):
        return reports.report_withdraw(report=report, user=request.user)

    @extend_schema(summary="撤回（已提交 → 草稿，审核前）", description="项目负责人或单位管理员，在审核之前。",
                   **_REPORT_ACTION)
    def post(self, request, pk: int):
        return super().post(request, pk)


class ReportApprove(ReportAction):
    refusal = "只有单位管理员可以审核通过。"

    def allowed(self, user, table):
        return permissions.can_approve_reports(user, table)

    def perform(self, request, report):
        return reports.report_approve(report=report, user=request.user)

    @extend_schema(summary="审核通过（已提交 → 已审核：计入正式得分）", description="单位管理员。", **_REPORT_ACTION)
    def post(self, request, pk: int):
        return super().post(request, pk)


class ReportReturn(ReportAction):
    refusal = "您无权退回该填报。"

    def allowed(self, user, table):
        return permissions.can_return_reports(user, table)

    def perform(self, request, report):
        body = _body(out.ReturnInSerializer, request.data)
        form = ReturnForm({"reason": body["reason"], "indicators": [str(pk) for pk in body["indicators"]]},
                          indicators=report.table.indicators.filter(not_applicable=False))
        if not form.is_valid():
            raise invalid(_form_errors(form))
        return reports.report_return(report=report, reason=form.cleaned_data["reason"],
                                     indicator_ids=form.cleaned_data["indicators"], user=request.user)

    @extend_schema(summary="退回（已提交 → 已退回），须写明原因", request=out.ReturnInSerializer,
                   description="单位管理员和上级主管部门/财政审核；可列出原因涉及的指标，显示在项目负责人修改时的指标旁。",
                   parameters=[IDEMPOTENCY], tags=["填报与审核"],
                   responses={200: out.ReportSerializer, **_errors(*WRITE_ERRORS)})
    def post(self, request, pk: int):
        return super().post(request, pk)


# --- budget execution -------------------------------------------------------------------------------

# The page's field names → the API's (the services name the date after the form's prefix).
_EXECUTION_NAMES = {"budget_adjusted": "budget", "adjustment_reason": "reason", "executed_as_of": "as_of",
                    "budget_as_of": "as_of"}


def _execution_form_data(body: dict, may_adjust: bool) -> dict:
    """The body as the page's budget form posts it. A source left out beside others given is 0, as the page
    shows it (and as the services count it), so that the same figures sent again are the same."""
    def text(name):
        value = body.get(name)
        return "" if value is None else str(value)

    def split(prefix):
        given = any(body.get(f"{prefix}{f}") not in (None, "") for f, _ in PROJECT_SOURCES)
        return {f"{prefix}{f}": text(f"{prefix}{f}") or ("0" if given else "") for f, _ in PROJECT_SOURCES}

    data = {"executed": text("executed"), **split("executed_")}
    if may_adjust:
        data.update({"budget_adjusted": text("budget"), "adjustment_reason": text("reason"), **split("budget_")})
    return data


def _execution_text(saved: reports.ExecutionSaved, as_of: dt.date) -> str:
    parts = []
    if saved.execution is not None:
        parts.append(f"已记录截至 {as_of:%Y-%m-%d} 的累计执行数 {money_text(saved.execution.executed)} 万元")
    if saved.funds is not None:
        parts.append(f"全年预算数调整为 {money_text(saved.funds.full_year_budget)} 万元")
    return "；".join(parts) + "。" if parts else "预算执行没有修改，无需保存。"


class ProjectExecution(ApiView):
    def visible_object(self, request, pk):
        return get_object_or_404(projects_for_user(user=request.user), pk=pk)

    @extend_schema(
        summary="预算执行：累计执行数（及按资金来源），单位管理员可同时调整全年预算数", tags=["预算执行"],
        description=(
            "与填报页面“预算执行”表单相同的规则：执行数留空时为各来源之和，各来源之和须等于执行数；调整全年预算数"
            "须填写原因（只有单位管理员可以调整）。与已记录的相同则不再记录（200）。"
        ),
        request=out.ExecutionInSerializer, parameters=[IDEMPOTENCY],
        responses={201: out.ExecutionSavedSerializer, 200: out.ExecutionSavedSerializer, **_errors(*WRITE_ERRORS)},
    )
    @idempotent
    def post(self, request, pk: int):
        project = self.visible_object(request, pk)
        table = selectors.project_table(project=project)
        if not permissions.can_record(request.user, table):
            raise PermissionDenied("只有项目负责人或单位管理员可以填报预算执行。")
        _refuse_closed(table)
        body = _body(out.ExecutionInSerializer, request.data)
        may_adjust = permissions.can_adjust_budget(request.user, table)
        budget_fields = ("budget", "reason", *(f"budget_{f}" for f, _ in PROJECT_SOURCES))
        if not may_adjust and any(body.get(name) not in (None, "") for name in budget_fields):
            raise PermissionDenied("只有单位管理员可以调整全年预算数：请只填写执行数。")
        funds = report_selectors.table_funds(table)
        form = ExecutionForm(_execution_form_data(body, may_adjust), sources=PROJECT_SOURCES, may_adjust=may_adjust,
                             current_budget=funds.full_year_budget)
        if not form.is_valid():
            raise invalid(_form_errors(form, _EXECUTION_NAMES))
        data = form.cleaned_data
        try:
            saved = reports.table_execution_record(
                table=table, as_of=body["as_of"], executed=data["executed"], executed_by_source=form.split("executed_"),
                budget=data.get("budget_adjusted") if may_adjust else None,
                budget_by_source=form.split("budget_") if may_adjust else None,
                reason=data.get("adjustment_reason", ""), user=request.user,
            )
        except ValidationError as error:
            # What the services refuse here is what was sent (the sources do not add up, a date outside the year).
            if not hasattr(error, "error_dict"):
                raise invalid({"non_field_errors": error.messages}, detail="；".join(error.messages)) from None
            raise invalid({_EXECUTION_NAMES.get(k, k): v for k, v in error.message_dict.items()},
                          detail="；".join(error.messages)) from None
        project.refresh_from_db()
        table.project = project
        latest = selectors.execution_of(table=table)
        rate = scoring.score_execution(budget=project.full_year_budget,
                                       executed=latest.executed if latest else None).rate
        result = {
            "project": project.pk, "table": table.pk, "as_of": body["as_of"],
            "recorded": saved.execution is not None, "adjusted": saved.funds is not None,
            "detail": _execution_text(saved, body["as_of"]),
            "execution": selectors.execution_of(table=table, as_of=body["as_of"]),
            "funds": selectors.funds_of(table=table, execution=latest, execution_rate=rate),
        }
        changed = saved.execution is not None or saved.funds is not None
        return Response(out.ExecutionSavedSerializer(result).data,
                        status=status.HTTP_201_CREATED if changed else status.HTTP_200_OK)


# --- self-evaluation --------------------------------------------------------------------------------

SELFEVAL_STALE = "评分更新中：该单位有绩效目标表尚未计入最新的修改，请稍候约一分钟再取（见 Retry-After）。"


class UnitSelfEvaluation(ApiView):
    def visible_object(self, request, pk, year=None):
        return get_object_or_404(units_for_user(user=request.user).select_related("parent"), pk=pk)

    @extend_schema(
        summary="绩效自评（与 selfeval_report --format json 相同的 JSON）", tags=["单位"],
        description="只用已审核的数值和正式得分。单位的某张表还在评分（评分更新中）时返回 409 和 Retry-After，稍后再取。",
        responses={200: out.SelfEvaluationSerializer, **_errors(401, 404, 409, 429)},
    )
    def get(self, request, pk: int, year: int):
        unit = self.visible_object(request, pk)
        stale = [table.pk for table in unit_year_tables(unit_id=unit.pk, year=year) if table.is_stale]
        if stale:
            response = Response({"detail": SELFEVAL_STALE, "errors": {"stale_tables": stale}},
                                status=status.HTTP_409_CONFLICT)
            response["Retry-After"] = "60"
            return response
        try:
            evaluation = unit_evaluation(unit=unit, year=year)
        except NoTables as error:
            return Response({"detail": str(error), "errors": {}}, status=status.HTTP_404_NOT_FOUND)
        return Response(evaluation.as_json())


# --- the token page (HTML) --------------------------------------------------------------------------

# The secret of a token just created travels to the page that shows it once in a signed cookie of that page
# alone, read and dropped by the page's next GET (after the redirect: a reload never creates a second token).
# Nothing of the secret is kept on the server; the cookie lives five minutes at most.
CREATED_COOKIE = "jixiao_api_token_created"
CREATED_SALT = "kpi.api.tokens_page"
CREATED_SECONDS = 300


def _just_created(request):
    """(the token, its secret) when the user's browser brings back the one just created, else (None, None)."""
    value = request.get_signed_cookie(CREATED_COOKIE, default=None, salt=CREATED_SALT, max_age=CREATED_SECONDS)
    pk, _, secret = (value or "").partition(":")
    if not pk.isdigit() or not secret:
        return None, None
    token = selectors.tokens_for_user(user=request.user).filter(
        pk=int(pk), digest=selectors.secret_digest(secret), revoked_at__isnull=True).first()
    return (token, secret) if token is not None else (None, None)


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request):
    """个人访问令牌: create one (its secret is shown once, right after), list them, revoke."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = api_services.token_create(user=request.user, name=form.cleaned_data["name"],
                                                      access=form.cleaned_data["access"])
        except ValidationError as error:
            for name, errors in (error.message_dict if hasattr(error, "error_dict") else {None: error.messages}).items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            response = redirect("api:tokens")
            response.set_signed_cookie(CREATED_COOKIE, f"{token.pk}:{secret}", salt=CREATED_SALT,
                                       max_age=CREATED_SECONDS, path=reverse("api:tokens"), secure=request.is_secure(),
                                       httponly=True, samesite="Strict")
            return response
    created, secret = _just_created(request) if request.method == "GET" else (None, None)
    response = render(request, "api/tokens.html", {
        "form": form, "tokens": selectors.tokens_for_user(user=request.user), "created": created, "secret": secret,
        "limit": api_services.ACTIVE_TOKENS_MAX,
    })
    if CREATED_COOKIE in request.COOKIES:
        response.delete_cookie(CREATED_COOKIE, path=reverse("api:tokens"), samesite="Strict")
    response["Cache-Control"] = "no-store"  # the secret is in the page once: never in a cache
    return response


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(selectors.tokens_for_user(user=request.user), pk=pk)
    api_services.token_revoke(token=token)
    messages.success(request, f"已撤销令牌“{token.name}”（{token.prefix}…）：它从现在起不能再使用。")
    return redirect("api:tokens")
