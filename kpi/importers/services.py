"""Writing an imported goal-table document: units, projects and funds, goal tables, indicators.

`goal_tables_import` is the one write path for every importer (disclosure text, Excel template, the
upload page's Celery task). Each table stands alone: one that cannot be imported (errors found while
reading, two tables of one project, or a value the database refuses) is reported with its reason, and
every other table still imports. Re-importing the same or a corrected document updates in place, never
duplicates, never touches recorded actuals, keeps every change of target, weight or rule on an indicator
that already has actuals as an `IndicatorChange`, and writes nothing (no history row) when nothing
changed. An indicator missing from the file is kept and reported unless pruning was asked for; one with
actuals is never deleted.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Exists, F, OuterRef
from simple_history.utils import bulk_create_with_history

from budgets.models import Project, Unit, UnitBudget
from budgets.selectors import unit_year_is_closed, units_administered_by
from budgets.years import year_message, year_valid
from kpi.formatting import money_text, plain_decimal
from kpi.goals.services import default_accumulation, indicator_parse_target
from kpi.library.services import library_sync_soon
from kpi.models import Actual, GoalTable, ImportJob, Indicator, IndicatorChange
from kpi.rescoring.selectors import policy_for_year
from kpi.rescoring.services import goal_tables_rescore_soon
from kpi.targets import parse_target

from . import checks
from .decoding import decode_text
from .disclosure import parse_disclosure
from .limits import xlsx_limits
from .parsed import PROJECT, NotADisclosure, ParsedDocument, ParsedIndicator, ParsedTable
from .xlsx import read_workbook

logger = logging.getLogger(__name__)

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
        document = read_workbook(data, source=name, limits=xlsx_limits())
        if year is not None:
            document.year = year
    else:
        text, decoding_warnings = decode_text(data, name)
        document = parse_disclosure(text, year=year, source=name)
        document.warnings[:0] = decoding_warnings
    document.source = name
    if not document.unit:
        raise NotADisclosure(f"文件“{name}”中没有找到预算单位名称（“预算单位”或“部门名称”）。")
    if document.year is None:
        raise NotADisclosure(f"无法从文件“{name}”确定年度，请指定年度。")
    if not year_valid(document.year):
        raise NotADisclosure(f"文件“{name}”的{year_message(document.year)}")
    # The weights are checked against the policy the year's tables will be scored under (90 by default).
    return checks.finalize(document, policy=policy_for_year(document.year))


# --- the JSON preview (import_disclosure --dry-run --json) ----------------------------------------

def _money(value: Decimal | None) -> str | None:
    return money_text(value)


def document_as_dict(document: ParsedDocument, outcome: ImportOutcome | None = None) -> dict:
    """The preview of a document exactly as `import_disclosure --dry-run --json` prints it: each table with
    its `errors` (empty when it imports) and the document's own `errors` (what belongs to no table)."""
    results = outcome.tables if outcome is not None else [None] * len(document.tables)
    return {
        "unit": document.unit,
        "year": document.year,
        "tables": [_table_as_dict(table, result) for table, result in zip(document.tables, results)],
        "warnings": list(document.warnings),
        "errors": list(outcome.errors if outcome is not None else document.errors),
    }


