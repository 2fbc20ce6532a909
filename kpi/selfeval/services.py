"""Writes for the 绩效自评 reports: render a table's or a unit's report, keep it (`SelfEvalReport`), and build a
whole unit's bundle (one zip) in a Celery task that records its progress in the row."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import zipfile
from functools import partial
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from budgets.models import Unit
from budgets.years import year_check
from kpi.models import GoalTable, SelfEvalReport
from kpi.rescoring.services import goal_tables_rescore_stale
from kpi.storage import storage_remove_on_error, storage_save

from . import batch, pdf, xlsx
from .data import ProjectEvaluation, UnitEvaluation, table_evaluation, unit_evaluation

FORMATS = ("json", "xlsx", "pdf")
TABLE_FORMATS = (SelfEvalReport.Format.XLSX, SelfEvalReport.Format.PDF)
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "json": "application/json",
}
SNAPSHOT_NAME = "自评数据.json"
BUNDLE_STALE_AFTER = dt.timedelta(hours=1)  # well beyond CELERY_TASK_TIME_LIMIT (30 min)
PROGRESS_STEPS = 200  # the progress is written every len(entries) // 200 files (every file in a small bundle)


def bundle_processes() -> int:
    """How many processes render a bundle's documents (JIXIAO_BUNDLE_PROCESSES; default: every core)."""
    return max(1, getattr(settings, "JIXIAO_BUNDLE_PROCESSES", None) or os.cpu_count() or 1)


class FormatRefused(ValueError):
    """A format the report cannot be rendered in (the message is in Chinese)."""


# --- rendering ------------------------------------------------------------------------------------------

def unit_report_render(*, evaluation: UnitEvaluation, fmt: str, generated_at: dt.datetime | None = None,
                       kit: pdf.FontKit | None = None) -> bytes:
    """A whole unit's report as json, xlsx or pdf bytes (`kit`: the fonts of a batch, see pdf.font_kit)."""
    if fmt == "json":
        return json_bytes(evaluation.as_json())
    if fmt == "xlsx":
        return xlsx.unit_workbook(evaluation, generated_at=generated_at)
    if fmt == "pdf":
        return pdf.unit_pdf(evaluation, generated_at=generated_at, kit=kit)
    raise FormatRefused(f"不支持的格式“{fmt}”：只能是 {'、'.join(FORMATS)}。")


def table_report_render(*, table: GoalTable, fmt: str,
                        generated_at: dt.datetime | None = None) -> tuple[bytes, ProjectEvaluation]:
    """One table's 自评表 as xlsx or pdf bytes, with the evaluation it shows (nothing is stored)."""
    if fmt not in TABLE_FORMATS:
        raise FormatRefused(f"不支持的格式“{fmt}”：单张自评表只能下载 xlsx 或 pdf。")
    evaluation = table_evaluation(table=table)
    return _render_table(evaluation, fmt, generated_at), evaluation


def _render_table(evaluation: ProjectEvaluation, fmt: str, generated_at, kit: pdf.FontKit | None = None) -> bytes:
    if fmt == "xlsx":
        return xlsx.table_workbook(evaluation, generated_at=generated_at)
    return pdf.table_pdf(evaluation, generated_at=generated_at, kit=kit)


def json_bytes(data: dict) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def table_snapshot(evaluation: ProjectEvaluation, *, unit_name: str) -> dict:
    """A single table in the JSON form of the whole unit (the other tables left out)."""
    entry = evaluation.as_json()
    return {
        "unit": unit_name,
        "year": evaluation.year,
        "projects": [] if evaluation.is_unit_table else [entry],
        "unit_table": entry if evaluation.is_unit_table else None,
    }


