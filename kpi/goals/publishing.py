"""部门预算公开 — a unit's approved (已批复) goal tables as they are published. Reads only.

- `disclosure_text(unit_id, year)`: the plain text `import_disclosure` reads (kpi/importers/disclosure.py,
  its tab layout): the 部门整体绩效目标表 first, then each 项目支出绩效目标表, each with its header block
  and one indicator row per line. Importing it (into a fresh database or unit) gives the same tables:
  projects with their funds and lead names, the overall goals, the indicators in order with their levels,
  targets, basis, 上年完成值, weights, rules and evidence, and the unit's budget split.
- `disclosure_xlsx(unit_id, year)`: the same tables in the published layout, one sheet per table (title,
  header block, the indicator grid with merged 一级/二级 cells), which the xlsx importer
  (kpi/importers/xlsx.py) reads back the same way.

What the published text cannot carry (and so is normalised on the way): a cell is one line, so line breaks
and tabs inside a text become one space, and the importer drops spaces beside Chinese characters as it does
in every published text (`_published`); an amount is 万元 with up to four decimals. The official 部门整体
table has no 上年完成值, 赋分规则 or 佐证资料 column: each is added only when a row needs it (a rule other
than the target's default, a filled cell), so that the round trip keeps it. A project's 上年结转 has no
place in the published header; it is part of 年度预算总额, never of 财政拨款 or 其他资金.

Tables not yet 已批复 are not published (`unpublished_tables` says which).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from budgets.models import Unit, UnitBudget
from kpi import scoring
from kpi.formatting import money_text, person_name, plain_decimal
from kpi.models import GoalTable, Indicator
from kpi.spreadsheets import (
    BORDER,
    CENTER,
    GENERAL_FORMAT,
    LABEL_FILL,
    NO_BORDER,
    PLAIN_MONEY_FORMAT,
    TEXT_FORMAT,
    TITLE_FONT,
    WRAP,
    fit_to_width,
    merge,
    put,
    sheet_title,
    song,
    workbook_bytes,
    wrapped_lines,
)
from kpi.targets import parse_target

PROJECT_TITLE = "项目支出绩效目标表"
UNIT_TITLE = "部门整体绩效目标表"

# The indicator columns: (field, header of the project table, header of the 部门整体 table, width).
COLUMNS = (
    ("level1", "一级指标", "一级指标", 12),
    ("level2", "二级指标", "二级指标", 14),
    ("name", "三级指标", "三级指标", 28),
    ("target", "指标值", "指标值", 16),
    ("basis", "指标值设置依据", "指标设定依据", 24),
    ("last_year", "上年完成值", "上年完成值", 12),
    ("weight", "指标分值权重", "分值权重", 10),
    ("rule", "指标赋分规则", "指标赋分规则", 16),
    ("evidence", "佐证资料", "佐证资料", 18),
)
# The columns the official 部门整体 table does without (added when a row needs one).
_UNIT_OPTIONAL = ("last_year", "rule", "evidence")

# What the disclosure reader would take for markup: an HTML tag it strips, an entity it unescapes.
_TAG = re.compile(r"</?(?:b|p|br|strong|em|i|u|span|div|font|td|tr|th|table|thead|tbody|sup|sub)\b", re.IGNORECASE)
_WS = re.compile(r"[\s\u3000\xa0]+")


# --- what is published -----------------------------------------------------------------------------

@dataclass
class Published:
    unit: Unit
    year: int
    budget: UnitBudget | None
    tables: list[GoalTable]  # approved, the 部门整体 table first; each with `.rows` (its indicators in order)


def published_tables(*, unit_id: int, year: int, unit: Unit | None = None) -> Published:
    """The unit's approved tables of the year with their indicators and the unit's budget: four queries (three
    when the unit is given)."""
    unit = unit if unit is not None and unit.pk == unit_id else Unit.objects.get(pk=unit_id)
    tables = sorted(
        GoalTable.objects.filter(unit_id=unit_id, year=year, status=GoalTable.Status.APPROVED)
        .select_related("project", "project__lead")
        .prefetch_related(Prefetch("indicators", queryset=Indicator.objects.order_by("order"), to_attr="rows")),
        key=table_order,
    )
    budget = UnitBudget.objects.filter(unit_id=unit_id, year=year).first()
    return Published(unit=unit, year=year, budget=budget, tables=tables)


def unpublished_tables(*, unit_id: int, year: int) -> list[GoalTable]:
    """The unit's tables of the year not (yet) 已批复, which publishing leaves out."""
    return sorted(
        GoalTable.objects.filter(unit_id=unit_id, year=year).exclude(status=GoalTable.Status.APPROVED)
        .select_related("project"),
        key=table_order,
    )


