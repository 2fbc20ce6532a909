"""Bulk import of actuals (实际完成值) or budget execution (预算执行) from a CSV or Excel file, and the
templates to fill in for it.

Every row of actuals is read and checked exactly as the report page reads and checks what a person types
(`kpi.entries.read_quantity` and `check_entry`, the functions of `kpi.reports.forms.IndicatorEntryForm`, under
the scoring policy of each row's table), then checked and recorded as `actual_record` records one (the report
opened as `report_open` opens it), in bulk: the file's indicators, reports and standing actuals are read in a
few queries and the rows written with bulk inserts, history rows included; execution rows go through
`execution_report` / `budget_adjust`, with their split by source when the file gives it, and need the optional
执行率偏差原因 column where the table's policy asks a reason for a low 执行率 (`kpi.entries.check_execution`). The
import is all or nothing: every row is checked (and tried, inside one transaction) first, and one bad row
refuses the whole file with every error listed by its row number and column; nothing is written then.

A row whose value columns are all blank says nothing and is skipped (a filled template lists every
indicator; the ones not reported this time stay blank). An optional column left blank keeps what is
recorded for that indicator and date, as the report page keeps what it shows.

Re-importing a file changes nothing: a row equal to what already stands for that indicator and date
is counted as unchanged; a different value becomes a correction that names the actual it replaces.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import operator
import re
import unicodedata
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from budgets.models import PROJECT_SOURCES, BudgetExecution, Project, Unit
from budgets.services import ensure_year_open
from kpi import scoring
from kpi.entries import EntryError, check_entry, check_execution, read_quantity
from kpi.formatting import plain_decimal
from kpi.models import Actual, GoalTable, Indicator, Report
from kpi.policies.services import EXECUTION_REASON_MAX, execution_reason_keep
from kpi.reports.services import budget_adjust, engine_actual, execution_report
from kpi.rescoring.bulk import RowWriter, driver_rows, objects_insert, sqlite_variable_limit
from kpi.rescoring.selectors import governing_row, policies_by_table, policy_rows
from kpi.rescoring.services import goal_tables_rescore_soon
from kpi.spreadsheets import (
    BOLD,
    LABEL_FILL,
    TEXT_FORMAT,
    WRAP_ONLY,
    XLSX_DAMAGED,
    XlsxRefused,
    csv_safe,
    display_width,
    formula_like,
    put,
    sheet_title,
    workbook_bytes,
    xlsx_check,
)
from kpi.targets import Kind, target_text

from .limits import xlsx_limits

logger = logging.getLogger(__name__)

# --- the columns ----------------------------------------------------------------------------------

GRADES = tuple(g.value for g in scoring.Grade)
DEVIATION_CATEGORIES = tuple(Actual.DeviationCategory.values)
LIKELIHOODS = tuple(Actual.Likelihood.values)

# The header rows of the two kinds of file (the downloadable templates write these).
ACTUALS_COLUMNS = ("项目名称", "三级指标", "截至日期", "实际完成值", "等级", "得分", "偏差原因类别", "偏差原因",
                   "完成目标可能性", "全年预计完成值", "是否需要整改", "整改措施")
# 等级/得分 only matter for graded indicators and the monitoring columns are optional, so a file may leave
# those columns out.
ACTUALS_REQUIRED = ("项目名称", "三级指标", "截至日期", "实际完成值")
ACTUALS_VALUES = ACTUALS_COLUMNS[3:]  # what a row reports; a row with all of them blank is skipped
# Columns of the filled template that are there for the person filling it in; the import ignores them.
REFERENCE_COLUMNS = ("计量单位", "指标值", "填写说明")
ACTUALS_TEMPLATE_COLUMNS = ("项目名称", "三级指标", *REFERENCE_COLUMNS, *ACTUALS_COLUMNS[2:])

# The field of `actual_record` (and of the report page's form) each column fills.
FIELD_COLUMNS = {
    "value": "实际完成值", "met": "实际完成值", "grade": "等级", "points": "得分", "forecast": "全年预计完成值",
    "likelihood": "完成目标可能性", "deviation_category": "偏差原因类别", "deviation_reason": "偏差原因",
    "needs_rectification": "是否需要整改", "rectification_measures": "整改措施",
}
# Left blank in a row, these keep what is recorded (the report page shows them and keeps them unless changed).
OPTIONAL_FIELDS = ("forecast", "likelihood", "deviation_category", "deviation_reason", "needs_rectification",
                   "rectification_measures")
COMPARED_FIELDS = ("value", "met", "grade", "points", *OPTIONAL_FIELDS)
TEXT_MAX = 2000  # 偏差原因, 整改措施: as long as the report page takes

# Budget execution (万元). A project's figures per funds source are optional columns: 执行数 per source
# (they add up to 执行数) and 全年预算数 per source (they add up to 全年预算数).
SOURCE_EXECUTED = {source: f"{label}执行数" for source, label in PROJECT_SOURCES}
SOURCE_BUDGET = {source: f"{label}全年预算数" for source, label in PROJECT_SOURCES}
EXECUTION_COLUMNS = ("项目名称", "截至日期", "全年预算数", "执行数", *SOURCE_BUDGET.values(), *SOURCE_EXECUTED.values())
EXECUTION_REQUIRED = ("项目名称", "截至日期", "执行数")
EXECUTION_VALUES = EXECUTION_COLUMNS[2:]
EXECUTION_REFERENCE_COLUMNS = ("年初预算数", "当前全年预算数")
EXECUTION_TEMPLATE_COLUMNS = ("项目名称", *EXECUTION_REFERENCE_COLUMNS, *EXECUTION_COLUMNS[1:])
# Optional: the reason a 执行率 below the policy's rate needs (kept with the execution figure's history).
EXECUTION_REASON_COLUMN = "执行率偏差原因"

# What the 项目名称 column says for the unit's own 部门整体绩效目标表 (unless a project has that name).
UNIT_TABLE_NAME = "部门整体"
UNIT_TABLE_NAMES = ("部门整体", "部门整体绩效目标表", "部门整体绩效")

TRUE_WORDS = {"是", "达成", "Y", "YES", "TRUE"}
FALSE_WORDS = {"否", "未达成", "N", "NO", "FALSE"}

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel counts a 29 Feb 1900 that never was)


class ActualsImportError(Exception):
    """The file was refused; `errors` lists every problem, one line each (``第 5 行（偏差原因）：……``), in Chinese."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ActualsImportResult:
    """What an import did, for the one-line summary; `notes` says how typed numbers were read."""

    execution: bool = False
    approve: bool = False
    rows: int = 0
    recorded: int = 0
    unchanged: int = 0
    skipped: int = 0
    reports_approved: int = 0
    budgets_adjusted: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        skipped = f"，未填写而跳过 {self.skipped} 行" if self.skipped else ""
        if self.execution:
            return (f"读取 {self.rows} 行：记录执行数 {self.recorded} 条，未变化 {self.unchanged} 条{skipped}，"
                    f"调整全年预算数 {self.budgets_adjusted} 个项目。")
        text = (f"读取 {self.rows} 行：记录实际完成值 {self.recorded} 条，未变化 {self.unchanged} 条{skipped}，"
                f"审核通过填报 {self.reports_approved} 份。")
        if not self.approve and self.recorded:
            text = text[:-1] + "（新记录为草稿，提交并审核后才计入正式得分）。"
        return text


