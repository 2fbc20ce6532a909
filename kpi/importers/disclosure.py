"""部门预算公开 — reading the goal tables out of a budget disclosure's plain text. Pure Python, no Django.

Only the 项目支出绩效目标表 and the 部门整体绩效目标表 are read (domain.md §1); the rest of the document is
skipped. The text is what a PDF extractor gives, in one of the layouts seen so far:

- tab layout (2025, 2026): one table row per line, cells separated by tabs; the 2026 files add
  ``<b>``/``<p>`` tags and markdown headings (``## 项目支出绩效目标表``, ``-------\t---`` separators);
- cell-per-line layout (2021): each cell on its own line starting with a tab (an empty cell is a line
  with just a tab), rows separated by blank lines, only 一级 | 二级 | 三级 | 指标值.

The layout is decided per table, from its indicator header row. Cell positions come from that header
row, so a column the table does not publish (weights, rules) stays at its default.

What is tolerated: blank 一级/二级 cells (same as the row above), level names split by OCR spaces
(``满意 度指 标``), a row whose text wraps onto the next line (``满意度指`` + ``标``), a row shifted by a
missing level (``时效指标\t\t差额待遇发放时效``), a table continued after a page break (footer, separator
or repeated header row in between), thousands separators, and OCR spaces in names. Targets are kept as
published (whitespace collapsed): `kpi.targets.parse_target` reads them later; weight sums, targets and
rules are checked by `checks.finalize`, not here.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .parsed import PROJECT, UNIT, NotADisclosure, ParsedDocument, ParsedIndicator, ParsedTable

__all__ = ["parse_disclosure", "LEVEL1_NAMES", "LEVEL2_NAMES"]

# Level names seen in published tables. They are only used to repair shifted or wrapped rows: any other
# name is still read, as written.
LEVEL1_NAMES = frozenset({
    "产出指标", "成本指标", "效益指标", "满意度指标",  # project tables
    "履职效能", "管理效率", "服务对象满意度", "社会效应", "服务对象满意度指标",  # unit tables
})
LEVEL2_NAMES = frozenset({
    "数量指标", "质量指标", "时效指标", "成本指标", "经济成本指标", "社会成本指标", "生态环境成本指标",
    "社会效益指标", "经济效益指标", "生态效益指标", "可持续影响指标", "满意度指标", "服务对象满意度指标",
})
_LEVEL_NAMES = LEVEL1_NAMES | LEVEL2_NAMES
_LEVEL1_ONLY = LEVEL1_NAMES - LEVEL2_NAMES
_LEVEL2_ONLY = LEVEL2_NAMES - LEVEL1_NAMES

# Header labels → the field they fill. Keys are compacted (no spaces, colons, asterisks, (盖章), (万元)).
_TEXT_LABELS = {
    "预算单位": "unit", "部门名称": "unit", "单位名称": "unit", "部门（单位）名称": "unit", "部门(单位)名称": "unit",
    "项目名称": "project", "项目负责人": "lead", "部门联系人": "contact", "联系人": "contact", "联系电话": "phone",
    "项目总体目标": "goal", "年度绩效目标": "goal", "年度总体目标": "goal", "总体目标": "goal",
}
_MONEY_LABELS = {
    "年度预算总额": "total", "年度资金总额": "total", "资金总额": "total", "预算总额": "total", "合计": "total",
    "其中财政拨款": "fiscal", "财政拨款": "fiscal", "财政资金": "fiscal",
    "其他资金": "other", "其他": "other",
    "上级安排": "fiscal_superior", "本级安排": "fiscal_local",
}
_LABELS = {**_TEXT_LABELS, **_MONEY_LABELS}
_TOTAL_ROWS = frozenset({"合计", "总计", "总分", "小计"})  # a sum row under the indicators: not an indicator
_UNIT_MARKS = ("(盖章)", "（盖章）")

_TAG = re.compile(
    r"</?(?:b|p|br|strong|em|i|u|span|div|font|td|tr|th|table|thead|tbody|sup|sub)\b[^<>\t]*?/?>", re.IGNORECASE
)
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")  # never in real text (\t \n \r \v \f are)
_WS = re.compile(r"[\s\u3000\xa0]+")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u2018-\u201f\u2014\u2026"
_SPACE_NEAR_CJK = re.compile(rf" (?=[{_CJK}])|(?<=[{_CJK}]) ")
_TITLE = re.compile(r"(项目支出|整体支出|整体)绩效目标(?:申报)?表")
_SUBTITLE_YEAR = re.compile(r"^[(（]((?:19|20)\d\d)年度?[)）]$")
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")
_FOOTER = re.compile(r"^(?:[-—–_\s]*\d{1,4}[-—–_\s]*|第\s*\d+\s*页.*|\d+\s*/\s*\d+|page\s*\d+.*)$", re.IGNORECASE)
_SEPARATOR_CELL = re.compile(r"^:?-{2,}:?$")
_SECTION = re.compile(r"^(?:#|[(（][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十\d]+部分|[一二三四五六七八九十]+、)")
_INLINE_LABEL = re.compile(r"^([^:：]{2,12})[:：]\s*(\S.*)$")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse_disclosure(text: str, *, year: int | None = None, source: str = "") -> ParsedDocument:
    """Read every 项目支出绩效目标表 and 部门整体绩效目标表 of a disclosure text.

    `year` overrides the year read from the tables' ``(2026 年)`` subtitles or the document title;
    `source` is recorded on the document. Rows that cannot be placed become warnings naming the table
    and the 1-based source line. Raises `NotADisclosure` (message in Chinese) when the text holds no
    goal table at all: empty, binary-looking or unrelated text.
    """
    _refuse_non_text(text)
    lines = [_clean_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    reader = _Reader(lines)
    reader.read()
    if not reader.tables:
        if reader.titles_seen:
            raise NotADisclosure(
                "文件中提到了绩效目标表，但没有读到任何表格内容（预算单位、项目名称或指标行），无法导入。"
            )
        raise NotADisclosure("文件中没有找到“项目支出绩效目标表”或“部门整体绩效目标表”，不是部门预算公开文件。")
    return _document(reader, lines, year=year, source=source)


# --- the text, line by line ------------------------------------------------------------------------

def _refuse_non_text(text: str) -> None:
    if not text.strip():
        raise NotADisclosure("文件是空的：没有找到“项目支出绩效目标表”或“部门整体绩效目标表”，不是部门预算公开文件。")
    bad = len(_BAD_CONTROL.findall(text))
    if "\x00" in text or bad > len(text) // 100:
        raise NotADisclosure("文件含有大量控制字符，像是二进制文件，不是部门预算公开的文本。")


def _clean_line(line: str) -> str:
    """Drops what extraction leaves behind (tags, entities, page feeds, stray controls); keeps the tabs."""
    line = _BAD_CONTROL.sub("", line.replace("\f", "").replace("\v", "").replace("\ufeff", "").replace("\u200b", ""))
    line = _TAG.sub("", line)
    return html.unescape(line) if "&" in line else line


def _split_cells(line: str) -> list[str]:
    stripped = line.strip()
    if "\t" not in line and stripped.startswith("|") and stripped.count("|") >= 2:  # a markdown pipe table
        return [cell.strip() for cell in stripped.strip("|").split("|")]
    return [cell.strip() for cell in line.split("\t")]


@dataclass
class _Row:
    cells: list[str]
    line: int  # 1-based, where the row starts

    @property
    def filled(self) -> list[str]:
        return [cell for cell in self.cells if cell]

    def preview(self) -> str:
        text = " | ".join(_collapse(cell) for cell in self.filled)
        return text if len(text) <= 60 else text[:59] + "…"


# --- small text helpers ------------------------------------------------------------------------------

def _collapse(text: str) -> str:
    """Whitespace runs to one space: how targets are kept (`parse_target` reads OCR spaces itself)."""
    return _WS.sub(" ", text).strip()


def _tidy(text: str) -> str:
    """Collapse whitespace and drop the OCR spaces next to Chinese (``2026 年 4 月`` → ``2026年4月``)."""
    return _SPACE_NEAR_CJK.sub("", _collapse(text))


def _compact(text: str) -> str:
    """No whitespace or markdown emphasis: how level names, labels and titles are compared."""
    return _WS.sub("", text).replace("*", "")


def _label_key(cell: str) -> str:
    key = re.sub(r"[:：]", "", _compact(cell))
    for mark in (*_UNIT_MARKS, "(万元)", "（万元）"):
        key = key.replace(mark, "")
    return key


def _title_scope(text: str) -> str | None:
    """PROJECT / UNIT when the text is a goal-table title (not a sentence that mentions one)."""
    compact = _compact(text).lstrip("#-")
    match = _TITLE.search(compact)
    if not match or len(compact) > 40 or re.search(r"[。；;，,]", compact):
        return None
    return PROJECT if match.group(1) == "项目支出" else UNIT


def _subtitle_year(text: str) -> int | None:
    match = _SUBTITLE_YEAR.match(_compact(text))
    return int(match.group(1)) if match else None


def _decimal(text: str) -> Decimal | None:
    """``1,982.45`` → Decimal("1982.45"); None for blanks, ``/`` and anything that is not a number."""
    value = re.sub(r"[\s,，]", "", unicodedata.normalize("NFKC", text or "")).removesuffix("万元").removesuffix("分")
    if not _NUMBER.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        return None


def _join(head: str, tail: str) -> str:
    """Glue a wrapped cell back together (a space only between two latin words)."""
    if head and tail and head[-1].isascii() and head[-1].isalnum() and tail[0].isascii() and tail[0].isalnum():
        return f"{head} {tail}"
    return head + tail


def _looks_like_indicator(row: _Row) -> bool:
    filled = row.filled
    return len(filled) >= 3 and any(_compact(cell) in _LEVEL_NAMES for cell in filled[:2])


def _is_separator(filled: list[str]) -> bool:
    return all(_SEPARATOR_CELL.match(cell.replace(" ", "")) for cell in filled)


def _column_field(key: str) -> str | None:
    """Which ParsedIndicator field a header cell names (order matters: 指标值设置依据 is not 指标值)."""
    for word, name in (("一级", "level1"), ("二级", "level2"), ("三级", "name"), ("依据", "basis"),
                       ("上年", "last_year"), ("权重", "weight"), ("规则", "rule"), ("佐证", "evidence")):
        if word in key:
            return name
    if key in ("分值", "指标分值"):
        return "weight"
    if key.startswith("指标值") or key in ("年度指标值", "目标值"):
        return "target"
    return None


def _columns(keys: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, key in enumerate(keys):
        name = _column_field(key)
        if name and name not in columns:
            columns[name] = index
    return columns


def _is_column_header(keys: list[str]) -> bool:
    return "一级指标" in keys and "二级指标" in keys


def _labelled_values(cells: list[str]):
    """(field, raw value) for each header label in a row; the value is the next non-empty, non-label cell."""
    for index, cell in enumerate(cells):
        key, value = _label_key(cell), None
        if key not in _LABELS:
            inline = _INLINE_LABEL.match(_collapse(cell))  # "预算单位：XX" in one cell
            if not inline or _label_key(inline.group(1)) not in _LABELS:
                continue
            key, value = _label_key(inline.group(1)), inline.group(2)
        if value is None:
            following = next((c for c in cells[index + 1:] if c), None)
            value = None if following is None or _label_key(following) in _LABELS else following
        yield _LABELS[key], value


# --- one table being read ------------------------------------------------------------------------------

@dataclass
class _Table:
    table: ParsedTable
    year: int | None = None
    unit: str = ""
    columns: dict[str, int] | None = None  # from the indicator header row; None while in the header block
    width: int = 0  # number of header cells
    rows: list[_Row] = field(default_factory=list)  # indicator rows: realigned, wrapped lines merged
    partial: _Row | None = None  # cell-per-line layout: a row cut short (page break), waiting for its rest
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, message) until the label is known
    money_seen: set[str] = field(default_factory=set)

    def note(self, line: int, message: str) -> None:
        self.notes.append((line, message))

    def cell(self, row: _Row, name: str) -> str:
        index = (self.columns or {}).get(name)
        return row.cells[index] if index is not None and index < len(row.cells) else ""

    def label(self) -> str:
        if self.table.scope == PROJECT and not self.table.project:
            return f"第 {self.table.line} 行开始的项目支出绩效目标表"
        return self.table.label

    def has_content(self) -> bool:
        t = self.table
        return bool(self.rows or t.project or self.unit or t.total is not None or t.overall_goal)


class _Reader:
    """Walks the lines once: outside any table, in a table's header block, or in its indicator rows."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.tables: list[_Table] = []
        self.current: _Table | None = None
        self.cells_layout = False
        self.titles_seen = 0
        self.notes: list[str] = []  # document-level warnings

    def read(self) -> None:
        group: list[str] | None = None
        group_line = 0
        for number, line in enumerate(self.lines, 1):
            if self.cells_layout and line.startswith("\t"):
                if group is None:
                    group, group_line = [], number
                group.append(_collapse(line))
                continue
            if group is not None:  # a blank or any other line ends a row of cell lines
                self._row(_Row(group, group_line), plain=False)
                group = None
            if line.strip():
                cells = _split_cells(line)
                self._row(_Row(cells, number), plain=len(cells) == 1)
        if group is not None:
            self._row(_Row(group, group_line), plain=False)
        self._close()

    # -- dispatch --

    def _row(self, row: _Row, *, plain: bool) -> None:
        filled = row.filled
        if not filled or _is_separator(filled):
            return
        if len(filled) == 1 and self._single_cell(filled[0], row.line, plain):
            return
        if self.current is None:
            if _looks_like_indicator(row):
                self.notes.append(f"第 {row.line} 行：绩效目标表之外的指标行，已跳过：{row.preview()}")
            return
        if plain:  # prose inside a table (a note, a repeated page header): not part of it
            return
        self._table_row(row)

    def _single_cell(self, text: str, line: int, plain: bool) -> bool:
        """Titles, (2026 年) subtitles, page footers and section headings; True when the row was one."""
        scope = _title_scope(text)
        if scope:
            self._open(scope, line)
            return True
        year = _subtitle_year(text)
        if year:
            if self.current is not None and self.current.year is None:
                self.current.year = year
            return True
        if plain and _FOOTER.match(text):
            return True
        if plain and _SECTION.match(text.strip()):  # the next part of the document: the table is over
            self._close()
            return True
        return False

    def _open(self, scope: str, line: int) -> None:
        self._close()
        self.titles_seen += 1
        self.current = _Table(ParsedTable(scope=scope, line=line))
        self.cells_layout = self._cells_layout_after(line)

    def _cells_layout_after(self, start: int) -> bool:
        """Whether the table after this title has one cell per line (the 2021 layout)."""
        header_line = None
        for line in self.lines[start:start + 80]:
            compact = _compact(line)
            if _title_scope(line):
                break
            if "一级指标" in compact:
                return "二级指标" not in compact
            if header_line is None and any(w in compact for w in ("预算单位", "部门名称", "单位名称", "项目名称")):
                header_line = line
        return header_line is not None and len([c for c in _split_cells(header_line) if c]) < 2

    def _close(self) -> None:
        table, self.current, self.cells_layout = self.current, None, False
        if table is None:
            return
        if table.partial is not None:
            self._unplaceable(table, table.partial)
        if table.has_content():
            _finish(table)
            self.tables.append(table)

    # -- inside a table --

    def _table_row(self, row: _Row) -> None:
        table = self.current
        keys = [_label_key(cell) for cell in row.cells]
        if _is_column_header(keys):
            if table.columns is None:
                table.columns, table.width = _columns(keys), len(keys)
            return  # else the header repeated after a page break
        if table.columns is None:
            self._header_row(table, row)
            return
        first = _label_key(row.filled[0])
        if first in _TOTAL_ROWS:
            return
        if first in _LABELS:
            self._header_in_indicators(table, row)
            return
        self._indicator_row(table, row)

    def _header_row(self, table: _Table, row: _Row) -> None:
        if _looks_like_indicator(row):
            table.note(row.line, f"指标行出现在指标表头（一级指标、二级指标……）之前，已跳过：{row.preview()}")
            return
        for name, value in _labelled_values(row.cells):
            if value is not None:
                _assign(table, name, value)

    def _header_in_indicators(self, table: _Table, row: _Row) -> None:
        """A header block after indicator rows: repeated after a page break, or the next table under one title."""
        values = {name: _tidy(value) for name, value in _labelled_values(row.cells) if value}
        project, unit = values.get("project"), values.get("unit")
        if (project and project != table.table.project) or (unit and table.unit and unit != table.unit):
            self._open_next(table, row.line)
            self._header_row(self.current, row)

    def _open_next(self, table: _Table, line: int) -> None:
        cells_layout = self.cells_layout
        self._close()
        self.current = _Table(ParsedTable(scope=table.table.scope, line=line), year=table.year)
        self.cells_layout = cells_layout

    def _indicator_row(self, table: _Table, row: _Row) -> None:
        if self.cells_layout:
            row = self._completed(table, row)
            if row is None:
                return
        row = _Row(_realign(row.cells + [""] * (table.width - len(row.cells)), table.columns), row.line)
        if not table.cell(row, "target") and not table.cell(row, "weight"):
            if table.rows and _continues(table.rows[-1], row, table.columns):
                _merge(table.rows[-1], row)
                return
        if not table.cell(row, "name") or not table.cell(row, "target"):
            self._unplaceable(table, row)
            return
        table.rows.append(row)

    def _completed(self, table: _Table, row: _Row) -> _Row | None:
        """Cell-per-line layout: joins a row cut by a page break; holds a short row until its rest comes."""
        if table.partial is not None:
            joined = _Row(table.partial.cells + row.cells, table.partial.line)
            if len(joined.cells) <= table.width:
                row = joined
            else:
                self._unplaceable(table, table.partial)
            table.partial = None
        if len(_realign(row.cells, table.columns)) < table.width:
            table.partial = row
            return None
        if len(row.cells) > table.width:
            self._unplaceable(table, row)
            return None
        return row

    @staticmethod
    def _unplaceable(table: _Table, row: _Row) -> None:
        table.note(row.line, f"无法识别的指标行，已跳过：{row.preview()}")


