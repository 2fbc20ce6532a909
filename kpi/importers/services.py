"""Writing an imported goal-table document: units, projects and funds, goal tables, indicators.

`goal_tables_import` is the one write path for every importer (disclosure text, Excel template, the
upload page's Celery task). A file is imported in one transaction; re-importing the same or a corrected
document updates in place, never duplicates, never touches recorded actuals, and keeps every change of
target, weight or rule on an indicator that already has actuals as an `IndicatorChange`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef

from budgets.models import Project, Unit, UnitBudget
from budgets.selectors import unit_year_is_closed, units_administered_by
from kpi.formatting import money_text, plain_decimal
from kpi.goals.services import default_accumulation, indicator_parse_target
from kpi.models import Actual, GoalTable, ImportJob, Indicator, IndicatorChange
from kpi.rescoring.services import goal_tables_rescore_soon
from kpi.targets import parse_target

from . import checks
from .disclosure import parse_disclosure
from .parsed import PROJECT, NotADisclosure, ParsedDocument, ParsedIndicator, ParsedTable
from .xlsx import read_workbook

_CENT = Decimal("0.01")
_ORDER_OFFSET = 1_000_000  # parks existing rows out of the way while the orders are rewritten


# --- reading a file -------------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"


def document_read(*, data: bytes, filename: str, year: int | None = None) -> ParsedDocument:
    """Parse an uploaded or given file (disclosure .txt/.md or the .xlsx template), with defaults and warnings.

    Raises NotADisclosure, in Chinese, for anything that is not a goal-table document.
    """
    name = Path(filename).name
    if not data.strip():
        raise NotADisclosure(f"文件“{name}”是空的。")
    if data.startswith(XLSX_MAGIC) or name.lower().endswith(".xlsx"):
        document = read_workbook(data, source=name)
        if year is not None:
            document.year = year
    else:
        text = _decode_text(data, name)
        document = parse_disclosure(text, year=year, source=name)
    document.source = name
    if not document.unit:
        raise NotADisclosure(f"文件“{name}”中没有找到预算单位名称（“预算单位”或“部门名称”）。")
    if document.year is None:
        raise NotADisclosure(f"无法从文件“{name}”确定年度，请指定年度。")
    return checks.finalize(document)


def _decode_text(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise NotADisclosure(f"文件“{name}”是二进制文件，不是部门预算公开文本（.txt/.md）或 Excel 模板（.xlsx）。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NotADisclosure(f"文件“{name}”无法按 UTF-8 或 GB18030 编码读取。")


# --- the JSON preview (import_disclosure --dry-run --json) ----------------------------------------

def _money(value: Decimal | None) -> str | None:
    return money_text(value)


def document_as_dict(document: ParsedDocument) -> dict:
    """The preview of a document exactly as `import_disclosure --dry-run --json` prints it."""
    return {
        "unit": document.unit,
        "year": document.year,
        "tables": [_table_as_dict(table) for table in document.tables],
        "warnings": list(document.warnings),
    }


def _table_as_dict(table: ParsedTable) -> dict:
    return {
        "scope": table.scope,
        "project": table.project,
        "lead": table.lead,
        "funds": {"total": _money(_total(table)), "fiscal": _money(table.fiscal), "other": _money(table.other)},
        "indicators": [_indicator_as_dict(i) for i in table.indicators],
        "warnings": list(table.warnings),
    }


def _indicator_as_dict(indicator: ParsedIndicator) -> dict:
    target = parse_target(indicator.target)
    return {
        "level1": indicator.level1,
        "level2": indicator.level2,
        "name": indicator.name,
        "target": indicator.target,
        "kind": target.kind.value,
        "value": plain_decimal(target.value),
        "upper": plain_decimal(target.upper),
        "unit": target.unit,
        "basis": indicator.basis,
        "last_year": indicator.last_year,
        "weight": _money(indicator.weight),
        "rule": indicator.rule,
        "evidence": indicator.evidence,
    }


def _total(table: ParsedTable) -> Decimal | None:
    if table.total is not None:
        return table.total
    if table.fiscal is None and table.other is None:
        return None
    return (table.fiscal or Decimal(0)) + (table.other or Decimal(0))


# --- writing --------------------------------------------------------------------------------------

@dataclass
class TableOutcome:
    label: str
    action: str  # 新建 / 更新 / 无变化 / 跳过
    created: int = 0
    updated: int = 0
    deleted: int = 0
    target_changes: int = 0
    table_id: int | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per table, as `import_disclosure` prints it."""
        if self.action == "跳过":
            return f"{self.label}：跳过（{'；'.join(self.notes)}）"
        parts = [f"新增指标 {self.created} 个", f"更新 {self.updated} 个", f"删除 {self.deleted} 个"]
        if self.target_changes:
            parts.append(f"已有实际值的指标调整 {self.target_changes} 项（已留痕并重新评分）")
        text = f"{self.label}：{self.action}，" + "，".join(parts)
        return text + (f"；{'；'.join(self.notes)}" if self.notes else "")


