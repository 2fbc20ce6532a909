"""The 绩效自评表 as PDF (fpdf2), printed like the official forms: A4 portrait, 15 mm margins, bordered
cells, merged-looking header cells, the title centred, 第 X 页 共 Y 页 at the foot of every page.

- `table_pdf(evaluation)`  one table's 自评表, then its 缺失项;
- `unit_pdf(evaluation)`   a whole unit: a cover page listing every missing item, the 部门整体自评表
  (with the summary of every project), then one 自评表 per project, each from a new page.

The font is kpi/fonts/NotoSansSC-GB2312.otf, embedded (subset). A character outside it is drawn from
Noto Sans CJK when that is installed (fpdf2 fallback font), else replaced by □: a report never fails
over one rare character.

A batch of PDFs (a unit's bundle) first cuts the fonts once to the characters the whole batch uses
(`font_kit`): each PDF then loads and subsets a font of a few hundred glyphs instead of the full ones
(tens of thousands), which took most of the time. The glyphs, widths and text are the same; a text with a
character outside the kit is drawn with the full fonts instead (`KitMiss`), never with a wrong glyph.

The bordered tables are laid out by grid.py (fpdf2's low-level primitives, the geometry of fpdf2's table()
at a fraction of its cost); the fallback font is added to a PDF only when one of its texts needs it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import string
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from kpi.formatting import money_text, percent_text

from .data import (
    NOT_APPLICABLE,
    UNIT_TITLE,
    ProjectEvaluation,
    UnitEvaluation,
    note_parts,
    points_text,
)
from .grid import Grid, Measure

FONT = "NotoSansSC"
FONT_PATH = Path(__file__).resolve().parents[1] / "fonts" / "NotoSansSC-GB2312.otf"
FALLBACK = "NotoSansCJK"
FALLBACK_PATH = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FALLBACK_INDEX = 2  # the Simplified Chinese face of the collection (JP, KR, SC, TC, HK)
REPLACEMENT = "□"

# fontTools reports every font subset at INFO level: noise in a worker's or a command's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

MISSING = "缺失"
NONE = "—"
MARGIN = 15
WIDTH = 180  # A4 (210 mm) less the margins
LINE = 5.5  # mm per text line at 9 pt
PAGE_COUNT = "{pages}"

# The font has one weight. Labels and totals were once set in a "bold" style registered from the same file:
# the same glyphs, embedded (and subset) a second time in every PDF. They are told apart by shading instead.
LABEL = FontFace(fill_color=(242, 242, 242))
PLAIN = FontFace()
RED = FontFace(color=(192, 0, 0))
BOLD = PLAIN


def table_pdf(evaluation: ProjectEvaluation, *, generated_at: dt.datetime | None = None,
              kit: FontKit | None = None) -> bytes:
    """One table's 自评表 (PDF bytes), its missing items below it."""
    def build(pdf):
        _form(pdf, evaluation, generated_at=generated_at)
        pdf.ln(4)
        _missing_list(pdf, [(evaluation.label, item) for item in evaluation.missing], title="缺失项")

    return _render(build, kit)


def unit_pdf(evaluation: UnitEvaluation, *, generated_at: dt.datetime | None = None,
             kit: FontKit | None = None) -> bytes:
    """A whole unit (PDF bytes): cover with every missing item, 部门整体自评表, then every project's 自评表."""
    def build(pdf):
        _cover(pdf, evaluation, generated_at=generated_at)
        _unit_form(pdf, evaluation, generated_at=generated_at)
        for project in evaluation.projects:
            _form(pdf, project, generated_at=generated_at)

    return _render(build, kit)


# Layouts tried in turn: merged level cells; if a merged group (or a row) is taller than a page, every row
# on its own; if a single row still is, long texts cut (the Excel file keeps them whole).
ATTEMPTS = ((True, None), (False, None), (False, 300))


def _render(build, kit: FontKit | None = None) -> bytes:
    if kit is not None:
        try:
            return _attempts(build, kit)
        except KitMiss:
            pass  # a character the kit was not cut for: the full fonts
    return _attempts(build, None)


def _attempts(build, kit: FontKit | None) -> bytes:
    error = None
    for merge, limit in ATTEMPTS:
        pdf = _Pdf(merge=merge, limit=limit, kit=kit)
        try:
            build(pdf)
        except ValueError as too_high:  # fpdf2: "The row with index … is too high …"
            if "too high" not in str(too_high):
                raise
            error = too_high
            continue
        return bytes(pdf.output())
    raise error


