"""The one spreadsheet kit of every xlsx and csv writer (style.md, "Spreadsheets and exports").

Writing (openpyxl):
- `put(ws, row, col, value, ...)` writes a cell: a text is always stored as text (never a formula, never an
  error code: "=100%" is a target, "==HYPERLINK(…)" a project name), cleaned by `clean_text`; a number, a
  date or None is stored as it is. Only the styles passed are applied.
- `merge(ws, row, col, end_row, end_col)` merges a range and borders every cell of it (Excel draws the
  border of a merged range from its cells); `put_merged` writes a value into a range styled cell by cell.
- `sheet_title(wanted, used)` a valid, unique worksheet name.
- `display_width` / `wrapped_lines` the CJK-aware estimate used for row heights.
- `fit_to_width(ws, ...)` the page setup every form shares: printed one page wide, as many pages down.
- the shared styles: `BORDER`, `song(size, bold=…, color=…)` (宋体), `TITLE_FONT` (黑体 16 bold), `LABEL_FILL`,
  the alignments `LEFT`, `CENTER`, `RIGHT`, `WRAP` and the number formats.

CSV:
- `csv_safe(value)` neutralises a text a spreadsheet program would run when the CSV is opened (OWASP "CSV
  injection"): one starting with = + - @, a tab or a carriage return, also after leading spaces, by
  prefixing an apostrophe. Numbers and None are returned unchanged.
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import cache

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

MAX_CELL_CHARS = 32767  # Excel's limit for the text of one cell
MAX_SHEET_TITLE = 31  # Excel's limit for a worksheet name
SHEET_TITLE_FORBIDDEN = '[]:*?/\\'
RESERVED_SHEET_TITLES = frozenset({"history"})  # Excel keeps "History" for itself

# --- styles -------------------------------------------------------------------------------------------

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
    cleaned = clean_text(text)
    cell.value = cleaned or None
    if cleaned:
        cell.data_type = "s"  # openpyxl would read "=…" as a formula and "#N/A" as an error
        if formula_like(cleaned):
            cell.quotePrefix = True


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
