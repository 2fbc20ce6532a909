"""The upload limits of the importers: kpi.spreadsheets' constants, each overridable in the settings."""
from django.conf import settings

from kpi.spreadsheets import (
    XLSX_MAX_CELLS,
    XLSX_MAX_RATIO,
    XLSX_MAX_SHEETS,
    XLSX_MAX_UNCOMPRESSED_BYTES,
    XlsxLimits,
)


def xlsx_limits() -> XlsxLimits:
    """The limits an uploaded .xlsx is checked against before parsing (kpi.spreadsheets.xlsx_check)."""
    return XlsxLimits(
        max_uncompressed_bytes=getattr(settings, "JIXIAO_XLSX_MAX_UNCOMPRESSED_BYTES", XLSX_MAX_UNCOMPRESSED_BYTES),
        max_sheets=getattr(settings, "JIXIAO_XLSX_MAX_SHEETS", XLSX_MAX_SHEETS),
        max_cells=getattr(settings, "JIXIAO_XLSX_MAX_CELLS", XLSX_MAX_CELLS),
        max_ratio=getattr(settings, "JIXIAO_XLSX_MAX_RATIO", XLSX_MAX_RATIO),
    )
