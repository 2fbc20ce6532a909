"""The one spreadsheet kit of every xlsx and csv writer (style.md, "Spreadsheets and exports").

Writing (openpyxl):
- `put(ws, row, col, value, ...)` writes a cell: a text is always stored as text (never a formula, never an
  error code: "=100%" is a target, "==HYPERLINK(…)" a project name), cleaned by `clean_text`; a number, a
  date or None is stored as it is. Only the styles passed are applied.
- `merge(ws, row, col, end_row, end_col)` merges a range and borders every cell of it (Excel draws the
  border of a merged range from its cells); `put_merged` writes a value into a range styled cell by cell.
- `styled(ws, row, col, ...)` and `merge_disjoint(...)`: the same, fast, for forms of thousands of cells and
  ranges (styles applied once per workbook and copied; ranges known never to overlap).
- `sheet_title(wanted, used)` a valid, unique worksheet name.
- `display_width` / `wrapped_lines` the CJK-aware estimate used for row heights.
- `fit_to_width(ws, ...)` the page setup every form shares: printed one page wide, as many pages down.
- the shared styles: `BORDER`, `song(size, bold=…, color=…)` (宋体), `TITLE_FONT` (黑体 16 bold), `LABEL_FILL`,
  the alignments `LEFT`, `CENTER`, `RIGHT`, `WRAP` and the number formats.

CSV:
- `csv_safe(value)` neutralises a text a spreadsheet program would run when the CSV is opened (OWASP "CSV
  injection"): one starting with = + - @, a tab or a carriage return, also after leading spaces, by
  prefixing an apostrophe. Numbers and None are returned unchanged.

Reading uploads:
- `xlsx_check(data, limits=XlsxLimits(...))` refuses, before any parser sees it, a file that is not a zip
  or would expand past the limits (uncompressed size, sheets, cells by each sheet's <dimension>, a
  zip-bomb compression ratio): raises `XlsxRefused` with a Chinese message naming the limit.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import unicodedata
import weakref
import zipfile
from copy import copy
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property, lru_cache
from typing import BinaryIO
from weakref import WeakKeyDictionary
from xml.etree.ElementTree import _escape_attrib, _escape_cdata

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

MAX_CELL_CHARS = 32767  # Excel's limit for the text of one cell
MAX_SHEET_TITLE = 31  # Excel's limit for a worksheet name
SHEET_TITLE_FORBIDDEN = '[]:*?/\\'
RESERVED_SHEET_TITLES = frozenset({"history"})  # Excel keeps "History" for itself

# --- styles -------------------------------------------------------------------------------------------

# Per workbook (a style is an index into the workbook's own lists): combination of styles → StyleArray.
_STYLES: WeakKeyDictionary = WeakKeyDictionary()

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
NO_BORDER = Border()

SONG = "宋体"
HEI = "黑体"


@cache
def song(size: float = 11, *, bold: bool = False, color: str | None = None) -> Font:
    """宋体 in `size` points (the body font of every form)."""
    return Font(name=SONG, size=size, bold=bold, color=color)


TITLE_FONT = Font(name=HEI, size=16, bold=True)
BOLD = Font(bold=True)  # the header row of a plain table export (the default font, bold)

LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")  # the grey of label cells

WRAP = Alignment(wrap_text=True, vertical="center")  # wrapped, horizontally as Excel pleases
LEFT = Alignment(wrap_text=True, vertical="center", horizontal="left")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
RIGHT = Alignment(wrap_text=True, vertical="center", horizontal="right")
WRAP_ONLY = Alignment(wrap_text=True)  # a multi-line text in a plain table export

GENERAL_FORMAT = "General"
TEXT_FORMAT = "@"
DECIMAL_FORMAT = "0.00"  # points: two places
# 万元: two places at least, up to the four they may have been published with (48.60, 438.768)
MONEY_FORMAT = "#,##0.00##"
PLAIN_MONEY_FORMAT = "0.00##"
PERCENT_FORMAT = "0.00%"
INTEGER_FORMAT = "0"


# --- text ---------------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry besides openpyxl's control characters: surrogates, U+FFFE and U+FFFF.
_NOT_XML_RE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Text a cell can hold: line breaks as \\n, no character openpyxl (or XML) refuses, at most Excel's
    32767 characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _NOT_XML_RE.sub("", ILLEGAL_CHARACTERS_RE.sub("", text))
    return text[:MAX_CELL_CHARS]


def set_text(cell, text: str) -> None:
    """Store `text` in the cell as a string, whatever it starts with; an empty text leaves the cell empty.

    A formula-like text also gets Excel's quote prefix (shown as a leading ' in the formula bar, not part
    of the value), so that editing the cell in Excel keeps it a text instead of turning it into a formula.
    """
    cleaned, quoted = _stored_text(text)
    if not cleaned:
        cell.value = None
        return
    # Straight in as a string: openpyxl's setter would read "=…" as a formula and "#N/A" as an error (and
    # check again what clean_text already made safe).
    cell._value, cell.data_type = cleaned, "s"
    if quoted:
        cell.quotePrefix = True


@lru_cache(maxsize=4096)
def _stored_text(text: str) -> tuple[str, bool]:
    """What a cell stores of `text`: the cleaned text, and whether it needs the quote prefix. Memoised: a
    form repeats its labels, 未填报 and the indicator names in every block."""
    cleaned = clean_text(text)
    return cleaned, bool(cleaned) and formula_like(cleaned)


def put(ws: Worksheet, row: int, col: int, value, *, font: Font | None = None, align: Alignment | None = None,
        fill: PatternFill | None = None, border: Border | None = None, number_format: str | None = None):
    """Write one cell and apply the styles given (the others are left as they are); returns the cell."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        set_text(cell, value)
    else:
        cell.value = value
    if font is not None:
        cell.font = font
    if align is not None:
        cell.alignment = align
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
    if number_format is not None:
        cell.number_format = number_format
    return cell


