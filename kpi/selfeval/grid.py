"""Bordered tables drawn with fpdf2's low-level primitives (`rect`, `text`), for the 自评表 PDF.

fpdf2's `table()` lays every cell out through `multi_cell` twice (once to measure, once to draw), with its
general text engine (fragments, markdown, scripts, fallback lookup per character): about two thirds of a
bundle PDF's time. The forms need much less: one font size, text wrapped at any character (CJK has no
spaces), cells merged across columns and down rows, and rows kept whole across page breaks with the heading
row repeated. This module does just that, with the same geometry as the `table()` it replaces (padding,
line height, vertical centring, how a merged cell's extra height is shared, when a page breaks), and the
same "too high" ValueError when a row or a merged group cannot fit on one page.

Widths come from the fonts' own advance widths (the ones fpdf2 measures with), cached per font file across
the PDFs of a batch; a character the main font lacks is drawn (and measured) with the fallback font, as
fpdf2's fallback fonts would.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from fpdf import FPDF

TOLERANCE = 1e-9  # as fpdf2's line breaking compares widths
ALIGNS = {"LEFT": "L", "CENTER": "C", "RIGHT": "R", "L": "L", "C": "C", "R": "R"}

# {(main font file, fallback font file): {character: (font key, advance width in 1/1000 em)}}, for the last few
# font files (a batch's fonts are cut into a temporary folder: a worker sees new ones every bundle)
_WIDTHS: dict[tuple, dict[str, tuple[str, int]]] = {}
_WIDTHS_KEPT = 8


@dataclasses.dataclass(slots=True)
class GridCell:
    text: str
    colspan: int = 1
    rowspan: int = 1
    align: str | None = None  # L, C or R (None: the grid's)
    fill: object | None = None  # an fpdf2 colour
    color: object | None = None


class GridRow:
    __slots__ = ("cells",)

    def __init__(self) -> None:
        self.cells: list[GridCell] = []

    def cell(self, text: str, *, style=None, align: str | None = None, colspan: int = 1, rowspan: int = 1) -> None:
        self.cells.append(GridCell(
            text=text, colspan=colspan, rowspan=rowspan, align=ALIGNS[align] if align else None,
            fill=getattr(style, "fill_color", None), color=getattr(style, "color", None),
        ))


class Measure:
    """Which font draws a character and how wide it is, for one PDF's fonts: the main font (fpdf2 key `main`)
    and the fallback font (key `fallback`, from `fallback_file`), which the PDF may add only when a text
    first needs it."""

    def __init__(self, pdf: FPDF, main: str, fallback: str, *, fallback_file=None):
        self.pdf = pdf
        self.main = main
        self.fallback = fallback
        self.main_font = pdf.fonts[main]
        key = (_file_key(self.main_font.ttffile), _file_key(fallback_file) if fallback_file else None)
        if key not in _WIDTHS and len(_WIDTHS) >= _WIDTHS_KEPT:
            _WIDTHS.clear()
        self.cache = _WIDTHS.setdefault(key, {})

    def glyph(self, char: str) -> tuple[str, int]:
        found = self.cache.get(char)
        if found is None:
            code = ord(char)
            fallback = self.pdf.fonts.get(self.fallback)
            if code in self.main_font.cmap or fallback is None or code not in fallback.cmap:
                found = (self.main, self.main_font.cw[code])
                if code not in self.main_font.cmap and fallback is None:
                    return found  # the fallback font is not added yet: not for the other PDFs
            else:
                found = (self.fallback, fallback.cw[code])
            self.cache[char] = found
        return found


def _file_key(path) -> tuple:
    """A font file, told apart from a later one written at the same path."""
    stat = os.stat(path)
    return (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)


def wrap(text: str, limit: float, glyph) -> list[tuple[str, int]]:
    """`text` broken into lines no wider than `limit` (in 1/1000 of the font size), at any character (CJK
    text has no spaces to break at), and at every newline: [(line, its width)]. As fpdf2's WrapMode.CHAR: a
    space that does not fit is dropped, trailing spaces are trimmed from a line broken before a character,
    nothing follows a final newline or a final dropped space; a character wider than the whole line still
    gets a line of its own (fpdf2 would not end)."""
    if not text:
        return [("", 0)]
    lines: list[tuple[str, int]] = []
    index, length = 0, len(text)
    while index < length:
        start, width = index, 0
        while True:
            if index == length:
                lines.append((text[start:index], width))
                break
            char = text[index]
            if char == "\n":
                lines.append((text[start:index], width))
                index += 1
                break
            advance = glyph(char)[1]
            if width + advance - limit > TOLERANCE and index > start:
                if char == " ":  # a space that does not fit is dropped
                    lines.append((text[start:index], width))
                    index += 1
                    break
                line = text[start:index]
                trimmed = line.rstrip(" ")
                if len(trimmed) != len(line):
                    width -= glyph(" ")[1] * (len(line) - len(trimmed))
                lines.append((trimmed, width))
                break
            width += advance
            index += 1
    return lines


@dataclasses.dataclass(slots=True)
class _Laid:
    cell: GridCell
    column: int
    lines: list[tuple[str, int]]
    height: float  # what its text needs, padding included (0: no text)


class Grid:
    """A table of fixed column widths (mm) at the left margin, from the pdf's current y, drawn when the
    `with` block ends (then the pdf's position is under it, at the left margin).

    Cells are added row by row (`grid.row().cell(…)`); a cell with rowspan > 1 covers the same columns of
    the next rows, which then leave them out (as with fpdf2's table).
    """

    def __init__(self, pdf: FPDF, widths: Sequence[float], *, measure: Measure, line: float,
                 padding: tuple[float, float] = (1, 1.2), headings: bool = False, heading_fill=None,
                 align: str = "CENTER", font_size: float | None = None):
        self.pdf = pdf
        self.widths = list(widths)
        self.measure = measure
        self.line = line
        self.pad_v, self.pad_h = padding
        self.headings = 1 if headings else 0
        self.heading_fill = heading_fill
        self.align = ALIGNS[align]
        self.font_size = font_size or pdf.font_size_pt
        self.rows: list[GridRow] = []

    def __enter__(self) -> Grid:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.render()

    def row(self) -> GridRow:
        row = GridRow()
        self.rows.append(row)
        return row

    # layout

    def _columns(self) -> list[list[_Laid]]:
        """Every row's cells with their column, lines and text height."""
        pdf, glyph = self.pdf, self.measure.glyph
        scale = pdf.k * 1000 / self.font_size  # mm → 1/1000 of the font size
        covered: dict[int, int] = {}  # column → rows it is still covered by a rowspan from above
        laid_rows = []
        for row in self.rows:
            column, laid = 0, []
            for cell in row.cells:
                while covered.get(column, 0) > 0:
                    column += 1
                width = sum(self.widths[column:column + cell.colspan])
                if cell.text:
                    lines = wrap(cell.text, (width - 2 * self.pad_h) * scale, glyph)
                    height = len(lines) * self.line + 2 * self.pad_v
                else:
                    lines, height = [], 0.0
                laid.append(_Laid(cell, column, lines, height))
                if cell.rowspan > 1:
                    for c in range(column, column + cell.colspan):
                        covered[c] = cell.rowspan
                column += cell.colspan
            for c in list(covered):
                covered[c] -= 1
                if covered[c] <= 0:
                    del covered[c]
            laid_rows.append(laid)
        return laid_rows

    def _heights(self, laid_rows: list[list[_Laid]]) -> tuple[list[float], list[int]]:
        """Each row's height (the merged cells' extra height shared as fpdf2 does) and the last row each row
        must stay on a page with (the rows its merged cells, and theirs, cover)."""
        count = len(laid_rows)
        minimum = []
        spans = []  # (length, first row, text height)
        reach = []
        for index, laid in enumerate(laid_rows):
            own = [x.height for x in laid if x.cell.rowspan == 1]
            height = max(own) if own else 0.0
            minimum.append(height if height else self.line)
            longest = 1
            for x in laid:
                if x.cell.rowspan > 1:
                    spans.append((x.cell.rowspan, index, x.height))
                    longest = max(longest, x.cell.rowspan)
            reach.append(index + longest)
        padding = [0.0] * count
        for length, first, needed in sorted(spans, key=lambda span: span[0]):
            rows = range(first, min(first + length, count))
            assigned = sum(minimum[i] for i in rows)
            assigned_padding = sum(padding[i] for i in rows)
            most = max(padding[i] for i in rows)
            if assigned + assigned_padding < needed:
                if needed > assigned + length * most:
                    for i in rows:
                        padding[i] = (needed - assigned) / length
                else:
                    extra = needed - assigned - assigned_padding
                    for i in rows:
                        padding[i] += extra / length
        heights = [minimum[i] + padding[i] for i in range(count)]
        # a row stays with every row its merged cells reach, and with those that theirs reach
        ends = []
        for index in range(count):
            end, j = reach[index], index + 1
            while j < end:
                end = max(end, reach[j])
                j += 1
            ends.append(end)
        return heights, ends

    # drawing

    def render(self) -> None:
        pdf = self.pdf
        if not self.rows:
            return
        laid_rows = self._columns()
        heights, ends = self._heights(laid_rows)
        keep = [sum(heights[i:ends[i]]) for i in range(len(heights))]  # what must fit on the page
        if len(self.rows) > self.headings > 0:
            # never a heading row alone at the foot of a page
            if pdf.will_page_break(sum(keep[: self.headings + 1])):
                pdf.add_page(same=True)
        lefts = self._lefts()
        for index, laid in enumerate(laid_rows):
            if pdf.will_page_break(keep[index]):
                pdf.add_page(same=True)
                if pdf.y + keep[index] > pdf.page_break_trigger:
                    raise ValueError(f"The row with index {index} is too high and cannot be rendered on a single "
                                     "page")
                if index >= self.headings:
                    for heading in range(self.headings):
                        self._draw_row(laid_rows[heading], heading, heights, lefts)
            self._draw_row(laid, index, heights, lefts)
        pdf.set_x(pdf.l_margin)

    def _draw_row(self, laid: list[_Laid], index: int, heights: list[float], lefts: list[float]) -> None:
        pdf = self.pdf
        top = pdf.y
        for x in laid:
            cell = x.cell
            left = lefts[x.column]
            width = sum(self.widths[x.column:x.column + cell.colspan])
            height = sum(heights[index:index + cell.rowspan])
            fill = cell.fill if cell.fill is not None else (self.heading_fill if index < self.headings else None)
            if fill is not None:
                previous = pdf.fill_color
                pdf.set_fill_color(fill)
                pdf.rect(left, top, width, height, style="DF")
                pdf.set_fill_color(previous)
            else:
                pdf.rect(left, top, width, height, style="D")
            if x.lines:
                self._draw_text(x, left, top + (height - len(x.lines) * self.line) / 2, width)
        pdf.set_xy(pdf.l_margin, top + heights[index])

    def _lefts(self) -> list[float]:
        lefts, at = [], self.pdf.l_margin
        for width in self.widths:
            lefts.append(at)
            at += width
        return lefts

    def _draw_text(self, x: _Laid, left: float, top: float, width: float) -> None:
        pdf, measure = self.pdf, self.measure
        size = self.font_size
        to_mm = size / (1000 * pdf.k)
        baseline = 0.5 * self.line + 0.3 * size / pdf.k
        align = x.cell.align or self.align
        inner = width - 2 * self.pad_h
        color = x.cell.color
        if color is not None:
            previous_color = pdf.text_color
            pdf.set_text_color(color)
        family, style = pdf.font_family, pdf.font_style
        for number, (text, units) in enumerate(x.lines):
            if not text:
                continue
            line_width = units * to_mm
            if align == "L":
                at = left + self.pad_h
            elif align == "R":
                at = left + width - self.pad_h - line_width
            else:
                at = left + self.pad_h + (inner - line_width) / 2
            y = top + number * self.line + baseline
            for key, run, run_units in _runs(text, measure):
                if pdf.current_font is None or pdf.current_font.fontkey != key:
                    pdf.set_font(key, size=size)
                pdf.text(at, y, run)
                at += run_units * to_mm
        if pdf.current_font is None or pdf.current_font.fontkey != measure.main:
            pdf.set_font(family, style, size=size)
        if color is not None:
            pdf.set_text_color(previous_color)


def _runs(text: str, measure: Measure) -> list[tuple[str, str, int]]:
    """`text` cut into runs drawn with one font: [(font key, text, width)]."""
    glyph = measure.glyph
    runs: list[tuple[str, str, int]] = []
    key, start, units = None, 0, 0
    for index, char in enumerate(text):
        char_key, advance = glyph(char)
        if char_key != key:
            if key is not None:
                runs.append((key, text[start:index], units))
            key, start, units = char_key, index, 0
        units += advance
    runs.append((key, text[start:], units))
    return runs
