"""部门预算公开 — reading the goal tables out of a budget disclosure's plain text. Pure Python, no Django.

Only the 项目支出绩效目标表 and the 部门整体绩效目标表 are read (domain.md §1), whatever they are titled
(…绩效目标表, …绩效目标申报表, …绩效目标批复表); the rest of the document is skipped. The text is what a
PDF extractor gives, in one of the layouts seen so far:

- tab layout (2025, 2026): one table row per line, cells separated by tabs; the 2026 files add
  ``<b>``/``<p>`` tags and markdown headings (``## 项目支出绩效目标表``, ``-------\\t---`` separators);
- space layout: the same rows with runs of spaces (two or more, or an ideographic space) between cells;
- cell-per-line layout (2021): each cell on its own line (starting with a tab, or not), rows separated
  by blank lines; an empty cell is a line with just a tab, or is left out.

The layout is decided per table, from its indicator header row. Cell positions come from that header
row, so a column the table does not publish (weights, rules) stays at its default; a 计量单位 or 指标性质
column is read too (`ParsedIndicator.unit`, `.direction`).

Each table stands alone: what cannot be read in it is an error of that table (`ParsedTable.errors`: no
项目名称, no indicator header, an indicator whose 一级 cannot be told), and the other tables still read.
Rows that cannot be placed are warnings naming the table and the 1-based source line.

What is tolerated:

- cells out of place: a row missing a cell (a blank 二级 left out, so everything shifts left), one too
  many, or a row whose cells are separated by spaces, is realigned by what the cells hold — rule names
  are a closed list, weights are numbers, 指标值设置依据 and 佐证资料 have their words, targets parse;
- blank 一级/二级 cells (same as the row above); a blank 一级 with nothing above, or under a 一级 that
  cannot hold its 二级, is inferred from the 二级 (`checks.infer_level1`), with a warning; a row holding
  only 一级 and 二级 sets them for the rows that follow;
- a row that wraps onto the next line, even across a blank line (``满意度指`` + ``标``, a target ``>``
  continued by ``=98%``), a table continued after a page break (footer, separator or repeated header
  row in between);
- level names split by OCR spaces (``满意 度指 标``), a damaged header label recognised by similarity
  when only one label is that close (``项目各称`` → 项目名称, with a warning), the unit named in a line
  such as ``单位名称：…`` above the table, thousands separators, money with up to 4 decimals kept as
  published (``438.768``).

Targets are kept as published (whitespace collapsed): `kpi.targets.parse_target` reads them later; weight
sums, targets, rules and the comparator or unit published beside a target are handled by
`checks.finalize`, not here.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from kpi.scoring import Rule
from kpi.targets import Kind, looks_like_unit, parse_target

from .checks import DIRECTIONS, infer_level1, level1_conflicts
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
_LEVEL_PREFIXES = frozenset(name[:end] for name in _LEVEL_NAMES for end in range(2, len(name)))

# Header labels → the field they fill. Keys are compacted (no spaces, colons, asterisks, (盖章), (万元)).
_TEXT_LABELS = {
    "预算单位": "unit", "部门名称": "unit", "单位名称": "unit", "部门（单位）名称": "unit", "部门(单位)名称": "unit",
    "预算单位名称": "unit", "实施单位": "unit",
    "项目名称": "project", "项目负责人": "lead", "部门联系人": "contact", "联系人": "contact", "联系电话": "phone",
    "项目总体目标": "goal", "年度绩效目标": "goal", "年度总体目标": "goal", "总体目标": "goal",
    "项目年度总体目标": "goal", "部门年度绩效目标": "goal",
}
_MONEY_LABELS = {
    "年度预算总额": "total", "年度资金总额": "total", "资金总额": "total", "预算总额": "total", "合计": "total",
    "项目资金总额": "total",
    "其中财政拨款": "fiscal", "财政拨款": "fiscal", "财政资金": "fiscal", "其中本年财政拨款": "fiscal",
    "本年财政拨款": "fiscal",
    "其他资金": "other", "其他": "other",
    "上级安排": "fiscal_superior", "本级安排": "fiscal_local",
}
_LABELS = {**_TEXT_LABELS, **_MONEY_LABELS}
_MONEY_FIELDS = ("total", "fiscal", "other", "fiscal_superior", "fiscal_local")
_MONEY_NAMES = {"total": "年度预算总额", "fiscal": "财政拨款", "other": "其他资金", "fiscal_superior": "上级安排",
                "fiscal_local": "本级安排"}
_FUZZY_LABELS = [key for key in _LABELS if len(key) >= 4]
_TOTAL_ROWS = frozenset({"合计", "总计", "总分", "小计"})  # a sum row under the indicators: not an indicator
_UNIT_MARKS = ("(盖章)", "（盖章）")
_MONEY_PLACES = 4  # money keeps the decimals it was published with, up to this many

_TAG = re.compile(
    r"</?(?:b|p|br|strong|em|i|u|span|div|font|td|tr|th|table|thead|tbody|sup|sub)\b[^<>\t]*?/?>", re.IGNORECASE
)
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # never in real text (\t \n \r \v \f are)
_WS = re.compile(r"[\s\u3000\xa0]+")
_CELL_GAP = re.compile(r"[ \xa0]{2,}|[ \xa0]*\u3000[\s\u3000\xa0]*")  # the space layout's cell separator
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u2018-\u201f\u2014\u2026"
_SPACE_NEAR_CJK = re.compile(rf" (?=[{_CJK}])|(?<=[{_CJK}]) ")
_TITLE = re.compile(r"(项目支出|部门整体支出|部门整体|整体支出|整体|项目)?绩效目标(?:申报|批复|审核|审批)?表")
_SUBTITLE_YEAR = re.compile(r"^[(（]((?:19|20)\d\d)年度?[)）]$")
_YEAR = re.compile(r"((?:19|20)\d\d)\s*年")
_FOOTER = re.compile(r"^(?:[-—–_\s]*\d{1,4}[-—–_\s]*|第\s*\d+\s*页.*|\d+\s*/\s*\d+|page\s*\d+.*)$", re.IGNORECASE)
_SEPARATOR_CELL = re.compile(r"^:?-{2,}:?$")
_SECTION = re.compile(r"^(?:#|[(（][一二三四五六七八九十]+[)）]|第[一二三四五六七八九十\d]+部分|[一二三四五六七八九十]+、)")
_INLINE_LABEL = re.compile(r"^([^:：]{2,12})[:：]\s*(\S.*)$")
_NEXT_INLINE_LABEL = re.compile(r"\s+[^\s:：]{2,8}[:：]")  # "某某局 金额单位：万元": the next label in a line
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_HEADER_WORDS = "一级指标、二级指标、三级指标、指标值"


def parse_disclosure(text: str, *, year: int | None = None, source: str = "") -> ParsedDocument:
    """Read every 项目支出绩效目标表 and 部门整体绩效目标表 of a disclosure text.

    `year` overrides the year read from the tables' ``(2026 年)`` subtitles or the document title;
    `source` is recorded on the document. What cannot be read in a table is an error of that table; rows
    that cannot be placed become warnings naming the table and the 1-based source line. Raises
    `NotADisclosure` (message in Chinese, saying what was found and what was missing) when the text holds
    no readable goal table at all: empty, binary-looking, unrelated text or a layout not recognised.
    """
    _refuse_non_text(text)
    lines = [_clean_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    reader = _Reader(lines)
    reader.read()
    if not any(table.columns is not None for table in reader.tables):
        raise NotADisclosure(reader.why_nothing())
    return _document(reader, lines, year=year, source=source)


# --- the text, line by line ------------------------------------------------------------------------

def _refuse_non_text(text: str) -> None:
    if not text.strip():
        raise NotADisclosure("文件是空的：没有找到“项目支出绩效目标表”或“部门整体绩效目标表”，不是部门预算公开文件。")
    bad = len(_BAD_CONTROL.findall(text))
    replaced = text.count("\ufffd")
    if "\x00" in text or bad > len(text) // 100 or replaced > max(10, len(text) // 10):
        raise NotADisclosure("文件含有大量控制字符，像是二进制文件，不是部门预算公开的文本。")


def _clean_line(line: str) -> str:
    """Drops what extraction leaves behind (tags, entities, page feeds, stray controls); keeps the tabs.

    A U+FFFD (a byte the decoder could not read) is kept: the cell it damaged shows it.
    """
    line = _BAD_CONTROL.sub("", line.replace("\f", "").replace("\v", "").replace("\ufeff", "").replace("\u200b", ""))
    line = _TAG.sub("", line)
    return html.unescape(line) if "&" in line else line


def _split_cells(line: str) -> list[str]:
    stripped = line.strip()
    if "\t" not in line and stripped.startswith("|") and stripped.count("|") >= 2:  # a markdown pipe table
        return [cell.strip() for cell in stripped.strip("|").split("|")]
    return [cell.strip() for cell in line.split("\t")]


def _split_spaced(line: str) -> list[str]:
    """The cells of a line laid out with runs of spaces (one space stays inside a cell: OCR spaces)."""
    return [cell for cell in (c.strip() for c in _CELL_GAP.split(line.strip())) if cell]


@dataclass
class _Row:
    cells: list[str]
    line: int  # 1-based, where the row starts
    spaced: bool = False  # cells separated by spaces: their positions say nothing, their contents do
    levels_only: bool = False  # only 一级/二级: sets them for the rows that follow
    used: bool = False  # (levels_only) a following row took its levels

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


@lru_cache(maxsize=8192)
def _label_key(cell: str) -> str:
    key = re.sub(r"[:：]", "", _compact(cell))
    for mark in (*_UNIT_MARKS, "(万元)", "（万元）"):
        key = key.replace(mark, "")
    return key


@lru_cache(maxsize=4096)
def _fuzzy_label(key: str) -> str | None:
    """The one header label a damaged cell is a character away from (``项目各称`` → 项目名称), or None."""
    if len(key) < 4 or len(key) > 8 or key in _LABELS or not re.search(f"[{_CJK}]", key):
        return None
    close = [label for label in _FUZZY_LABELS
             if len(label) == len(key) and sum(a != b for a, b in zip(label, key)) == 1]
    return close[0] if len(close) == 1 else None


def _title_scope(text: str) -> str | None:
    """PROJECT / UNIT / "" (not said) when the text is a goal-table title, None when it is not one."""
    compact = _compact(text).lstrip("#-")
    match = _TITLE.search(compact)
    if not match or len(compact) > 40 or re.search(r"[。；;，,]", compact):
        return None
    if "自评" in compact or "监控" in compact:
        return None
    kind = match.group(1) or ""
    if "整体" in kind:
        return UNIT
    return PROJECT if "项目" in kind else ""


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
    if len(key) > 20:
        return None
    for word, name in (("一级", "level1"), ("二级", "level2"), ("三级", "name"), ("依据", "basis"),
                       ("上年", "last_year"), ("权重", "weight"), ("规则", "rule"), ("佐证", "evidence"),
                       ("性质", "direction"), ("方向", "direction"), ("符号", "direction"),
                       ("计量单位", "unit"), ("度量单位", "unit")):
        if word in key:
            return name
    if key in ("分值", "指标分值"):
        return "weight"
    if key in ("单位", "指标单位", "指标值单位"):
        return "unit"
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
    if "一级指标" in keys and "二级指标" in keys:
        return True
    if not any("一级" in key for key in keys):
        return False
    found = _columns(keys)  # a damaged header (一级指际): the words still say which column is which
    return {"level1", "level2", "name", "target"} <= set(found) and all(
        len(keys[found[name]]) <= 8 for name in ("level1", "level2", "name"))


def _labelled_values(cells: list[str], fuzzy: list[tuple[str, str]] | None = None):
    """(field, raw value, label) for each header label in a row; the value is the next non-empty, non-label cell.

    A cell taken as a label's value is never a label itself. With `fuzzy`, a damaged label is recognised
    when only one label is a character away; (damaged, label) pairs are appended to `fuzzy`.
    """
    taken: set[int] = set()
    for index, cell in enumerate(cells):
        if index in taken or not cell:
            continue
        key, value = _label_key(cell), None
        if key not in _LABELS:
            inline = _INLINE_LABEL.match(_collapse(cell))  # "预算单位：XX" in one cell
            if inline and _label_key(inline.group(1)) in _LABELS:
                key = _label_key(inline.group(1))
                value = _NEXT_INLINE_LABEL.split(inline.group(2), maxsplit=1)[0]
            elif fuzzy is not None and (near := _fuzzy_label(key)):
                fuzzy.append((_collapse(cell), near))
                key = near
            else:
                continue
        if value is None:
            following = next(((i, c) for i, c in enumerate(cells[index + 1:], index + 1) if c), None)
            if following is not None and _label_key(following[1]) not in _LABELS:
                value = following[1]
                taken.add(following[0])
        yield _LABELS[key], value, key


# --- what a cell holds: the realignment of shifted rows ---------------------------------------------------

_RULE_NAMES = frozenset(rule.value for rule in Rule)
_BASIS_WORDS = frozenset({
    "计划标准", "行业标准", "历史标准", "预算支出标准", "其他标准", "国家标准", "地方标准", "省级标准", "自治区标准",
    "自定义", "自定义标准", "财政部门公布的标准", "其他", "计划", "行业", "历史", "年度计划", "工作计划",
    "上年完成值", "上年实际", "历史数据", "政策文件", "政策标准", "标准", "相关文件",
})
_EVIDENCE_ENDINGS = ("资料", "材料", "凭证", "报表", "台账", "纪要", "问卷", "报告", "记录", "清单", "照片", "截图",
                     "合同", "发票", "名册", "回单", "调查表", "统计表", "数据", "文件", "图片", "总结")
_PART = re.compile(r"[,，、;；/和及]+")
_BLANK_MARKS = frozenset({"/", "／", "-", "—", "——", "--", "\\", "无", "空"})

# cost of a cell of this type in this column; IMPOSSIBLE or more: the row is out of place
_IMPOSSIBLE = 5
_COSTS: dict[str | None, dict[str, float]] = {
    "level1": {"level1": 0, "level": 0, "levelish": 0, "levelpart": 0.5, "level2": 4, "text": 3, "qual": 3,
               "default": 9},
    "level2": {"level2": 0, "level": 0, "levelish": 0, "levelpart": 0.5, "level1": 4, "text": 3, "qual": 3,
               "default": 9},
    "name": {"text": 0, "qual": 1, "target": 2, "levelpart": 2, "basis": 3, "evidence": 3, "unit": 3, "levelish": 3,
             "level1": 4, "level2": 4, "level": 4, "number": 4, "direction": 6, "slash": 6, "rule": 9, "default": 6},
    "target": {"target": 0, "qual": 0, "number": 1, "direction": 1, "text": 2, "levelpart": 3, "slash": 3, "unit": 4,
               "rule": 9, "default": 6},
    "basis": {"basis": 0, "text": 1, "slash": 1, "qual": 2, "evidence": 3, "target": 4, "number": 5, "rule": 9,
              "default": 6},
    "last_year": {"target": 0, "slash": 0, "number": 0, "qual": 1, "text": 2, "rule": 9, "default": 5},
    "weight": {"number": 0, "slash": 1, "default": 9},
    "rule": {"rule": 0, "slash": 2, "text": 4, "qual": 4, "default": 9},
    "evidence": {"evidence": 0, "slash": 1, "text": 1, "qual": 2, "basis": 3, "rule": 9, "default": 6},
    "unit": {"unit": 0, "slash": 1, "text": 4, "qual": 4, "default": 9},
    "direction": {"direction": 0, "slash": 1, "default": 9},
    None: {"default": 1},  # a column the table has and Jixiao does not read (指标解释, 绩效指标 …)
}
_SKIP_COLUMN = 0.5  # a column left empty
_DROP_BLANK = 0.3  # an empty cell too many
_DROP_CELL = 20.0  # a cell with text that fits nowhere
_JOIN = 2.0  # two lines of one wrapped cell (cell-per-line and space layouts)


@lru_cache(maxsize=8192)  # the same cells (计划标准, /, 按照完成比例赋分) come back on every row
def _cell_type(cell: str) -> str:
    """What a cell holds, for the realignment: blank, level1/level2/level(both)/levelish/levelpart, rule, number,
    slash (a blank mark), basis, evidence, direction, unit, target, qual (a short text target) or text."""
    compact = _compact(cell)
    if not compact:
        return "blank"
    if compact in _LEVEL_NAMES:
        return "level" if compact in LEVEL1_NAMES and compact in LEVEL2_NAMES else (
            "level1" if compact in LEVEL1_NAMES else "level2")
    if compact.endswith("指标") and len(compact) <= 8:
        return "levelish"
    if compact in _LEVEL_PREFIXES:
        return "levelpart"  # "满意", "满意度指": a level name wrapped onto the next line
    if compact in _BLANK_MARKS:
        return "slash"
    if compact in _RULE_NAMES or compact.replace("按完成", "按照完成") in _RULE_NAMES or (
            len(compact) <= 10 and compact.endswith(("赋分", "打分", "计分", "评分"))):
        return "rule"
    if _decimal(compact) is not None:
        return "number"
    if compact in DIRECTIONS:
        return "direction"
    parts = [p for p in _PART.split(compact) if p]
    if parts and all(p in _BASIS_WORDS or (p.endswith("标准") and len(p) <= 10) for p in parts):
        return "basis"
    if compact.startswith("《"):
        return "basis"
    if parts and all(p.endswith(_EVIDENCE_ENDINGS) and len(p) <= 10 for p in parts):
        return "evidence"
    if looks_like_unit(compact):
        return "unit"
    kind = parse_target(cell).kind
    if kind in (Kind.POSITIVE, Kind.REVERSE, Kind.EQUALS, Kind.RANGE, Kind.DEADLINE):
        return "target"
    if kind is Kind.QUALITATIVE and len(compact) <= 8:
        return "qual"
    return "text"


def _cost(kind: str, name: str | None) -> float:
    if kind == "blank":
        return 0
    costs = _COSTS[name]
    return costs.get(kind, costs["default"])


def _align(cells: list[str], fields: list[str | None], *, join: bool) -> tuple[list[str], float]:
    """The cells placed in the columns by what they hold, keeping their order: (cells by column, cost).

    A column may stay empty, an empty cell may be dropped, and with `join` two consecutive cells may be
    one wrapped cell. The cheapest placement wins (dynamic programming over cells × columns).
    """
    n, m = len(cells), len(fields)
    kinds = [_cell_type(cell) for cell in cells]
    inf = float("inf")
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    step: list[list[tuple[int, int, str] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if here == inf:
                continue
            moves = []
            if i < n and j < m:
                moves.append((i + 1, j + 1, "put", _cost(kinds[i], fields[j])))
            if j < m:
                moves.append((i, j + 1, "skip", _SKIP_COLUMN))
            if i < n:
                moves.append((i + 1, j, "drop", _DROP_BLANK if kinds[i] == "blank" else _DROP_CELL))
            if join and i + 1 < n and j < m and kinds[i] != "blank" and kinds[i + 1] != "blank":
                joined = _join(cells[i], cells[i + 1])
                # a whole target or number is a cell of its own, unless it completes a comparator ("≥" + "95%")
                apart = kinds[i + 1] in ("target", "number") and kinds[i] != "direction"
                moves.append((i + 2, j + 1, "join", _cost(_cell_type(joined), fields[j]) + _JOIN + 3 * apart))
            for ni, nj, move, cost in moves:
                if here + cost < best[ni][nj]:
                    best[ni][nj] = here + cost
                    step[ni][nj] = (i, j, move)
    placed = [""] * m
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj, move = step[i][j]
        if move == "put":
            placed[pj] = cells[pi]
        elif move == "join":
            placed[pj] = _join(cells[pi], cells[pi + 1])
        i, j = pi, pj
    return placed, best[n][m]


def _worst(cells: list[str], fields: list[str | None]) -> float:
    """The cost of the most out-of-place cell when each cell stays in its column."""
    return max((_cost(_cell_type(cell), name) for cell, name in zip(cells, fields)), default=0)


# --- one table being read ------------------------------------------------------------------------------

@dataclass
class _Table:
    table: ParsedTable
    year: int | None = None
    unit: str = ""
    scope_said: bool = True  # the title said which table this is (a bare 绩效目标申报表 does not)
    department: bool = False  # a 部门名称 label was read (a unit table, when the title did not say)
    columns: dict[str, int] | None = None  # from the indicator header row; None while in the header block
    width: int = 0  # number of header cells
    spaced: bool = False  # the indicator header row was laid out with spaces
    rows: list[_Row] = field(default_factory=list)  # indicator rows: realigned, wrapped lines merged
    partial: _Row | None = None  # cell-per-line layout: a row cut short (page break), waiting for its rest
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, message) until the label is known
    faults: list[tuple[int, str]] = field(default_factory=list)  # (line, message): errors of the table
    money_seen: set[str] = field(default_factory=set)
    header_seen: bool = False  # a 预算单位/项目名称… label was read

    def note(self, line: int, message: str) -> None:
        self.notes.append((line, message))

    def fault(self, line: int, message: str) -> None:
        self.faults.append((line, message))

    @property
    def fields(self) -> list[str | None]:
        by_index = {index: name for name, index in (self.columns or {}).items()}
        return [by_index.get(index) for index in range(self.width)]

    def cell(self, row: _Row, name: str) -> str:
        index = (self.columns or {}).get(name)
        return row.cells[index] if index is not None and index < len(row.cells) else ""

    def label(self) -> str:
        return self.table.label

    def has_content(self) -> bool:
        t = self.table
        return bool(self.rows or t.project or self.unit or t.total is not None or t.overall_goal or self.columns)


class _Reader:
    """Walks the lines once: outside any table, in a table's header block, or in its indicator rows."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.tables: list[_Table] = []
        self.current: _Table | None = None
        self.cells_layout: str | None = None  # "tab" / "plain" for the cell-per-line layout
        self.titles: list[tuple[int, str]] = []  # (line, title as written)
        self.headers_outside: list[int] = []  # indicator header rows seen outside any table
        self.pending_unit = ""  # "单位名称：…" above a table
        self.notes: list[str] = []  # document-level warnings

    # -- the lines --

    def read(self) -> None:
        group: list[str] | None = None
        group_line = 0
        for number, line in enumerate(self.lines, 1):
            if self.cells_layout and self._is_cell_line(line):
                if group is None:
                    group, group_line = [], number
                group.append(_collapse(line))
                continue
            if group is not None:  # a blank or any other line ends a row of cell lines
                self._row(_Row(group, group_line), plain=False)
                group = None
            if not line.strip():
                continue
            if "\t" not in line and self._single_cell(line.strip(), number, plain=True):
                continue
            cells = _split_cells(line)
            if len(cells) == 1 and (spaced := _split_spaced(line)) and len(spaced) > 1:
                self._row(_Row(spaced, number, spaced=True), plain=False)
            else:
                self._row(_Row(cells, number), plain=len(cells) == 1)
        if group is not None:
            self._row(_Row(group, group_line), plain=False)
        self._close()

    def _is_cell_line(self, line: str) -> bool:
        if line.startswith("\t"):
            return True
        if self.cells_layout != "plain" or not line.strip() or "\t" in line:
            return False
        text = line.strip()
        return not (_title_scope(text) is not None or _subtitle_year(text) or _FOOTER.match(text)
                    or _SECTION.match(text))

    # -- dispatch --

    def _row(self, row: _Row, *, plain: bool) -> None:
        filled = row.filled
        if not filled or _is_separator(filled):
            return
        if len(filled) == 1 and self._single_cell(filled[0], row.line, plain):
            return
        if self.current is None:
            self._outside(row)
            return
        if plain:
            self._plain(row)
            return
        if row.spaced and not self.current.spaced and self.current.columns is not None and len(filled) < 3:
            return  # prose with wide spaces inside a tab table: not part of it
        self._table_row(row)

    def _outside(self, row: _Row) -> None:
        keys = [_label_key(cell) for cell in row.cells]
        if _is_column_header(keys):
            self.headers_outside.append(row.line)
        elif _looks_like_indicator(row) and not row.spaced:
            self.notes.append(f"第 {row.line} 行：绩效目标表之外的指标行，已跳过：{row.preview()}")
        for name, value, _ in _labelled_values(row.cells):
            if name == "unit" and value:
                self.pending_unit = _unit_name(value)

    def _plain(self, row: _Row) -> None:
        """Prose inside a table (a note, a repeated page header) is not part of it; a header label with its
        value in one line (``单位名称：某某局``) is."""
        table = self.current
        if table.columns is None and _INLINE_LABEL.match(_collapse(row.cells[0])):
            self._header_row(table, _Row(row.cells, row.line))

    def _single_cell(self, text: str, line: int, plain: bool) -> bool:
        """Titles, (2026 年) subtitles, page footers and section headings; True when the row was one."""
        scope = _title_scope(text)
        if scope is not None:
            self._open(scope, line, text)
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

    def _open(self, scope: str, line: int, title: str) -> None:
        self._close()
        self.titles.append((line, _compact(title).lstrip("#-")))
        self.current = _Table(ParsedTable(scope=scope or PROJECT, line=line), scope_said=bool(scope))
        if match := _YEAR.search(_compact(title)):
            self.current.year = int(match.group(1))
        self.cells_layout = self._cells_layout_after(line)

    def _cells_layout_after(self, start: int) -> str | None:
        """"tab"/"plain" when the table after this title has one cell per line (the 2021 layout), else None."""
        header_line = None
        for line in self.lines[start:start + 80]:
            compact = _compact(line)
            if _title_scope(line) is not None:
                break
            if "一级指标" in compact:
                if "二级指标" in compact:
                    return None
                return "tab" if line.startswith("\t") else "plain"
            if header_line is None and any(w in compact for w in ("预算单位", "部门名称", "单位名称", "项目名称")):
                header_line = line
        if header_line is None or len([c for c in _split_cells(header_line) if c]) >= 2:
            return None
        return "tab" if header_line.startswith("\t") else "plain"

    def _close(self) -> None:
        table, self.current, self.cells_layout = self.current, None, None
        if table is None:
            return
        if table.partial is not None:
            self._flush_partial(table)
        if table.has_content():
            _finish(table, self.pending_unit)
            self.tables.append(table)

    def why_nothing(self) -> str:
        """The one message for a document without a readable table: what was found, what was missing."""
        if self.titles:
            line, title = self.titles[0]
            found = f"找到了“{title}”标题（第 {line} 行）"
            started = [t for t in self.tables if t.header_seen]
            if started:
                return f"{found}，但没有找到指标表头（{_HEADER_WORDS}），无法读取指标。"
            return (f"{found}，但没有读到任何表格内容：没有找到表头（预算单位、项目名称）和指标表头"
                    f"（{_HEADER_WORDS}）。")
        if self.headers_outside:
            return (f"找到了指标表头（第 {self.headers_outside[0]} 行：{_HEADER_WORDS}），但没有找到"
                    f"“项目支出绩效目标表”或“部门整体绩效目标表”标题，无法确定是哪一张表。")
        return "文件中没有找到“项目支出绩效目标表”或“部门整体绩效目标表”，不是部门预算公开文件。"

    # -- inside a table --

    def _table_row(self, row: _Row) -> None:
        table = self.current
        keys = [_label_key(cell) for cell in row.cells]
        if _is_column_header(keys):
            if table.columns is None:
                table.columns, table.width, table.spaced = _columns(keys), len(keys), row.spaced
            return  # else the header repeated after a page break
        if table.columns is None:
            self._header_row(table, row)
            return
        first = _label_key(row.filled[0])
        if first in _TOTAL_ROWS:
            return
        if first in _LABELS or (_fuzzy_label(first) and len(row.filled) <= 8 and not _looks_like_indicator(row)):
            self._header_in_indicators(table, row)
            return
        self._indicator_row(table, row)

    def _header_row(self, table: _Table, row: _Row) -> None:
        if _looks_like_indicator(row):
            table.note(row.line, f"指标行出现在指标表头（一级指标、二级指标……）之前，已跳过：{row.preview()}")
            return
        fuzzy: list[tuple[str, str]] = []
        for name, value, key in _labelled_values(row.cells, fuzzy):
            table.header_seen = True
            if key.startswith("部门") or name in ("contact", "phone"):
                table.department = True
            if value is not None:
                _assign(table, name, value, row.line, key)
        for damaged, label in fuzzy:
            table.note(row.line, f"表头“{damaged}”按“{label}”读取（疑为识别错误），请核对。")

    def _header_in_indicators(self, table: _Table, row: _Row) -> None:
        """A header block after indicator rows: repeated after a page break, or the next table under one title."""
        values = {name: _tidy(value) for name, value, _ in _labelled_values(row.cells, []) if value}
        project, unit = values.get("project"), values.get("unit")
        if (project and project != table.table.project) or (unit and table.unit and _unit_name(unit) != table.unit):
            self._open_next(table, row.line)
            self._header_row(self.current, row)

    def _open_next(self, table: _Table, line: int) -> None:
        cells_layout = self.cells_layout
        self._close()
        self.current = _Table(ParsedTable(scope=table.table.scope, line=line), year=table.year,
                              scope_said=table.scope_said)
        self.cells_layout = cells_layout

    def _indicator_row(self, table: _Table, row: _Row) -> None:
        if self.cells_layout:
            row = self._completed(table, row)
            if row is None:
                return
        if not row.spaced and (not self.cells_layout or len(row.cells) == table.width):
            self._positional_row(table, row)
            return
        # Spaced cells, or a cell-per-line row with cells left out or wrapped: placed by what they hold.
        if table.rows and self._continues_by_content(table, table.rows[-1], row):
            return
        cells, cost = _align(row.cells, table.fields, join=not row.spaced)
        if cost >= _DROP_CELL:
            self._unplaceable(table, row)
            return
        placed = _Row(cells, row.line)
        if row.spaced and not table.spaced and not _looks_placed(table, placed):
            return  # prose with wide spaces inside a tab table: not part of it
        self._place(table, placed)

    def _positional_row(self, table: _Table, row: _Row) -> None:
        """Cells in their header's columns (tabs, or one line per cell with every cell there); a row whose
        cells cannot be where they are (a rule in the weight column: a cell was left out) is realigned."""
        cells = _realign(row.cells + [""] * (table.width - len(row.cells)), table.columns)
        row = _Row(cells, row.line)
        if table.rows and _continues(table.rows[-1], row, table.columns):
            _merge(table.rows[-1], row)
            return
        fields = table.fields
        if _worst(cells, fields) >= _IMPOSSIBLE:
            aligned, cost = _align(cells, fields, join=False)
            if cost < sum(_cost(_cell_type(cell), name) for cell, name in zip(cells, fields)):
                row = _Row(aligned, row.line)
        self._place(table, row)

    def _place(self, table: _Table, row: _Row) -> None:
        has_name, has_target = bool(table.cell(row, "name")), bool(table.cell(row, "target"))
        if has_name and has_target:
            table.rows.append(row)
            return
        others = [name for name in table.columns if name not in ("level1", "level2") and table.cell(row, name)]
        if not others and (table.cell(row, "level1") or table.cell(row, "level2")):
            row.levels_only = True
            table.rows.append(row)
            return
        self._unplaceable(table, row)

    def _continues_by_content(self, table: _Table, previous: _Row, row: _Row) -> bool:
        """Space or cell-per-line layout: whether a short row is the wrapped end of the previous one. Its
        fragments go, in order, to the previous row's cells that are still open (a level name not yet
        complete, a target not yet readable, the name)."""
        if previous.levels_only or len(row.filled) > 3:
            return False
        fragments = row.filled
        open_columns = []
        for name in ("level1", "level2", "name", "target"):
            before = table.cell(previous, name)
            if not before:
                continue
            if name in ("level1", "level2") and _compact(before) in _LEVEL_NAMES:
                continue
            if name == "target" and parse_target(before).kind is not Kind.UNKNOWN:
                continue
            open_columns.append(name)
        if len(fragments) > len(open_columns):
            return False
        for chosen in _ordered_choices(open_columns, len(fragments)):
            if all(_fits(name, table.cell(previous, name), fragment) for name, fragment in zip(chosen, fragments)):
                for name, fragment in zip(chosen, fragments):
                    index = table.columns[name]
                    previous.cells[index] = _join(previous.cells[index], fragment)
                return True
        return False

    def _completed(self, table: _Table, row: _Row) -> _Row | None:
        """Cell-per-line layout: joins a row cut by a page break; holds a short row until its rest comes."""
        if table.partial is not None:
            partial, table.partial = table.partial, None
            joined = _Row(partial.cells + row.cells, partial.line)
            if len(joined.cells) <= table.width or _complete(table, partial.cells + row.cells) and not _complete(
                    table, row.cells):
                row = joined
            else:
                self._flush_partial(table, partial)
        if len(_realign(row.cells, table.columns)) < table.width and not _complete(table, row.cells):
            table.partial = row
            return None
        return row

    def _flush_partial(self, table: _Table, partial: _Row | None = None) -> None:
        """A held row with no rest: a row of 一级/二级 only, or unplaceable."""
        partial = partial or table.partial
        table.partial = None
        cells, cost = _align(partial.cells, table.fields, join=False)
        row = _Row(cells, partial.line)
        if cost < _DROP_CELL and not any(table.cell(row, n) for n in table.columns if n not in ("level1", "level2")):
            row.levels_only = True
            table.rows.append(row)
            return
        self._unplaceable(table, partial)

    @staticmethod
    def _unplaceable(table: _Table, row: _Row) -> None:
        table.note(row.line, f"无法识别的指标行，已跳过：{row.preview()}")


