"""The 绩效自评表 as Excel workbooks (openpyxl), laid out like the official forms (domain.md §7).

- `table_workbook(evaluation)`  one table: its 自评表 sheet, then a 缺失项 sheet;
- `unit_workbook(evaluation)`   a whole unit: the 缺失项 cover sheet, the 部门整体自评表 sheet (a summary of
  every project, then the unit table's own indicators), then one sheet per project.

Numbers are stored as numbers (format 0.00, the execution rate as a percentage 0.00%); a missing figure
is the text 缺失, never 0. Every sheet prints on A4 portrait, fitted to the page width.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from kpi.spreadsheets import (
    BORDER,
    CENTER,
    DECIMAL_FORMAT,
    LABEL_FILL,
    LEFT,
    PERCENT_FORMAT,
    PLAIN_MONEY_FORMAT,
    RIGHT,
    TITLE_FONT,
    fit_to_width,
    merge_disjoint,
    put,
    sheet_title,
    song,
    styled,
    workbook_bytes,
    wrapped_lines,
)

from .data import NOT_APPLICABLE, PROJECT_TITLE, UNIT_TITLE, ProjectEvaluation, UnitEvaluation, note_parts

MISSING = "缺失"
NONE = "—"  # a cell the official form leaves empty (分值, 执行率 and 得分 of the source rows)
COVER_TITLE = "缺失项"
UNIT_SHEET = "部门整体自评表"

# Columns A–H: wide enough for the indicator rows, which the header and funds blocks share.
WIDTHS = (12, 14, 28, 14, 16, 9, 10, 32)
NCOLS = len(WIDTHS)
INDICATOR_HEADERS = ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施")
FUNDS_HEADERS = (None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
SUMMARY_HEADERS = ("项目名称", "全年预算数", "全年执行数", "执行率", "指标得分", "总分", "等级")

NUMBER_FORMAT = DECIMAL_FORMAT
LINE_HEIGHT = 15.0  # points per text line at 11 pt
MAX_ROW_HEIGHT = 409.0  # Excel refuses taller rows

_FONT = song(11)
_BOLD = song(11, bold=True)
_NOTE_FONT = song(9, color="555555")
_MISSING_FONT = song(11, color="C00000")


def table_workbook(evaluation: ProjectEvaluation, *, generated_at: dt.datetime | None = None) -> bytes:
    """One table's 自评表 (.xlsx bytes): the form, then its 缺失项."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = {COVER_TITLE.casefold()}
    title = UNIT_SHEET if evaluation.is_unit_table else sheet_title(evaluation.project_name or PROJECT_TITLE, used)
    sheet = workbook.create_sheet(title)
    _Form(sheet).table(evaluation, generated_at=generated_at)
    _write_cover(workbook.create_sheet(COVER_TITLE), heading=f"{evaluation.label} · {evaluation.year} 年度",
                 items=[(evaluation.label, item) for item in evaluation.missing],
                 policy_name=evaluation.policy_name, generated_at=generated_at)
    return _save(workbook)