def _table_as_dict(table: ParsedTable, result: TableOutcome | None) -> dict:
    return {
        "scope": table.scope,
        "project": table.project,
        "lead": table.lead,
        "funds": {"total": _money(_total(table)), "fiscal": _money(table.fiscal), "other": _money(table.other)},
        "indicators": [_indicator_as_dict(i) for i in table.indicators],
        "warnings": list(table.warnings),
        "errors": list(result.errors if result is not None else table.errors),
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
        "unit": target.unit or indicator.unit,
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

NOT_IMPORTED = "未导入"
SKIPPED = "跳过"


@dataclass
class TableOutcome:
    label: str
    action: str  # 新建 / 更新 / 无变化 / 跳过 / 未导入
    created: int = 0
    updated: int = 0
    deleted: int = 0
    kept: int = 0  # missing from the file, kept
    target_changes: int = 0
    table_id: int | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # why the table was not imported

    @property
    def imported(self) -> bool:
        return self.action not in (NOT_IMPORTED, SKIPPED)

    def summary(self) -> str:
        """One line per table, as `import_disclosure` prints it."""
        if self.action == NOT_IMPORTED:
            return f"{self.label}：未导入（{'；'.join(self.errors)}）"
        if self.action == SKIPPED:
            return f"{self.label}：跳过（{'；'.join(self.notes)}）"
        parts = [f"新增指标 {self.created} 个", f"更新 {self.updated} 个", f"删除 {self.deleted} 个"]
        if self.kept:
            parts.append(f"文件中没有而保留 {self.kept} 个")
        if self.target_changes:
            parts.append(f"已有实际值的指标调整 {self.target_changes} 项（已留痕并重新评分）")
        text = f"{self.label}：{self.action}，" + "，".join(parts)
        return text + (f"；{'；'.join(self.notes)}" if self.notes else "")


@dataclass
class ImportOutcome:
    unit: str
    year: int
    tables: list[TableOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what belongs to no table

    @property
    def notes(self) -> list[str]:
        return [f"{t.label}：{note}" for t in self.tables for note in t.notes]

    @property
    def imported(self) -> int:
        """How many tables were imported (created, updated or found unchanged)."""
        return sum(t.imported for t in self.tables)


def unit_named(name: str) -> Unit | None:
    """The existing unit a document speaks of, by published name or code."""
    return Unit.objects.filter(name=name).first() or Unit.objects.filter(code=name).first()


def goal_tables_import(
    *,
    document: ParsedDocument,
    user: AbstractBaseUser | None = None,
    dry_run: bool = False,
    prune: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Create or update every table a finalized document holds, each on its own (see the module docstring).

    An approved or closed goal table is left as it is and reported. With `prune`, indicators missing from
    a re-imported table are deleted, unless they have actuals. With dry_run the same work is done and
    rolled back, so the outcome says exactly what an import would do and nothing is written.
    """
    outcome = ImportOutcome(unit=document.unit, year=document.year, errors=list(document.errors))
    with transaction.atomic():
        unit = unit_named(document.unit) or _unit_create(document.unit)
        total = len(document.tables)
        closed = unit_year_is_closed(unit_id=unit.pk, year=document.year)
        for index, parsed in enumerate(document.tables):
            if closed:
                outcome.tables.append(TableOutcome(label=parsed.label, action=SKIPPED,
                                                   notes=[f"{document.year} 年度已关账，导入不作修改"]))
            else:
                outcome.tables.append(_table_import_alone(unit, document, parsed, user, prune))
            if progress is not None:
                progress(index + 1, total)
        if dry_run or not outcome.imported:  # nothing imported leaves nothing behind, not even a new unit
            transaction.set_rollback(True)
    return outcome


def _table_import_alone(unit, document, parsed, user, prune) -> TableOutcome:
    """One table in a savepoint of its own: when it cannot be imported nothing of it is left behind."""
    if parsed.errors:  # found while reading (checks.finalize): never written
        return TableOutcome(label=parsed.label, action=NOT_IMPORTED, errors=list(parsed.errors))
    try:
        with transaction.atomic():
            return _table_import(unit, document.year, parsed, document.source, user, prune)
    except (ValidationError, DatabaseError) as error:
        return TableOutcome(label=parsed.label, action=NOT_IMPORTED, errors=[_refusal(parsed, error)])


def _refusal(parsed: ParsedTable, error: Exception) -> str:
    """A refused write as a person reads it: the table, where it starts, the field and what is wrong."""
    where = f"{parsed.label}（第 {parsed.line} 行开始）" if parsed.line else parsed.label
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        parts = []
        for name, messages in error.message_dict.items():
            label = _FIELD_LABELS.get(name, "")
            parts.extend(f"{label}：{message}" if label else message for message in messages)
        return f"{where}未导入：" + "；".join(p.rstrip("。") for p in parts) + "。请在文件中改正后重新导入。"
    if isinstance(error, ValidationError):
        return f"{where}未导入：" + "；".join(m.rstrip("。") for m in error.messages) + "。请在文件中改正后重新导入。"
    return f"{where}未导入：数据库不接受其中的数值（数值过大、小数位过多或文字过长），请核对后重新导入。"


_FIELD_LABELS = {
    "name": "名称", "project": "项目名称", "level1": "一级指标", "level2": "二级指标", "target_raw": "指标值",
    "weight": "分值权重", "rule": "指标赋分规则", "budget_initial": "年度预算总额", "fiscal": "财政拨款",
    "other": "其他资金", "lead_name": "项目负责人", "fiscal_superior": "财政资金（上级安排）",
    "fiscal_local": "财政资金（本级安排）", "unit": "计量单位", "last_year": "上年完成值", "order": "序号",
}


def _unit_create(name: str) -> Unit:
    code = "U" + hashlib.sha1(name.encode()).hexdigest()[:10].upper()
    unit = Unit(code=code, name=name)
    unit.full_clean()
    unit.save()
    return unit


def _table_import(unit: Unit, year: int, parsed: ParsedTable, source: str, user, prune: bool = False) -> TableOutcome:
    if parsed.scope == PROJECT:
        project = Project.objects.filter(unit=unit, year=year, name=parsed.project).first()
        table = GoalTable.objects.filter(project=project).first() if project else None
    else:
        project = None
        table = GoalTable.objects.filter(unit=unit, year=year, scope=GoalTable.Scope.UNIT).first()
    outcome = TableOutcome(label=parsed.label, action="更新" if table else "新建")
    if table is not None and table.status != GoalTable.Status.DRAFT:
        outcome.action = SKIPPED
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
    if header_changed:  # an unchanged header writes nothing (no history row)
        table.overall_goal = parsed.overall_goal
        table.weights_defaulted = parsed.weights_defaulted
        table.source = source[:255]
        table.full_clean(**_FIELDS_ONLY)
        table._history_user = user
        table.save()
    outcome.table_id = table.pk

    _indicators_sync(table, parsed, source, user, outcome, prune=prune)
    changed = header_changed or funds_changed or outcome.created or outcome.updated or outcome.deleted
    if outcome.action == "更新" and not changed:
        outcome.action = "无变化"
    if changed:
        goal_tables_rescore_soon(table_ids=[table.pk])
    library_sync_soon(table_ids=[table.pk])  # after commit; a dry run's rollback drops it
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
        project.full_clean(**_FIELDS_ONLY)
        project.save()
        return True
    changed = any(getattr(project, name) != value for name, value in values.items())
    if changed:
        for name, value in values.items():
            setattr(project, name, value)
        project.full_clean(**_FIELDS_ONLY)
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
        budget.full_clean(**_FIELDS_ONLY)
        budget.save()
    contact = {"contact": parsed.contact[:50], "phone": parsed.phone[:50]}
    if any(contact.values()) and any(getattr(unit, k) != v for k, v in contact.items()):
        Unit.objects.filter(pk=unit.pk).update(**contact)
    return changed


def _indicator_key(level1: str, level2: str, name: str) -> tuple[str, str, str]:
    return (level1, level2, name)


def _indicators_sync(table: GoalTable, parsed: ParsedTable, source: str, user, outcome: TableOutcome, *,
                     prune: bool = False) -> None:
    """Match the file's rows with the table's indicators (by levels and name, else by a unique name) and
    write only what changed: a row's content (with its history), its place (order only)."""
    existing = list(
        table.indicators.annotate(has_actuals=Exists(Actual.objects.filter(indicator=OuterRef("pk")))).order_by("order")
    )
    by_key = {_indicator_key(i.level1, i.level2, i.name): i for i in existing}
    by_name: dict[str, list[Indicator]] = {}
    for indicator in existing:
        by_name.setdefault(indicator.name, []).append(indicator)

    plan: list[tuple[ParsedIndicator, Indicator | None]] = []
    matched: set[int] = set()
    for row in parsed.indicators:
        current = by_key.get(_indicator_key(row.level1, row.level2, row.name))
        if current is None or current.pk in matched:
            same_name = [i for i in by_name.get(row.name, []) if i.pk not in matched]
            current = same_name[0] if len(same_name) == 1 else None
        if current is not None:
            matched.add(current.pk)
        plan.append((row, current))

    missing = [i for i in existing if i.pk not in matched]
    removed = [i for i in missing if prune and not i.has_actuals]
    kept = [i for i in missing if i not in removed]
    orders = {current.pk: order for order, (_row, current) in enumerate(plan, start=1) if current is not None}
    orders.update({i.pk: len(plan) + n for n, i in enumerate(kept, start=1)})
    for indicator in removed:
        indicator._history_user = user
        indicator.delete()
        outcome.deleted += 1
    moved = [i for i in existing if i.pk in orders and i.order != orders[i.pk]]
    if moved:  # park the moving rows out of the way of the unique (table, order) constraint
        Indicator.objects.filter(pk__in=[i.pk for i in moved]).update(order=F("order") + _ORDER_OFFSET)

    changes: list[IndicatorChange] = []
    created: list[Indicator] = []
    for order, (row, current) in enumerate(plan, start=1):
        if current is None:
            created.append(_indicator_new(table, row, order))
            continue
        before = _comparable(current)
        old = {"target": current.target_raw, "weight": current.weight, "rule": current.rule}
        _indicator_fill(current, row, order)
        if before[1:] == _comparable(current)[1:]:
            if current.order != before[0] or current in moved:
                Indicator.objects.filter(pk=current.pk).update(order=order)  # its place only
            continue
        outcome.updated += 1
        if current.has_actuals:
            for name, new in (("target", current.target_raw), ("weight", current.weight), ("rule", current.rule)):
                if old[name] != new:
                    changes.append(IndicatorChange(
                        indicator=current, field=name, old_value=_shown(old[name]), new_value=_shown(new),
                        source=source[:255], changed_by=user,
                    ))
        current.full_clean(exclude=["table"], **_FIELDS_ONLY)
        current._history_user = user
        current.save()
    if created:  # one INSERT for the rows and one for their history, not two per row
        bulk_create_with_history(created, Indicator, default_user=user)
        outcome.created += len(created)

    for indicator in kept:
        if indicator in moved:
            Indicator.objects.filter(pk=indicator.pk).update(order=orders[indicator.pk])
        outcome.kept += 1
        why = "（已有实际完成值，不会删除）" if indicator.has_actuals else ""
        outcome.notes.append(f"指标“{indicator.name}”：文件中没有此指标，已保留{why}")
    IndicatorChange.objects.bulk_create(changes)
    outcome.target_changes = len(changes)


def _shown(value) -> str:
    return (plain_decimal(value) if isinstance(value, Decimal) else str(value))[:300]


def _comparable(indicator: Indicator) -> tuple:
    """What a re-import compares (the order first): equal means nothing to write."""
    return (
        indicator.order, indicator.level1, indicator.level2, indicator.name, indicator.target_raw,
        indicator.target_published, indicator.unit,
        indicator.weight.quantize(_CENT) if indicator.weight is not None else None,
        indicator.rule, indicator.basis, indicator.last_year, indicator.evidence,
    )


def _indicator_new(table: GoalTable, row: ParsedIndicator, order: int) -> Indicator:
    indicator = Indicator(table=table)
    _indicator_fill(indicator, row, order)
    indicator.accumulation = default_accumulation(level2=indicator.level2, target=indicator.target)
    indicator.full_clean(exclude=["table"], **_FIELDS_ONLY)
    return indicator


# Field validation only: the (table, order) uniqueness is the sync's own plan and the database enforces
# every constraint anyway (a refusal is caught per table); Django's per-row constraint queries would
# otherwise be most of an import's time.
_FIELDS_ONLY = {"validate_unique": False, "validate_constraints": False}


def _indicator_fill(indicator: Indicator, row: ParsedIndicator, order: int) -> None:
    indicator.order = order
    indicator.level1 = row.level1[:50]
    indicator.level2 = row.level2[:50]
    indicator.name = row.name[:300]
    indicator.target_raw = row.target[:300]
    indicator.target_published = row.target_published[:300]
    indicator_parse_target(indicator)
    if not indicator.unit and row.unit:  # the unit published beside the target (its name, a 计量单位 column)
        indicator.unit = row.unit[:50]
    indicator.basis = row.basis
    indicator.last_year = row.last_year[:200]
    indicator.weight = (row.weight or Decimal(0)).quantize(_CENT)
    indicator.rule = row.rule
    indicator.evidence = row.evidence


def import_file(
    *, data: bytes, filename: str, year: int | None = None, user=None, dry_run: bool = False, prune: bool = False
) -> tuple[ParsedDocument, ImportOutcome]:
    """Read a file and import it (or, with dry_run, only say what an import would do), table by table."""
    document = document_read(data=data, filename=filename, year=year)
    return document, goal_tables_import(document=document, user=user, dry_run=dry_run, prune=prune)


# --- the upload page's jobs -----------------------------------------------------------------------

class ImportRefused(Exception):
    """The user may not import this document (not an administrator of its unit); message in Chinese."""


def import_permission_check(*, user, unit_name: str) -> None:
    """Refuse (ImportRefused, in Chinese) a user who may not import a document of this unit: only its
    administrators may, and only a superuser may bring in a unit the system does not know yet."""
    if user is not None and user.is_superuser:
        return
    unit = unit_named(unit_name)
    if unit is None:
        raise ImportRefused(f"系统中没有预算单位“{unit_name}”：新单位只能由系统管理员导入。")
    if user is None or not units_administered_by(user=user).filter(pk=unit.pk).exists():
        raise ImportRefused(f"您不是“{unit.name}”的单位管理员，不能导入该单位的绩效目标表。")


def import_job_create(
    *, user, data: bytes, filename: str, year: int | None = None, prune: bool = False
) -> ImportJob:
    """Keep an uploaded file and have the worker read it (`import_job_read`): the web request only stores.

    Reading, the permission check and the preview (what an import would do, table by table) happen once,
    in the task, and the preview is stored with the job: showing it again never re-reads the file.
    """
    from kpi.enqueue import send_after_commit

    from .tasks import import_job_read as read_task

    job = ImportJob.objects.create(
        filename=Path(filename).name[:255], content=data, year=year, status=ImportJob.Status.READING,
        prune=prune, created_by=user,
    )
    send_after_commit(read_task, job.pk)
    return job


_UNEXPECTED = ("读取文件时出现意外错误，未写入任何数据。请检查文件是否为部门预算公开文本或绩效目标表模板后重新上传；"
               "如仍有问题，请联系系统管理员（导入任务 {pk}）。")


def import_job_read(*, job_id: int) -> None:
    """Read an uploaded file, check its unit may be imported by the uploader and store the preview of a
    dry run. Idempotent: a job no longer 读取中 is left alone. Progress goes to the shared cache."""
    from django.core.cache import cache

    job = ImportJob.objects.select_related("created_by").filter(pk=job_id, status=ImportJob.Status.READING).first()
    if job is None:
        return

    def progress(done: int, total: int) -> None:
        cache.set(job.progress_key, {"done": done, "total": total}, timeout=3600)

    try:
        document = document_read(data=bytes(job.content), filename=job.filename, year=job.year)
        import_permission_check(user=job.created_by, unit_name=document.unit)
        outcome = goal_tables_import(document=document, user=job.created_by, dry_run=True, prune=job.prune,
                                     progress=progress)
    except (NotADisclosure, ImportRefused) as error:
        _job_fail(job_id, str(error))
        return
    except DatabaseError:
        raise  # the task retries
    except Exception:
        logger.exception("import job %s could not be read", job_id, extra={"event": "import_read_failed"})
        _job_fail(job_id, _UNEXPECTED.format(pk=job_id))
        return
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.READING).update(
        status=ImportJob.Status.PREVIEW, year=document.year, unit_name=document.unit[:200],
        total_tables=len(document.tables), preview=document_preview(document, outcome),
    )


def _job_fail(job_id: int, error: str) -> None:
    from django.utils import timezone

    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, error=error[:4000],
                                               finished_at=timezone.now())


def document_preview(document: ParsedDocument, outcome: ImportOutcome) -> dict:
    """What the preview page shows: the document's warnings and errors and, per table, its header, its
    indicators as read and what importing it would do (JSON, stored with the job)."""
    return {
        "warnings": list(document.warnings) + outcome.notes,
        "errors": list(outcome.errors),
        "importable": outcome.imported,
        "tables": [
            {
                "label": table.label, "lead": table.lead, "total": _money(_total(table)),
                "fiscal": _money(table.fiscal), "other": _money(table.other),
                "weights_defaulted": table.weights_defaulted, "warnings": list(table.warnings),
                "summary": result.summary(), "imported": result.imported, "errors": list(result.errors),
                "notes": list(result.notes),
                "indicators": [
                    {"level1": i.level1, "level2": i.level2, "name": i.name, "target": i.target, "basis": i.basis,
                     "last_year": i.last_year, "weight": _money(i.weight), "rule": i.rule, "evidence": i.evidence}
                    for i in table.indicators
                ],
            }
            for table, result in zip(document.tables, outcome.tables)
        ],
    }


@transaction.atomic
def import_job_confirm(*, job: ImportJob, user: AbstractBaseUser | None = None) -> ImportJob:
    """The user (by default the uploader) confirmed the preview: import in a Celery task once this commits.

    Who confirms must still administer the document's unit (a role may have been withdrawn since the
    upload): ImportRefused otherwise, and nothing is queued.
    """
    from kpi.enqueue import send_after_commit

    from .tasks import import_job_run as run_task

    job = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job.pk)
    if job.status != ImportJob.Status.PREVIEW:
        raise ValidationError(f"该导入任务当前为“{job.get_status_display()}”，不能确认导入。")
    import_permission_check(user=user or job.created_by, unit_name=job.unit_name)
    if not job.preview.get("importable", True):
        raise ValidationError("预览中没有可以导入的绩效目标表：请按提示改正文件后重新上传。")
    job.status = ImportJob.Status.PENDING
    job.save(update_fields=["status"])
    send_after_commit(run_task, job.pk)
    return job