def safe_name(text: str) -> str:
    """A file name part with no path separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", text).strip(" .") or "未命名"


def download_name(report: SelfEvalReport) -> str:
    """The name a kept report is downloaded under, e.g. 2026-某项目-项目支出绩效自评表.xlsx."""
    if report.table_id is None:
        return f"{report.year}-{safe_name(report.unit.name)}-绩效自评.{report.format}"
    table = report.table
    if table.project_id:
        return f"{report.year}-{safe_name(table.project.name)}-项目支出绩效自评表.{report.format}"
    return f"{report.year}-{safe_name(report.unit.name)}-部门整体绩效自评表.{report.format}"


# --- one table (the web download) ----------------------------------------------------------------------

@transaction.atomic
def table_report_keep(*, table: GoalTable, fmt: str, user: AbstractBaseUser | None = None) -> SelfEvalReport:
    """Render a table's 自评表 and keep it (存档, an explicit request). When the newest kept report of the table
    in that format shows the same data under the same policy, that one is returned instead of a copy."""
    if fmt not in TABLE_FORMATS:
        raise FormatRefused(f"不支持的格式“{fmt}”：单张自评表只能下载 xlsx 或 pdf。")
    evaluation = table_evaluation(table=table)
    snapshot = table_snapshot(evaluation, unit_name=table.unit.name)
    latest = SelfEvalReport.objects.filter(
        table=table, format=fmt, status=SelfEvalReport.Status.DONE
    ).order_by("-created_at", "-id").first()
    if (latest is not None and latest.snapshot == snapshot and latest.policy_version == evaluation.policy_version
            and latest.file and latest.file.storage.exists(latest.file.name)):
        return latest
    now = timezone.now()
    report = SelfEvalReport(
        unit_id=table.unit_id, year=table.year, table=table, format=fmt, policy_version=evaluation.policy_version,
        snapshot=snapshot, status=SelfEvalReport.Status.DONE, done=1, total=1, generated_by=user, generated_at=now,
    )
    # A full or read-only disk: StorageUnavailable (logged), no partial file and no row.
    storage = report.file.storage
    report.file = storage_save(storage, report.file.field.generate_filename(report, "report"),
                               ContentFile(_render_table(evaluation, fmt, timezone.localtime(now))),
                               max_length=report.file.field.max_length)
    with storage_remove_on_error(storage, report.file.name):
        report.full_clean()
        report.save()
    return report


# --- a whole unit's bundle -------------------------------------------------------------------------------

def selfeval_bundle_start(*, unit: Unit, year: int, user: AbstractBaseUser | None = None) -> SelfEvalReport:
    """Queue the bundle of a unit's year (one zip: every table's xlsx and pdf, the whole-unit ones, the data).

    A bundle of the same unit and year already queued or running is returned instead of a second one
    (unless it is older than BUNDLE_STALE_AFTER: then it is marked failed). The task is enqueued after commit.
    """
    year_check(year)  # no bundle row of year 99999
    with transaction.atomic():
        list(Unit.objects.select_for_update().filter(pk=unit.pk).values_list("pk", flat=True))
        running = SelfEvalReport.objects.filter(
            unit=unit, year=year, table__isnull=True,
            status__in=(SelfEvalReport.Status.PENDING, SelfEvalReport.Status.RUNNING),
        ).order_by("-id").first()
        if running is not None and running.created_at >= timezone.now() - BUNDLE_STALE_AFTER:
            return running
        if running is not None:  # its worker died or never ran it: let a new one start
            selfeval_bundle_fail(report_id=running.pk, error="超时未完成，已重新生成。")
        report = SelfEvalReport(unit=unit, year=year, format=SelfEvalReport.Format.ZIP, generated_by=user)
        report.full_clean()
        report.save()
        transaction.on_commit(partial(_bundle_enqueue, report.pk))
    return report


BROKER_DOWN = "任务队列暂时无法连接，材料包未能开始生成。请稍后重新点击“生成全部自评材料”。"


def _bundle_enqueue(report_id: int) -> None:
    """Send the bundle's message; when the broker is down the bundle is marked failed with a message that
    says so, not left 排队中 (the request that asked for it still succeeds)."""
    from kpi.enqueue import send_now

    from .tasks import selfeval_bundle_run

    if not send_now(selfeval_bundle_run, report_id):
        selfeval_bundle_fail(report_id=report_id, error=BROKER_DOWN)


def bundle_entries(evaluation: UnitEvaluation) -> list[tuple[str, str, object]]:
    """(name in the zip, format, what is rendered) of every document of a unit's bundle, in order."""
    stem = f"{evaluation.year}-{safe_name(evaluation.unit_name)}"
    entries: list[tuple[str, str, object]] = [
        (f"{stem}-绩效自评.xlsx", "xlsx", evaluation),
        (f"{stem}-绩效自评.pdf", "pdf", evaluation),
    ]
    if evaluation.unit_table is not None:
        for fmt in ("xlsx", "pdf"):
            entries.append((f"部门整体绩效自评表/{stem}-部门整体绩效自评表.{fmt}", fmt, evaluation.unit_table))
    used: set[str] = set()
    for project in evaluation.projects:
        name = unique_stem(safe_name(project.project_name or ""), used)
        for fmt in ("xlsx", "pdf"):
            entries.append((f"项目支出绩效自评表/{name}.{fmt}", fmt, project))
    return entries