# --- the fonts of a batch ---------------------------------------------------------------------------------

class KitMiss(Exception):
    """A text has a character the batch's fonts were not cut for."""


@dataclasses.dataclass(frozen=True)
class FontKit:
    """The fonts of a batch of PDFs, cut to the characters `chars` (the main font's and the fallback's)."""

    chars: frozenset[str]
    main: Path
    fallback: Path | None  # None: no character of the batch needs the fallback font


def _source_chars() -> set[str]:
    """Every character of the fixed texts: the labels here and the sentences of the data and formatting."""
    from kpi import formatting, scoring, targets

    from . import data

    chars = set(string.printable) | set("第页共□…—（）：；，。、“”≥≤±×÷％")
    for module in (formatting, scoring, targets, data):
        chars |= set(Path(module.__file__).read_text(encoding="utf-8"))
    chars |= set(Path(__file__).read_text(encoding="utf-8"))
    return chars


def evaluation_texts(subject) -> Iterator[str]:
    """Every text of an evaluation (a unit's, a table's, and what they hold), shown or not."""
    if isinstance(subject, str):
        yield subject
    elif isinstance(subject, (list, tuple)):
        for item in subject:
            yield from evaluation_texts(item)
    elif dataclasses.is_dataclass(subject):
        for name in ("label", "title", "policy_name", "target_shown"):
            value = getattr(subject, name, None)
            if isinstance(value, str):
                yield value
        for item in dataclasses.fields(subject):
            yield from evaluation_texts(getattr(subject, item.name))


def font_kit(*, texts: Iterable[str], folder: Path) -> FontKit:
    """Cut the fonts once for a batch: the main font to the characters of `texts` and of the fixed labels it
    has, the fallback font (when installed) to the others it has; written into `folder`."""
    from fontTools import subset as ftsubset
    from fontTools.ttLib import TTFont

    has_fallback = FALLBACK_PATH.exists()
    chars = set(_source_chars())
    for text in texts:
        chars.update(text)
    chars = set(safe_text("".join(sorted(chars)), fallback=has_fallback)) - {"\n"}
    in_main = _codepoints(str(FONT_PATH))
    main_chars = {c for c in chars if ord(c) in in_main}
    extra = {c for c in chars if ord(c) not in in_main}

    def cut(path: Path, index: int, keep: set[str], name: str) -> Path:
        options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, name_IDs=["*"],
                                   name_languages=["*"], layout_features=[], hinting=True)
        # Tables a PDF's horizontal text never reads (fpdf2 drops the layout ones itself), which fpdf2 would
        # otherwise subset again in every PDF of the batch: half of its time per PDF.
        options.drop_tables += KIT_DROPPED_TABLES
        font = TTFont(str(path), fontNumber=index, lazy=True) if path.suffix == ".ttc" else TTFont(str(path))
        try:
            subsetter = ftsubset.Subsetter(options)
            subsetter.populate(unicodes={ord(c) for c in keep} | {0x20})
            subsetter.subset(font)
            _to_truetype(font)
            target = Path(folder) / name
            font.save(str(target))
        finally:
            font.close()
        return target

    main = cut(FONT_PATH, 0, main_chars, "main.ttf")
    fallback = cut(FALLBACK_PATH, FALLBACK_INDEX, extra, "fallback.ttf") if has_fallback and extra else None
    return FontKit(chars=frozenset(main_chars | (extra if fallback else set()) | {"\n"}), main=main,
                   fallback=fallback)


KIT_DROPPED_TABLES = ["vhea", "vmtx", "VORG", "BASE", "GDEF", "GPOS", "GSUB"]