def actuals_import(
    *,
    unit: Unit,
    year: int,
    rows_source: bytes,
    filename: str,
    execution: bool = False,
    approve: bool = False,
    user: AbstractBaseUser | None = None,
) -> ActualsImportResult:
    """Import a unit's actuals (or, with `execution`, its 执行数 and adjusted budgets) for one year.

    `rows_source` is the content of a .csv (UTF-8, with or without BOM, or GB18030) or .xlsx file (first
    sheet). With `approve`, every report the file touches is submitted and approved by `user`, so its
    values count for official scores; otherwise new values stay in draft reports. Raises
    ActualsImportError with every problem found, and then writes nothing.
    """
    try:
        ensure_year_open(unit_id=unit.pk, year=year)
    except ValidationError as error:
        raise ActualsImportError(error.messages) from None
    columns, required = ((*EXECUTION_COLUMNS, EXECUTION_REASON_COLUMN), EXECUTION_REQUIRED) if execution else (
        ACTUALS_COLUMNS, ACTUALS_REQUIRED)
    rows = _read_sheet(rows_source, filename=filename, columns=columns, required=required)
    if not rows:
        raise ActualsImportError(["文件中没有数据行（只有表头或为空）。"])
    projects = _Projects(unit=unit, year=year)
    if execution:
        return _import_execution(rows, projects=projects, year=year, filename=filename, user=user)
    return _import_actuals(rows, projects=projects, year=year, approve=approve, user=user)


def unit_lookup(*, text: str) -> Unit | None:
    """The unit with this 单位编码, else with this 单位名称 (spaces and full-width characters ignored)."""
    text = (text or "").strip()
    if not text:
        return None
    unit = Unit.objects.filter(code=text).first() or Unit.objects.filter(name=text).first()
    if unit is not None:
        return unit
    wanted = _key(text)
    matches = [u for u in Unit.objects.all() if _key(u.name) == wanted or _key(u.code) == wanted]
    return matches[0] if len(matches) == 1 else None


# --- actuals ---------------------------------------------------------------------------------------

@dataclass
class _ActualRow:
    number: int
    indicator: Indicator
    as_of: dt.date
    given: dict  # the fields of actual_record the row fills (a blank optional cell is not given)

    def values(self, previous: Actual | None) -> dict:
        """actual_record's arguments: what the row gives, and for a blank optional cell what is recorded."""
        values = {"value": None, "met": None, "grade": "", "points": None, "forecast": None, "likelihood": "",
                  "deviation_category": "", "deviation_reason": "", "needs_rectification": None,
                  "rectification_measures": ""}
        if previous is not None:
            values.update({name: getattr(previous, name) for name in OPTIONAL_FIELDS})
        values.update(self.given)
        return values


def _import_actuals(rows, *, projects, year, approve, user) -> ActualsImportResult:
    errors = _Errors()
    result = ActualsImportResult(execution=False, approve=approve, rows=len(rows))
    parsed: list[_ActualRow] = []
    seen: dict[tuple[int, dt.date], int] = {}
    for number, cells in rows:
        if all(_blank(cells.get(c)) for c in ACTUALS_VALUES):
            result.skipped += 1
            continue
        row_errors = len(errors)
        indicator = None
        table = projects.table_for(cells.get("项目名称"), number=number, errors=errors)
        if table is not None:
            indicator = projects.indicator(table, cells.get("三级指标"), number=number, errors=errors)
        as_of = _date_in_year(cells.get("截至日期"), year=year, number=number, errors=errors)
        given = _read_actual_values(indicator, cells, number=number, errors=errors,
                                    notes=result.notes) if indicator else None
        if indicator is None or as_of is None or given is None or len(errors) > row_errors:
            continue
        key = (indicator.pk, as_of)
        if key in seen:
            errors.add(number, f"与第 {seen[key]} 行是同一指标“{indicator.name}”、同一截至日期 {as_of:%Y-%m-%d}，"
                               "同一指标同一日期只能填一行。", column="三级指标")
            continue
        seen[key] = number
        parsed.append(_ActualRow(number=number, indicator=indicator, as_of=as_of, given=given))

    with transaction.atomic():
        table_ids = sorted({row.indicator.table_id for row in parsed})
        # Serialise with the report page, which locks the table while it saves.
        list(GoalTable.objects.select_for_update().filter(pk__in=table_ids).order_by("pk").values_list("pk", flat=True))
        standing = _standing_actuals(parsed)
        policies = policies_by_table(projects.tables().values()) if parsed else {}
        touched: set[int] = set()
        changed: list[tuple[_ActualRow, Actual | None, dict]] = []
        for row in parsed:
            previous = standing.get((row.indicator.pk, row.as_of))
            values = row.values(previous)
            if not _entry_checked(row, values, errors=errors, policy=policies[row.indicator.table_id]):
                continue
            if previous is not None and all(getattr(previous, name) == values[name] for name in COMPARED_FIELDS):
                result.unchanged += 1
                if previous.report.status in Report.OPEN:
                    touched.add(previous.report_id)
                continue
            changed.append((row, previous, values))
        actuals = _actuals_checked(changed, projects=projects, errors=errors, user=user)
        errors.raise_if_any()
        _actuals_write(actuals, user=user)
        result.recorded = len(actuals)
        touched.update(actual.report_id for actual in actuals)
        if approve:
            result.reports_approved = _approve(touched, unit=projects.unit, year=year, user=user)
    return result


def _entry_checked(row: _ActualRow, values: dict, *, errors: _Errors, policy: scoring.Policy) -> bool:
    """The report page's rules (kpi.entries.check_entry, as IndicatorEntryForm calls it, under the table's
    policy); False when refused."""
    indicator = row.indicator
    check = check_entry(
        kind=indicator.target_kind, rule=indicator.rule, target=indicator.target,
        target_value=indicator.target_value, weight=indicator.weight, unit=indicator.unit,
        cumulative=indicator.accumulation == Indicator.Accumulation.CUMULATIVE, month=row.as_of.month,
        policy=policy, **values,
    )
    for name, message in check.errors.items():
        errors.add(row.number, message, column=FIELD_COLUMNS.get(name, ""))
    return check.ok


