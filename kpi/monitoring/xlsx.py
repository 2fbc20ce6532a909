"""绩效运行监控表 as an Excel government form (openpyxl), from a `MonitoringReport`.

One sheet: the merged title `{unit} {year}年 绩效运行监控表（1–m月）`, then per project (and the 部门整体
table) a block of header rows — 项目名称, 全年预算数, 执行数, 执行率, 时间进度, 预算执行灯 — and the
indicator rows. Numbers are stored as numbers (money 0.00, rates 0.00%); anything not reported reads
未填报, never 0. Lights are the words 红/黄/绿/蓝/未填报 on a matching fill. A4 landscape, one page wide.
"""
from __future__ import annotations

import datetime as dt
import gc
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from kpi.formatting import plain_decimal
from kpi.lights import Light
from kpi.spreadsheets import (
    BORDER,
    CENTER,
    GENERAL_FORMAT,
    INTEGER_FORMAT,
    LABEL_FILL,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    RIGHT,
    TEXT_FORMAT,
    TITLE_FONT,
    WRAP,
    fit_to_width,
    merge_disjoint,
    set_text,
    song,
    styled,
    workbook_bytes,
    wrapped_lines,
)

from .selectors import LIGHT_ORDER, IndicatorLine, MonitoringReport, TableBlock

SHEET_TITLE = "绩效运行监控表"
MISSING = "未填报"
LIGHT_TEXT = {Light.RED: "红", Light.YELLOW: "黄", Light.GREEN: "绿", Light.BLUE: "蓝", Light.NONE: MISSING}
LIGHT_FILL = {
    Light.RED: PatternFill("solid", fgColor="FF8B8B"),
    Light.YELLOW: PatternFill("solid", fgColor="FFE27A"),
    Light.GREEN: PatternFill("solid", fgColor="9BD49B"),
    Light.BLUE: PatternFill("solid", fgColor="9CC3F0"),
    Light.NONE: PatternFill("solid", fgColor="E3E3E3"),
}


def indicator_headers(month: int) -> tuple[str, ...]:
    return ("一级指标", "二级指标", "三级指标", "年度指标值", f"1–{month}月完成值", "全年预计完成值", "偏差原因",
            "完成目标可能性", "是否需要整改", "整改措施", "监控灯")


WIDTHS = (12, 14, 28, 14, 14, 14, 26, 12, 10, 26, 10)
NCOLS = len(WIDTHS)

_FONT = song(10)
_BOLD = song(10, bold=True)
_NUMBER = GENERAL_FORMAT  # 56, 96, 5.14: as entered, no forced decimals
PROGRESS_EVERY = 50  # blocks between two progress reports


def monitoring_workbook(report: MonitoringReport, *, progress=None) -> bytes:
    """The report as .xlsx bytes. `progress(done, total)` is called every PROGRESS_EVERY blocks written (and
    after the last one), for an export task's progress bar."""
    with without_cyclic_gc():
        return _workbook(report, progress=progress)