@dataclass
class ImportOutcome:
    unit: str
    year: int
    tables: list[TableOutcome] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [f"{t.label}：{note}" for t in self.tables for note in t.notes]


def unit_for_document(document: ParsedDocument) -> Unit | None:
    """The existing unit a document speaks of, by published name or code."""
    return Unit.objects.filter(name=document.unit).first() or Unit.objects.filter(code=document.unit).first()


def goal_tables_import(
    *,
    document: ParsedDocument,
    user: AbstractBaseUser | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Create or update everything a finalized document holds, in one transaction.

    An approved or closed goal table is left as it is and reported. With dry_run the same work is done
    and rolled back, so the outcome says exactly what an import would do and nothing is written.
    """
    outcome = ImportOutcome(unit=document.unit, year=document.year)
    with transaction.atomic():
        unit = unit_for_document(document) or _unit_create(document.unit)
        total = len(document.tables)
        for done, parsed in enumerate(document.tables, start=1):
            outcome.tables.append(_table_import(unit, document.year, parsed, document.source, user))
            if progress is not None:
                progress(done, total)
        if dry_run:
            transaction.set_rollback(True)
    return outcome


def _unit_create(name: str) -> Unit:
    code = "U" + hashlib.sha1(name.encode()).hexdigest()[:10].upper()
    unit = Unit(code=code, name=name)
    unit.full_clean()
    unit.save()
    return unit


def _table_import(unit: Unit, year: int, parsed: ParsedTable, source: str, user) -> TableOutcome:
    if parsed.scope == PROJECT:
        project = Project.objects.filter(unit=unit, year=year, name=parsed.project).first()
        table = GoalTable.objects.filter(project=project).first() if project else None
    else:
        project = None
        table = GoalTable.objects.filter(unit=unit, year=year, scope=GoalTable.Scope.UNIT).first()
    outcome = TableOutcome(label=parsed.label, action="更新" if table else "新建")
    if unit_year_is_closed(unit_id=unit.pk, year=year):
        outcome.action = "跳过"
        outcome.notes.append(f"{year} 年度已关账，导入不作修改")
        return outcome
    if table is not None and table.status != GoalTable.Status.DRAFT:
        outcome.action = "跳过"
        outcome.table_id = table.pk
        outcome.notes.append(f"该目标表{table.get_status_display()}，导入不作修改")
        return outcome

    funds_changed = _funds_save(unit, year, parsed, project) if parsed.scope == PROJECT else _unit_budget_save(
        unit, year, parsed
    )
    if parsed.scope == PROJECT and project is None:
        project = Project.objects.get(unit=unit, year=year, name=parsed.project)
    if table is None:
        table = GoalTable(scope=parsed.scope, unit=unit, project=project, year=year)
    header_changed = (
        table.pk is None or table.overall_goal != parsed.overall_goal
        or table.weights_defaulted != parsed.weights_defaulted
    )
    table.overall_goal = parsed.overall_goal
    table.weights_defaulted = parsed.weights_defaulted
    table.source = source[:255]
    table.full_clean()
    table._history_user = user
    table.save()
    outcome.table_id = table.pk

    _indicators_sync(table, parsed, source, user, outcome)
    changed = header_changed or funds_changed or outcome.created or outcome.updated or outcome.deleted
    if outcome.action == "更新" and not changed:
        outcome.action = "无变化"
    if changed:
        goal_tables_rescore_soon(table_ids=[table.pk])
    return outcome


def _funds_save(unit: Unit, year: int, parsed: ParsedTable, project: Project | None) -> bool:
    values = {
        "budget_initial": _total(parsed) or Decimal(0),
        "fiscal": parsed.fiscal or Decimal(0),
        "other": parsed.other or Decimal(0),
        "lead_name": (parsed.lead or "")[:50],
    }
    if project is None:
        project = Project(unit=unit, year=year, name=parsed.project, **values)
        project.full_clean()
        project.save()
        return True
    changed = any(getattr(project, name) != value for name, value in values.items())
    if changed:
        for name, value in values.items():
            setattr(project, name, value)
        project.full_clean()
        project.save(update_fields=list(values))
    return changed


def _unit_budget_save(unit: Unit, year: int, parsed: ParsedTable) -> bool:
    superior = parsed.fiscal_superior or Decimal(0)
    local = parsed.fiscal_local
    if local is None:  # only the 财政资金 total was published
        local = (parsed.fiscal or Decimal(0)) - superior
    values = {"fiscal_superior": superior, "fiscal_local": local, "other": parsed.other or Decimal(0)}
    budget = UnitBudget.objects.filter(unit=unit, year=year).first() or UnitBudget(unit=unit, year=year)
    changed = budget.pk is None or any(getattr(budget, name) != value for name, value in values.items())
    if changed:
        for name, value in values.items():
            setattr(budget, name, value)
        budget.full_clean()
        budget.save()
    contact = {"contact": parsed.contact[:50], "phone": parsed.phone[:50]}
    if any(contact.values()) and any(getattr(unit, k) != v for k, v in contact.items()):
        Unit.objects.filter(pk=unit.pk).update(**contact)
    return changed


def _indicator_key(level1: str, level2: str, name: str) -> tuple[str, str, str]:
    return (level1, level2, name)


def _indicators_sync(table: GoalTable, parsed: ParsedTable, source: str, user, outcome: TableOutcome) -> None:
    existing = list(
        table.indicators.annotate(has_actuals=Exists(Actual.objects.filter(indicator=OuterRef("pk")))).order_by("order")
    )
    by_key = {_indicator_key(i.level1, i.level2, i.name): i for i in existing}
    by_name: dict[str, list[Indicator]] = {}
    for indicator in existing:
        by_name.setdefault(indicator.name, []).append(indicator)
    # Park the current orders so the new ones can be written without colliding with the unique constraint.
    table.indicators.update(order=F("order") + _ORDER_OFFSET)

    matched: set[int] = set()
    changes: list[IndicatorChange] = []
    for order, row in enumerate(parsed.indicators, start=1):
        current = by_key.get(_indicator_key(row.level1, row.level2, row.name))
        if current is None or current.pk in matched:
            same_name = [i for i in by_name.get(row.name, []) if i.pk not in matched]
            current = same_name[0] if len(same_name) == 1 else None
        if current is None:
            indicator = _indicator_new(table, row, order)
            indicator._history_user = user
            indicator.save()
            outcome.created += 1
            continue
        matched.add(current.pk)
        before = _comparable(current)
        old = {"target": current.target_raw, "weight": current.weight, "rule": current.rule}
        _indicator_fill(current, row, order)
        if before != _comparable(current):
            outcome.updated += 1
        if current.has_actuals:
            for name, new in (("target", current.target_raw), ("weight", current.weight), ("rule", current.rule)):
                if str(old[name]) != str(new):
                    changes.append(IndicatorChange(
                        indicator=current, field=name, old_value=str(old[name])[:300], new_value=str(new)[:300],
                        source=source[:255], changed_by=user,
                    ))
        current.full_clean(exclude=["table"])
        current._history_user = user
        current.save()

    next_order = len(parsed.indicators)
    for indicator in existing:
        if indicator.pk in matched:
            continue
        if indicator.has_actuals:
            next_order += 1
            Indicator.objects.filter(pk=indicator.pk).update(order=next_order)
            outcome.notes.append(f"指标“{indicator.name}”已不在文件中，但已有实际完成值，予以保留，请人工处理")
        else:
            indicator.delete()
            outcome.deleted += 1
    IndicatorChange.objects.bulk_create(changes)
    outcome.target_changes = len(changes)


def _comparable(indicator: Indicator) -> tuple:
    return (
        indicator.order, indicator.level1, indicator.level2, indicator.name, indicator.target_raw,
        indicator.weight.quantize(_CENT) if indicator.weight is not None else None,
        indicator.rule, indicator.basis, indicator.last_year, indicator.evidence,
    )


def _indicator_new(table: GoalTable, row: ParsedIndicator, order: int) -> Indicator:
    indicator = Indicator(table=table)
    _indicator_fill(indicator, row, order)
    indicator.accumulation = default_accumulation(level2=indicator.level2, target=indicator.target)
    indicator.full_clean()
    return indicator


def _indicator_fill(indicator: Indicator, row: ParsedIndicator, order: int) -> None:
    indicator.order = order
    indicator.level1 = row.level1[:50]
    indicator.level2 = row.level2[:50]
    indicator.name = row.name[:300]
    indicator.target_raw = row.target[:300]
    indicator_parse_target(indicator)
    indicator.basis = row.basis
    indicator.last_year = row.last_year[:200]
    indicator.weight = (row.weight or Decimal(0)).quantize(_CENT)
    indicator.rule = row.rule
    indicator.evidence = row.evidence


def import_file(
    *, data: bytes, filename: str, year: int | None = None, user=None, dry_run: bool = False
) -> tuple[ParsedDocument, ImportOutcome]:
    """Read a file and import it (or, with dry_run, only say what an import would do)."""
    document = document_read(data=data, filename=filename, year=year)
    try:
        outcome = goal_tables_import(document=document, user=user, dry_run=dry_run)
    except ValidationError as error:
        raise NotADisclosure("导入失败，未写入任何数据：" + "；".join(error.messages)) from error
    return document, outcome


# --- the upload page's jobs -----------------------------------------------------------------------

class ImportRefused(Exception):
    """The user may not import this document (not an administrator of its unit); message in Chinese."""


def import_permission_check(*, user, unit_name: str) -> None:
    """Refuse (ImportRefused, in Chinese) a user who may not import a document of this unit: only its
    administrators may, and only a superuser may bring in a unit the system does not know yet."""
    if user is not None and user.is_superuser:
        return
    unit = Unit.objects.filter(name=unit_name).first() or Unit.objects.filter(code=unit_name).first()
    if unit is None:
        raise ImportRefused(f"系统中没有预算单位“{unit_name}”：新单位只能由系统管理员导入。")
    if user is None or not units_administered_by(user=user).filter(pk=unit.pk).exists():
        raise ImportRefused(f"您不是“{unit.name}”的单位管理员，不能导入该单位的绩效目标表。")


def import_job_create(*, user, data: bytes, filename: str, year: int | None = None) -> tuple[ImportJob, ParsedDocument]:
    """Keep an uploaded file for preview, after checking it reads and that the user administers its unit.

    The preview (what an import would do, table by table) is computed here, once, and stored with the job:
    showing it again reads the stored preview, it never re-runs the import.
    """
    document = document_read(data=data, filename=filename, year=year)
    import_permission_check(user=user, unit_name=document.unit)
    outcome = goal_tables_import(document=document, user=user, dry_run=True)
    job = ImportJob.objects.create(
        filename=Path(filename).name[:255], content=data, year=document.year, unit_name=document.unit[:200],
        total_tables=len(document.tables), created_by=user, preview=document_preview(document, outcome),
    )
    return job, document


def document_preview(document: ParsedDocument, outcome: ImportOutcome) -> dict:
    """What the preview page shows: the document's warnings and, per table, its header, its indicators as
    read and what importing it would do (JSON, stored with the job)."""
    return {
        "warnings": list(document.warnings),
        "tables": [
            {
                "label": table.label, "lead": table.lead, "total": _money(_total(table)),
                "fiscal": _money(table.fiscal), "other": _money(table.other),
                "weights_defaulted": table.weights_defaulted, "warnings": list(table.warnings),
                "summary": result.summary(),
                "indicators": [
                    {"level1": i.level1, "level2": i.level2, "name": i.name, "target": i.target, "basis": i.basis,
                     "last_year": i.last_year, "weight": _money(i.weight), "rule": i.rule, "evidence": i.evidence}
                    for i in table.indicators
                ],
            }
            for table, result in zip(document.tables, outcome.tables)
        ],
    }


def import_job_document(*, job: ImportJob) -> ParsedDocument:
    return document_read(data=bytes(job.content), filename=job.filename, year=job.year)


@transaction.atomic
def import_job_confirm(*, job: ImportJob, user: AbstractBaseUser | None = None) -> ImportJob:
    """The user (by default the uploader) confirmed the preview: import in a Celery task once this commits.

    Who confirms must still administer the document's unit (a role may have been withdrawn since the
    upload): ImportRefused otherwise, and nothing is queued.
    """
    from .tasks import import_job_run

    job = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job.pk)
    import_permission_check(user=user or job.created_by, unit_name=job.unit_name)
    if job.status != ImportJob.Status.PREVIEW:
        raise ValidationError(f"该导入任务当前为“{job.get_status_display()}”，不能再次确认。")
    job.status = ImportJob.Status.PENDING
    job.save(update_fields=["status"])
    import_job_run.delay_on_commit(job.pk)
    return job


def import_job_run(*, job_id: int) -> None:
    """Import a confirmed job's file (one transaction), recording progress in the shared cache. Idempotent."""
    from django.core.cache import cache
    from django.utils import timezone

    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.RUNNING)
    if not claimed:
        return  # done, failed or never confirmed: nothing to do
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)

    def progress(done: int, total: int) -> None:
        cache.set(job.progress_key, {"done": done, "total": total}, timeout=3600)

    try:
        document = import_job_document(job=job)
        outcome = goal_tables_import(document=document, user=job.created_by, progress=progress)
    except (NotADisclosure, ValidationError) as error:
        messages = error.messages if isinstance(error, ValidationError) else [str(error)]
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, error="导入失败，未写入任何数据：" + "；".join(messages),
            finished_at=timezone.now(),
        )
        return
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, summary=[t.summary() for t in outcome.tables], finished_at=timezone.now(),
    )