def merge(ws: Worksheet, row: int, col: int, end_row: int, end_col: int, *, border: Border | None = BORDER) -> None:
    """Merge the range (when it is more than one cell), every cell of it bordered (unless border=None).

    The borders are set after merging: openpyxl replaces the other cells of the range by fresh MergedCells,
    which would lose borders set before; and Excel draws a merged range's border from its cells."""
    if end_row > row or end_col > col:
        ws.merge_cells(start_row=row, start_column=col, end_row=end_row, end_column=end_col)
    if border is not None:
        for r in range(row, end_row + 1):
            for c in range(col, end_col + 1):
                ws.cell(row=r, column=c).border = border


def styled(ws: Worksheet, row: int, col: int, *, font: Font | None = None, align: Alignment | None = None,
           fill: PatternFill | None = None, border: Border | None = None, number_format: str | None = None):
    """The cell at (row, col) given exactly these styles (no others), fast: each combination is applied
    through openpyxl once per workbook — openpyxl hashes every style object to find its index, most of the
    time of a big form — and copied to the next cells as its style indexes. The style objects are compared
    by identity: pass the module's shared ones, not fresh copies."""
    styles = style_cache(ws)
    key = ("styled", id(font), id(align), id(fill), id(border), number_format)
    array = styles.get(key)
    if array is not None and (row, col) not in ws._cells:
        # A new cell made with the style indexes (Cell copies the array): ws.cell() and its lookups were a
        # quarter of the time of a large form.
        cell = Cell(ws, row=row, column=col, style_array=array)
        ws._add_cell(cell)
        return cell
    cell = ws.cell(row=row, column=col)
    if array is None:
        cell._style = StyleArray()
        for name, style in (("font", font), ("alignment", align), ("fill", fill), ("border", border),
                            ("number_format", number_format)):
            if style is not None:
                setattr(cell, name, style)
        styles[key] = copy(cell._style)
    else:
        cell._style = copy(array)
    return cell