def _read_actual_values(indicator: Indicator, cells: dict, *, number: int, errors: _Errors,
                        notes: list[str]) -> dict | None:
    """The fields a row gives for this indicator, read the way the report page asks for them; None when a
    cell cannot be read (the errors say why)."""
    before = len(errors)
    given: dict = {}
    raw_value, raw_grade, raw_points = cells.get("实际完成值"), cells.get("等级"), cells.get("得分")
    mode = indicator.entry_mode
    if mode == "grade":
        # 实际完成值 of a graded indicator is descriptive at most: the grade and its points are what count.
        grade = _text(raw_grade)
        if not grade or _blank(raw_points):
            errors.add(number, f"指标“{indicator.name}”按评判等级赋分：请填写等级（" + " / ".join(GRADES) + "）和得分。",
                       column="等级" if not grade else "得分")
            return None
        if grade not in GRADES:
            errors.add(number, f"等级“{grade}”无法识别，应为以下之一：" + " / ".join(GRADES) + "。", column="等级")
        else:
            given["grade"] = grade
        given["points"] = _points(raw_points, number=number, errors=errors)
    else:
        for column, raw in (("等级", raw_grade), ("得分", raw_points)):
            if not _blank(raw):
                errors.add(number, f"指标“{indicator.name}”不按评判等级赋分，{column}应留空。", column=column)
        if _blank(raw_value):
            errors.add(number, "实际完成值为空：请填写实际完成值，或把这一行的各列都留空（本次不填报该指标）。",
                       column="实际完成值")
        elif mode == "met":
            given["met"] = _yes_no(raw_value, indicator=indicator, number=number, errors=errors)
        elif _key(_text(raw_value)).upper() in TRUE_WORDS | FALSE_WORDS:
            errors.add(number, f"指标“{indicator.name}”的赋分规则是“{indicator.rule}”，实际完成值应填数字"
                               f"{_unit_hint(indicator.unit)}，不能填“{_text(raw_value)}”。", column="实际完成值")
        else:
            given["value"] = _quantity(raw_value, unit=indicator.unit, column="实际完成值", number=number,
                                       errors=errors, notes=notes)
    raw_forecast = cells.get("全年预计完成值")
    if not _blank(raw_forecast):
        if mode != "number":
            errors.add(number, f"指标“{indicator.name}”不按数值填报，全年预计完成值应留空。", column="全年预计完成值")
        else:
            given["forecast"] = _quantity(raw_forecast, unit=indicator.unit, column="全年预计完成值", number=number,
                                          errors=errors, notes=notes)
    for name, column, choices in (("deviation_category", "偏差原因类别", DEVIATION_CATEGORIES),
                                  ("likelihood", "完成目标可能性", LIKELIHOODS)):
        text = _key(_text(cells.get(column)))
        if not text:
            continue
        if text in choices:
            given[name] = text
        else:
            errors.add(number, f"“{_text(cells.get(column))}”无法识别，应为以下之一：{' / '.join(choices)}。",
                       column=column)
    for name, column in (("deviation_reason", "偏差原因"), ("rectification_measures", "整改措施")):
        text = _text(cells.get(column))
        if not text:
            continue
        if len(text) > TEXT_MAX:
            errors.add(number, f"{column}过长（{len(text)} 字），最多 {TEXT_MAX} 字。", column=column)
        else:
            given[name] = text
    raw_rectify = cells.get("是否需要整改")
    if not _blank(raw_rectify):
        word = raw_rectify if isinstance(raw_rectify, bool) else _key(_text(raw_rectify)).upper()
        if word is True or word in {"是", "Y", "YES", "TRUE", "需要"}:
            given["needs_rectification"] = True
        elif word is False or word in {"否", "N", "NO", "FALSE", "不需要"}:
            given["needs_rectification"] = False
        else:
            errors.add(number, f"“{_text(raw_rectify)}”无法识别，应填 是 或 否。", column="是否需要整改")
    return given if len(errors) == before else None


def _quantity(cell, *, unit: str, column: str, number: int, errors: _Errors, notes: list[str]) -> Decimal | None:
    """A number in the indicator's unit, read as the report page reads it (kpi.entries.read_quantity)."""
    try:
        reading = read_quantity(_text(cell), unit, label=column)
    except EntryError as error:
        errors.add(number, error.message, column=column)
        return None
    if reading.note:
        notes.append(f"第 {number} 行（{column}）：{reading.note}")
    return reading.value


def _points(cell, *, number: int, errors: _Errors) -> Decimal | None:
    """得分, as the report page takes it: a number, not negative, at most 2 decimal places."""
    points = _number(cell, label="得分", unit="", number=number, errors=errors, column="得分")
    if points is None:
        return None
    if points < 0:
        errors.add(number, "得分不能为负数。", column="得分")
    elif points != points.quantize(Decimal("0.01")):
        errors.add(number, "得分最多 2 位小数。", column="得分")
    return points


def _standing_actuals(rows: list[_ActualRow]) -> dict[tuple[int, dt.date], Actual]:
    """Per (indicator, date), the actual now standing (a returned report's excepted): what a new value corrects."""
    if not rows:
        return {}
    standing = {}
    for actual in (
        Actual.objects.filter(indicator_id__in={r.indicator.pk for r in rows}, as_of__in={r.as_of for r in rows})
        .that_count().select_related("report").order_by("id")
    ):
        standing[(actual.indicator_id, actual.as_of)] = actual
    return standing


# --- writing actuals in bulk -------------------------------------------------------------------------
# actual_record, report_open, report_submit and report_approve, row by row, cost about 17 statements an
# actual; the import runs their checks on rows read a few queries at a time and writes with bulk inserts
# (`objects_insert`, plain rows: the ORM's bulk_create compiled each value, a third of a large import) and
# updates, with the history rows the services' save() would write.

WRITE_BATCH = 1000  # rows per INSERT or UPDATE: 10,000 actuals go in ten INSERTs (under both databases' limits)
# Related rows actual_record's full_clean would look up one by one: just read here, or written with the actual.
_ACTUAL_RELATED = ("indicator", "report", "replaces", "recorded_by")
_REPORT_RELATED = ("table", "replaces", "created_by")


@dataclass
class _DatedReports:
    """The reports of the tables and dates the changed rows speak of, by (table id, date)."""

    open: dict[tuple[int, dt.date], Report]  # the draft or submitted one (at most one: a constraint)
    approved: dict[tuple[int, dt.date], Report]  # the latest approved one: what a new draft corrects
    new: dict[tuple[int, dt.date], Report] = field(default_factory=dict)  # drafts this import opens

    @classmethod
    def read(cls, keys: set[tuple[int, dt.date]]) -> _DatedReports:
        found = cls(open={}, approved={})
        for report in Report.objects.filter(
            table_id__in={table_id for table_id, _ in keys}, as_of__in={as_of for _, as_of in keys},
            status__in=(*Report.OPEN, Report.Status.APPROVED),
        ).order_by("id"):
            key = (report.table_id, report.as_of)
            (found.open if report.status in Report.OPEN else found.approved)[key] = report
        return found


def _actuals_checked(changed: list[tuple[_ActualRow, Actual | None, dict]], *, projects: _Projects,
                     errors: _Errors, user) -> list[Actual]:
    """actual_record's checks, in its order, for every changed row: the indicator applies, the report it goes
    in is open to changes (as report_open opens it), the model's validation, the engine's. Returns the
    actuals to write, unsaved (and the reports they open, unsaved, on them); refusals go to `errors`."""
    if not changed:
        return []
    try:
        ensure_year_open(unit_id=projects.unit.pk, year=projects.year)  # inside the transaction, as report_open
    except ValidationError as error:
        raise ActualsImportError(error.messages) from None
    tables = {table.pk: table for table in projects.tables().values()}
    reports = _DatedReports.read({(row.indicator.table_id, row.as_of) for row, _, _ in changed})
    actuals = []
    for row, previous, values in changed:
        indicator = row.indicator
        try:
            if indicator.not_applicable:
                raise ValidationError("该指标已标记为不适用，不能填报实际完成值。")
            report = _report_opened(tables[indicator.table_id], row.as_of, reports=reports, user=user)
            actual = Actual(indicator=indicator, report=report, as_of=row.as_of, replaces=previous, recorded_by=user,
                            **values)
            _actual_cleaned(actual)
            try:
                scoring.score_indicator(rule=indicator.rule, target=indicator.target,
                                        actual=engine_actual(value=actual.value, met=actual.met),
                                        weight=indicator.weight, grade=actual.grade or None, points=actual.points)
            except scoring.ScoringError as error:
                raise ValidationError(str(error)) from error
        except ValidationError as error:
            errors.add(row.number, _messages(error))
            continue
        actual._history_user = user
        actuals.append(actual)
    return actuals