def _looks_placed(table: _Table, row: _Row) -> bool:
    """Whether a spaced line in a tab table is an indicator row, not prose: a target that reads as one, and
    a level, a weight or a rule beside it."""
    target = _cell_type(table.cell(row, "target"))
    return target in ("target", "number", "qual") and any(
        table.cell(row, name) for name in ("level1", "level2", "weight", "rule"))


def _complete(table: _Table, cells: list[str]) -> bool:
    """Whether these cells, placed by content, make an indicator (a name and a target)."""
    placed, cost = _align(cells, table.fields, join=True)
    row = _Row(placed, 0)
    return cost < _DROP_CELL and bool(table.cell(row, "name")) and bool(table.cell(row, "target"))


def _ordered_choices(names: list[str], k: int):
    """Every choice of k of `names`, keeping their order (fewest skipped first)."""
    if k == 0:
        yield []
        return
    for index in range(len(names) - k + 1):
        for rest in _ordered_choices(names[index + 1:], k - 1):
            yield [names[index], *rest]


def _fits(name: str, before: str, fragment: str) -> bool:
    """Whether `fragment` continues the cell `before` of this column."""
    joined = _join(before, fragment)
    if name in ("level1", "level2"):
        return _compact(joined) in _LEVEL_NAMES
    if name == "target":
        return parse_target(joined).kind is not Kind.UNKNOWN
    return _cell_type(fragment) in ("text", "qual", "unit")


