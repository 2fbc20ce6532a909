"""Bulk import of actuals (实际完成值) or budget execution (预算执行) from a CSV or Excel file.

Every row is recorded through `actual_record` / `execution_report`, exactly as if it had been typed in
the report page, so the same checks apply. The import is all or nothing: every row is checked (and
tried, inside one transaction) first, and one bad row refuses the whole file with every error listed
by its row number; nothing is written then.

Re-importing a file changes nothing: a row equal to what already stands for that indicator and date
is counted as unchanged; a different value becomes a correction that names the actual it replaces.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from budgets.models import BudgetExecution, Project, Unit
from budgets.services import ensure_year_open
from kpi import scoring
from kpi.formatting import plain_decimal
from kpi.models import Actual, GoalTable, Indicator, Report
from kpi.reports.services import actual_record, budget_adjust, execution_report, report_approve, report_submit
from kpi.targets import Kind

# The header rows of the two kinds of file (the downloadable templates write exactly these).
ACTUALS_COLUMNS = ("项目名称", "三级指标", "截至日期", "实际完成值", "等级", "得分", "偏差原因")
EXECUTION_COLUMNS = ("项目名称", "截至日期", "全年预算数", "执行数")
# 等级/得分 only matter for graded indicators and 偏差原因 is optional, so a file may leave those columns out.
ACTUALS_REQUIRED = ("项目名称", "三级指标", "截至日期", "实际完成值")
EXECUTION_REQUIRED = ("项目名称", "截至日期", "执行数")

TRUE_WORDS = {"是", "达成", "Y", "YES", "TRUE"}
FALSE_WORDS = {"否", "未达成", "N", "NO", "FALSE"}

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel counts a 29 Feb 1900 that never was)


class ActualsImportError(Exception):
    """The file was refused; `errors` lists every problem, one line each (``第 5 行：……``), in Chinese."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ActualsImportResult:
    """What an import did, for the one-line summary."""

    execution: bool = False
    approve: bool = False
    rows: int = 0
    recorded: int = 0
    unchanged: int = 0
    reports_approved: int = 0
    budgets_adjusted: int = 0

    @property
    def summary(self) -> str:
        if self.execution:
            return (f"读取 {self.rows} 行：记录执行数 {self.recorded} 条，未变化 {self.unchanged} 条，"
                    f"调整全年预算数 {self.budgets_adjusted} 个项目。")
        text = (f"读取 {self.rows} 行：记录实际完成值 {self.recorded} 条，未变化 {self.unchanged} 条，"
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
    columns, required = (EXECUTION_COLUMNS, EXECUTION_REQUIRED) if execution else (ACTUALS_COLUMNS, ACTUALS_REQUIRED)
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
    value: Decimal | None = None
    met: bool | None = None
    grade: str = ""
    points: Decimal | None = None
    deviation_reason: str = ""

    def same_as(self, actual: Actual) -> bool:
        """The row says what the standing actual says (a blank 偏差原因 keeps the recorded one)."""
        return (
            actual.value == self.value and actual.met == self.met and actual.grade == self.grade
            and actual.points == self.points
            and (not self.deviation_reason or self.deviation_reason == actual.deviation_reason)
        )


def _import_actuals(rows, *, projects, year, approve, user) -> ActualsImportResult:
    errors = _Errors()
    parsed: list[_ActualRow] = []
    seen: dict[tuple[int, dt.date], int] = {}
    for number, cells in rows:
        row_errors = len(errors)
        table, indicator = None, None
        project = projects.find(cells.get("项目名称"), number=number, errors=errors)
        if project is not None:
            table = projects.table_of(project)
            if table is None:
                errors.add(number, f"项目“{project.name}”还没有绩效目标表，不能填报实际完成值。")
        if table is not None:
            indicator = projects.indicator(table, cells.get("三级指标"), project=project, number=number, errors=errors)
        as_of = _date_in_year(cells.get("截至日期"), year=year, number=number, errors=errors)
        row = _ActualRow(number=number, indicator=indicator, as_of=as_of) if indicator else None
        if row is not None:
            _read_actual_values(row, cells, errors=errors)
        if row is None or as_of is None or len(errors) > row_errors:
            continue
        key = (indicator.pk, as_of)
        if key in seen:
            errors.add(number, f"与第 {seen[key]} 行是同一指标“{indicator.name}”、同一截至日期 {as_of:%Y-%m-%d}，"
                               "同一指标同一日期只能填一行。")
            continue
        seen[key] = number
        parsed.append(row)

    result = ActualsImportResult(execution=False, approve=approve, rows=len(rows))
    with transaction.atomic():
        table_ids = sorted({row.indicator.table_id for row in parsed})
        # Serialise with the report page, which locks the table while it saves.
        list(GoalTable.objects.select_for_update().filter(pk__in=table_ids).order_by("pk").values_list("pk", flat=True))
        standing = _standing_actuals(parsed)
        touched: set[int] = set()
        for row in parsed:
            previous = standing.get((row.indicator.pk, row.as_of))
            if previous is not None and row.same_as(previous):
                result.unchanged += 1
                if previous.report.status in Report.OPEN:
                    touched.add(previous.report_id)
                continue
            try:
                actual = actual_record(
                    indicator=row.indicator, as_of=row.as_of, value=row.value, met=row.met, grade=row.grade,
                    points=row.points, deviation_reason=row.deviation_reason, replaces=previous, user=user,
                )
            except ValidationError as error:
                errors.add(row.number, _messages(error))
                continue
            result.recorded += 1
            touched.add(actual.report_id)
        errors.raise_if_any()
        if approve:
            result.reports_approved = _approve(touched, user=user)
    return result


def _read_actual_values(row: _ActualRow, cells: dict, *, errors: _Errors) -> None:
    """Read 实际完成值 / 等级 / 得分 / 偏差原因 the way the report page asks for this indicator."""
    indicator, number = row.indicator, row.number
    raw_value, raw_grade, raw_points = cells.get("实际完成值"), cells.get("等级"), cells.get("得分")
    row.deviation_reason = _text(cells.get("偏差原因"))
    mode = indicator.entry_mode
    if mode == "grade":
        # 实际完成值 of a graded indicator is descriptive at most: the grade and its points are what count.
        grade = _text(raw_grade)
        if not grade or _blank(raw_points):
            errors.add(number, f"指标“{indicator.name}”按评判等级赋分：请填写等级（"
                               + " / ".join(g.value for g in scoring.Grade) + "）和得分。")
            return
        if grade not in scoring.Grade._value2member_map_:
            errors.add(number, f"等级“{grade}”无法识别，应为以下之一：" + " / ".join(g.value for g in scoring.Grade) + "。")
        else:
            row.grade = grade
        row.points = _number(raw_points, label="得分", unit="", number=number, errors=errors)
        return
    if not _blank(raw_grade) or not _blank(raw_points):
        errors.add(number, f"指标“{indicator.name}”不按评判等级赋分，等级和得分应留空。")
        return
    if _blank(raw_value):
        errors.add(number, "实际完成值为空。")
        return
    if mode == "met":
        row.met = _yes_no(raw_value, indicator=indicator, number=number, errors=errors)
        return
    word = _key(_text(raw_value)).upper()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        errors.add(number, f"指标“{indicator.name}”的赋分规则是“{indicator.rule}”，实际完成值应填数字"
                           f"{_unit_hint(indicator.unit)}，不能填“{_text(raw_value)}”。")
        return
    row.value = _number(raw_value, label="实际完成值", unit=indicator.unit, number=number, errors=errors)


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


def _approve(report_ids: set[int], *, user) -> int:
    """Submit and approve the open reports among these; approved ones stay as they are."""
    approved = 0
    for report in Report.objects.filter(pk__in=report_ids, status__in=Report.OPEN).order_by("table_id", "as_of"):
        if report.status == Report.Status.DRAFT:
            report = report_submit(report=report, user=user)
        report_approve(report=report, user=user)
        approved += 1
    return approved


# --- budget execution ------------------------------------------------------------------------------

@dataclass
class _ExecutionRow:
    number: int
    project: Project
    as_of: dt.date
    executed: Decimal
    budget: Decimal | None


def _import_execution(rows, *, projects, year, filename, user) -> ActualsImportResult:
    errors = _Errors()
    parsed: list[_ExecutionRow] = []
    seen: dict[tuple[int, dt.date], int] = {}
    for number, cells in rows:
        row_errors = len(errors)
        project = projects.find(cells.get("项目名称"), number=number, errors=errors)
        as_of = _date_in_year(cells.get("截至日期"), year=year, number=number, errors=errors)
        executed = None
        if _blank(cells.get("执行数")):
            errors.add(number, "执行数为空。")
        else:
            executed = _number(cells.get("执行数"), label="执行数", unit="万元", number=number, errors=errors)
        budget = None
        if not _blank(cells.get("全年预算数")):
            budget = _number(cells.get("全年预算数"), label="全年预算数", unit="万元", number=number, errors=errors)
        for label, amount in (("执行数", executed), ("全年预算数", budget)):
            if amount is not None and amount < 0:
                errors.add(number, f"{label}不能为负数：{amount}。")
        if len(errors) > row_errors:
            continue
        key = (project.pk, as_of)
        if key in seen:
            errors.add(number, f"与第 {seen[key]} 行是同一项目“{project.name}”、同一截至日期 {as_of:%Y-%m-%d}。")
            continue
        seen[key] = number
        parsed.append(_ExecutionRow(number=number, project=project, as_of=as_of, executed=executed, budget=budget))

    result = ActualsImportResult(execution=True, rows=len(rows))
    with transaction.atomic():
        # A project's 全年预算数 is one figure: the latest-dated row that gives one says what it is now.
        budgets: dict[int, _ExecutionRow] = {}
        for row in sorted(parsed, key=lambda r: r.as_of):
            if row.budget is not None:
                budgets[row.project.pk] = row
        for row in budgets.values():
            if row.budget == row.project.full_year_budget:
                continue
            try:
                budget_adjust(project=row.project, adjusted=row.budget,
                              reason=f"按预算执行导入文件“{filename}”调整", user=user)
            except ValidationError as error:
                errors.add(row.number, _messages(error, model=Project))
                continue
            result.budgets_adjusted += 1
        standing = _standing_executions(parsed)
        for row in parsed:
            previous = standing.get((row.project.pk, row.as_of))
            if previous is not None and previous.executed == row.executed:
                result.unchanged += 1
                continue
            try:
                execution_report(project=row.project, as_of=row.as_of, executed=row.executed, user=user)
            except ValidationError as error:
                errors.add(row.number, _messages(error, model=BudgetExecution))
                continue
            result.recorded += 1
        errors.raise_if_any()
    return result


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
        self._tables: dict[int, GoalTable] | None = None
        self._indicators: dict[int, list[Indicator]] = defaultdict(list)

    def find(self, cell, *, number: int, errors: _Errors) -> Project | None:
        name = _text(cell)
        if not name:
            errors.add(number, "项目名称为空。")
            return None
        found = self.by_name.get(_key(name), [])
        if not found:
            errors.add(number, f"找不到项目“{name}”（{self.unit.name} {self.year} 年度）。")
            return None
        if len(found) > 1:  # only names that differ in spaces or full-width characters get here
            errors.add(number, f"项目名称“{name}”对应多个项目，请按系统中的项目名称原样填写。")
            return None
        return found[0]

    def table_of(self, project: Project) -> GoalTable | None:
        if self._tables is None:
            tables = GoalTable.objects.filter(
                scope=GoalTable.Scope.PROJECT, project__unit=self.unit, project__year=self.year
            ).select_related("project")
            self._tables = {t.project_id: t for t in tables}
            for indicator in Indicator.objects.filter(table__in=self._tables.values()).order_by("order"):
                self._indicators[indicator.table_id].append(indicator)
        return self._tables.get(project.pk)

    def indicator(self, table: GoalTable, cell, *, project: Project, number: int, errors: _Errors) -> Indicator | None:
        """By 三级指标; a name used twice in the table may be written with its levels, 二级指标/三级指标."""
        name = _text(cell)
        if not name:
            errors.add(number, "三级指标为空。")
            return None
        wanted = _key(name)
        indicators = self._indicators.get(table.pk, [])
        found = [i for i in indicators if _key(i.name) == wanted]
        if not found and "/" in wanted:
            found = [i for i in indicators if _key(f"{i.level1}/{i.level2}/{i.name}").endswith("/" + wanted)
                     or _key(f"{i.level1}/{i.level2}/{i.name}") == wanted]
        if not found:
            errors.add(number, f"项目“{project.name}”的绩效目标表中没有三级指标“{name}”。")
            return None
        if len(found) > 1:
            errors.add(number, f"项目“{project.name}”的绩效目标表中有 {len(found)} 个三级指标名为“{name}”，无法确定是哪一个；"
                               "请写成“二级指标/三级指标”，如“" + f"{found[0].level2}/{found[0].name}”。")
            return None
        return found[0]


# --- reading the file ------------------------------------------------------------------------------

def _read_sheet(data: bytes, *, filename: str, columns, required) -> list[tuple[int, dict]]:
    """The data rows as (row number as the spreadsheet shows it, {column: cell}), blank rows left out."""
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
        return [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text, newline=""),
                                                                      delimiter=delimiter), start=1)]
    except csv.Error as error:
        raise ActualsImportError([f"CSV 文件格式有误：{error}。"]) from None


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
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of errors on a damaged file
        raise ActualsImportError([f"不是有效的 Excel 文件（.xlsx）：无法读取（{type(error).__name__}）。"]) from None
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
    """Errors by row number; file-wide ones (row 0) first when listed."""

    def __init__(self):
        self.items: list[tuple[int, str]] = []

    def __len__(self):
        return len(self.items)

    def add(self, number: int, message: str) -> None:
        self.items.append((number, message))

    def raise_if_any(self) -> None:
        if self.items:
            ordered = sorted(self.items, key=lambda item: item[0])
            raise ActualsImportError([f"第 {n} 行：{m}" if n else m for n, m in ordered])


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