def _report_opened(table: GoalTable, as_of: dt.date, *, reports: _DatedReports, user) -> Report:
    """report_open on reports already read: the open draft of the table and date, else a new draft (unsaved)
    correcting the latest approved one; a submitted report takes no changes. The year's 关账 is checked once."""
    if as_of.year != table.year:
        raise ValidationError({"as_of": f"截至日期 {as_of:%Y-%m-%d} 不在 {table.year} 年度内。"})
    if table.status == GoalTable.Status.CLOSED:
        raise ValidationError("该绩效目标表已关闭，不能再填报。")
    key = (table.pk, as_of)
    report = reports.open.get(key) or reports.new.get(key)
    if report is not None:
        if report.status == Report.Status.SUBMITTED:
            raise ValidationError(f"截至 {as_of:%Y-%m-%d} 的填报已提交，正在等待审核，暂不能修改。")
        return report
    report = Report(table=table, as_of=as_of, replaces=reports.approved.get(key), created_by=user)
    # Its constraints hold by construction: no open report of the table and date was found under the table's
    # lock (the database's unique constraint stands behind that), and a draft needs no return reason.
    report.full_clean(exclude=_REPORT_RELATED, validate_constraints=False)
    report._history_user = user
    reports.new[key] = report
    return report


def _actual_cleaned(actual: Actual) -> None:
    """Actual.full_clean without a query per row: the related rows are known to exist, and each check
    constraint is evaluated in Python (one this cannot evaluate is asked of the database, as full_clean does)."""
    problems: dict = {}
    try:
        actual.full_clean(exclude=_ACTUAL_RELATED, validate_constraints=False)
    except ValidationError as error:
        problems = error.update_error_dict(problems)
    for constraint in Actual._meta.constraints:
        try:
            holds = _condition(constraint.condition, actual) is not False
        except (_Unsupported, AttributeError):  # AttributeError: not a check constraint
            try:
                constraint.validate(Actual, actual, exclude=set(_ACTUAL_RELATED))
            except ValidationError as error:
                problems = error.update_error_dict(problems)
            continue
        if not holds:
            problems.setdefault(NON_FIELD_ERRORS, []).append(
                ValidationError(constraint.get_violation_error_message(), code=constraint.violation_error_code))
    if problems:
        raise ValidationError(problems)


class _Unsupported(Exception):
    pass