def table_order(table: GoalTable) -> tuple:
    """The 部门整体 table first, then the projects by name (as a disclosure lists them)."""
    return (table.scope != GoalTable.Scope.UNIT, table.project.name if table.project_id else "", table.pk)


def download_name(unit: Unit, year: int, extension: str) -> str:
    return f"{unit.name}{year}年绩效目标表（部门预算公开）.{extension}"


def lead_name(table: GoalTable) -> str:
    """项目负责人 as published: the published name, else the lead's own name."""
    project = table.project
    if project.lead_name:
        return project.lead_name
    if project.lead_id:
        return person_name(project.lead)
    return ""


def _columns(table: GoalTable) -> list[tuple[str, str, int]]:
    """(field, header, width) of the table's indicator grid."""
    if table.scope == GoalTable.Scope.PROJECT:
        return [(name, header, width) for name, header, _, width in COLUMNS]
    needed = {name for name in _UNIT_OPTIONAL if any(_needs(row, name) for row in table.rows)}
    return [(name, header, width) for name, _, header, width in COLUMNS if name not in _UNIT_OPTIONAL or name in needed]


def _needs(row: Indicator, name: str) -> bool:
    if name == "rule":  # the reader gives a table without a rule column each target's default rule
        return row.rule != scoring.default_rule_for(parse_target(row.target_raw)).value
    return bool(getattr(row, name).strip())


def _cell(row: Indicator, name: str) -> str:
    if name == "target":
        return row.target_raw
    if name == "weight":
        return plain_decimal(row.weight)
    return getattr(row, name)


def _funds(table: GoalTable, budget: UnitBudget | None) -> dict[str, Decimal | None]:
    if table.scope == GoalTable.Scope.PROJECT:
        project = table.project
        return {"total": project.budget_initial, "fiscal": project.fiscal, "other": project.other}
    if budget is None:
        return {"fiscal_superior": None, "fiscal_local": None, "other": None, "total": None}
    return {"fiscal_superior": budget.fiscal_superior, "fiscal_local": budget.fiscal_local, "other": budget.other,
            "total": budget.total}


# --- the plain text ----------------------------------------------------------------------------------

def _published(text: str | None) -> str:
    """One cell of the text: one line, no tab; what the reader would take for a tag or an entity escaped."""
    text = _WS.sub(" ", text or "").strip()
    if html.unescape(text) != text or _TAG.search(text):
        text = html.escape(text, quote=False)
    return text


def _line(*cells) -> str:
    return "\t".join(_published(cell) if isinstance(cell, str) else (money_text(cell) or "") for cell in cells)


def disclosure_text(unit_id: int, year: int) -> str:
    """The unit's approved goal tables of the year as the text `import_disclosure` reads (see the module)."""
    return render_text(published_tables(unit_id=unit_id, year=year))