def merge_disjoint(ws: Worksheet, row: int, col: int, end_row: int, end_col: int, *,
                   border: Border | None = BORDER) -> None:
    """`merge`, fast for a sheet of thousands of ranges that never overlap (the forms merge each block inside
    its own rows; their tests check it): openpyxl's `merge_cells` checks each new range against every earlier
    one (quadratic: 73 % of the time of a 1,000-project 监控表) and reads the borders of its edges; here the
    range goes into the set as plain coordinates, which is all the writer needs. The top-left cell keeps its
    own styles plus the border; the others become the empty MergedCells `merge_cells` leaves, bordered.
    Like `styled`, each combination of styles is applied through openpyxl once per workbook."""
    if border is not None:
        cell = ws.cell(row=row, column=col)
        _add_border(cell, border, key=("top-left", tuple(cell._style or ()), id(border)))
    if end_row > row or end_col > col:
        ws.merged_cells.ranges.add(CellRange(min_col=col, min_row=row, max_col=end_col, max_row=end_row))
        key = ("merged", id(border))
        for r in range(row, end_row + 1):
            for c in range(col, end_col + 1):
                if (r, c) == (row, col):
                    continue
                cell = ws._cells[r, c] = MergedCell(ws, r, c)
                if border is not None:
                    _add_border(cell, border, key=key)


def _add_border(cell, border: Border, *, key) -> None:
    """Give the cell `border` on top of its styles (`key` names that combination): through openpyxl the
    first time in the workbook, then as the style array it gave."""
    arrays = style_cache(cell.parent)
    array = arrays.get(key)
    if array is None:
        cell.border = border
        arrays[key] = copy(cell._style)
    else:
        cell._style = copy(array)


def style_cache(ws: Worksheet) -> dict:
    """The style arrays already applied in the worksheet's workbook (a style is an index into the workbook's
    own lists), per combination of styles: for writers that copy them to the next cells."""
    global _LAST_STYLES
    workbook = ws.parent
    last, styles = _LAST_STYLES  # one tuple, replaced whole: safe between threads
    if last is not None and last() is workbook:
        # A form asks this for every cell: the weak dictionary's lookup was a tenth of `styled`.
        return styles
    styles = _STYLES.setdefault(workbook, {})
    _LAST_STYLES = (weakref.ref(workbook), styles)
    return styles


_LAST_STYLES: tuple = (None, None)  # (a weak reference to the workbook last asked about, its style arrays)


def put_merged(ws: Worksheet, row: int, col: int, end_row: int, end_col: int, value, *, font: Font | None = None,
               align: Alignment | None = None, fill: PatternFill | None = None, border: Border | None = BORDER,
               number_format: str | None = None) -> None:
    """`value` in the top-left cell of a merged range styled with the rest: its font, alignment, fill and
    number format are the range's (Excel shows the top-left cell's), and every cell of it gets the border."""
    put(ws, row, col, value, font=font, align=align, fill=fill, border=border, number_format=number_format)
    merge(ws, row, col, end_row, end_col, border=border)


def sheet_title(wanted: str, used: set[str], *, fallback: str = "项目") -> str:
    """A valid worksheet name for `wanted`, unique among `used` (case-insensitively, as Excel compares them),
    which it is added to: at most 31 characters, none of []:*?/\\ (nor line breaks or tabs), no apostrophe
    or space at either end; a taken name gets a suffix (2), (3) …"""
    base = clean_text(wanted)
    base = "".join("_" if ch in SHEET_TITLE_FORBIDDEN or ch in "\n\t" else ch for ch in base)
    base = _strip_title(base) or fallback
    base = _strip_title(base[:MAX_SHEET_TITLE]) or fallback
    taken = {t.casefold() for t in used} | RESERVED_SHEET_TITLES
    title, number = base, 2
    while title.casefold() in taken:
        suffix = f"({number})"
        title = _strip_title(base[: MAX_SHEET_TITLE - len(suffix)]) + suffix
        number += 1
    used.add(title.casefold())
    return title


def _strip_title(text: str) -> str:
    return re.sub(r"^[\s']+|[\s']+$", "", text)


# --- row heights ----------------------------------------------------------------------------------------