_COMPARISONS = {"exact": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def _condition(q: Q, obj) -> bool | None:
    """A check constraint's condition on an unsaved row, with SQL's three values (None: unknown, which a CHECK
    lets pass). Plain field lookups only; anything else raises _Unsupported."""
    results = []
    for child in q.children:
        if isinstance(child, Q):
            results.append(_condition(child, obj))
            continue
        lookup, expected = child
        name, _, op = lookup.partition("__")
        if "__" in op or hasattr(expected, "resolve_expression"):
            raise _Unsupported(lookup)
        value = getattr(obj, obj._meta.get_field(name).attname)
        if op == "isnull":
            results.append((value is None) == bool(expected))
        elif op in ("", "exact") and expected is None:
            results.append(value is None)
        elif (op or "exact") in _COMPARISONS:
            results.append(None if value is None else _COMPARISONS[op or "exact"](value, expected))
        else:
            raise _Unsupported(lookup)
    if q.connector == Q.AND:
        out = False if False in results else None if None in results else True
    elif q.connector == Q.OR:
        out = True if True in results else None if None in results else False
    else:
        raise _Unsupported(q.connector)
    return out if out is None or not q.negated else not out


def _actuals_write(actuals: list[Actual], *, user) -> None:
    """Write the checked actuals and the drafts they open, each with its history row, and mark their tables for
    one rescore each after commit."""
    if not actuals:
        return
    new_reports = list({id(a.report): a.report for a in actuals if a.report.pk is None}.values())
    objects_insert(Report, new_reports, batch_size=WRITE_BATCH)
    _history_insert(Report, new_reports, user=user)
    objects_insert(Actual, actuals, batch_size=WRITE_BATCH)
    _history_insert(Actual, actuals, user=user)
    goal_tables_rescore_soon(table_ids=list(dict.fromkeys(a.indicator.table_id for a in actuals)))


def _history_insert(model, objs: list, *, user) -> None:
    """The "+" history rows simple_history's save() would write for these new rows (history user, no change
    reason), as plain rows: bulk_history_create builds and compiles a historical instance a row, most of the
    time of a large import."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    historical = model.history.model
    tracked = {f.attname for f in historical.tracked_fields}
    extra = {"history_date": timezone.now(), "history_change_reason": None, "history_type": "+",
             "history_user_id": user.pk if user is not None else None}
    fields = [f for f in historical._meta.concrete_fields if f.attname in tracked or f.attname in extra]
    unknown = {f.attname for f in historical._meta.concrete_fields} - {f.attname for f in fields} - {"history_id"}
    if unknown:  # a field this does not know how to fill (a custom historical field): the library's way
        model.history.bulk_history_create(objs, default_user=user, batch_size=WRITE_BATCH)
        return
    connection = transaction.get_connection()
    constant = {f.attname: (f.get_db_prep_save(extra[f.attname], connection) if extra[f.attname] is not None
                            else None)
                for f in fields if f.attname in extra}
    # (simple_history's copies of auto_now fields are plain: each row keeps its instance's time)
    rows = driver_rows(fields, objs, constant=constant)
    RowWriter(historical, [f.name for f in fields]).insert(rows, batch_size=WRITE_BATCH)


@contextmanager
def _bulk_writes():
    """Django 5.2 holds SQLite to the 999 variables a statement of SQLite before 3.32 (an INSERT of 58 actuals);
    the linked library's own limit (32,766 since 3.32, read as Django 6.0 reads it) lets WRITE_BATCH rows go in
    one statement."""
    connection = transaction.get_connection()
    if connection.vendor != "sqlite":
        yield
        return
    features = connection.features
    before = features.__dict__.get("max_query_params")
    features.max_query_params = sqlite_variable_limit()
    try:
        yield
    finally:
        if before is None:
            del features.max_query_params  # back to the class's 999
        else:
            features.max_query_params = before


def _approve(report_ids: set[int], *, unit: Unit, year: int, user) -> int:
    """Submit and approve the open reports among these, as report_submit and report_approve would one by one
    (locked, in a year not closed, a draft only with actuals, each step a row of the report's history), in a
    few statements; approved ones stay as they are."""
    reports = list(Report.objects.select_for_update(of=("self",)).filter(pk__in=report_ids, status__in=Report.OPEN)
                   .order_by("table_id", "as_of"))
    if not reports:
        return 0
    try:
        ensure_year_open(unit_id=unit.pk, year=year)
    except ValidationError as error:
        raise ActualsImportError(error.messages) from None
    drafts = [r for r in reports if r.status == Report.Status.DRAFT]
    if drafts:
        filled = set(Actual.objects.filter(report__in=drafts).values_list("report_id", flat=True).distinct())
        empty = [r for r in drafts if r.pk not in filled]
        if empty:
            raise ActualsImportError([f"截至 {r.as_of:%Y-%m-%d} 的填报中没有任何实际完成值，不能提交。" for r in empty])
    with _bulk_writes():
        submitted_at = timezone.now()
        for report in drafts:
            report.status, report.submitted_by, report.submitted_at = Report.Status.SUBMITTED, user, submitted_at
            report._history_user = user
        bulk_update_with_history(drafts, Report, ["status", "submitted_by", "submitted_at"], batch_size=WRITE_BATCH,
                                 default_user=user, default_date=submitted_at)
        reviewed_at = timezone.now()
        for report in reports:
            report.status, report.reviewed_by, report.reviewed_at = Report.Status.APPROVED, user, reviewed_at
            report._history_user = user
        bulk_update_with_history(reports, Report, ["status", "reviewed_by", "reviewed_at"], batch_size=WRITE_BATCH,
                                 default_user=user, default_date=reviewed_at)
    goal_tables_rescore_soon(table_ids=list(dict.fromkeys(r.table_id for r in reports)))
    return len(reports)


# --- budget execution ------------------------------------------------------------------------------

@dataclass
class _ExecutionRow:
    number: int
    project: Project
    as_of: dt.date
    executed: Decimal
    budget: Decimal | None
    executed_by_source: dict[str, Decimal | None] | None  # None: the row gives no split
    budget_by_source: dict[str, Decimal | None] | None
    reason: str = ""  # 执行率偏差原因


def _import_execution(rows, *, projects, year, filename, user) -> ActualsImportResult:
    errors = _Errors()
    result = ActualsImportResult(execution=True, rows=len(rows))
    parsed: list[_ExecutionRow] = []
    seen: dict[tuple[int, dt.date], int] = {}
    for number, cells in rows:
        if all(_blank(cells.get(c)) for c in EXECUTION_VALUES):
            result.skipped += 1
            continue
        row_errors = len(errors)
        project = projects.find(cells.get("项目名称"), number=number, errors=errors)
        as_of = _date_in_year(cells.get("截至日期"), year=year, number=number, errors=errors)
        executed = None
        if _blank(cells.get("执行数")):
            errors.add(number, "执行数为空。", column="执行数")
        else:
            executed = _money(cells.get("执行数"), column="执行数", number=number, errors=errors)
        budget = None
        if not _blank(cells.get("全年预算数")):
            budget = _money(cells.get("全年预算数"), column="全年预算数", number=number, errors=errors)
        executed_by_source = _by_source(cells, SOURCE_EXECUTED, number=number, errors=errors)
        budget_by_source = _by_source(cells, SOURCE_BUDGET, number=number, errors=errors)
        if budget is None and budget_by_source is not None:
            budget = sum((v or Decimal(0) for v in budget_by_source.values()), Decimal(0))
        reason = _text(cells.get(EXECUTION_REASON_COLUMN))
        if len(reason) > EXECUTION_REASON_MAX:
            errors.add(number, f"{EXECUTION_REASON_COLUMN}过长（{len(reason)} 字），最多 {EXECUTION_REASON_MAX} 字。",
                       column=EXECUTION_REASON_COLUMN)
        if len(errors) > row_errors:
            continue
        key = (project.pk, as_of)
        if key in seen:
            errors.add(number, f"与第 {seen[key]} 行是同一项目“{project.name}”、同一截至日期 {as_of:%Y-%m-%d}。",
                       column="截至日期")
            continue
        seen[key] = number
        parsed.append(_ExecutionRow(number=number, project=project, as_of=as_of, executed=executed, budget=budget,
                                    executed_by_source=executed_by_source, budget_by_source=budget_by_source,
                                    reason=reason))

    with transaction.atomic():
        # A project's 全年预算数 is one figure: the latest-dated row that gives one says what it is now.
        budgets: dict[int, _ExecutionRow] = {}
        for row in sorted(parsed, key=lambda r: r.as_of):
            if row.budget is not None:
                budgets[row.project.pk] = row
        for row in budgets.values():
            project = row.project
            split_same = row.budget_by_source is None or all(
                getattr(project, f"{source}_adjusted") == value for source, value in row.budget_by_source.items()
            )
            if row.budget == project.full_year_budget and split_same:
                continue
            try:
                budget_adjust(project=project, adjusted=row.budget, by_source=row.budget_by_source,
                              reason=f"按预算执行导入文件“{filename}”调整", user=user)
            except ValidationError as error:
                errors.add(row.number, _messages(error, model=Project))
                continue
            result.budgets_adjusted += 1
        standing = _standing_executions(parsed)
        policy_of = _execution_policies(projects, year) if parsed else {}
        for row in parsed:
            previous = standing.get((row.project.pk, row.as_of))
            if previous is not None and previous.executed == row.executed and (
                row.executed_by_source is None
                or all(getattr(previous, source) == value for source, value in row.executed_by_source.items())
            ):
                result.unchanged += 1
                continue
            check = check_execution(budget=row.project.full_year_budget, executed=row.executed,
                                    deviation_reason=row.reason, policy=policy_of(row.project))
            if not check.ok:
                errors.add(row.number, check.errors["deviation_reason"], column=EXECUTION_REASON_COLUMN)
                continue
            try:
                execution = execution_report(project=row.project, as_of=row.as_of, executed=row.executed,
                                             by_source=row.executed_by_source, user=user)
            except ValidationError as error:
                errors.add(row.number, _messages(error, model=BudgetExecution))
                continue
            execution_reason_keep(execution=execution, reason=row.reason)
            result.recorded += 1
        errors.raise_if_any()
    return result


def _execution_policies(projects: _Projects, year: int):
    """A function giving the scoring policy of a project's table (the year's, for a project without one)."""
    rows = policy_rows()
    tables = projects.tables()
    pure: dict[int | None, scoring.Policy] = {}

    def policy_of(project: Project) -> scoring.Policy:
        table = tables.get(project.pk)
        row = governing_row(rows, year=year, policy_id=table.policy_id if table else None)
        key = row.pk if row is not None else None
        if key not in pure:
            pure[key] = row.as_policy() if row is not None else scoring.DEFAULT_POLICY
        return pure[key]

    return policy_of


def _money(cell, *, column: str, number: int, errors: _Errors) -> Decimal | None:
    """An amount in 万元: not negative."""
    amount = _number(cell, label=column, unit="万元", number=number, errors=errors, column=column)
    if amount is not None and amount < 0:
        errors.add(number, f"{column}不能为负数：{plain_decimal(amount)}。", column=column)
        return None
    return amount


def _by_source(cells: dict, columns: dict[str, str], *, number: int, errors: _Errors) -> dict | None:
    """The per-source figures of a row ({source field: amount}); None when all are blank, else a blank one
    is 0 (as the services count it). Whether they add up to the total is the service's to check
    (budgets.services.sources_checked)."""
    if all(_blank(cells.get(column)) for column in columns.values()):
        return None
    return {
        source: Decimal(0) if _blank(cells.get(column)) else _money(cells.get(column), column=column, number=number,
                                                                    errors=errors)
        for source, column in columns.items()
    }


def _standing_executions(rows: list[_ExecutionRow]) -> dict[tuple[int, dt.date], BudgetExecution]:
    """Per (project, date), the latest execution figure: the one that counts."""
    standing = {}
    if rows:
        for execution in BudgetExecution.objects.filter(
            project_id__in={r.project.pk for r in rows}, as_of__in={r.as_of for r in rows}
        ).order_by("id"):
            standing[(execution.project_id, execution.as_of)] = execution
    return standing


# --- projects and indicators by name ------------------------------------------------------------

class _Projects:
    """The unit's projects of the year, their goal tables and indicators, looked up by name (a few queries)."""

    def __init__(self, *, unit: Unit, year: int):
        self.unit, self.year = unit, year
        self.by_name: dict[str, list[Project]] = defaultdict(list)
        for project in Project.objects.filter(unit=unit, year=year).select_related("unit"):
            self.by_name[_key(project.name)].append(project)
        self._tables: dict[int | None, GoalTable] | None = None
        self._indicators: dict[int, list[Indicator]] = defaultdict(list)

    def _is_unit_table(self, name: str) -> bool:
        key = _key(name)
        return key not in self.by_name and key in {_key(n) for n in (
            *UNIT_TABLE_NAMES, f"{self.unit.name}（部门整体）", f"{self.unit.name}部门整体")}

    def find(self, cell, *, number: int, errors: _Errors) -> Project | None:
        name = _text(cell)
        if not name:
            errors.add(number, "项目名称为空。", column="项目名称")
            return None
        found = self.by_name.get(_key(name), [])
        if not found:
            if self._is_unit_table(name):
                errors.add(number, "部门整体的预算执行请在部门整体绩效目标表的填报页登记；本文件只导入项目的预算执行。",
                           column="项目名称")
            else:
                errors.add(number, f"找不到项目“{name}”（{self.unit.name} {self.year} 年度）。", column="项目名称")
            return None
        if len(found) > 1:  # only names that differ in spaces or full-width characters get here
            errors.add(number, f"项目名称“{name}”对应多个项目，请按系统中的项目名称原样填写。", column="项目名称")
            return None
        return found[0]

    def tables(self) -> dict[int | None, GoalTable]:
        """The goal tables of the year by project id (None: the unit's 部门整体 table), indicators loaded."""
        if self._tables is None:
            tables = GoalTable.objects.filter(unit=self.unit, year=self.year).select_related("project")
            self._tables = {t.project_id: t for t in tables}
            for indicator in Indicator.objects.filter(table__in=self._tables.values()).order_by("order"):
                self._indicators[indicator.table_id].append(indicator)
        return self._tables

    def indicators_of(self, table: GoalTable) -> list[Indicator]:
        self.tables()
        return self._indicators.get(table.pk, [])

    def table_for(self, cell, *, number: int, errors: _Errors) -> GoalTable | None:
        """The goal table a row speaks of: its project's, or the unit's own for 部门整体."""
        name = _text(cell)
        if name and self._is_unit_table(name):
            table = self.tables().get(None)
            if table is None:
                errors.add(number, f"{self.unit.name} {self.year} 年度没有部门整体绩效目标表。", column="项目名称")
            return table
        project = self.find(cell, number=number, errors=errors)
        if project is None:
            return None
        table = self.tables().get(project.pk)
        if table is None:
            errors.add(number, f"项目“{project.name}”还没有绩效目标表，不能填报实际完成值。", column="项目名称")
        return table

    def indicator(self, table: GoalTable, cell, *, number: int, errors: _Errors) -> Indicator | None:
        """By 三级指标; a name used twice in the table may be written with its levels, 二级指标/三级指标."""
        name = _text(cell)
        label = table_label(table)
        if not name:
            errors.add(number, "三级指标为空。", column="三级指标")
            return None
        found = indicators_named(self.indicators_of(table), name)
        if not found:
            errors.add(number, f"{label}的绩效目标表中没有三级指标“{name}”。", column="三级指标")
            return None
        if len(found) > 1:
            errors.add(number, f"{label}的绩效目标表中有 {len(found)} 个三级指标名为“{name}”，无法确定是哪一个；"
                               "请写成“二级指标/三级指标”，如“" + f"{found[0].level2}/{found[0].name}”。", column="三级指标")
            return None
        return found[0]


def table_label(table: GoalTable) -> str:
    return f"项目“{table.project.name}”" if table.project_id else "部门整体"


def indicators_named(indicators: list[Indicator], name: str) -> list[Indicator]:
    """The indicators a 三级指标 cell names: by name, else by 二级指标/三级指标 or 一级/二级/三级."""
    wanted = _key(name)
    found = [i for i in indicators if _key(i.name) == wanted]
    if not found and "/" in wanted:
        found = [i for i in indicators if _key(f"{i.level1}/{i.level2}/{i.name}").endswith("/" + wanted)
                 or _key(f"{i.level1}/{i.level2}/{i.name}") == wanted]
    return found


def indicator_cell(indicator: Indicator, siblings: list[Indicator]) -> str:
    """What the 三级指标 column says for an indicator so that the import finds exactly it: its name, or with
    its levels when the name is used twice in the table."""
    for text in (indicator.name, f"{indicator.level2}/{indicator.name}",
                 f"{indicator.level1}/{indicator.level2}/{indicator.name}"):
        if len(indicators_named(siblings, text)) == 1:
            return text
    return f"{indicator.level1}/{indicator.level2}/{indicator.name}"


# --- the filled templates --------------------------------------------------------------------------

def entry_hint(indicator: Indicator) -> str:
    """填写说明 of a template row: which columns this indicator's actual goes in, and how."""
    mode = indicator.entry_mode
    if mode == "grade":
        bands = "；".join(f"{grade.value} {scoring.grade_band(grade, indicator.weight).text()}" for grade in scoring.Grade)
        return f"按评判等级赋分：填“等级”和“得分”（{bands}）"
    if mode == "met":
        return "填 是 / 否（达成 / 未达成）"
    if indicator.unit in ("%", "％"):
        return "填数字（%），如 96.5"
    return f"填数字（{indicator.unit}）" if indicator.unit else "填数字"


def actuals_template_rows(*, unit: Unit, year: int, as_of: dt.date | None = None) -> list[dict]:
    """One row per indicator of the unit's goal tables of the year (the 部门整体 table first, then the projects
    by name; indicators marked 不适用 left out), as the filled template lists them: the columns the import
    reads, the reference ones (计量单位, 指标值 as a person writes it, 填写说明), and 截至日期 when given."""
    projects = _Projects(unit=unit, year=year)
    tables = sorted(projects.tables().values(),
                    key=lambda t: (t.project_id is not None, t.project.name if t.project_id else ""))
    unit_name = UNIT_TABLE_NAME if _key(UNIT_TABLE_NAME) not in projects.by_name else f"{unit.name}（部门整体）"
    rows = []
    for table in tables:
        siblings = projects.indicators_of(table)
        for indicator in siblings:
            if indicator.not_applicable:
                continue
            rows.append({
                "项目名称": table.project.name if table.project_id else unit_name,
                "三级指标": indicator_cell(indicator, siblings),
                "计量单位": indicator.unit,
                "指标值": target_text(indicator.target_raw),
                "填写说明": entry_hint(indicator),
                "截至日期": as_of,
            })
    return rows


def execution_template_rows(*, unit: Unit, year: int, as_of: dt.date | None = None) -> list[dict]:
    """One row per project of the unit's year, with its 年初预算数 and 全年预算数 now for reference."""
    rows = []
    for project in Project.objects.filter(unit=unit, year=year).order_by("name"):
        rows.append({"项目名称": project.name, "年初预算数": project.budget_initial,
                     "当前全年预算数": project.full_year_budget, "截至日期": as_of})
    return rows


TEMPLATE_HELP = {
    "actuals": (
        "每个指标一行：请只填写右侧的实际完成值等列，不要修改“项目名称”和“三级指标”。",
        "“计量单位”“指标值”“填写说明”三列供参考，导入时不读取。",
        "数值指标按计量单位填写数字（可写“3.1万”，系统会按计量单位换算并提示）；时限指标和直接赋分的指标填 是/否；"
        "按评判等级赋分的指标填“等级”和“得分”，得分须在该等级的分数区间内。",
        "比率（%）不能超过 100 或小于 0，数量不能为负数。",
        "进度偏离目标（红灯、黄灯）时必须填写“偏差原因类别”（" + " / ".join(DEVIATION_CATEGORIES) + "）和“偏差原因”；"
        "“是否需要整改”填“是”时必须填写“整改措施”。“完成目标可能性”填 " + " / ".join(LIKELIHOODS) + "。",
        "截至日期写作 2026-07-31、2026/7/31 或 2026年7月31日，必须在所选年度内。",
        "本次不填报的指标整行留空即可（导入时跳过）；已登记过的指标，可选列留空则保留已登记的内容。",
        "任一行有误则整个文件不导入，并逐行列出错误；重复导入同一文件不会重复记录。标记为不适用的指标不列出。",
    ),
    "execution": (
        "每个项目一行：填写截至日期和累计执行数（万元）；“年初预算数”“当前全年预算数”两列供参考，导入时不读取。",
        "按资金来源填写时，" + "、".join(SOURCE_EXECUTED.values()) + " 之和必须等于执行数；"
        + "、".join(SOURCE_BUDGET.values()) + " 之和必须等于全年预算数（全年预算数留空时按各来源之和）。",
        "全年预算数填写且与现值不同时，按调整后预算数更新；本次不填报的项目整行留空即可（导入时跳过）。",
        "任一行有误则整个文件不导入，并逐行列出错误；重复导入同一文件不会重复记录。",
    ),
}


def filled_template(*, kind: str, unit: Unit, year: int, as_of: dt.date | None, fmt: str) -> bytes:
    """The template of `kind` ("actuals": one row per indicator; "execution": one per project) filled for the
    unit's year, as .xlsx or .csv bytes. The import reads it back as it is."""
    if kind == "execution":
        columns, reference = EXECUTION_TEMPLATE_COLUMNS, EXECUTION_REFERENCE_COLUMNS
        rows, title = execution_template_rows(unit=unit, year=year, as_of=as_of), "预算执行导入"
    else:
        columns, reference = ACTUALS_TEMPLATE_COLUMNS, REFERENCE_COLUMNS
        rows, title = actuals_template_rows(unit=unit, year=year, as_of=as_of), "实际完成值导入"
    if fmt == "csv":
        return template_csv(columns=columns, rows=rows)
    return template_xlsx(columns=columns, rows=rows, reference=reference, help_lines=TEMPLATE_HELP[kind], title=title)


def template_xlsx(*, columns: tuple[str, ...], rows: list[dict], reference: tuple[str, ...], help_lines,
                  title: str) -> bytes:
    """A filled template as an .xlsx workbook (first sheet the rows, then 填写说明), through the spreadsheet kit:
    texts stored as text, reference columns grey, drop-down lists on the columns with fixed choices."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(title, set())
    for col, name in enumerate(columns, start=1):
        put(sheet, 1, col, name, font=BOLD, fill=LABEL_FILL if name in reference else None)
    last = max(len(rows) + 1, 2)
    for number, row in enumerate(rows, start=2):
        for col, name in enumerate(columns, start=1):
            value = row.get(name)
            cell = put(sheet, number, col, value, fill=LABEL_FILL if name in reference else None)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    for col, name in enumerate(columns, start=1):
        letter = get_column_letter(col)
        widest = max([display_width(name)] + [display_width(_text(r.get(name))) for r in rows])
        sheet.column_dimensions[letter].width = min(max(widest + 2, 10), 60)
        if name in ("实际完成值", "全年预计完成值", "得分"):  # "3.1万", "96.5%" kept as typed
            for number in range(2, last + 1):
                sheet.cell(row=number, column=col).number_format = TEXT_FORMAT
        choices = {"等级": GRADES, "偏差原因类别": DEVIATION_CATEGORIES, "完成目标可能性": LIKELIHOODS,
                   "是否需要整改": ("是", "否")}.get(name)
        if choices:
            validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                        showErrorMessage=True, errorStyle="stop", errorTitle=name,
                                        error="请从下拉列表中选择：" + "、".join(choices) + "。")
            validation.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "C2" if "三级指标" in columns else "B2"
    notes = workbook.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 120
    for number, line in enumerate(("本工作簿只读取第一个工作表；本页导入时不读取。", *help_lines), start=1):
        put(notes, number, 1, f"{number}. {line}", align=WRAP_ONLY)
    return workbook_bytes(workbook)


def template_csv(*, columns: tuple[str, ...], rows: list[dict]) -> bytes:
    """A filled template as CSV (UTF-8 with BOM, so that Excel reads the Chinese), formula-like texts
    neutralised (kpi.spreadsheets.csv_safe); the import reads it back as it is."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_safe(_text(row.get(name))) for name in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- reading the file ------------------------------------------------------------------------------

def _read_sheet(data: bytes, *, filename: str, columns, required) -> list[tuple[int, dict]]:
    """The data rows as (row number as the spreadsheet shows it, {column: cell}), blank rows left out. Columns
    it does not know (a template's reference ones) are ignored; a known column the file lacks reads as blank."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        records = _xlsx_records(data)
    elif name.endswith(".csv"):
        records = _csv_records(data)
    elif name.endswith(".xls"):
        raise ActualsImportError(["不支持旧版 .xls 文件：请在 Excel 中另存为 .xlsx 或 CSV 后再导入。"])
    else:
        raise ActualsImportError([f"文件“{filename}”不是 .csv 或 .xlsx 文件。"])
    header_number, header = None, None
    rows = []
    for number, cells in records:
        if all(_blank(c) for c in cells):
            continue
        if header is None:
            header_number, header = number, [_header_name(c) for c in cells]
            continue
        rows.append((number, cells))
    if header is None:
        raise ActualsImportError(["文件是空的：第一行应为表头 " + ",".join(columns) + "。"])
    problems = []
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(f"第 {header_number} 行（表头）：缺少必需的列 " + "、".join(missing)
                        + "；表头应为 " + ",".join(columns) + "。")
    doubled = sorted({c for c in header if c in columns and header.count(c) > 1})
    if doubled:
        problems.append(f"第 {header_number} 行（表头）：列 " + "、".join(doubled) + " 出现了不止一次。")
    if problems:
        raise ActualsImportError(problems)
    positions = {c: header.index(c) for c in columns if c in header}
    return [
        (number, {c: cells[i] if i < len(cells) else None for c, i in positions.items()})
        for number, cells in rows
    ]


def _header_name(cell) -> str:
    """A header cell as a column name: spaces and full-width forms folded, a unit note like （万元） dropped."""
    text = _key(_text(cell)).lstrip("\ufeff")
    return re.sub(r"[(（][^)）]*[)）]$", "", text)


def _csv_records(data: bytes):
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    try:
        return [(number, [_csv_cell(c) for c in row])
                for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)]
    except csv.Error:
        logger.warning("uploaded CSV unreadable", exc_info=True, extra={"event": "csv_unreadable"})
        raise ActualsImportError(["CSV 文件格式有误（例如引号不成对或单元格过长），无法读取。"
                                  "请在 Excel 中打开并另存为“CSV UTF-8”或 .xlsx 后重新导入。"]) from None


def _csv_cell(text: str) -> str:
    """A CSV cell as written: the apostrophe csv_safe puts before a formula-like text (our own templates
    write one) is not part of the value."""
    if text.startswith("'") and formula_like(text[1:]):
        return text[1:]
    return text


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (Excel's “CSV” on a Chinese Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ActualsImportError(["文件无法按 UTF-8 或 GB18030 编码读取，请在 Excel 中另存为“CSV UTF-8”后再导入。"])


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ActualsImportError(["这是旧版 .xls 文件：请在 Excel 中另存为 .xlsx 后再导入。"])
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ActualsImportError(["不是有效的 Excel 文件（.xlsx）。"])
    try:
        xlsx_check(data, limits=xlsx_limits())  # before openpyxl reads a sheet that expands to gigabytes
    except XlsxRefused as refused:
        raise ActualsImportError([str(refused)]) from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged file
        logger.warning("uploaded workbook: openpyxl could not read it", exc_info=True,
                       extra={"event": "xlsx_unreadable"})
        raise ActualsImportError([XLSX_DAMAGED]) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong sheet size; read what is there
        return [(number, [_xlsx_cell(c) for c in row]) for number, row in enumerate(sheet.iter_rows(), start=1)]
    finally:
        workbook.close()


def _xlsx_cell(cell):
    """A cell as str, Decimal, date or bool; a percent-formatted number as the text it shows (“95.5%”)."""
    value = cell.value
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float, Decimal)):
        # Excel shows 15 significant digits: 96.49999999999999 left by a formula is the 96.5 on screen.
        number = Decimal(format(value, ".15g")) if isinstance(value, float) else Decimal(value)
        if "%" in (getattr(cell, "number_format", "") or ""):
            return plain_decimal(number * 100) + "%"
        return number
    return str(value)


# --- cell values -----------------------------------------------------------------------------------

class _Errors:
    """Errors by row number and column; file-wide ones (row 0) first when listed."""

    def __init__(self):
        self.items: list[tuple[int, str, str]] = []

    def __len__(self):
        return len(self.items)

    def add(self, number: int, message: str, *, column: str = "") -> None:
        self.items.append((number, column, message))

    def raise_if_any(self) -> None:
        if self.items:
            ordered = sorted(self.items, key=lambda item: item[0])
            raise ActualsImportError([_error_line(n, c, m) for n, c, m in ordered])


def _error_line(number: int, column: str, message: str) -> str:
    """第 5 行（偏差原因）：…… — the row as the spreadsheet numbers it, and the column when there is one."""
    if not number:
        return message
    return f"第 {number} 行（{column}）：{message}" if column else f"第 {number} 行：{message}"


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, Decimal):
        return plain_decimal(cell)
    if isinstance(cell, dt.date):
        return f"{cell:%Y-%m-%d}"
    return str(cell).strip()


def _blank(cell) -> bool:
    return _text(cell) == ""


def _key(text: str) -> str:
    """For comparing names: full-width forms folded (NFKC) and every space removed."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")