def render_text(data: Published) -> str:
    """`disclosure_text` of tables already read (`published_tables`)."""
    unit, year = data.unit, data.year
    lines = [f"{year} 年{_published(unit.name)}部门预算公开（绩效目标）", "",
             f"由 Jixiao 导出，共 {len(data.tables)} 张已批复的绩效目标表。", ""]
    for table in data.tables:
        funds = _funds(table, data.budget)
        if table.scope == GoalTable.Scope.UNIT:
            lines += [f"## {UNIT_TITLE}", "", f"（{year} 年）", "",
                      _line("部门名称（盖章）", unit.name),
                      _line("部门联系人", unit.contact, "联系电话", unit.phone),
                      _line("年度绩效目标", table.overall_goal),
                      _line("年度预算（万元）", "财政资金", "上级安排", funds["fiscal_superior"]),
                      _line("", "", "本级安排", funds["fiscal_local"]),
                      _line("", "其他资金", funds["other"]),
                      _line("", "合计", funds["total"])]
        else:
            lines += [f"## {PROJECT_TITLE}", "", f"（{year} 年）", "",
                      _line("预算单位", unit.name),
                      _line("项目名称", table.project.name, "项目负责人", lead_name(table)),
                      _line("项目资金（万元）", "年度预算总额", funds["total"], "其中：财政拨款", funds["fiscal"],
                            "其他资金", funds["other"]),
                      _line("项目总体目标", table.overall_goal)]
        columns = _columns(table)
        lines.append(_line(*(header for _, header, _ in columns)))
        # Every row names its 一级 and 二级 (no "same as above" blanks): each line reads on its own.
        lines += [_line(*(_cell(row, name) for name, _, _ in columns)) for row in table.rows]
        lines.append("")
    return "\n".join(lines)


# --- the workbook ---------------------------------------------------------------------------------------

_FONT = song(11)
_BOLD = song(11, bold=True)
_TITLE_ALIGN = Alignment(horizontal="center", vertical="center")


def _put(ws, row: int, col: int, value, *, end_col: int | None = None, end_row: int | None = None,
         label: bool = False, money: bool = False):
    if label:
        put(ws, row, col, value, font=_BOLD, align=CENTER, fill=LABEL_FILL, border=BORDER, number_format=TEXT_FORMAT)
    else:
        fmt = PLAIN_MONEY_FORMAT if money else (TEXT_FORMAT if value is None or isinstance(value, str) else
                                                GENERAL_FORMAT)
        put(ws, row, col, value if value != "" else None, font=_FONT, align=WRAP, border=BORDER, number_format=fmt)
    if (end_col and end_col > col) or (end_row and end_row > row):
        merge(ws, row, col, end_row or row, end_col or col)


def disclosure_xlsx(unit_id: int, year: int) -> bytes:
    """The unit's approved goal tables of the year as the published workbook: one sheet per table."""
    return render_xlsx(published_tables(unit_id=unit_id, year=year))


def render_xlsx(data: Published) -> bytes:
    """`disclosure_xlsx` of tables already read (`published_tables`)."""
    year = data.year
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for table in data.tables:
        wanted = UNIT_TITLE if table.scope == GoalTable.Scope.UNIT else table.project.name
        _write_sheet(workbook.create_sheet(sheet_title(wanted, used)), data, table)
    if not data.tables:
        ws = workbook.create_sheet("说明")
        put(ws, 1, 1, f"{data.unit.name} {year} 年尚无已批复的绩效目标表。", font=_FONT)
    return workbook_bytes(workbook)


