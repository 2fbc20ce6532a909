"""The Excel template of the 项目支出绩效目标表 / 部门整体绩效目标表 (domain.md §1). Pure Python (openpyxl).

- `write_workbook(document)`: one worksheet per table, laid out like the official form, with drop-down
  lists on the level and rule columns, a weight check, empty validated rows to add indicators, and a
  `说明` sheet at the end.
- `blank_template(year)`: the downloadable empty template.
- `read_workbook(data, source=...)`: reads such a workbook back into a `ParsedDocument`. Cells are
  found by their labels (预算单位, 项目名称, 三级指标 …), not by fixed coordinates, so inserted rows or a
  moved header block still read; numbers are read whether stored as numbers or as text.

Round trip: `read_workbook(write_workbook(doc))` equals `doc` in every field the template holds, given
what the template cannot tell apart: text is read stripped, an empty 项目负责人 reads back as None, a
blank 一级/二级 cell means "same as the row above", money comes back with at least 2 decimal places (and
at most 4: ``438.768`` stays as it is), and a table with no name and nothing filled in is an unfilled
sheet (skipped).

Each sheet stands alone: a sheet that cannot be read, or whose indicators cannot be (no 指标值 column),
is an error of its table (`ParsedTable.errors`), and the other sheets still read.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from io import BytesIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kpi.formatting import plain_decimal
from kpi.spreadsheets import (
    BORDER,
    CENTER,
    DECIMAL_FORMAT,
    GENERAL_FORMAT,
    LABEL_FILL,
    NO_BORDER,
    TEXT_FORMAT,
    TITLE_FONT,
    WRAP,
    XLSX_DAMAGED,
    XlsxLimits,
    XlsxRefused,
    fit_to_width,
    merge,
    put,
    sheet_title,
    song,
    workbook_bytes,
    wrapped_lines,
    xlsx_check,
)

from .parsed import PROJECT, UNIT, NotADisclosure, ParsedDocument, ParsedIndicator, ParsedTable

logger = logging.getLogger(__name__)
# What a damaged workbook tells the user; the exception goes to the log (a warning: the user's file, not a
# fault of ours), never to the page.
DAMAGED = XLSX_DAMAGED

PROJECT_TITLE = "项目支出绩效目标表"
UNIT_TITLE = "部门整体绩效目标表"
HELP_TITLE = "说明"

RULES = ("按照完成比例赋分", "直接赋分", "按评判等级赋分", "满意度赋分")
LEVEL1_NAMES = ("产出指标", "成本指标", "效益指标", "满意度指标", "履职效能", "服务对象满意度")
LEVEL2_NAMES = (
    "数量指标", "质量指标", "时效指标", "经济成本指标", "社会效益指标", "经济效益指标",
    "生态效益指标", "可持续影响指标", "满意度指标",
)

# The indicator columns, in template order: (field, header, width).
INDICATOR_COLUMNS = (
    ("level1", "一级指标", 14),
    ("level2", "二级指标", 16),
    ("name", "三级指标", 30),
    ("target", "指标值", 16),
    ("basis", "指标值设置依据", 30),
    ("last_year", "上年完成值", 14),
    ("weight", "指标分值权重", 12),
    ("rule", "指标赋分规则", 18),
    ("evidence", "佐证资料", 24),
)
NCOLS = len(INDICATOR_COLUMNS)
EMPTY_ROWS = 30  # validated empty rows left below the indicators

_CENT = Decimal("0.01")
_MONEY_PLACES = 4  # money keeps the decimals it was published with, up to this many

# ---------------------------------------------------------------------------------------------------
# Labels. Matching is on `_norm(text)`: NFKC (full-width → ASCII), no whitespace, no trailing colon,
# no unit hint such as (万元), no leading 其中.
_INDICATOR_HEADERS = {
    "level1": ("一级指标",),
    "level2": ("二级指标",),
    "name": ("三级指标",),
    "target": ("指标值", "年度指标值", "目标值", "指标目标值"),
    "basis": ("指标值设置依据", "指标设定依据", "指标值设定依据", "设置依据", "设定依据"),
    "last_year": ("上年完成值", "上年实际完成值", "上年指标值"),
    "weight": ("指标分值权重", "分值权重", "权重", "分值", "指标权重"),
    "rule": ("指标赋分规则", "赋分规则", "评分规则"),
    "evidence": ("佐证资料", "佐证材料"),
    "unit": ("计量单位", "度量单位"),
    "direction": ("指标性质", "指标方向"),
}
_PROJECT_LABELS = {
    "unit": ("预算单位", "单位名称", "预算单位名称"),
    "project": ("项目名称",),
    "lead": ("项目负责人", "负责人"),
    "overall_goal": ("项目总体目标", "总体目标", "年度总体目标", "项目年度总体目标"),
    "total": ("年度预算总额", "年度资金总额", "资金总额", "项目资金总额"),
    "fiscal": ("财政拨款", "本年财政拨款"),
    "other": ("其他资金",),
}
_UNIT_LABELS = {
    "unit": ("部门名称", "单位名称", "预算单位"),
    "contact": ("部门联系人", "联系人"),
    "phone": ("联系电话", "电话"),
    "overall_goal": ("年度绩效目标", "部门年度绩效目标", "年度总体目标", "整体绩效目标"),
    "fiscal_superior": ("财政资金(上级安排)", "财政资金上级安排", "上级安排"),
    "fiscal_local": ("财政资金(本级安排)", "财政资金本级安排", "本级安排"),
    "fiscal": ("财政资金小计", "财政资金合计", "财政资金"),
    "other": ("其他资金",),
    "total": ("合计", "年度预算合计", "预算合计"),
}
_ALL_LABELS = frozenset(a for labels in (_PROJECT_LABELS, _UNIT_LABELS) for v in labels.values() for a in v)
_MONEY_FIELDS = ("total", "fiscal", "other", "fiscal_superior", "fiscal_local")
_UNIT_HINT_RE = re.compile(r"\((?:万元|元|分|%|盖章)\)")
_YEAR_RE = re.compile(r"[(（]\s*(\d{4})\s*年度?\s*[)）]")
_TITLE_YEAR_RE = re.compile(r"(\d{4})\s*年度?")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text).strip("*").rstrip(":")
    text = _UNIT_HINT_RE.sub("", text)
    if text.startswith("其中"):
        text = text[2:].lstrip(":")
    return text


# ---------------------------------------------------------------------------------------------------
# Writing (the cells, styles and sheet names come from kpi.spreadsheets)

_FONT = song(11)
_BOLD = song(11, bold=True)
_TITLE_ALIGN = Alignment(horizontal="center", vertical="center")
_HELP_ALIGN = Alignment(wrap_text=True, vertical="top")


def write_workbook(document: ParsedDocument) -> bytes:
    """The document as a filled-in template (.xlsx bytes): one sheet per table, then `说明`."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    used = {HELP_TITLE.casefold()}
    tables = document.tables or [ParsedTable(scope=PROJECT)]
    if any(t.scope == UNIT for t in tables):
        used.add(UNIT_TITLE.casefold())
    unit_titled = False
    for index, table in enumerate(tables, start=1):
        if table.scope == UNIT and not unit_titled:
            title, unit_titled = UNIT_TITLE, True
        else:
            wanted = table.project if table.scope == PROJECT else UNIT_TITLE
            title = sheet_title(wanted or f"项目{index}", used)
        _write_table(workbook.create_sheet(title), document, table)
    _write_help(workbook.create_sheet(HELP_TITLE), document.year)
    return workbook_bytes(workbook)