def _unit_name(value: str) -> str:
    text = _tidy(value)
    for mark in _UNIT_MARKS:
        text = text.replace(mark, "")
    return text.strip()


def _assign(table: _Table, name: str, value: str, line: int, label: str = "") -> None:
    t = table.table
    if name in _MONEY_FIELDS:
        if name in table.money_seen:  # the first figure wins (headers repeat)
            return
        amount = _decimal(value)
        if amount is None:
            if _collapse(value) not in _BLANK_MARKS and _label_key(value) not in _LABELS:
                table.note(line, f"{label or _MONEY_NAMES[name]}“{_collapse(value)}”不是数字，未读取。")
            return
        table.money_seen.add(name)
        if -amount.as_tuple().exponent > _MONEY_PLACES:
            rounded = amount.quantize(Decimal(1).scaleb(-_MONEY_PLACES), ROUND_HALF_UP)
            table.note(line, f"{label or _MONEY_NAMES[name]}“{_collapse(value)}”超过 {_MONEY_PLACES} 位小数，已按 {rounded} 读取。")
            amount = rounded
        setattr(t, name, amount)
        return
    text = _tidy(value)
    if name == "unit":
        table.unit = table.unit or _unit_name(value)
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
    """Whether a row is the wrapped end of the previous row (``标\\t标``): each of its cells goes on a cell
    of the previous row — a level name not yet complete, a target not yet readable (``>`` then
    ``=98%``), a rule name not yet complete, or a text (name, basis, evidence). Never a weight."""
    if previous.levels_only:
        return False
    fields = {index: name for name, index in columns.items()}
    fragments = 0
    for index, fragment in enumerate(row.cells):
        if not fragment:
            continue
        fragments += 1
        before = previous.cells[index] if index < len(previous.cells) else ""
        name = fields.get(index)
        if name is None or not before:
            return False
        if name in ("level1", "level2"):
            head = _compact(before)
            if head in _LEVEL_NAMES and head + _compact(fragment) not in _LEVEL_NAMES:
                return False  # the level above is complete: this is a row of its own
        elif name == "target":
            if parse_target(before).kind is not Kind.UNKNOWN or parse_target(_join(before, fragment)).kind is Kind.UNKNOWN:
                return False  # the target above is complete: this row has a target of its own
        elif name == "rule":
            if _compact(before) in _RULE_NAMES or _compact(before + fragment) not in _RULE_NAMES:
                return False
        elif name == "weight":
            return False
    return fragments > 0


