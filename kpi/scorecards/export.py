"""Exports of the scorecard tables (django-tables2's ExportMixin, through tablib)."""
from django_tables2.export import TableExport

# A cell starting with one of these is read as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SafeTableExport(TableExport):
    """xlsx and csv that are safe to open: no cell runs as a formula, and the CSV carries a UTF-8 BOM so
    that Excel shows the Chinese text instead of mojibake."""

    def export(self):
        if self.format == self.XLSX:
            return self.dataset.export(self.format, escape=True)
        if self.format == self.CSV:
            dataset = self.dataset
            for index, row in enumerate(list(dataset)):
                if any(isinstance(cell, str) and cell.startswith(_FORMULA_START) for cell in row):
                    dataset[index] = [
                        f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell
                        for cell in row
                    ]
            return "\ufeff" + dataset.export(self.format)
        return super().export()