def _assign(table: _Table, name: str, value: str) -> None:
    t = table.table
    if name in ("total", "fiscal", "other", "fiscal_superior", "fiscal_local"):
        amount = _decimal(value)
        if amount is not None and name not in table.money_seen:  # the first figure wins (headers repeat)
            table.money_seen.add(name)
            setattr(t, name, amount)
        return
    text = _tidy(value)
    if name == "unit":
        for mark in _UNIT_MARKS:
            text = text.replace(mark, "")
        table.unit = table.unit or text.strip()
    elif name == "project":
        t.project = t.project or text
    elif name == "lead":
        t.lead = t.lead or text
    elif name == "goal":
        t.overall_goal = t.overall_goal or text
    elif name == "contact":
        t.contact = t.contact or text
    elif name == "phone":
        t.phone = t.phone or text


def _realign(cells: list[str], columns: dict[str, int]) -> list[str]:
    """Puts level names back in their columns when a missing level shifted the row."""
    first, second = columns.get("level1"), columns.get("level2")
    if first is None or second != first + 1:
        return cells
    cells = cells + [""] * (second + 2 - len(cells))
    level1, level2, after = _compact(cells[first]), _compact(cells[second]), _compact(cells[second + 1])
    if level1 in _LEVEL2_ONLY and not level2:  # "时效指标\t\t…": the 一级 cell holds a 二级 name
        return cells[:first] + ["", cells[first]] + cells[second + 1:]
    if level1 in _LEVEL2_ONLY and level2 not in _LEVEL_NAMES:  # the 一级 cell is missing altogether
        return cells[:first] + [""] + cells[first:]
    if not level1 and level2 in _LEVEL1_ONLY and after in LEVEL2_NAMES:
        return cells[:first] + cells[second:]  # one cell too many in front
    return cells