def display_width(text: str) -> int:
    """The width of a text in Excel's character units: a CJK (wide or full-width) character counts 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrapped_lines(text: str | None, width: float, *, margin: float = 1, minimum: float = 4) -> int:
    """How many lines a wrapped text takes in a column (or merged columns) `width` characters wide: every
    line of it at least one, and `width - margin` (never less than `minimum`) characters per line."""
    if not isinstance(text, str) or len(text) <= _MEMO_WRAPPED_UP_TO:
        # Memoised: a form asks it of the same indicator names and targets in every block.
        return _wrapped_lines(text, width, margin, minimum)
    return _wrapped_lines.__wrapped__(text, width, margin, minimum)


_MEMO_WRAPPED_UP_TO = 200  # characters: longer texts are rare and would make the memo large


@lru_cache(maxsize=8192)
def _wrapped_lines(text: str | None, width: float, margin: float, minimum: float) -> int:
    per_line = max(width - margin, minimum)
    return sum(max(1, math.ceil(display_width(part) / per_line)) for part in (text or "").split("\n"))


# --- page setup -----------------------------------------------------------------------------------------

def fit_to_width(ws: Worksheet, *, orientation: str, paper_size: int | None = None) -> None:
    """Print one page wide and as many pages down as needed, in `orientation` ("portrait"/"landscape"),
    on `paper_size` (e.g. `ws.PAPERSIZE_A4`) when given."""
    ws.page_setup.orientation = orientation
    if paper_size is not None:
        ws.page_setup.paperSize = paper_size
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


# --- saving -------------------------------------------------------------------------------------------

def workbook_bytes(workbook: Workbook) -> bytes:
    """`workbook.save()` into bytes, the same file, faster for forms of a hundred thousand cells: the rows of
    each sheet are written as text (`_RowsWriter`) instead of an element tree per cell through et_xmlfile's
    generic serializer (half the time of a 1,000-project 监控表). A test compares every part of the file with
    what `save()` writes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        # As openpyxl.writer.excel.save_workbook does.
        workbook.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)
        _ExcelWriter(workbook, archive).save()
    return buffer.getvalue()


class _RowsWriter(WorksheetWriter):
    """openpyxl's worksheet writer, its `write_row` giving the same XML as text. A row with anything but
    plain cells (texts, numbers, empty styled cells, comments: no formula, date, rich text or hyperlink), or
    with lxml installed (openpyxl then writes through lxml, fast already), goes the library's way."""

    def write_row(self, xf, row, row_idx):
        write = getattr(xf, "_file", None)  # et_xmlfile's incremental writer: a function writing text
        if write is None or not callable(write):
            return super().write_row(xf, row, row_idx)
        attrs = {"r": f"{row_idx}"}
        attrs.update(self.ws.row_dimensions.get(row_idx, {}))
        parts = ["<row", *(f' {key}="{_escape_attrib(str(value))}"' for key, value in attrs.items()), ">"]
        comments = []
        style_ids = self._style_ids
        for cell in row:
            value = cell._value
            kind = cell.data_type
            if cell.hyperlink or not (isinstance(value, str) if kind == "s" else
                                      kind == "n" and (value is None or type(value) in _PLAIN_NUMBERS)):
                return super().write_row(xf, row, row_idx)  # nothing written yet
            if cell._comment is not None:
                comments.append(CommentRecord.from_cell(cell))
            styled = cell.has_style
            if value is None and not styled and not cell._comment:
                continue
            # As openpyxl.cell._writer.etree_write_cell writes it.
            head = f'<c r="{cell.coordinate}"'
            if styled:
                # One StyleArray per cell, equal ones everywhere: its index asked of the workbook once.
                key = tuple(cell._style)
                style_id = style_ids.get(key)
                if style_id is None:
                    style_id = style_ids[key] = cell.style_id
                head += f' s="{style_id}"'
            head += ' t="inlineStr"' if kind == "s" else ' t="n"'
            if value is None or value == "":
                parts.append(head + " />")
            elif kind == "s":
                stripped = value.strip()
                space = ' xml:space="preserve"' if stripped and value != stripped else ""
                parts.append(f"{head}><is><t{space}>{_escape_cdata(value)}</t></is></c>")
            else:
                number = safe_string(value)  # "" for NaN and infinities: an empty <v />, as ElementTree writes it
                parts.append(f"{head}><v>{_escape_cdata(number)}</v></c>" if number else f"{head}><v /></c>")
        parts.append("</row>")
        self.ws._comments.extend(comments)
        write("".join(parts))

    @cached_property
    def _style_ids(self) -> dict[tuple, int]:
        return {}