def _to_truetype(font) -> None:
    """Redraw a CFF font's glyphs as TrueType outlines (quadratic curves within 1/1000 em of the cubic ones),
    in place. fpdf2 subsets the font again for every PDF; a CFF subset executes every glyph's charstring and
    recompiles them (two thirds of a bundle PDF's time), a glyf subset copies bytes."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    outlines = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(outlines)
        outlines[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    glyf.compile(font)
    metrics = font["hmtx"]
    for name, glyph in glyphs.items():
        metrics[name] = (metrics[name][0], getattr(glyph, "xMin", 0))  # left side bearing = the outline's
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, field, 0)
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    font.sfntVersion = "\0\1\0\0"


# --- the document --------------------------------------------------------------------------------------

class _Pdf(FPDF):
    def __init__(self, *, merge: bool = True, limit: int | None = None, kit: FontKit | None = None):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.merge = merge  # merge the cells of consecutive equal 一级/二级指标
        self.limit = limit  # cut texts longer than this (None: never)
        self.kit = kit
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 3)
        main = str(kit.main) if kit else str(FONT_PATH)
        self.add_font(FONT, "", main)
        self.has_fallback = FALLBACK_PATH.exists()
        if kit is not None:
            # The kit's fonts are already cut: their bounding boxes need not be measured again glyph by glyph
            # for each PDF (the PDF's font descriptor takes its box from the font's head table either way).
            self.fonts[FONT.lower()].ttfont.recalcBBoxes = False
            self.fallback_path = kit.fallback
        else:
            self.fallback_path = FALLBACK_PATH if self.has_fallback else None
        # fpdf2 embeds (and subsets) every font added, drawn with or not: the fallback font is added when a
        # text first needs it (`safe` sees every text), most PDFs never do.
        self.main_codes = self.fonts[FONT.lower()].cmap
        self.fallback_added = False
        # The alias is as wide as the count it stands for may be (a unit's PDF of 1,000 projects has 1,300 pages).
        self.alias_nb_pages(PAGE_COUNT)
        self.set_title("绩效自评表")
        self.set_creator("Jixiao")
        self.set_font(FONT, size=9)
        self.measure = Measure(self, FONT.lower(), FALLBACK.lower(), fallback_file=self.fallback_path)

    def safe(self, text) -> str:
        """The text with every character the fonts cannot draw replaced by □ (and tabs, controls cleaned)."""
        text = "" if text is None else str(text)
        if self.limit is not None and len(text) > self.limit:
            text = text[: self.limit] + "…（全文见 Excel 版）"
        text = safe_text(text, fallback=self.has_fallback)
        if self.kit is not None and not self.kit.chars.issuperset(text):
            raise KitMiss(text)
        if not self.fallback_added and self.fallback_path is not None:
            codes = self.main_codes
            if any(ord(c) not in codes for c in text if c != "\n"):
                self._add_fallback()
        return text

    def _add_fallback(self) -> None:
        if self.kit is not None:
            self.add_font(FALLBACK, "", str(self.fallback_path))
            self.fonts[FALLBACK.lower()].ttfont.recalcBBoxes = False
        else:
            self.add_font(FALLBACK, "", str(self.fallback_path), collection_font_number=FALLBACK_INDEX)
        self.set_fallback_fonts([FALLBACK], exact_match=False)
        self.fallback_added = True

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"第 {self.page_no()} 页 共 {PAGE_COUNT} 页", align="C")

    def heading(self, title: str, subtitle: str) -> None:
        self.set_font(FONT, size=16)
        self.cell(0, 10, self.safe(title), align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=10)
        self.cell(0, 6, self.safe(subtitle), align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.set_font(FONT, size=9)

    def grid(self, widths, *, headings=False, align="CENTER") -> Grid:
        """A bordered table at the left margin (grid.py; fpdf2's table() costs several times as much): text
        wrapped at any character, centred vertically, the heading row shaded and repeated on every page."""
        return Grid(self, widths, measure=self.measure, line=LINE, padding=(1, 1.2), headings=headings,
                    heading_fill=LABEL.fill_color, align=align)


@lru_cache(maxsize=4)
def _codepoints(path: str, index: int = 0) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True) if path.endswith(".ttc") else TTFont(path, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def safe_text(text: str, *, fallback: bool) -> str:
    drawable = _codepoints(str(FONT_PATH))
    extra = _codepoints(str(FALLBACK_PATH), FALLBACK_INDEX) if fallback else frozenset()
    out = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0:
            continue
        elif ord(ch) in drawable or ord(ch) in extra:
            out.append(ch)
        else:
            out.append(REPLACEMENT)
    return "".join(out)


# --- blocks -------------------------------------------------------------------------------------------

def _cell(row, pdf, text, *, style=PLAIN, align=None, colspan=1, rowspan=1):
    kwargs = {"style": style, "colspan": colspan, "rowspan": rowspan}
    if align:
        kwargs["align"] = align
    row.cell(pdf.safe(text), **kwargs)


def _number_cell(row, pdf, text: str | None, *, style=PLAIN):
    if text is None:
        _cell(row, pdf, MISSING, style=RED, align="CENTER")
    else:
        _cell(row, pdf, text, style=style, align="RIGHT")


def _form(pdf: _Pdf, e: ProjectEvaluation, *, generated_at) -> None:
    pdf.add_page()
    pdf.heading(e.title, f"（{e.year} 年度）")
    with pdf.grid((24, 66, 24, 66)) as grid:
        if e.is_unit_table:
            row = grid.row()
            _cell(row, pdf, "部门名称", style=LABEL)
            _cell(row, pdf, e.unit_name, align="LEFT")
            _cell(row, pdf, "主管部门", style=LABEL)
            _cell(row, pdf, e.department_name, align="LEFT")
        else:
            row = grid.row()
            _cell(row, pdf, "项目名称", style=LABEL)
            _cell(row, pdf, e.project_name, align="LEFT", colspan=3)
            row = grid.row()
            _cell(row, pdf, "主管部门", style=LABEL)
            _cell(row, pdf, e.department_name, align="LEFT")
            _cell(row, pdf, "实施单位", style=LABEL)
            _cell(row, pdf, e.unit_name, align="LEFT")
    _funds(pdf, e)
    _goal(pdf, e)
    _indicators(pdf, e)
    _note(pdf, e, generated_at)


def _funds(pdf: _Pdf, e: ProjectEvaluation) -> None:
    label = "年度预算\n（万元）" if e.is_unit_table else "项目资金\n（万元）"
    with pdf.grid((22, 40, 21, 21, 21, 13, 19, 23)) as grid:
        row = grid.row()
        _cell(row, pdf, label, style=LABEL, rowspan=len(e.funds) + 1)
        for text in ("", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"):
            _cell(row, pdf, text, style=LABEL)
        for funds in e.funds:
            row = grid.row()
            _cell(row, pdf, funds.label, align="LEFT")
            _number_cell(row, pdf, money_text(funds.initial))
            _number_cell(row, pdf, money_text(funds.full_year))
            _number_cell(row, pdf, money_text(funds.executed))
            if funds.is_total:
                _number_cell(row, pdf, points_text(funds.weight))
                _number_cell(row, pdf, percent_text(funds.rate))
                _number_cell(row, pdf, points_text(funds.points))
            else:
                for _ in range(3):
                    _cell(row, pdf, NONE)


def _goal(pdf: _Pdf, e: ProjectEvaluation) -> None:
    with pdf.grid((22, 68, 90)) as grid:
        row = grid.row()
        _cell(row, pdf, "年度总体目标", style=LABEL, rowspan=2)
        _cell(row, pdf, "预期目标", style=LABEL)
        _cell(row, pdf, "实际完成情况", style=LABEL)
        row = grid.row()
        _cell(row, pdf, e.goal_expected or NONE, align="LEFT")
        _cell(row, pdf, e.goal_actual, align="LEFT")


INDICATOR_WIDTHS = (17, 19, 33, 21, 21, 14, 14, 41)


def _indicators(pdf: _Pdf, e: ProjectEvaluation) -> None:
    rows = e.indicators
    if pdf.merge:
        level1_spans = _spans([(r.level1,) for r in rows])
        level2_spans = _spans([(r.level1, r.level2) for r in rows])
    else:
        level1_spans = level2_spans = dict.fromkeys(range(len(rows)), 1)
    with pdf.grid(INDICATOR_WIDTHS, headings=True) as grid:
        heading = grid.row()
        for text in ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"):
            _cell(heading, pdf, text)
        for index, ind in enumerate(rows):
            row = grid.row()
            if index in level1_spans:
                _cell(row, pdf, ind.level1, rowspan=level1_spans[index])
            if index in level2_spans:
                _cell(row, pdf, ind.level2, rowspan=level2_spans[index])
            _cell(row, pdf, ind.name, align="LEFT")
            _cell(row, pdf, ind.target_shown)
            if ind.actual is None:
                _cell(row, pdf, MISSING, style=RED)
            else:
                _cell(row, pdf, ind.actual)
            _number_cell(row, pdf, points_text(ind.weight))
            if ind.not_applicable:
                _cell(row, pdf, NOT_APPLICABLE)
            else:
                _number_cell(row, pdf, points_text(ind.points))
            _cell(row, pdf, ind.explanation, align="LEFT")
        row = grid.row()
        _cell(row, pdf, "总分", style=LABEL, colspan=5)
        _number_cell(row, pdf, points_text(e.full_points), style=BOLD)
        _number_cell(row, pdf, points_text(e.total), style=BOLD)
        _cell(row, pdf, f"等级：{e.grade or MISSING}", style=BOLD, align="LEFT")


def _spans(keys: list[tuple]) -> dict[int, int]:
    """{first row index: rows spanned} for runs of equal keys (a blank key is its own run)."""
    spans, start = {}, 0
    for index in range(1, len(keys) + 1):
        if index == len(keys) or keys[index] != keys[start] or not keys[start][-1]:
            spans[start] = index - start
            start = index
    return spans


def _note(pdf: _Pdf, e: ProjectEvaluation, generated_at) -> None:
    parts = note_parts(e, generated_at)
    if e.missing:
        parts.append(f"缺失项 {len(e.missing)} 项")
    pdf.ln(1)
    pdf.set_font(FONT, size=7.5)
    pdf.set_text_color(85, 85, 85)
    pdf.multi_cell(WIDTH, 4, pdf.safe("；".join(parts)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=9)


def _unit_form(pdf: _Pdf, u: UnitEvaluation, *, generated_at) -> None:
    e = u.unit_table
    pdf.add_page()
    pdf.heading(UNIT_TITLE, f"（{u.year} 年度）")
    with pdf.grid((24, 66, 24, 66)) as grid:
        row = grid.row()
        _cell(row, pdf, "部门名称", style=LABEL)
        _cell(row, pdf, u.unit_name, align="LEFT")
        _cell(row, pdf, "主管部门", style=LABEL)
        _cell(row, pdf, u.department_name, align="LEFT")
    if e is not None:
        _funds(pdf, e)
        _goal(pdf, e)
    _section(pdf, "项目支出绩效自评汇总")
    with pdf.grid((50, 22, 22, 20, 22, 22, 22), headings=True) as grid:
        heading = grid.row()
        for text in ("项目名称", "全年预算数", "全年执行数", "执行率", "指标得分", "总分", "等级"):
            _cell(heading, pdf, text)
        for project in u.projects:
            row = grid.row()
            _cell(row, pdf, project.project_name, align="LEFT")
            _number_cell(row, pdf, money_text(project.budget))
            _number_cell(row, pdf, money_text(project.executed))
            _number_cell(row, pdf, percent_text(project.rate))
            _number_cell(row, pdf, points_text(project.indicator_points))
            _number_cell(row, pdf, points_text(project.total))
            if project.grade:
                _cell(row, pdf, project.grade)
            else:
                _cell(row, pdf, MISSING, style=RED)
        if not u.projects:
            row = grid.row()
            _cell(row, pdf, "本单位本年度没有项目支出绩效目标表。", colspan=7)
        budget, spent, rate = u.projects_total
        row = grid.row()
        _cell(row, pdf, "合计", style=LABEL)
        _number_cell(row, pdf, money_text(budget))
        _number_cell(row, pdf, money_text(spent))
        _number_cell(row, pdf, percent_text(rate))
        for _ in range(3):
            _cell(row, pdf, NONE)
    _section(pdf, "部门整体绩效指标")
    if e is None:
        pdf.multi_cell(WIDTH, LINE, pdf.safe("本单位本年度没有部门整体绩效目标表。"), border=1,
                       new_x="LMARGIN", new_y="NEXT")
    else:
        _indicators(pdf, e)
        _note(pdf, e, generated_at)


def _section(pdf: _Pdf, title: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, size=10.5)
    pdf.cell(0, 7, pdf.safe(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)


def _cover(pdf: _Pdf, u: UnitEvaluation, *, generated_at) -> None:
    pdf.add_page()
    pdf.heading("绩效自评缺失项", f"{u.unit_name} · {u.year} 年度")
    details = [f"主管部门：{u.department_name}", f"评分政策：{u.policy_name}"]
    if generated_at:
        details.append(f"生成时间：{generated_at:%Y-%m-%d %H:%M}")
    tables = "、".join(e.label for e in u.evaluations)
    details.append(f"自评表 {len(u.evaluations)} 张：{tables}")
    pdf.multi_cell(WIDTH, LINE, pdf.safe("\n".join(details)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _missing_list(pdf, u.missing, title=None)


def _missing_list(pdf: _Pdf, items: list[tuple[str, str]], *, title: str | None) -> None:
    if title:
        _section(pdf, title)
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(WIDTH, 4.5, pdf.safe("以下各项在自评表中显示为“缺失”，不按 0 计；请补齐后重新生成。"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    pdf.ln(1)
    with pdf.grid((14, 56, 110), headings=True) as grid:
        heading = grid.row()
        for text in ("序号", "自评表", "缺失项"):
            _cell(heading, pdf, text)
        for number, (label, item) in enumerate(items, start=1):
            row = grid.row()
            _cell(row, pdf, str(number))
            _cell(row, pdf, label, align="LEFT")
            _cell(row, pdf, item, align="LEFT")
        if not items:
            row = grid.row()
            _cell(row, pdf, "无缺失项。", colspan=3)