@contextmanager
def without_cyclic_gc():
    """Python's cyclic garbage collector paused while a form is built: its full passes walk every cell and
    style object made so far (120,000 cells for 1,000 projects), a third of the time of the form. Nothing is
    lost: reference counting frees what it always did, and the cycles (cells and their sheet) are collected
    at the next pass once it is back on. Left off if it already was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _workbook(report: MonitoringReport, *, progress) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    ws.title = SHEET_TITLE
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width

    title = f"{report.unit.name} {report.year}年 绩效运行监控表（1–{report.month}月）"
    _put(ws, 1, 1, title, font=TITLE_FONT, align=CENTER, border=False)
    merge(ws, 1, 1, 1, NCOLS, border=None)
    ws.row_dimensions[1].height = 32
    subtitle = (f"截至 {report.cut.year}年{report.cut.month}月{report.cut.day}日　　金额单位：万元　　"
                f"时间进度 {report.month}/12")
    _put(ws, 2, 1, subtitle, align=CENTER, border=False)
    merge(ws, 2, 1, 2, NCOLS, border=None)

    row = 4
    total = len(report.blocks)
    for done, block in enumerate(report.blocks, start=1):
        row = _write_block(ws, row, block, report) + 2
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    _write_summary(ws, row, report)

    fit_to_width(ws, orientation="landscape", paper_size=ws.PAPERSIZE_A4)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.print_title_rows = "1:2"
    return workbook_bytes(workbook)


def _write_block(ws: Worksheet, row: int, block: TableBlock, report: MonitoringReport) -> int:
    """A table's header rows and indicator rows from `row`; returns the last row written."""
    _label(ws, row, 1, "部门名称" if block.is_unit else "项目名称")
    _put(ws, row, 2, block.title)
    merge(ws, row, 2, row, 7)
    _label(ws, row, 8, "整体监控灯" if block.is_unit else "项目监控灯", end_col=9)
    _light(ws, row, 10, block.light, end_col=11)

    row += 1
    _label(ws, row, 1, "全年预算数")
    cell = _number(ws, row, 2, block.budget, MONEY_FORMAT)
    if block.adjusted_since:  # the budget of the cut date, as the page shows it
        cell.comment = Comment(f"截至日的全年预算数；之后调整为 {plain_decimal(block.budget_now)}", "Jixiao")
    _label(ws, row, 3, "执行数")
    _number(ws, row, 4, block.executed, MONEY_FORMAT)
    _label(ws, row, 5, "执行率")
    if block.execution_rate is None and block.executed is not None:
        _put(ws, row, 6, "—", align=CENTER)  # a budget of 0: the rate is undefined, not unreported
    else:
        _number(ws, row, 6, block.execution_rate, PERCENT_FORMAT)
    _label(ws, row, 7, "时间进度")
    _number(ws, row, 8, report.time_share, PERCENT_FORMAT)
    _label(ws, row, 9, "预算执行灯")
    _light(ws, row, 10, block.budget_light, end_col=11)

    row += 1
    for col, header in enumerate(indicator_headers(report.month), start=1):
        _label(ws, row, col, header)
    if block.table is None:
        row += 1
        _put(ws, row, 1, "该项目尚未编制绩效目标表。", align=CENTER)
        merge(ws, row, 1, row, NCOLS)
        return row
    if not block.lines:
        row += 1
        _put(ws, row, 1, "绩效目标表中没有适用的指标。", align=CENTER)
        merge(ws, row, 1, row, NCOLS)
        return row
    first = row + 1
    for line in block.lines:
        row += 1
        _write_line(ws, row, line)
    _merge_levels(ws, first, block.lines)
    return row


def _write_line(ws: Worksheet, row: int, line: IndicatorLine) -> None:
    indicator = line.indicator
    _put(ws, row, 1, indicator.level1, align=CENTER)
    _put(ws, row, 2, indicator.level2, align=CENTER)
    _put(ws, row, 3, indicator.name)
    _put(ws, row, 4, indicator.target_raw, align=CENTER)
    if line.actual is None:
        _put(ws, row, 5, MISSING, align=CENTER)
    elif line.value is not None:
        cell = _number(ws, row, 5, line.value, _NUMBER)
        if not line.approved:
            cell.comment = Comment(f"{line.status_label}：截至 {line.actual.as_of:%Y-%m-%d}", "Jixiao")
    else:
        cell = _put(ws, row, 5, line.value_text or MISSING, align=CENTER)
        if not line.approved:
            cell.comment = Comment(line.status_label, "Jixiao")
    if line.forecast is not None:
        cell = _number(ws, row, 6, line.forecast, _NUMBER)
        if line.forecast_projected:
            cell.comment = Comment("按时间进度推算（未填报预计值）", "Jixiao")
    else:
        _put(ws, row, 6, MISSING if line.actual is None else "—", align=CENTER)
    _put(ws, row, 7, line.deviation)
    _put(ws, row, 8, line.likelihood, align=CENTER)
    rectify = {True: "是", False: "否", None: ""}[line.needs_rectification]
    _put(ws, row, 9, rectify, align=CENTER)
    _put(ws, row, 10, line.rectification_measures)
    _light(ws, row, 11, line.light)
    wrapped = ((indicator.level2, 1), (indicator.name, 2), (indicator.target_raw, 3), (line.deviation, 6),
               (line.rectification_measures, 9))
    height = max(wrapped_lines(text, WIDTHS[col]) for text, col in wrapped)
    ws.row_dimensions[row].height = max(1, height) * 14 + 4