def _number(cell, *, label: str, unit: str, number: int, errors: _Errors, column: str = "") -> Decimal | None:
    """A number in `unit`: 1,234.5 and full-width digits accepted, a trailing % only when the unit is %,
    and a trailing unit equal to the indicator's."""
    if isinstance(cell, Decimal):
        return cell
    shown = _text(cell)
    text = _key(shown)
    unit = _key(unit)
    if unit and unit != "%" and text.endswith(unit):
        text = text[: -len(unit)]
    if text.endswith("%"):
        if unit != "%":
            where = f"，但计量单位是“{unit}”" if unit else ""
            errors.add(number, f"{label}“{shown}”带有百分号{where}：请只填数字。", column=column)
            return None
        text = text[:-1]
    if not _NUMBER.fullmatch(text):
        errors.add(number, f"{label}“{shown}”不是有效的数字{_unit_hint(unit)}。", column=column)
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        errors.add(number, f"{label}“{shown}”不是有效的数字。", column=column)
        return None


def _unit_hint(unit: str) -> str:
    return f"（计量单位：{unit}）" if unit else ""


def _yes_no(cell, *, indicator: Indicator, number: int, errors: _Errors) -> bool | None:
    if isinstance(cell, bool):
        return cell
    word = _key(_text(cell)).upper()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    what = "时限指标" if indicator.target_kind == Kind.DEADLINE else "按直接赋分的指标"
    errors.add(number, f"指标“{indicator.name}”是{what}，实际完成值应填 是/否（或 达成/未达成、Y/N），不能填“{_text(cell)}”。",
               column="实际完成值")
    return None