def _continues(previous: _Row, row: _Row, columns: dict[str, int]) -> bool:
    """Whether a row without target and weight is the wrapped end of the previous row (``标\t标``)."""
    level_columns = {columns.get("level1"), columns.get("level2")}
    known = set(columns.values())
    for index, fragment in enumerate(row.cells):
        if not fragment:
            continue
        before = previous.cells[index] if index < len(previous.cells) else ""
        if index not in known or not before:
            return False
        if index in level_columns:
            head = _compact(before)
            if head in _LEVEL_NAMES and head + _compact(fragment) not in _LEVEL_NAMES:
                return False  # the level above is complete: this is a row of its own
    return True


def _merge(previous: _Row, row: _Row) -> None:
    for index, fragment in enumerate(row.cells):
        if fragment:
            previous.cells[index] = _join(previous.cells[index], fragment)


# --- finishing a table ------------------------------------------------------------------------------------

def _finish(table: _Table) -> None:
    """Builds the indicators (carrying blank levels down) and turns the notes into labelled warnings."""
    t = table.table
    t.indicators = [_indicator(table, row, carried) for row, carried in _with_levels(table)]
    if t.scope == UNIT and t.fiscal is None and (t.fiscal_superior is not None or t.fiscal_local is not None):
        t.fiscal = (t.fiscal_superior or Decimal(0)) + (t.fiscal_local or Decimal(0))
    if t.scope == PROJECT and not t.project:
        table.note(t.line, "没有找到项目名称。")
    label = table.label()
    t.warnings = [f"{label}第 {line} 行：{message}" for line, message in sorted(table.notes, key=lambda n: n[0])]


