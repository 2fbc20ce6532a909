"""Exports of the scorecard tables (django-tables2's ExportMixin): xlsx and csv written with kpi.spreadsheets."""
import csv
import datetime as dt
from decimal import Decimal
from io import StringIO

from django_tables2.export import TableExport
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from kpi.spreadsheets import BOLD, WRAP_ONLY, csv_safe, put, sheet_title, workbook_bytes

_KEPT = (bool, int, float, Decimal, dt.date, dt.time)  # stored as themselves; anything else as its text


def _cell_value(value):
    if value is None or (isinstance(value, _KEPT) and getattr(value, "tzinfo", None) is None):
        return value
    return str(value)  # text, and a time with a time zone (Excel has none)


class SafeTableExport(TableExport):
    """xlsx and csv that are safe to open: no cell runs as a formula. The xlsx stores every text as text
    and numbers as numbers; the CSV neutralises every formula-like text (`csv_safe`) and carries a UTF-8
    BOM so that Excel shows the Chinese text instead of mojibake."""

    def export(self):
        if self.format == self.XLSX:
            return self._xlsx()
        if self.format == self.CSV:
            return "\ufeff" + self._csv()
        return super().export()

    def _rows(self):
        """The header row (when the dataset has one), then the data rows."""
        if self.dataset.headers:
            yield list(self.dataset.headers)
        yield from (list(row) for row in self.dataset)

    def _xlsx(self) -> bytes:
        """One sheet named after the dataset, laid out as tablib laid it out: the headers bold and frozen,
        each column as many characters wide as its longest `str(value)` (a blank cell counts as "None")."""
        workbook = Workbook()
        ws = workbook.active
        ws.title = sheet_title(self.dataset.title or "Sheet1", set(), fallback="Sheet1")
        widths: dict[int, int] = {}
        has_headers = bool(self.dataset.headers)
        for row_number, row in enumerate(self._rows(), start=1):
            header = has_headers and row_number == 1
            for col, value in enumerate(row, start=1):
                widths[col] = max(widths.get(col, 0), len(str(value)))
                value = _cell_value(value)
                multiline = isinstance(value, str) and "\n" in value
                put(ws, row_number, col, value, font=BOLD if header else None,
                    align=WRAP_ONLY if multiline and not header else None)
        if has_headers:
            ws.freeze_panes = "A2"
        for col, width in widths.items():
            ws.column_dimensions[get_column_letter(col)].width = width
        return workbook_bytes(workbook)

    def _csv(self) -> str:
        stream = StringIO()
        writer = csv.writer(stream)
        for row in self._rows():
            writer.writerow([csv_safe(value) for value in row])
        return stream.getvalue()