def import_job_run(*, job_id: int) -> None:
    """Import a confirmed job's file table by table, recording progress in the shared cache. Idempotent:
    a job already done or failed is left alone, and a re-run of an interrupted one updates in place."""
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
        document = document_read(data=bytes(job.content), filename=job.filename, year=job.year)
        outcome = goal_tables_import(document=document, user=job.created_by, prune=job.prune, progress=progress)
    except NotADisclosure as error:
        _job_fail(job_id, "导入失败，未写入任何数据：" + str(error))
        return
    except DatabaseError:
        raise  # the task retries
    except Exception:
        logger.exception("import job %s failed", job_id, extra={"event": "import_run_failed"})
        _job_fail(job_id, _UNEXPECTED.format(pk=job_id))
        return
    summary = [t.summary() for t in outcome.tables] + list(outcome.errors)
    if not outcome.imported:
        ImportJob.objects.filter(pk=job_id).update(summary=summary)
        _job_fail(job_id, "没有导入任何绩效目标表，未写入任何数据：原因见下方各表。")
        return
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, summary=summary, finished_at=timezone.now(),
    )


def import_jobs_resume(*, now=None) -> int:
    """Send again the messages a broker outage lost: jobs still 读取中 or 排队中 after a while (the tasks
    are idempotent, so a message that was only slow does no harm). Returns how many were sent."""
    import datetime as dt

    from django.utils import timezone

    from kpi.enqueue import send_now

    from .tasks import import_job_read as read_task
    from .tasks import import_job_run as run_task

    before = (now or timezone.now()) - dt.timedelta(minutes=2)
    waiting = ImportJob.objects.filter(created_at__lt=before).values_list("pk", "status")
    sent = 0
    for pk, status in waiting.filter(status__in=[ImportJob.Status.READING, ImportJob.Status.PENDING]):
        sent += send_now(read_task if status == ImportJob.Status.READING else run_task, pk)
    return sent