def _number(cell, *, label: str, unit: str, number: int, errors: _Errors) -> Decimal | None:
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
            errors.add(number, f"{label}“{shown}”带有百分号{where}：请只填数字。")
            return None
        text = text[:-1]
    if not _NUMBER.fullmatch(text):
        errors.add(number, f"{label}“{shown}”不是有效的数字{_unit_hint(unit)}。")
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        errors.add(number, f"{label}“{shown}”不是有效的数字。")
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
    errors.add(number, f"指标“{indicator.name}”是{what}，实际完成值应填 是/否（或 达成/未达成、Y/N），不能填“{_text(cell)}”。")
    return None


_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def _date_in_year(cell, *, year: int, number: int, errors: _Errors) -> dt.date | None:
    """截至日期: 2026-07-31, 2026/7/31, 2026年7月31日, or an Excel date; it must fall in the import's year."""
    if _blank(cell):
        errors.add(number, "截至日期为空。")
        return None
    as_of = _date(cell)
    if as_of is None:
        errors.add(number, f"截至日期“{_text(cell)}”无法识别，应写作 2026-07-31、2026/7/31 或 2026年7月31日。")
        return None
    if as_of.year != year:
        errors.add(number, f"截至日期 {as_of:%Y-%m-%d} 不在 {year} 年度内。")
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