_PLAIN_NUMBERS = (int, float, Decimal)


class _ExcelWriter(ExcelWriter):
    """openpyxl's ExcelWriter (3.1), its sheets written by `_RowsWriter`."""

    def write_worksheet(self, ws):
        if self.workbook.write_only:
            return super().write_worksheet(ws)
        # As ExcelWriter.write_worksheet does, with the other worksheet writer.
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = _RowsWriter(ws)
        writer.write()
        ws._rels = writer._rels
        self._archive.write(writer.out, ws.path[1:])
        self.manifest.append(ws)
        writer.cleanup()


# --- CSV ------------------------------------------------------------------------------------------------

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(text: str) -> bool:
    """Would a spreadsheet program opening a CSV run this text: does it start, after any leading blanks,
    with = + - @, a tab or a carriage return? (A doubled "==" starts with "=" too.)"""
    for ch in text:
        if ch in FORMULA_TRIGGERS:
            return True
        if not ch.isspace():
            return False
    return False


def csv_safe(value):
    """A CSV cell that no spreadsheet program runs: a formula-like text gets a leading apostrophe (OWASP),
    anything else, numbers and None included, is returned unchanged."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


# --- upload limits (checked before any parser sees the file) -------------------------------------------
# An .xlsx is a zip: a small upload can expand to gigabytes of XML, and openpyxl builds every cell of it in
# memory (a 1.6 MB file once took the web process to 3.8 GB). These limits are read from the zip's central
# directory and the first bytes of each sheet only; the callers may override them from the settings
# (JIXIAO_XLSX_MAX_UNCOMPRESSED_BYTES, JIXIAO_XLSX_MAX_SHEETS, JIXIAO_XLSX_MAX_CELLS, JIXIAO_XLSX_MAX_RATIO).

XLSX_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024  # all members together, as the central directory declares
XLSX_MAX_SHEETS = 50
XLSX_MAX_CELLS = 2_000_000  # all sheets together, estimated from each sheet's <dimension ref="A1:Z9999">
XLSX_MAX_RATIO = 200  # uncompressed / compressed of one member (sheet XML compresses 10–30 times)
XLSX_RATIO_FLOOR = 1024 * 1024  # the ratio is only checked on members larger than this
XLSX_MAX_MEMBERS = 10_000  # entries of the zip
XLSX_DIMENSION_READ = 64 * 1024  # bytes of a sheet's XML read to find its <dimension>

_MB = 1024 * 1024
_SHEET_MEMBER_RE = re.compile(r"^xl/worksheets/sheet\d*\.xml$", re.IGNORECASE)
_DIMENSION_RE = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([A-Za-z]{1,3})(\d{1,7})"
                           rb"(?::([A-Za-z]{1,3})(\d{1,7}))?[\"']")


@dataclass(frozen=True)
class XlsxLimits:
    max_uncompressed_bytes: int = XLSX_MAX_UNCOMPRESSED_BYTES
    max_sheets: int = XLSX_MAX_SHEETS
    max_cells: int = XLSX_MAX_CELLS
    max_ratio: int = XLSX_MAX_RATIO


# What reading a damaged, encrypted or oddly compressed zip may raise (zipfile's own errors and those of
# the decompressors and of a truncated file): such a file is refused, never a 500.
ZIP_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError,
                   ValueError)


class XlsxRefused(ValueError):
    """An uploaded .xlsx refused before parsing; the message (Chinese) names the limit."""


logger = logging.getLogger(__name__)
# A damaged upload, in the user's terms; the exception goes to the log, never into the message.
XLSX_DAMAGED = "不是有效的 Excel 文件（.xlsx）：文件已损坏，无法读取。请在 Excel 中打开并另存为 .xlsx 后重新上传。"


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _sheet_cells(head: bytes) -> int:
    """Cells of a sheet as its <dimension> declares them (0 when the head holds none)."""
    found = _DIMENSION_RE.search(head)
    if found is None:
        return 0
    first_col, first_row, last_col, last_row = found.groups()
    if last_col is None:
        return 1
    rows = abs(int(last_row) - int(first_row)) + 1
    cols = abs(_column_number(last_col) - _column_number(first_col)) + 1
    return rows * cols


def xlsx_check(source: bytes | BinaryIO, *, limits: XlsxLimits | None = None) -> None:
    """Refuse an .xlsx (bytes or a binary file) that is not a zip, or that would be too big to parse: raises
    XlsxRefused naming the limit. Reads the central directory and at most XLSX_DIMENSION_READ bytes of
    each sheet; nothing is parsed and no member is decompressed beyond that."""
    limits = limits or XlsxLimits()
    file = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    start = file.tell()
    try:
        if not zipfile.is_zipfile(file):
            raise XlsxRefused("不是有效的 Excel 文件（.xlsx）：文件内容不是 Excel 工作簿（压缩包）格式，"
                              "请在 Excel 中另存为 .xlsx 后再上传。")
        file.seek(start)
        try:
            archive = zipfile.ZipFile(file)
        except ZIP_READ_ERRORS:
            logger.warning("uploaded workbook: damaged zip", exc_info=True, extra={"event": "xlsx_unreadable"})
            raise XlsxRefused(XLSX_DAMAGED) from None
        with archive:
            _check_archive(archive, limits)
    finally:
        file.seek(start)


def _check_archive(archive: zipfile.ZipFile, limits: XlsxLimits) -> None:
    members = archive.infolist()
    if len(members) > XLSX_MAX_MEMBERS:
        raise XlsxRefused(f"表格过大：压缩包中有 {len(members)} 个文件，超过上限 {XLSX_MAX_MEMBERS} 个。")
    total = sum(info.file_size for info in members)
    if total > limits.max_uncompressed_bytes:
        raise XlsxRefused(f"表格过大：解压后 {total / _MB:.1f} MB，超过上限 {limits.max_uncompressed_bytes / _MB:.0f} MB。"
                          "请删除多余的工作表、行列或图片后再上传。")
    for info in members:
        if info.file_size > XLSX_RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise XlsxRefused(f"表格异常：文件“{info.filename}”的压缩比为 {ratio:.0f} 倍，超过上限 {limits.max_ratio} 倍"
                              "（疑似压缩炸弹），未读取。")
    sheets = [info for info in members if _SHEET_MEMBER_RE.match(info.filename)]
    if len(sheets) > limits.max_sheets:
        raise XlsxRefused(f"表格过大：共 {len(sheets)} 个工作表，超过上限 {limits.max_sheets} 个。")
    cells = 0
    for info in sheets:
        try:
            with archive.open(info) as member:
                head = member.read(XLSX_DIMENSION_READ)
        except ZIP_READ_ERRORS:
            logger.warning("uploaded workbook: sheet %s unreadable", info.filename, exc_info=True,
                           extra={"event": "xlsx_unreadable"})
            raise XlsxRefused(f"不是有效的 Excel 文件（.xlsx）：工作表“{info.filename}”已损坏，无法读取。"
                              "请在 Excel 中打开并另存为 .xlsx 后重新上传。") from None
        cells += _sheet_cells(head)
        if cells > limits.max_cells:
            raise XlsxRefused(f"表格过大：按工作表范围估算共约 {cells:,} 个单元格，超过上限 {limits.max_cells:,} 个。"
                              "请删除多余的行列（或另存为只含数据区域的新工作簿）后再上传。")