def unit_workbook(evaluation: UnitEvaluation, *, generated_at: dt.datetime | None = None) -> bytes:
    """A whole unit (.xlsx bytes): 缺失项 cover, 部门整体自评表 with the project summary, one sheet per project."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    _write_cover(workbook.create_sheet(COVER_TITLE), heading=f"{evaluation.unit_name} · {evaluation.year} 年度",
                 items=evaluation.missing, policy_name=evaluation.policy_name, generated_at=generated_at)
    _Form(workbook.create_sheet(UNIT_SHEET)).unit(evaluation, generated_at=generated_at)
    used = {COVER_TITLE.casefold(), UNIT_SHEET.casefold()}
    for project in evaluation.projects:
        title = sheet_title(project.project_name or PROJECT_TITLE, used)
        _Form(workbook.create_sheet(title)).table(project, generated_at=generated_at)
    return _save(workbook)


def _save(workbook: Workbook) -> bytes:
    # The same file as workbook.save(), its plain rows written as text (kpi.spreadsheets.workbook_bytes).
    return workbook_bytes(workbook)


# --- the form -------------------------------------------------------------------------------------------

class _Form:
    """Writes the blocks of a 自评表 one under the other, keeping the current row."""

    def __init__(self, sheet: Worksheet, widths: tuple[int, ...] = WIDTHS):
        self.sheet = sheet
        self.row = 1
        self.fits: list[int] = []  # rows whose height is estimated from their text at the end
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        _page_setup(sheet)

    # blocks

    def table(self, e: ProjectEvaluation, *, generated_at) -> None:
        self.title(e.title, e.year)
        if e.is_unit_table:
            self.pairs(("部门名称", e.unit_name), ("主管部门", e.department_name))
        else:
            self.pairs(("项目名称", e.project_name or ""))
            self.pairs(("主管部门", e.department_name), ("实施单位", e.unit_name))
        self.funds(e)
        self.goal(e)
        self.indicators(e)
        self.note(e, generated_at)
        self.finish()

    def unit(self, u: UnitEvaluation, *, generated_at) -> None:
        e = u.unit_table
        self.title(UNIT_TITLE, u.year)
        self.pairs(("部门名称", u.unit_name), ("主管部门", u.department_name))
        if e is not None:
            self.funds(e)
            self.goal(e)
        self.section("项目支出绩效自评汇总")
        self.summary(u)
        self.section("部门整体绩效指标")
        if e is None:
            self.merged_line("本单位本年度没有部门整体绩效目标表。", border=True)
        else:
            self.indicators(e)
            self.note(e, generated_at)
        self.finish()

    def title(self, text: str, year: int) -> None:
        self.merged(self.row, 1, NCOLS, text, font=TITLE_FONT, align=CENTER, border=False)
        self.sheet.row_dimensions[self.row].height = 30
        self.merged(self.row + 1, 1, NCOLS, f"（{year} 年度）", align=CENTER, border=False)
        self.row += 2

    def pairs(self, *pairs: tuple[str, str]) -> None:
        """A header line: label | value (merged), or two label | value pairs side by side."""
        if len(pairs) == 1:
            (label, value), = pairs
            self.label(self.row, 1, label)
            self.merged(self.row, 2, NCOLS, value)
        else:
            (label1, value1), (label2, value2) = pairs
            self.label(self.row, 1, label1)
            self.merged(self.row, 2, 4, value1)
            self.label(self.row, 5, label2)
            self.merged(self.row, 6, NCOLS, value2)
        self.fits.append(self.row)
        self.row += 1

    def funds(self, e: ProjectEvaluation) -> None:
        top = self.row
        label = "项目资金（万元）" if not e.is_unit_table else "年度预算（万元）"
        self.merged(top, 1, 1, label, font=_BOLD, align=CENTER, fill=LABEL_FILL, last_row=top + len(e.funds))
        for column, header in enumerate(FUNDS_HEADERS, start=2):
            self.label(top, column, header)
        for offset, funds in enumerate(e.funds, start=1):
            row = top + offset
            self.cell(row, 2, funds.label, align=LEFT)
            self.money(row, 3, funds.initial)
            self.money(row, 4, funds.full_year)
            self.money(row, 5, funds.executed)
            if funds.is_total:
                self.number(row, 6, funds.weight)
                self.number(row, 7, funds.rate, number_format=PERCENT_FORMAT)
                self.number(row, 8, funds.points)
            else:
                for column in (6, 7, 8):
                    self.cell(row, column, NONE, align=CENTER)
        self.row = top + len(e.funds) + 1

    def goal(self, e: ProjectEvaluation) -> None:
        top = self.row
        self.merged(top, 1, 1, "年度总体目标", font=_BOLD, align=CENTER, fill=LABEL_FILL, last_row=top + 1)
        self.merged(top, 2, 4, "预期目标", font=_BOLD, align=CENTER, fill=LABEL_FILL)
        self.merged(top, 5, NCOLS, "实际完成情况", font=_BOLD, align=CENTER, fill=LABEL_FILL)
        self.merged(top + 1, 2, 4, e.goal_expected or NONE)
        self.merged(top + 1, 5, NCOLS, e.goal_actual)
        self.fits.append(top + 1)
        self.row = top + 2

    def indicators(self, e: ProjectEvaluation) -> None:
        header = self.row
        for column, text in enumerate(INDICATOR_HEADERS, start=1):
            self.label(header, column, text)
        self.sheet.print_title_rows = f"{header}:{header}"
        first = header + 1
        for offset, ind in enumerate(e.indicators):
            row = first + offset
            self.cell(row, 1, ind.level1, align=CENTER)
            self.cell(row, 2, ind.level2, align=CENTER)
            self.cell(row, 3, ind.name, align=LEFT)
            self.cell(row, 4, ind.target_shown, align=CENTER)
            if ind.actual is None:
                self.cell(row, 5, MISSING, font=_MISSING_FONT, align=CENTER)
            else:
                self.cell(row, 5, ind.actual, align=CENTER)
            self.number(row, 6, ind.weight)
            if ind.not_applicable:
                self.cell(row, 7, NOT_APPLICABLE, align=CENTER)
            else:
                self.number(row, 7, ind.points)
            self.cell(row, 8, ind.explanation, align=LEFT)
            self.fits.append(row)
        self._merge_runs(e, first)
        total_row = first + len(e.indicators)
        self.merged(total_row, 1, 5, "总分", font=_BOLD, align=CENTER, fill=LABEL_FILL)
        self.number(total_row, 6, e.full_points, font=_BOLD)
        self.number(total_row, 7, e.total, font=_BOLD)
        self.cell(total_row, 8, f"等级：{e.grade}" if e.grade else f"等级：{MISSING}", font=_BOLD, align=LEFT)
        self.row = total_row + 1

    def summary(self, u: UnitEvaluation) -> None:
        header = self.row
        self.merged(header, 1, 2, SUMMARY_HEADERS[0], font=_BOLD, align=CENTER, fill=LABEL_FILL)
        for column, text in enumerate(SUMMARY_HEADERS[1:], start=3):
            self.label(header, column, text)
        row = header
        for row, e in enumerate(u.projects, start=header + 1):
            self.merged(row, 1, 2, e.project_name or "", align=LEFT)
            self.money(row, 3, e.budget)
            self.money(row, 4, e.executed)
            self.number(row, 5, e.rate, number_format=PERCENT_FORMAT)
            self.number(row, 6, e.indicator_points)
            self.number(row, 7, e.total)
            self.cell(row, 8, e.grade or MISSING, align=CENTER, font=_FONT if e.grade else _MISSING_FONT)
            self.fits.append(row)
        if not u.projects:
            row = header + 1
            self.merged(row, 1, NCOLS, "本单位本年度没有项目支出绩效目标表。", align=CENTER)
        row += 1
        budget, spent, rate = u.projects_total
        self.merged(row, 1, 2, "合计", font=_BOLD, align=CENTER, fill=LABEL_FILL)
        self.money(row, 3, budget)
        self.money(row, 4, spent)
        self.number(row, 5, rate, number_format=PERCENT_FORMAT)
        for column in (6, 7, 8):
            self.cell(row, column, NONE, align=CENTER)
        self.row = row + 1

    def section(self, text: str) -> None:
        self.merged(self.row, 1, NCOLS, text, font=_BOLD, align=LEFT, fill=LABEL_FILL)
        self.row += 1

    def merged_line(self, text: str, *, border: bool) -> None:
        self.merged(self.row, 1, NCOLS, text, align=LEFT, border=border)
        self.fits.append(self.row)
        self.row += 1

    def note(self, e: ProjectEvaluation, generated_at) -> None:
        parts = note_parts(e, generated_at)
        if e.missing:
            parts.append(f"缺失项 {len(e.missing)} 项，见“{COVER_TITLE}”")
        self.merged(self.row, 1, NCOLS, "；".join(parts), font=_NOTE_FONT, align=LEFT, border=False)
        self.fits.append(self.row)
        self.row += 1

    def finish(self) -> None:
        self.sheet.print_area = f"A1:{get_column_letter(NCOLS)}{self.row - 1}"
        self.sheet.sheet_view.showGridLines = False
        _fit_heights(self.sheet, self.fits)

    # cells

    def cell(self, row: int, column: int, value, *, font=_FONT, align=LEFT, fill=None, border=True,
             number_format: str | None = None):
        """A text is stored as text: a target "=100%" or a project "=HYPERLINK(…)" is never a formula."""
        styled(self.sheet, row, column, font=font, align=align, fill=fill, border=BORDER if border else None,
               number_format=number_format)
        return put(self.sheet, row, column, value)

    def label(self, row: int, column: int, text: str | None):
        return self.cell(row, column, text, font=_BOLD, align=CENTER, fill=LABEL_FILL)

    def merged(self, row: int, first: int, last: int, value, *, font=_FONT, align=LEFT, fill=None, border=True,
               last_row: int | None = None):
        """A merged range with its value in the top-left cell; every cell of it is bordered (Excel draws the
        border of a merged range from its cells)."""
        self.cell(row, first, value, font=font, align=align, fill=fill, border=border)  # as put_merged does
        merge_disjoint(self.sheet, row, first, last_row or row, last, border=BORDER if border else None)

    def number(self, row: int, column: int, value: Decimal | None, *, number_format=NUMBER_FORMAT, font=_FONT):
        if value is None:
            return self.cell(row, column, MISSING, font=_MISSING_FONT, align=CENTER)
        return self.cell(row, column, value, font=font, align=RIGHT, number_format=number_format)

    def money(self, row: int, column: int, value: Decimal | None):
        return self.number(row, column, value, number_format=PLAIN_MONEY_FORMAT)

    def _merge_runs(self, e: ProjectEvaluation, first: int) -> None:
        """Merge the 一级指标 cells of consecutive rows with the same value, and the 二级指标 cells within them,
        as the official form prints them."""
        rows = e.indicators

        def runs(key):
            start = 0
            for index in range(1, len(rows) + 1):
                if index == len(rows) or key(rows[index]) != key(rows[start]):
                    if index - start > 1 and key(rows[start])[-1]:
                        yield start, index - 1
                    start = index

        for column, key in ((1, lambda r: (r.level1,)), (2, lambda r: (r.level1, r.level2))):
            for start, end in runs(key):
                merge_disjoint(self.sheet, first + start, column, first + end, column)


def _write_cover(sheet: Worksheet, *, heading: str, items: list[tuple[str, str]], policy_name: str,
                 generated_at) -> None:
    """缺失项: every missing item, one per row, so nothing is mistaken for a zero."""
    form = _Form(sheet, widths=(8, 34, 80))
    form.merged(1, 1, 3, "绩效自评缺失项", font=TITLE_FONT, align=CENTER, border=False)
    sheet.row_dimensions[1].height = 30
    details = [heading, f"评分政策：{policy_name}"]
    if generated_at:
        details.append(f"生成时间：{generated_at:%Y-%m-%d %H:%M}")
    form.merged(2, 1, 3, " · ".join(details), align=CENTER, border=False)
    form.merged(3, 1, 3, "以下各项在自评表中显示为“缺失”，不按 0 计；请补齐后重新生成。", font=_NOTE_FONT, align=LEFT,
                border=False)
    for column, text in enumerate(("序号", "自评表", "缺失项"), start=1):
        form.label(4, column, text)
    row = 4
    for row, (label, item) in enumerate(items, start=5):
        form.cell(row, 1, row - 4, align=CENTER)
        form.cell(row, 2, label)
        form.cell(row, 3, item)
        form.fits.append(row)
    if not items:
        row = 5
        form.merged(row, 1, 3, "无缺失项。", align=CENTER)
    sheet.print_title_rows = "4:4"
    sheet.print_area = f"A1:C{row}"
    sheet.sheet_view.showGridLines = False
    _fit_heights(sheet, form.fits)


# --- helpers ------------------------------------------------------------------------------------------

def _page_setup(sheet: Worksheet) -> None:
    fit_to_width(sheet, orientation=sheet.ORIENTATION_PORTRAIT, paper_size=sheet.PAPERSIZE_A4)
    sheet.page_margins = PageMargins(left=0.6, right=0.6, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "第 &P 页 共 &N 页"


def _fit_heights(sheet: Worksheet, rows: list[int]) -> None:
    """Excel does not grow rows for wrapped text in merged cells: estimate the lines each cell of `rows`
    needs. The merged ranges are read once and only the sheet's cells are looked at: reading `sheet[row]`
    (which measures the whole sheet) and every range for each row was quadratic, a third of the time of a
    1,000-project unit's workbook."""
    wanted = set(rows)
    spans: dict[tuple[int, int], tuple[int, int] | None] = {}
    for merged in sheet.merged_cells.ranges:
        for row in range(merged.min_row, merged.max_row + 1):
            if row in wanted:
                # spanning rows: its height is shared, not estimated
                spans[(row, merged.min_col)] = (
                    None if merged.min_row != merged.max_row else (merged.min_col, merged.max_col))
    columns = sheet.max_column
    cells = sheet._cells
    for row in rows:
        lines = 1
        for column in range(1, columns + 1):
            cell = cells.get((row, column))
            if cell is None or not isinstance(cell.value, str) or not cell.value:
                continue
            span = spans.get((row, column), (column, column))
            if span is None:
                continue
            width = sum(sheet.column_dimensions[get_column_letter(c)].width or 9
                        for c in range(span[0], span[1] + 1))
            lines = max(lines, wrapped_lines(cell.value, width, margin=1.5, minimum=2))
        current = sheet.row_dimensions[row].height
        height = min(MAX_ROW_HEIGHT, max(20.0, lines * LINE_HEIGHT + 5))
        if current is None or current < height:
            sheet.row_dimensions[row].height = height