def unique_stem(stem: str, used: set[str]) -> str:
    """`stem`, or `stem (2)`, `stem (3)`, … when one alike ignoring case is in `used` (names that sanitise
    alike, 道路/养护 and 道路:养护, or differ by case only would overwrite each other when the zip is
    extracted, on Windows and macOS even ABC and abc); the one returned is added to `used`."""
    candidate, number = stem, 2
    while candidate.casefold() in used:
        candidate, number = f"{stem} ({number})", number + 1
    used.add(candidate.casefold())
    return candidate


def selfeval_bundle_build(*, report_id: int) -> None:
    """Build the zip of a queued bundle, recording progress (done / total documents) in its row.

    The unit's stale tables are rescored first, so the bundle shows every change made before it was asked
    for. Safe to run twice: a finished bundle is left alone, and of two runs at once the first to finish
    keeps its file (the other's is deleted). Not one big transaction: the progress is visible meanwhile.
    """
    report = SelfEvalReport.objects.select_related("unit").get(pk=report_id)
    if report.status == SelfEvalReport.Status.DONE:
        return
    SelfEvalReport.objects.filter(pk=report_id).update(status=SelfEvalReport.Status.RUNNING, done=0, error="")
    goal_tables_rescore_stale(tables=GoalTable.objects.filter(unit=report.unit, year=report.year))
    evaluation = unit_evaluation(unit=report.unit, year=report.year)
    entries = bundle_entries(evaluation)
    SelfEvalReport.objects.filter(pk=report_id).update(total=len(entries))
    now = timezone.now()
    local = timezone.localtime(now)
    every = max(1, len(entries) // PROGRESS_STEPS)
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile() as buffer:
        # The fonts cut once for every PDF of the bundle (the month's date and time in the notes included).
        kit = pdf.font_kit(texts=[*pdf.evaluation_texts(evaluation), f"{local:%Y-%m-%d %H:%M}"],
                           folder=Path(folder))
        def render(entry) -> bytes:
            _name, fmt, subject = entry
            if isinstance(subject, UnitEvaluation):
                return unit_report_render(evaluation=subject, fmt=fmt, generated_at=local, kit=kit)
            return _render_table(subject, fmt, local, kit)

        shown = 0

        def progress(done: int) -> None:
            nonlocal shown
            if done // every > shown // every:
                SelfEvalReport.objects.filter(pk=report_id).update(done=done)
                shown = done

        documents = batch.render_all(entries, render, processes=bundle_processes(), on_progress=progress)
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for (name, _fmt, _subject), data in zip(entries, documents, strict=True):
                # xlsx and pdf are compressed already: stored as they are (deflating them again gains little)
                archive.writestr(name, data)
            archive.writestr(SNAPSHOT_NAME, json_bytes(evaluation.as_json()), compress_type=zipfile.ZIP_DEFLATED)
        buffer.seek(0)
        stored = storage_save(report.file.storage, report.file.field.generate_filename(report, "bundle.zip"),
                              File(buffer), max_length=report.file.field.max_length)
    with transaction.atomic():
        current = SelfEvalReport.objects.select_for_update().get(pk=report_id)
        if current.status == SelfEvalReport.Status.DONE:
            report.file.storage.delete(stored)  # another run finished first
            return
        current.file.name = stored
        current.status = SelfEvalReport.Status.DONE
        current.done = current.total = len(entries)
        current.snapshot = evaluation.as_json()
        current.policy_version = evaluation.policy_version[:500]
        current.generated_at = now
        current.error = ""
        current.save(update_fields=["file", "status", "done", "total", "snapshot", "policy_version",
                                    "generated_at", "error"])


def selfeval_bundle_fail(*, report_id: int, error: str) -> None:
    """Record why a bundle failed, for its progress bar."""
    SelfEvalReport.objects.filter(pk=report_id).exclude(status=SelfEvalReport.Status.DONE).update(
        status=SelfEvalReport.Status.FAILED, error=error[:2000]
    )


def bundle_progress(*, report: SelfEvalReport) -> dict:
    """What the progress bar shows."""
    return {
        "status": report.status,
        "status_display": report.get_status_display(),
        "done": report.done,
        "total": report.total,
        "percent": report.percent,
        "error": report.error,
        "file_url": _file_url(report),
    }


def _file_url(report: SelfEvalReport) -> str | None:
    from django.urls import reverse

    if report.status != SelfEvalReport.Status.DONE or not report.file:
        return None
    return reverse("selfeval:file", args=[report.pk])