def _merge(previous: _Row, row: _Row) -> None:
    for index, fragment in enumerate(row.cells):
        if fragment:
            previous.cells[index] = _join(previous.cells[index], fragment)


# --- finishing a table ------------------------------------------------------------------------------------

def _finish(table: _Table, pending_unit: str) -> None:
    """Builds the indicators (carrying blank levels down) and turns the notes into labelled warnings."""
    t = table.table
    if not table.scope_said and not t.project and table.department:
        t.scope = UNIT
    table.unit = table.unit or pending_unit
    t.indicators = [_indicator(table, row, carried) for row, carried in _with_levels(table)]
    if t.scope == UNIT and t.fiscal is None and (t.fiscal_superior is not None or t.fiscal_local is not None):
        t.fiscal = (t.fiscal_superior or Decimal(0)) + (t.fiscal_local or Decimal(0))
    if t.scope == PROJECT and not t.project:
        table.fault(t.line, "没有找到项目名称（“项目名称”一栏），该表无法导入；请在表头补上项目名称。")
    if table.columns is None:
        table.fault(t.line, f"没有找到指标表头（{_HEADER_WORDS}），该表的指标无法读取。")
    label = table.label()

    def placed(line: int, message: str) -> str:
        return f"{label}：{message}" if line == t.line and not t.project and t.scope == PROJECT else (
            f"{label}第 {line} 行：{message}")

    t.warnings = [placed(line, message) for line, message in sorted(table.notes, key=lambda n: n[0])]
    t.errors = [placed(line, message) for line, message in sorted(table.faults, key=lambda n: n[0])]