def blank_template(year: int) -> bytes:
    """The empty template for `year`: one empty project sheet and the `说明` sheet."""
    return write_workbook(ParsedDocument(unit="", year=year, tables=[ParsedTable(scope=PROJECT)]))


def _put(ws: Worksheet, row: int, col: int, value, *, font=_FONT, align=WRAP, fill=None, fmt=None):
    """A bordered cell of the form; text (and an empty cell) is formatted as text unless `fmt` says otherwise."""
    if fmt is None and (value is None or isinstance(value, str)):
        fmt = TEXT_FORMAT
    return put(ws, row, col, value, font=font, align=align, fill=fill, border=BORDER, number_format=fmt)


def _label(ws: Worksheet, row: int, col: int, text: str, *, end_col: int | None = None, end_row: int | None = None):
    _put(ws, row, col, text, font=_BOLD, align=CENTER, fill=LABEL_FILL)
    if end_col or end_row:
        merge(ws, row, col, end_row or row, end_col or col)


def _value(ws: Worksheet, row: int, col: int, value, end_col: int | None = None, *, money: bool = False):
    _put(ws, row, col, value, fmt=DECIMAL_FORMAT if money else None)
    if end_col and end_col > col:
        merge(ws, row, col, row, end_col)


def _write_table(ws: Worksheet, document: ParsedDocument, table: ParsedTable) -> None:
    for col, (_, _, width) in enumerate(INDICATOR_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    last = NCOLS
    title = UNIT_TITLE if table.scope == UNIT else PROJECT_TITLE
    put(ws, 1, 1, title, font=TITLE_FONT, align=_TITLE_ALIGN, border=NO_BORDER, number_format=TEXT_FORMAT)
    merge(ws, 1, 1, 1, last, border=None)
    ws.row_dimensions[1].height = 30
    year = f"（{document.year} 年）" if document.year else "（      年）"
    put(ws, 2, 1, year, font=_FONT, align=_TITLE_ALIGN, border=NO_BORDER, number_format=TEXT_FORMAT)
    merge(ws, 2, 1, 2, last, border=None)

    if table.scope == UNIT:
        _label(ws, 3, 1, "部门名称")
        _value(ws, 3, 2, document.unit, last)
        _label(ws, 4, 1, "部门联系人")
        _value(ws, 4, 2, table.contact, 4)
        _label(ws, 4, 5, "联系电话")
        _value(ws, 4, 6, table.phone, last)
        _label(ws, 5, 1, "年度绩效目标")
        _value(ws, 5, 2, table.overall_goal, last)
        goal_row = 5
        _label(ws, 6, 1, "年度预算（万元）", end_row=7)
        _label(ws, 6, 2, "财政资金（上级安排）")
        _value(ws, 6, 3, table.fiscal_superior, money=True)
        _label(ws, 6, 4, "财政资金（本级安排）")
        _value(ws, 6, 5, table.fiscal_local, money=True)
        _label(ws, 6, 6, "财政资金小计")
        _value(ws, 6, 7, table.fiscal, last, money=True)
        _label(ws, 7, 2, "其他资金")
        _value(ws, 7, 3, table.other, money=True)
        _label(ws, 7, 4, "合计")
        _value(ws, 7, 5, table.total, money=True)
        _put(ws, 7, 6, None)
        merge(ws, 7, 6, 7, last)
        header = 8
    else:
        _label(ws, 3, 1, "预算单位")
        _value(ws, 3, 2, document.unit, last)
        _label(ws, 4, 1, "项目名称")
        _value(ws, 4, 2, table.project, last)
        _label(ws, 5, 1, "项目负责人")
        _value(ws, 5, 2, table.lead, last)
        _label(ws, 6, 1, "项目资金（万元）")
        _label(ws, 6, 2, "年度预算总额")
        _value(ws, 6, 3, table.total, money=True)
        _label(ws, 6, 4, "其中：财政拨款")
        _value(ws, 6, 5, table.fiscal, money=True)
        _label(ws, 6, 6, "其他资金")
        _value(ws, 6, 7, table.other, last, money=True)
        _label(ws, 7, 1, "项目总体目标")
        _value(ws, 7, 2, table.overall_goal, last)
        goal_row = 7
        header = 8
    goal_width = sum(w for _, _, w in INDICATOR_COLUMNS[1:])
    ws.row_dimensions[goal_row].height = max(45, 15 * wrapped_lines(table.overall_goal, goal_width))

    for col, (_, text, _) in enumerate(INDICATOR_COLUMNS, start=1):
        _put(ws, header, col, text, font=_BOLD, align=CENTER, fill=LABEL_FILL)
    ws.row_dimensions[header].height = 30

    row = header
    for indicator in table.indicators:
        row += 1
        height = 1
        for col, (name, _, width) in enumerate(INDICATOR_COLUMNS, start=1):
            value = getattr(indicator, name)
            if name == "weight":
                _put(ws, row, col, value, fmt=GENERAL_FORMAT)
            else:
                _put(ws, row, col, value or None)
                height = max(height, wrapped_lines(value, width))
        ws.row_dimensions[row].height = max(20, 15 * height)
    first, last_row = header + 1, row + EMPTY_ROWS
    for r in range(row + 1, last_row + 1):
        for col, (name, _, _) in enumerate(INDICATOR_COLUMNS, start=1):
            _put(ws, r, col, None, fmt=GENERAL_FORMAT if name == "weight" else TEXT_FORMAT)
    _add_validations(ws, first, last_row)

    fit_to_width(ws, orientation="landscape")
    ws.print_title_rows = f"{header}:{header}"


def _list_formula(values: tuple[str, ...]) -> str:
    return '"' + ",".join(values) + '"'


def _add_validations(ws: Worksheet, first: int, last: int) -> None:
    def column(field_name: str) -> str:
        index = [name for name, _, _ in INDICATOR_COLUMNS].index(field_name) + 1
        letter = get_column_letter(index)
        return f"{letter}{first}:{letter}{last}"

    level1 = DataValidation(
        type="list", formula1=_list_formula(LEVEL1_NAMES), allow_blank=True,
        showErrorMessage=True, errorStyle="warning", errorTitle="一级指标",
        error="这不是常用的一级指标名称。确认使用请点“是”，重新选择请点“否”。",
        showInputMessage=True, promptTitle="一级指标", prompt="可从列表选择，也可填写其他名称；与上一行相同可留空。",
    )
    level2 = DataValidation(
        type="list", formula1=_list_formula(LEVEL2_NAMES), allow_blank=True,
        showErrorMessage=True, errorStyle="warning", errorTitle="二级指标",
        error="这不是常用的二级指标名称。确认使用请点“是”，重新选择请点“否”。",
        showInputMessage=True, promptTitle="二级指标", prompt="可从列表选择，也可填写其他名称；与上一行相同可留空。",
    )
    rule = DataValidation(
        type="list", formula1=_list_formula(RULES), allow_blank=True,
        showErrorMessage=True, errorStyle="stop", errorTitle="指标赋分规则",
        error="请从下拉列表中选择：按照完成比例赋分、直接赋分、按评判等级赋分或满意度赋分。",
        showInputMessage=True, promptTitle="指标赋分规则", prompt="从列表选择；留空则按指标类型使用默认规则。",
    )
    weight = DataValidation(
        type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
        showErrorMessage=True, errorStyle="stop", errorTitle="指标分值权重",
        error="指标分值权重须为不小于 0 的数字（可带两位小数）。",
        showInputMessage=True, promptTitle="指标分值权重", prompt="填写数字；全部指标合计一般为 90 分（评分政策的预算执行率为 20 分时为 80 分）。",
    )
    for validation, field_name in ((level1, "level1"), (level2, "level2"), (rule, "rule"), (weight, "weight")):
        validation.add(column(field_name))
        ws.add_data_validation(validation)


def _write_help(ws: Worksheet, year: int | None) -> None:
    shown = f"（{year} 年）" if year else "（2025 年）"
    lines = [
        ("填表说明", True),
        ("1. 本工作簿用于填报《项目支出绩效目标表》和《部门整体绩效目标表》，填好后可直接导入系统。", False),
        ("2. 每个项目一张工作表。填报多个项目时，右键工作表标签 →“移动或复制”→ 勾选“建立副本”，"
         "复制一张项目工作表后修改。工作表名称可以随意修改，系统以表内“项目名称”为准。", False),
        (f"3. 年度填写在标题下方的“{shown}”中；预算单位、项目名称、项目负责人、项目资金、项目总体目标填在对应标签右侧的格子里。", False),
        ("4. 请不要修改灰色标签格的文字（如“项目名称”“年度预算总额”“三级指标”），系统靠这些文字找到数据；"
         "可以插入行、在表头上方加备注，或整体移动表头位置。", False),
        ("5. 项目资金以万元为单位，填写数字，最多四位小数（如 1982.45、438.768），按填写的位数保存。", False),
        ("6. 指标：每行填写一个三级指标。一级指标、二级指标可从下拉列表选择，也可填写其他名称；与上一行相同时可以留空。", False),
        ("7. 指标值写明比较符号、数值和计量单位，例如“≥95%”“≤4.33万元/月”“=12个月”“2025年12月31日前”；"
         "定性指标写“有效提升”等。", False),
        ("8. 指标分值权重填写数字，全部指标合计一般为 90 分，另 10 分为预算执行率，总分 100 分；"
         "所属年度的评分政策另定预算执行率分值的（如 20 分），指标合计为 100 减去该分值（如 80 分）。", False),
        ("9. 指标赋分规则从下拉列表选择：按照完成比例赋分、直接赋分、按评判等级赋分、满意度赋分；留空则按指标类型使用默认规则。", False),
        ("10. 指标不够时直接在下方的空行继续填写，或插入新行。完全空白的行会被忽略；只填了三级指标没有指标值"
         "（或反过来）的行不会导入，系统会给出提示。", False),
        ("11. 部门整体绩效目标表（如需填报）：填写部门名称、部门联系人、联系电话、年度绩效目标，以及年度预算"
         "（财政资金上级安排、本级安排、财政资金小计、其他资金、合计，单位万元），指标填法同上。", False),
        ("12. 本“说明”工作表导入时会被忽略。", False),
    ]
    ws.column_dimensions["A"].width = 110
    for row, (text, bold) in enumerate(lines, start=1):
        put(ws, row, 1, text, font=song(14, bold=True) if bold else song(11), align=_HELP_ALIGN)
        ws.row_dimensions[row].height = 22 if bold else max(18, 16 * wrapped_lines(text, 110))


# ---------------------------------------------------------------------------------------------------
# Reading


def read_workbook(data: bytes, *, source: str = "", limits: XlsxLimits | None = None) -> ParsedDocument:
    """Read a filled-in template back. Raises `NotADisclosure` when it is not an xlsx goal-table workbook."""
    workbook = _open(data, limits)
    document = ParsedDocument(unit="", year=None, source=source)
    found = False
    units: list[tuple[str, str]] = []
    years: list[tuple[str, int]] = []
    for ws in workbook.worksheets:
        if ws.title.strip() == HELP_TITLE:
            continue
        sheet = _Sheet(ws)
        try:
            result = sheet.read()
        except Exception:  # a damaged sheet costs that sheet, never the workbook (openpyxl raises many kinds)
            found = True
            document.tables.append(ParsedTable(scope=PROJECT, errors=[
                f"工作表“{ws.title}”的内容无法读取（单元格格式异常），该表未导入，其他工作表照常读取；"
                f"请检查该工作表，或把内容复制到新的模板中再导入。"
            ]))
            continue
        if result is None:
            document.warnings.append(f"工作表“{ws.title}”不是绩效目标表，已跳过。")
            continue
        found = True
        if sheet.unit:
            units.append((ws.title, sheet.unit))
        if sheet.year is not None:
            years.append((ws.title, sheet.year))
        if result is _UNFILLED:
            document.warnings.append(f"工作表“{ws.title}”尚未填写，已跳过。")
            continue
        document.warnings.extend(sheet.sheet_warnings)
        document.tables.append(result)
    if not found:
        raise NotADisclosure("工作簿中没有找到绩效目标表（需要“项目名称”或“部门名称”和“三级指标”表头）。")
    if units:
        document.unit = units[0][1]
        for title, unit in units[1:]:
            if unit != document.unit:
                document.warnings.append(
                    f"工作表“{title}”的单位名称“{unit}”与“{document.unit}”不一致，以“{document.unit}”为准。"
                )
    if years:
        document.year = years[0][1]
        for title, year in years[1:]:
            if year != document.year:
                document.warnings.append(f"工作表“{title}”的年度 {year} 与 {document.year} 不一致，以 {document.year} 为准。")
    return document


def _open(data: bytes, limits: XlsxLimits | None = None):
    if not data:
        raise NotADisclosure("不是有效的 Excel 文件（.xlsx）：文件为空。")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise NotADisclosure("不是有效的 Excel 文件（.xlsx）：这是旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再上传。")
    if not zipfile.is_zipfile(BytesIO(data)):
        raise NotADisclosure("不是有效的 Excel 文件（.xlsx）：文件内容不是 Excel 工作簿格式（可能是 .xls、.csv、PDF 或文本），请另存为 .xlsx 后再上传。")
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        logger.warning("uploaded workbook: damaged zip", exc_info=True, extra={"event": "xlsx_unreadable"})
        raise NotADisclosure(DAMAGED) from exc
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise NotADisclosure("不是有效的 Excel 文件（.xlsx）：压缩包中没有 Excel 工作簿。")
    try:
        xlsx_check(data, limits=limits)  # before openpyxl builds every cell in memory
    except XlsxRefused as refused:
        raise NotADisclosure(str(refused)) from None
    try:
        return load_workbook(BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on a damaged file
        logger.warning("uploaded workbook: openpyxl could not read it", exc_info=True, extra={"event": "xlsx_unreadable"})
        raise NotADisclosure(DAMAGED) from exc


_UNFILLED = ParsedTable(scope=PROJECT)  # sentinel: a goal-table sheet nobody filled in


@dataclass
class _Label:
    row: int
    col: int
    inline: str | None  # "预算单位：XX局" in one cell: the part after the colon


class _Sheet:
    """One worksheet, read by its labels."""

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.cells = {key: cell for key, cell in ws._cells.items() if cell.value is not None}
        self.merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
        self.unit = ""
        self.year: int | None = None
        self.sheet_warnings: list[str] = []

    # -- cells ------------------------------------------------------------------------------------
    def _merge_of(self, row: int, col: int):
        for box in self.merged:
            if box[0] <= row <= box[2] and box[1] <= col <= box[3]:
                return box
        return None

    # -- labels -----------------------------------------------------------------------------------
    def scan_labels(self) -> None:
        """Find the label cells, row by row. A cell in the value place of a label found before it (the
        cell right of “项目负责人”, say) is a value, never a label, whatever it says: a project led by
        someone called “合计” stays readable. A cell that is exactly a label wins over one like
        “预算单位：XX局” (label and value in one cell) when both are present.
        """
        self.labels: list[tuple[str, _Label]] = []  # (normalized alias, label), row by row
        self.taken: set[tuple[int, int]] = set()
        for (row, col), cell in sorted(self.cells.items()):
            if (row, col) in self.taken or not isinstance(cell.value, str):
                continue
            found = self._as_label(cell.value, row, col)
            if found is None:
                continue
            alias, label = found
            self.labels.append((alias, label))
            if label.inline is None:
                self.taken.add(self.label_value(label)[1])

    def find_label(self, aliases: tuple[str, ...], above: int) -> _Label | None:
        """The first label (row by row, exact ones first) with one of these aliases above row `above`."""
        wanted = set(aliases)
        found = [label for alias, label in self.labels if alias in wanted and label.row < above]
        exact = [label for label in found if label.inline is None]
        return (exact or found or [None])[0]

    @staticmethod
    def _as_label(text: str, row: int, col: int) -> tuple[str, _Label] | None:
        key = _norm(text)
        if key in _ALL_LABELS:
            return key, _Label(row, col, None)
        match = re.match(r"\s*([^:：]{1,20})[:：](.*)$", text, re.S)
        if match and match.group(2).strip():
            key = _norm(match.group(1))
            if key in _ALL_LABELS:
                return key, _Label(row, col, match.group(2).strip())
        return None

    def label_value(self, label: _Label):
        """(the cell right of the label, its position): right of the label's own merged range, and when
        that place is itself merged, the merged range's top-left cell."""
        box = self._merge_of(label.row, label.col)
        row, col = label.row, (box[3] if box else label.col) + 1
        target = self._merge_of(row, col)
        if target is not None:
            row, col = target[0], target[1]
        return self.cells.get((row, col)), (row, col)

    # -- the sheet --------------------------------------------------------------------------------
    def find_header(self) -> tuple[int, dict[str, int]] | None:
        names = [
            (row, col) for (row, col), cell in self.cells.items()
            if isinstance(cell.value, str) and (row, col) not in self.taken and _norm(cell.value) == "三级指标"
        ]
        if not names:
            return None
        row = min(names)[0]
        columns: dict[str, int] = {}
        for (r, col), cell in sorted(self.cells.items()):
            if r != row or not isinstance(cell.value, str):
                continue
            key = _norm(cell.value)
            for field_name, aliases in _INDICATOR_HEADERS.items():
                if key in aliases and field_name not in columns:
                    columns[field_name] = col
        return row, columns

    def find_year(self, above: int) -> int | None:
        top = sorted(
            (key, cell) for key, cell in self.cells.items()
            if key[0] < above and key not in self.taken and isinstance(cell.value, str)
        )
        for _, cell in top:
            match = _YEAR_RE.search(cell.value)
            if match:
                return int(match.group(1))
        for _, cell in top:
            if "绩效目标表" in cell.value:
                match = _TITLE_YEAR_RE.search(cell.value)
                if match:
                    return int(match.group(1))
        return None

    def read(self) -> ParsedTable | None:
        self.scan_labels()
        header = self.find_header()
        if header is None:
            return None
        header_row, columns = header
        project_label = self.find_label(_PROJECT_LABELS["project"], header_row)
        if project_label is not None:
            scope, labels = PROJECT, _PROJECT_LABELS
        elif self.find_label(("部门名称",), header_row) is not None or any(
            isinstance(c.value, str) and UNIT_TITLE in c.value
            for key, c in self.cells.items() if key[0] < header_row and key not in self.taken
        ):
            scope, labels = UNIT, _UNIT_LABELS
        else:
            return None
        self.year = self.find_year(header_row)

        table = ParsedTable(scope=scope)
        table.line = min((r for (r, _) in self.cells if r <= header_row), default=header_row)
        values: dict[str, object] = {}
        for field_name, aliases in labels.items():
            label = self.find_label(aliases, header_row)
            if label is None:
                continue
            if label.inline is not None:
                values[field_name] = label.inline
                continue
            cell, _ = self.label_value(label)
            if cell is not None:
                values[field_name] = cell

        self.unit = _text(values.get("unit"))
        if scope == PROJECT:
            table.project = _text(values.get("project"))
            table.lead = _text(values.get("lead")) or None
        else:
            table.contact = _text(values.get("contact"))
            table.phone = _text(values.get("phone"))
        table.overall_goal = _text(values.get("overall_goal"))
        money_label = {f: a[0] for f, a in labels.items()}
        for field_name in _MONEY_FIELDS:
            if field_name not in labels or field_name not in values:
                continue
            amount = _decimal(values[field_name])
            if amount is _BAD:
                shown = _text(values[field_name])
                self.sheet_warnings.append(
                    f"工作表“{self.ws.title}”：“{money_label[field_name]}”的金额“{shown}”无法识别，已留空。"
                )
                continue
            if amount is not None:
                setattr(table, field_name, self._money(amount, values[field_name], money_label[field_name]))

        if scope == PROJECT and not table.project:
            filled = table.lead or table.overall_goal or any(getattr(table, f) is not None for f in _MONEY_FIELDS)
            if not filled and not self._has_rows(header_row, columns):
                return _UNFILLED
            table.project = self.ws.title.strip()
            self.sheet_warnings.append(f"工作表“{self.ws.title}”没有填写项目名称，已用工作表名称“{table.project}”代替。")
        if scope == UNIT:
            filled = table.contact or table.phone or table.overall_goal or any(
                getattr(table, f) is not None for f in _MONEY_FIELDS
            )
            if not filled and not self._has_rows(header_row, columns):
                return _UNFILLED

        if "target" not in columns:
            table.errors.append(f"{table.label}第 {header_row} 行：表头缺少“指标值”列，该表的指标无法读取。")
            return table
        self._read_rows(table, header_row, columns)
        return table

    def _money(self, amount: Decimal, cell, label: str) -> Decimal:
        """At least 2 decimals (12 → 12.00), at most 4: more is rounded, with a warning when typed as text."""
        places = -amount.as_tuple().exponent
        if places < 2:
            return amount.quantize(_CENT)
        if places <= _MONEY_PLACES:
            return amount
        rounded = amount.quantize(Decimal(1).scaleb(-_MONEY_PLACES), ROUND_HALF_UP)
        if isinstance(getattr(cell, "value", cell), str):
            self.sheet_warnings.append(
                f"工作表“{self.ws.title}”：“{label}”的金额“{_text(cell)}”超过 {_MONEY_PLACES} 位小数，已按 {rounded} 读取。"
            )
        return rounded

    def _rows(self, header_row: int, columns: dict[str, int]):
        """(row number, {field: cell value}) for every row below the header that has something in it."""
        wanted = set(columns.values())
        vertical = {}
        for top, left, bottom, right in self.merged:
            if left == right and left in wanted and bottom > header_row and bottom > top:
                head = self.cells.get((top, left))
                for r in range(max(top, header_row + 1), bottom + 1):
                    vertical[(r, left)] = head
        rows = sorted({r for (r, c) in list(self.cells) + list(vertical) if r > header_row and c in wanted})
        for row in rows:
            found = {}
            for field_name, col in columns.items():
                cell = vertical.get((row, col)) or self.cells.get((row, col))
                found[field_name] = cell
            yield row, found

    def _has_rows(self, header_row: int, columns: dict[str, int]) -> bool:
        return any(any(_text(c) for c in found.values()) for _, found in self._rows(header_row, columns))

    def _read_rows(self, table: ParsedTable, header_row: int, columns: dict[str, int]) -> None:
        level1 = level2 = ""
        for row, found in self._rows(header_row, columns):
            texts = {f: _text(c) for f, c in found.items() if f != "weight"}
            weight_cell = found.get("weight")
            weight_shown = _text(weight_cell)
            if not any(texts.values()) and not weight_shown:
                continue
            if texts.get("level1"):
                if texts["level1"] != level1 and not texts.get("level2"):
                    level2 = ""
                level1 = texts["level1"]
            if texts.get("level2"):
                level2 = texts["level2"]
            name, target = texts.get("name", ""), texts.get("target", "")
            if not name and not target:
                others = [f for f in ("basis", "last_year", "rule", "evidence") if texts.get(f)]
                if others or weight_shown:
                    table.warnings.append(f"{table.label}第 {row} 行：缺少三级指标和指标值，已跳过。")
                continue  # a row with only 一级/二级 names just sets them for the rows below
            if not target:
                table.warnings.append(f"{table.label}第 {row} 行：缺少指标值，已跳过。")
                continue
            if not name:
                table.warnings.append(f"{table.label}第 {row} 行：缺少三级指标，已跳过。")
                continue
            weight = _decimal(weight_cell)
            if weight is _BAD:
                table.warnings.append(
                    f"{table.label}第 {row} 行：指标“{name}”的分值权重“{weight_shown}”不是数字，已留空。"
                )
                weight = None
            table.indicators.append(
                ParsedIndicator(
                    level1=level1,
                    level2=level2,
                    name=name,
                    target=target,
                    basis=texts.get("basis", ""),
                    last_year=texts.get("last_year", ""),
                    weight=weight,
                    rule=texts.get("rule", ""),
                    evidence=texts.get("evidence", ""),
                    line=row,
                    direction=texts.get("direction", "").replace(" ", ""),
                    unit=texts.get("unit", "").replace(" ", ""),
                )
            )


# ---------------------------------------------------------------------------------------------------
# Cell values

_BAD = object()  # sentinel: a cell with something in it that is not a number


def _text(cell) -> str:
    """What a cell shows, as stripped text ("" when empty). Accepts a Cell, a MergedCell, a str or None."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell.replace("\r\n", "\n").replace("\r", "\n").strip()
    value = getattr(cell, "value", None)
    fmt = getattr(cell, "number_format", "General") or "General"
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        day = f"{value.year}年{value.month}月{value.day}日"
        return day if value.time() == dt.time() else f"{day} {value:%H:%M}"
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        if "%" in fmt:
            return plain_decimal(number * 100) + "%"
        return plain_decimal(number)
    return str(value).strip()


def _decimal(cell):
    """A number from a cell stored as a number or as text (`1,982.45`, `１２`, `12分`); None when empty."""
    value = getattr(cell, "value", cell)
    if value is None:
        return None
    if isinstance(value, bool):
        return _BAD
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        return number if number.is_finite() else _BAD
    if not isinstance(value, str):
        return _BAD
    text = unicodedata.normalize("NFKC", value)
    text = re.sub(r"[\s,]", "", text)
    for suffix in ("万元", "元", "分"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    if not text:
        return None
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        return _BAD
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above only lets numbers through
        return _BAD