def import_job_progress(*, job: ImportJob) -> dict:
    """What the progress bar shows."""
    from django.core.cache import cache

    total = job.total_tables
    done = total if job.status == ImportJob.Status.DONE else 0
    if job.status in (ImportJob.Status.READING, ImportJob.Status.RUNNING):
        counted = cache.get(job.progress_key) or {}
        done, total = counted.get("done", 0), counted.get("total", total)
    percent = 100 if job.status == ImportJob.Status.DONE else (round(100 * done / total) if total else 0)
    return {
        "status": job.status, "status_display": job.get_status_display(), "done": done,
        "total": total, "percent": percent, "summary": job.summary, "error": job.error,
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


# --- the errors of a refused bulk actuals import --------------------------------------------------

ERRORS_SHOWN = 100  # the page lists these first; all of them are in the CSV
ERRORS_KEPT_SECONDS = 24 * 3600
_ERRORS_KEY = "actuals-import-errors:{token}"


def actuals_errors_keep(*, user, errors: list[str]) -> str:
    """Keep the full list of a refused import's errors for its uploader (the shared cache, a day), for the
    CSV download linked from the page; returns the token of the download URL."""
    import secrets

    from django.core.cache import cache

    token = secrets.token_urlsafe(18)
    cache.set(_ERRORS_KEY.format(token=token), {"user_id": user.pk, "errors": list(errors)},
              timeout=ERRORS_KEPT_SECONDS)
    return token


def actuals_errors_for(*, user, token: str) -> list[str] | None:
    """The errors kept under `token` if `user` may see them — as an import job, its uploader or a
    superuser —, else None (unknown, expired or someone else's)."""
    from django.core.cache import cache

    if not token or len(token) > 64:
        return None
    kept = cache.get(_ERRORS_KEY.format(token=token))
    if not isinstance(kept, dict) or not (user.is_superuser or kept.get("user_id") == user.pk):
        return None
    return kept["errors"]


def errors_csv(errors: list[str]) -> bytes:
    """The errors as CSV (UTF-8 with BOM for Excel), one a row, cells neutralised (kpi.spreadsheets.csv_safe)."""
    import csv
    import io

    from kpi.spreadsheets import csv_safe

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["序号", "错误"])
    for number, error in enumerate(errors, start=1):
        writer.writerow([number, csv_safe(error)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