def _with_levels(table: _Table):
    """Each indicator row with its (level1, level2): a blank cell means "same as the row above"; a row of
    一级/二级 only sets them for the rows that follow; a blank 一级 with nothing above it, or under a 一级
    that cannot hold its 二级, is inferred from the 二级."""
    used = [(_compact(table.cell(row, "level1")), _compact(table.cell(row, "level2"))) for row in table.rows]
    used = [(l1, l2) for l1, l2 in used if l1 and l2]
    above1 = above2 = ""
    source: _Row | None = None  # the row of 一级/二级 only the levels above come from
    for row in table.rows:
        level1, level2 = _compact(table.cell(row, "level1")), _compact(table.cell(row, "level2"))
        if row.levels_only:
            if level1:
                above1, above2 = level1, level2
            else:
                above2 = level2
            source = row
            continue
        name = _tidy(table.cell(row, "name"))
        if not level1:
            if level2 and above1 and level1_conflicts(above1, level2) and (guess := infer_level1(level2, used)):
                level1 = guess
                table.note(row.line, f"指标“{name}”的一级指标为空，上一行的“{above1}”不能包含二级指标“{level2}”，"
                                     f"已按二级指标推断为“{guess}”，请核对。")
            elif above1:
                level1, level2 = above1, level2 or above2
                if source is not None:
                    source.used = True
            elif level2 and (guess := infer_level1(level2, used)):
                level1 = guess
                table.note(row.line, f"指标“{name}”的一级指标为空，已按二级指标“{level2}”推断为“{guess}”，请核对。")
            # else: left blank, an error of the table (checks.finalize says so, for every importer)
        elif not level2:
            if level1 == above1 and above2:
                level2 = above2
                if source is not None:
                    source.used = True
            elif level1 in LEVEL2_NAMES:  # 满意度指标 / 成本指标 are both levels' names
                level2 = level1
        if level1 != above1:
            source = None
        above1, above2 = level1, level2
        yield row, (level1, level2)
    for row in table.rows:
        if row.levels_only and not row.used:
            table.note(row.line, f"无法识别的指标行，已跳过：{row.preview()}")


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
        direction=_compact(table.cell(row, "direction")),
        unit=_compact(table.cell(row, "unit")) if _compact(table.cell(row, "unit")) not in _BLANK_MARKS else "",
    )


# --- the document -----------------------------------------------------------------------------------------

def _document(reader: _Reader, lines: list[str], *, year: int | None, source: str) -> ParsedDocument:
    units = [table.unit for table in reader.tables if table.unit]
    unit = units[0] if units else reader.pending_unit
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
        unit=unit, year=year, tables=[table.table for table in reader.tables], warnings=warnings, source=source,
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