def import_job_progress(*, job: ImportJob) -> dict:
    """What the progress bar shows."""
    from django.core.cache import cache

    done = job.total_tables if job.status == ImportJob.Status.DONE else 0
    if job.status == ImportJob.Status.RUNNING:
        done = (cache.get(job.progress_key) or {}).get("done", 0)
    percent = 100 if not job.total_tables else round(100 * done / job.total_tables)
    return {
        "status": job.status, "status_display": job.get_status_display(), "done": done,
        "total": job.total_tables, "percent": percent, "summary": job.summary, "error": job.error,
    }


# --- export ---------------------------------------------------------------------------------------

def document_from_tables(*, tables: list[GoalTable]) -> ParsedDocument:
    """Goal tables (one unit, one year) as a document, for the Excel template: export → import is identity."""
    first = tables[0]
    document = ParsedDocument(unit=first.unit.name, year=first.year, source="export")
    budgets = {b.year: b for b in UnitBudget.objects.filter(unit=first.unit)}
    indicators: dict[int, list[Indicator]] = {}
    for indicator in Indicator.objects.filter(table__in=tables).order_by("order"):
        indicators.setdefault(indicator.table_id, []).append(indicator)
    for table in tables:
        if table.project_id:
            project = table.project
            parsed = ParsedTable(
                scope=PROJECT, project=project.name, lead=project.lead_name or None, overall_goal=table.overall_goal,
                total=project.budget_initial, fiscal=project.fiscal, other=project.other,
            )
        else:
            budget = budgets.get(table.year)
            parsed = ParsedTable(
                scope="unit", overall_goal=table.overall_goal, contact=table.unit.contact, phone=table.unit.phone,
            )
            if budget is not None:
                parsed.fiscal_superior, parsed.fiscal_local, parsed.other = (
                    budget.fiscal_superior, budget.fiscal_local, budget.other
                )
                parsed.fiscal = budget.fiscal_superior + budget.fiscal_local
                parsed.total = budget.total
        parsed.indicators = [
            ParsedIndicator(
                level1=i.level1, level2=i.level2, name=i.name, target=i.target_raw, basis=i.basis,
                last_year=i.last_year, weight=i.weight, rule=i.rule, evidence=i.evidence,
            )
            for i in indicators.get(table.pk, [])
        ]
        document.tables.append(parsed)
    return document