_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def _date_in_year(cell, *, year: int, number: int, errors: _Errors) -> dt.date | None:
    """截至日期: 2026-07-31, 2026/7/31, 2026年7月31日, or an Excel date; it must fall in the import's year."""
    if _blank(cell):
        errors.add(number, "截至日期为空。", column="截至日期")
        return None
    as_of = _date(cell)
    if as_of is None:
        errors.add(number, f"截至日期“{_text(cell)}”无法识别，应写作 2026-07-31、2026/7/31 或 2026年7月31日。",
                   column="截至日期")
        return None
    if as_of.year != year:
        errors.add(number, f"截至日期 {as_of:%Y-%m-%d} 不在 {year} 年度内。", column="截至日期")
        return None
    return as_of


def _date(cell) -> dt.date | None:
    if isinstance(cell, dt.date):
        return cell
    text = unicodedata.normalize("NFKC", _text(cell)).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                return None
    # An Excel serial day number (a date cell saved without its date format).
    if re.fullmatch(r"\d{1,5}(?:\.0+)?", text) and 0 < int(Decimal(text)) <= 2958465:
        return _EXCEL_EPOCH + dt.timedelta(days=int(Decimal(text)))
    return None


def _messages(error: ValidationError, model=Actual) -> str:
    """A service's ValidationError as one line, each field's message led by the field's Chinese name."""
    if not hasattr(error, "error_dict"):
        return "；".join(error.messages)
    parts = []
    for name, messages in error.message_dict.items():
        label = ""
        if name != NON_FIELD_ERRORS:
            try:
                label = f"{model._meta.get_field(name).verbose_name}："
            except Exception:  # a field name the model does not have
                label = f"{name}："
        parts.extend(f"{label}{message}" for message in messages)
    return "；".join(parts)