def _with_levels(table: _Table):
    """Each indicator row with its (level1, level2): a blank cell means "same as the row above"."""
    above1 = above2 = ""
    for row in table.rows:
        level1, level2 = _compact(table.cell(row, "level1")), _compact(table.cell(row, "level2"))
        name = _tidy(table.cell(row, "name"))
        if not level1:
            level1, level2 = above1, level2 or above2
            if not level1:
                table.note(row.line, f"指标“{name}”没有一级指标。")
        elif not level2:
            if level1 == above1:
                level2 = above2
            elif level1 in LEVEL2_NAMES:  # 满意度指标 / 成本指标 are both levels' names
                level2 = level1
            else:
                table.note(row.line, f"指标“{name}”没有二级指标。")
        above1, above2 = level1, level2
        yield row, (level1, level2)


def _indicator(table: _Table, row: _Row, levels: tuple[str, str]) -> ParsedIndicator:
    weight = None
    if table.columns and "weight" in table.columns:
        raw = _collapse(table.cell(row, "weight"))
        weight = _decimal(raw)
        if weight is None and raw not in ("", "/", "-", "—", "无"):
            table.note(row.line, f"分值权重“{raw}”不是数字，未读取。")
    return ParsedIndicator(
        level1=levels[0],
        level2=levels[1],
        name=_tidy(table.cell(row, "name")),
        target=_collapse(table.cell(row, "target")),
        basis=_tidy(table.cell(row, "basis")),
        last_year=_collapse(table.cell(row, "last_year")),
        weight=weight,
        rule=_tidy(table.cell(row, "rule")),
        evidence=_tidy(table.cell(row, "evidence")),
        line=row.line,
    )