def _merge_levels(ws: Worksheet, first: int, lines: list[IndicatorLine]) -> None:
    """Merge runs of the same 一级指标 (and, inside them, the same 二级指标), as the printed forms do."""
    for col, key in ((1, lambda i: i.level1), (2, lambda i: (i.level1, i.level2))):
        start = 0
        for index in range(1, len(lines) + 1):
            if index == len(lines) or key(lines[index].indicator) != key(lines[start].indicator):
                if index - start > 1:
                    merge(ws, first + start, col, first + index - 1, col)
                start = index


def _write_summary(ws: Worksheet, row: int, report: MonitoringReport) -> None:
    _label(ws, row, 1, "单位汇总", end_col=2)
    _label(ws, row, 3, "监控灯")
    for offset, light in enumerate(LIGHT_ORDER):
        _light(ws, row, 4 + offset, light)
    _label(ws, row + 1, 1, "项目（目标表）数", end_col=3)
    _label(ws, row + 2, 1, "指标数", end_col=3)
    for offset, light in enumerate(LIGHT_ORDER):
        _number(ws, row + 1, 4 + offset, report.counts[light], INTEGER_FORMAT)
        _number(ws, row + 2, 4 + offset, report.indicator_counts[light], INTEGER_FORMAT)
    notes = (
        "注：1. 监控灯：预算执行按 执行率 ÷ 时间进度，低于60%红、60%–80%黄、80%及以上绿；累计型指标按 完成值 ÷"
        "（年度指标值 × 时间进度），水平型指标按当前完成比例，另有120%及以上为蓝（超进度，指标值可能偏低）。",
        "2. 完成值带批注的为暂报数（所在填报尚未审核通过）；已退回的填报不计入。",
        "3. 全年预计完成值带批注的为系统推算：累计型指标按 完成值 × 12 ÷ 填报月份，水平型指标按当前值。",
    )
    for offset, note in enumerate(notes, start=4):
        _put(ws, row + offset, 1, note, border=False)
        merge(ws, row + offset, 1, row + offset, NCOLS, border=None)
        ws.row_dimensions[row + offset].height = 28


merge = merge_disjoint  # the ranges of this form never overlap (each block merges inside its own rows)


# --- cells (kpi.spreadsheets) ------------------------------------------------------------------------

def _put(ws: Worksheet, row: int, col: int, value, *, font=_FONT, align=WRAP, fill=None, fmt=None, border=True):
    """A cell of the form: text is stored as text (a target "=100%" is never a formula) and formatted as
    text, like an empty cell; anything else as `fmt` (General by default). Styled through `styled` (each
    combination applied once per workbook); no cell is written twice, nor after being merged."""
    text = isinstance(value, str)
    fmt = fmt or (TEXT_FORMAT if value is None or text else GENERAL_FORMAT)
    cell = styled(ws, row, col, font=font, align=align, fill=fill, border=BORDER if border else None,
                  number_format=fmt)
    if text:
        set_text(cell, value)  # after the styles: it may set the quote prefix of a formula-like text
    else:
        cell.value = value
    return cell


def _number(ws: Worksheet, row: int, col: int, value: Decimal | int | None, fmt: str):
    if value is None:
        return _put(ws, row, col, MISSING, align=CENTER)
    return _put(ws, row, col, value, align=RIGHT, fmt=fmt)


def _label(ws: Worksheet, row: int, col: int, text: str, *, end_col: int | None = None):
    _put(ws, row, col, text, font=_BOLD, align=CENTER, fill=LABEL_FILL)
    if end_col:
        merge(ws, row, col, row, end_col)


def _light(ws: Worksheet, row: int, col: int, light: Light, *, end_col: int | None = None):
    _put(ws, row, col, LIGHT_TEXT[light], font=_BOLD, align=CENTER, fill=LIGHT_FILL[light])
    if end_col:
        merge(ws, row, col, row, end_col)


# --- a large form, built by a task (kpi.monitoring.tasks) ------------------------------------------------
# No model holds the job: its state lives in the shared cache (the web process and the workers share it:
# config/settings/base.py) under a random token, and the file under MEDIA_ROOT/exports/, named by the token.