def _write_sheet(ws, data: Published, table: GoalTable) -> None:
    columns = _columns(table)
    last = len(columns)
    for col, (_, _, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    unit_scope = table.scope == GoalTable.Scope.UNIT
    put(ws, 1, 1, UNIT_TITLE if unit_scope else PROJECT_TITLE, font=TITLE_FONT, align=_TITLE_ALIGN,
        border=NO_BORDER, number_format=TEXT_FORMAT)
    merge(ws, 1, 1, 1, last, border=None)
    ws.row_dimensions[1].height = 30
    put(ws, 2, 1, f"（{data.year} 年）", font=_FONT, align=_TITLE_ALIGN, border=NO_BORDER, number_format=TEXT_FORMAT)
    merge(ws, 2, 1, 2, last, border=None)
    funds = _funds(table, data.budget)
    split = max(2, last // 2)  # where the second label of a two-label row goes
    goal_width = sum(width for _, _, width in columns[1:])
    if unit_scope:
        _put(ws, 3, 1, "部门名称", label=True)
        _put(ws, 3, 2, data.unit.name, end_col=last)
        _put(ws, 4, 1, "部门联系人", label=True)
        _put(ws, 4, 2, data.unit.contact, end_col=split)
        _put(ws, 4, split + 1, "联系电话", label=True)
        _put(ws, 4, split + 2, data.unit.phone, end_col=last)
        _put(ws, 5, 1, "年度绩效目标", label=True)
        _put(ws, 5, 2, table.overall_goal, end_col=last)
        goal_row = 5
        _put(ws, 6, 1, "年度预算（万元）", label=True, end_row=10)
        _put(ws, 6, 2, "资金来源", label=True, end_col=3)
        _put(ws, 6, 4, "金额（万元）", label=True, end_col=last)
        for row, (label, name) in enumerate((("财政资金（上级安排）", "fiscal_superior"),
                                              ("财政资金（本级安排）", "fiscal_local"),
                                              ("其他资金", "other"), ("合计", "total")), start=7):
            _put(ws, row, 2, label, label=True, end_col=3)
            _put(ws, row, 4, funds[name], end_col=last, money=True)
        header = 11
    else:
        _put(ws, 3, 1, "预算单位", label=True)
        _put(ws, 3, 2, data.unit.name, end_col=last)
        _put(ws, 4, 1, "项目名称", label=True)
        _put(ws, 4, 2, table.project.name, end_col=split)
        _put(ws, 4, split + 1, "项目负责人", label=True)
        _put(ws, 4, split + 2, lead_name(table), end_col=last)
        _put(ws, 5, 1, "项目资金（万元）", label=True)
        _put(ws, 5, 2, "年度预算总额", label=True)
        _put(ws, 5, 3, funds["total"], money=True)
        _put(ws, 5, 4, "其中：财政拨款", label=True)
        _put(ws, 5, 5, funds["fiscal"], money=True)
        _put(ws, 5, 6, "其他资金", label=True)
        _put(ws, 5, 7, funds["other"], end_col=last, money=True)
        _put(ws, 6, 1, "项目总体目标", label=True)
        _put(ws, 6, 2, table.overall_goal, end_col=last)
        goal_row = 6
        header = 7
    ws.row_dimensions[goal_row].height = max(45, 15 * wrapped_lines(table.overall_goal, goal_width))
    for col, (_, text, _) in enumerate(columns, start=1):
        _put(ws, header, col, text, label=True)
    ws.row_dimensions[header].height = 30

    rows = table.rows
    for offset, indicator in enumerate(rows):
        row = header + 1 + offset
        height = 1
        for col, (name, _, width) in enumerate(columns, start=1):
            if name == "weight":
                _put(ws, row, col, indicator.weight)
                continue
            value = _cell(indicator, name)
            if name in ("level1", "level2") and _same_group(rows, offset, name):
                value = None  # inside a merged 一级/二级 cell, as published
            _put(ws, row, col, value)
            height = max(height, wrapped_lines(value, width))
        ws.row_dimensions[row].height = max(20, 15 * height)
    for col, name in ((1, "level1"), (2, "level2")):
        for start, end in _groups(rows, name):
            if end > start:
                merge(ws, header + 1 + start, col, header + 1 + end, col)
    fit_to_width(ws, orientation="landscape")
    ws.print_title_rows = f"{header}:{header}"


def _key(row: Indicator, name: str) -> tuple[str, ...]:
    return (row.level1,) if name == "level1" else (row.level1, row.level2)


def _same_group(rows: list[Indicator], index: int, name: str) -> bool:
    return index > 0 and _key(rows[index - 1], name) == _key(rows[index], name)


def _groups(rows: list[Indicator], name: str) -> list[tuple[int, int]]:
    """(first, last) index of each run of rows with the same 一级 (or the same 一级 and 二级)."""
    groups: list[tuple[int, int]] = []
    for index in range(len(rows)):
        if _same_group(rows, index, name):
            groups[-1] = (groups[-1][0], index)
        else:
            groups.append((index, index))
    return groups