# --- the document -----------------------------------------------------------------------------------------

def _document(reader: _Reader, lines: list[str], *, year: int | None, source: str) -> ParsedDocument:
    units = [table.unit for table in reader.tables if table.unit]
    unit = units[0] if units else ""
    for table in reader.tables:
        if table.unit and table.unit != unit:
            table.table.warnings.append(f"{table.label()}：预算单位“{table.unit}”与文件的预算单位“{unit}”不同，请核对。")
    warnings = list(reader.notes)
    table_years = sorted({table.year for table in reader.tables if table.year is not None})
    if year is None and len(table_years) > 1:
        warnings.append(f"各表的年度不一致（{'、'.join(map(str, table_years))}），按第一张表的年度导入。")
    if year is None:
        first = next((table.year for table in reader.tables if table.year is not None), None)
        year = first if first is not None else _title_year(lines)
    return ParsedDocument(
        unit=unit, year=year, tables=[table.table for table in reader.tables], warnings=warnings, source=source
    )


def _title_year(lines: list[str]) -> int | None:
    """The year of the document title (``2025 年单位预算公开``), from its first lines."""
    head = [line for line in lines[:80] if line.strip()]
    for line in head:
        match = _YEAR.search(line)
        if match and "预算" in line:
            return int(match.group(1))
    for line in head[:10]:
        match = _YEAR.match(line.strip().lstrip("#* "))
        if match:
            return int(match.group(1))
    return None