EXPORT_IN_TASK_OVER = 100  # projects: a larger unit's form is built by a task with a progress bar
EXPORT_KEPT_SECONDS = 24 * 3600  # how long a job's state (and so its file's link) is kept
EXPORT_FOLDER = "exports"


@dataclass(frozen=True)
class ExportJob:
    """A 监控表 export being built (or built): who asked, for what, and how far it is."""

    token: str
    unit_id: int
    year: int
    cut: dt.date
    user_id: int
    status: str  # pending, running, done, failed
    done: int = 0  # blocks written
    total: int = 0  # blocks to write (0 until the report is read)
    file: str = ""  # storage name, once done
    error: str = ""

    STATUS_TEXT = {"pending": "排队中", "running": "生成中", "done": "已完成", "failed": "失败"}

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def status_display(self) -> str:
        return self.STATUS_TEXT.get(self.status, self.status)

    def as_cache(self) -> dict:
        return {"unit_id": self.unit_id, "year": self.year, "cut": self.cut.isoformat(), "user_id": self.user_id,
                "status": self.status, "done": self.done, "total": self.total, "file": self.file, "error": self.error}


def _cache_key(token: str) -> str:
    return f"monitoring-xlsx:{token}"


def export_job(token: str) -> ExportJob | None:
    """The job of `token` (None when unknown or expired)."""
    if not token or len(token) > 64:
        return None
    data = cache.get(_cache_key(token))
    if not isinstance(data, dict):
        return None
    return ExportJob(token=token, unit_id=data["unit_id"], year=data["year"], cut=dt.date.fromisoformat(data["cut"]),
                     user_id=data["user_id"], status=data["status"], done=data["done"], total=data["total"],
                     file=data["file"], error=data["error"])


def _save(job: ExportJob, **changes) -> ExportJob:
    job = replace(job, **changes)
    cache.set(_cache_key(job.token), job.as_cache(), EXPORT_KEPT_SECONDS)
    return job


def export_start(*, unit, year: int, cut: dt.date, user) -> ExportJob:
    """Record a new export of the unit's form at `cut`, asked by `user`; the caller enqueues the task
    (`kpi.monitoring.tasks.monitoring_xlsx_run`) with its token."""
    job = ExportJob(token=secrets.token_urlsafe(24), unit_id=unit.pk, year=year, cut=cut, user_id=user.pk,
                    status="pending")
    return _save(job)


def export_build(*, token: str) -> None:
    """Build the form of a recorded export, its progress kept in the cache as blocks are written. Safe to
    run twice: a finished job is left alone (a second run at once writes the same file under the same name)."""
    from budgets.models import Unit

    from .selectors import monitoring_report

    job = export_job(token)
    if job is None or job.status == "done":
        return
    job = _save(job, status="running", done=0, error="")

    def progress(done: int, total: int) -> None:
        nonlocal job
        job = _save(job, done=done, total=total)

    # One pause for the report and the form: turned back on in between, the collector's first pass walked
    # every object of the report (a tenth of a second for 1,000 projects).
    with without_cyclic_gc():
        report = monitoring_report(unit=Unit.objects.get(pk=job.unit_id), year=job.year, cut=job.cut)
        job = _save(job, total=len(report.blocks))
        data = monitoring_workbook(report, progress=progress)
    name = f"{EXPORT_FOLDER}/monitoring-{token}.xlsx"
    if default_storage.exists(name):
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(data))
    _save(job, status="done", done=len(report.blocks), file=stored)


def export_fail(*, token: str, error: str) -> None:
    """Record why an export failed, for its progress bar."""
    job = export_job(token)
    if job is not None and job.status != "done":
        _save(job, status="failed", error=error[:500])


def exports_prune(*, now: dt.datetime | None = None) -> int:
    """Delete the export files older than EXPORT_KEPT_SECONDS (their jobs, and so their links, have expired
    from the cache by then); returns how many were deleted."""
    from django.utils import timezone

    if not default_storage.exists(EXPORT_FOLDER):
        return 0
    limit = (now or timezone.now()) - dt.timedelta(seconds=EXPORT_KEPT_SECONDS)
    deleted = 0
    for name in default_storage.listdir(EXPORT_FOLDER)[1]:
        path = f"{EXPORT_FOLDER}/{name}"
        if default_storage.get_modified_time(path) < limit:
            default_storage.delete(path)
            deleted += 1
    return deleted
