"""Writes of the report page: actuals, reports and their review, evidence files, budget execution.

Every value is recorded as a new row (a correction names what it replaces, never an overwrite) and the
goal table is rescored after commit.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone

from budgets import services as budgets
from budgets.models import PROJECT_SOURCES, UNIT_SOURCES, BudgetExecution, Project, Unit, UnitBudget
from budgets.services import ensure_year_open
from kpi import scoring
from kpi.library.services import library_sync_soon
from kpi.models import Actual, Evidence, GoalTable, Indicator, Report
from kpi.rescoring.services import goal_table_ids_fed_by, goal_tables_rescore_soon
from kpi.storage import storage_remove_on_error, storage_save

from . import filetypes
from .selectors import current_actuals, table_executions, table_funds

# --- reports and actuals ------------------------------------------------------------------------------


def report_open(*, table: GoalTable, as_of: dt.date, user: AbstractBaseUser | None = None) -> Report:
    """The draft report of a table for a date, created on first use.

    A date whose report is already approved gets a new draft that replaces it (a correction, never an
    overwrite); a submitted report waits for review and takes no changes.
    """
    if as_of.year != table.year:
        raise ValidationError({"as_of": f"截至日期 {as_of:%Y-%m-%d} 不在 {table.year} 年度内。"})
    if table.status == GoalTable.Status.CLOSED:
        raise ValidationError("该绩效目标表已关闭，不能再填报。")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    report = Report.objects.filter(table=table, as_of=as_of, status__in=Report.OPEN).first()
    if report is not None:
        if report.status == Report.Status.SUBMITTED:
            raise ValidationError(f"截至 {as_of:%Y-%m-%d} 的填报已提交，正在等待审核，暂不能修改。")
        return report
    approved = Report.objects.filter(table=table, as_of=as_of, status=Report.Status.APPROVED).order_by("-id").first()
    report = Report(table=table, as_of=as_of, replaces=approved, created_by=user)
    report.full_clean()
    report._history_user = user
    report.save()
    return report


def engine_actual(*, value: Decimal | None, met: bool | None):
    """What the engine scores: the number when there is one, else 达成 / 未达成."""
    return value if value is not None else met


@transaction.atomic
def actual_record(
    *,
    indicator: Indicator,
    as_of: dt.date,
    value: Decimal | None = None,
    met: bool | None = None,
    grade: str = "",
    points: Decimal | None = None,
    forecast: Decimal | None = None,
    likelihood: str = "",
    deviation_category: str = "",
    deviation_reason: str = "",
    needs_rectification: bool | None = None,
    rectification_measures: str = "",
    replaces: Actual | None = None,
    report: Report | None = None,
    user: AbstractBaseUser | None = None,
) -> Actual:
    """Record an indicator's year-to-date actual in a draft report (a new row, never an overwrite).

    The value is checked by scoring it once, so what the engine would refuse is refused here, in Chinese.
    The table is rescored after commit; until the report is approved the score is provisional.
    """
    if replaces is not None and replaces.indicator_id != indicator.pk:
        raise ValidationError({"replaces": "更正的记录不属于该指标。"})
    if indicator.not_applicable:
        raise ValidationError("该指标已标记为不适用，不能填报实际完成值。")
    if report is None:
        report = report_open(table=indicator.table, as_of=as_of, user=user)
    elif report.table_id != indicator.table_id or report.as_of != as_of:
        raise ValidationError("填报与指标或截至日期不一致。")
    elif report.status != Report.Status.DRAFT:
        raise ValidationError(f"该填报{report.get_status_display()}，不能再修改。")
    actual = Actual(
        indicator=indicator,
        report=report,
        as_of=as_of,
        value=value,
        met=met,
        grade=grade,
        points=points,
        forecast=forecast,
        likelihood=likelihood,
        deviation_category=deviation_category,
        deviation_reason=deviation_reason,
        needs_rectification=needs_rectification,
        rectification_measures=rectification_measures,
        replaces=replaces,
        recorded_by=user,
    )
    actual.full_clean()
    try:
        scoring.score_indicator(
            rule=indicator.rule,
            target=indicator.target,
            actual=engine_actual(value=value, met=met),
            weight=indicator.weight,
            grade=grade or None,
            points=points,
        )
    except scoring.ScoringError as error:
        raise ValidationError(str(error)) from error
    actual._history_user = user
    actual.save()
    goal_tables_rescore_soon(table_ids=[indicator.table_id])
    return actual


def _report_move(*, report: Report, allowed_from: tuple[str, ...], to: str, verb: str) -> Report:
    """Lock the report and check the step is allowed: from its status, and in a year not closed (关账)."""
    report = Report.objects.select_for_update(of=("self",)).select_related("table").get(pk=report.pk)
    if report.status not in allowed_from:
        raise ValidationError(f"该填报当前为“{report.get_status_display()}”，不能{verb}。")
    ensure_year_open(unit_id=report.table.unit_id, year=report.table.year)
    report.status = to
    return report


@transaction.atomic
def report_submit(*, report: Report, user: AbstractBaseUser | None = None) -> Report:
    """The lead hands a draft in for review."""
    report = _report_move(report=report, allowed_from=(Report.Status.DRAFT,), to=Report.Status.SUBMITTED, verb="提交")
    if not report.actuals.exists():
        raise ValidationError("填报中没有任何实际完成值，不能提交。")
    report.submitted_by, report.submitted_at = user, timezone.now()
    report._history_user = user
    report.save(update_fields=["status", "submitted_by", "submitted_at"])
    goal_tables_rescore_soon(table_ids=[report.table_id])
    return report


@transaction.atomic
def report_approve(*, report: Report, user: AbstractBaseUser | None = None) -> Report:
    """The unit administrator approves a submitted report: its values now count for official scores."""
    report = _report_move(
        report=report, allowed_from=(Report.Status.SUBMITTED,), to=Report.Status.APPROVED, verb="审核通过"
    )

    report.reviewed_by, report.reviewed_at = user, timezone.now()
    report._history_user = user
    report.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    goal_tables_rescore_soon(table_ids=[report.table_id])
    library_sync_soon(table_ids=[report.table_id])  # the 指标库 shows final approved actuals
    return report


@transaction.atomic
def report_return(
    *, report: Report, reason: str, indicator_ids: list[int] | None = None, user: AbstractBaseUser | None = None
) -> Report:
    """Return a submitted report to its lead with a reason, naming the indicators it is about when given
    (shown beside them when the lead corrects the report); its values stop counting."""
    if not reason.strip():
        raise ValidationError({"review_note": "退回时必须填写原因。"})
    named = sorted({int(pk) for pk in indicator_ids or ()})
    if named and Indicator.objects.filter(table_id=report.table_id, pk__in=named).count() != len(named):
        raise ValidationError({"review_indicators": "所选指标不属于该绩效目标表。"})
    report = _report_move(report=report, allowed_from=(Report.Status.SUBMITTED,), to=Report.Status.RETURNED,
                          verb="退回")

    report.reviewed_by, report.reviewed_at, report.review_note = user, timezone.now(), reason.strip()
    report.review_indicators = named
    report._history_user = user
    report.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "review_indicators"])
    goal_tables_rescore_soon(table_ids=[report.table_id])
    return report


@transaction.atomic
def report_withdraw(*, report: Report, user: AbstractBaseUser | None = None) -> Report:
    """The lead takes a submitted report back (撤回) before it is reviewed: a draft again, to change and
    submit anew. The submission stays in the report's history."""
    report = _report_move(report=report, allowed_from=(Report.Status.SUBMITTED,), to=Report.Status.DRAFT,
                          verb="撤回")
    report.submitted_by, report.submitted_at = None, None
    report._history_user = user
    report.save(update_fields=["status", "submitted_by", "submitted_at"])
    goal_tables_rescore_soon(table_ids=[report.table_id])
    return report


# --- the report page -------------------------------------------------------------------------------

@dataclass
class Entry:
    """What was entered for one indicator, and which actual the person saw when the page was shown."""

    indicator: Indicator
    base_actual_id: int | None
    values: dict  # actual_record's keyword arguments (value, met, grade, points, forecast, …)


class EntryConflict(Exception):
    """Someone saved the same indicators since the page was shown: {indicator id: the actual now current}."""

    def __init__(self, conflicts: dict[int, Actual]):
        super().__init__("conflict")
        self.conflicts = conflicts


_COMPARED = ("value", "met", "grade", "points", "forecast", "likelihood", "deviation_category", "deviation_reason",
             "needs_rectification", "rectification_measures")


def _same_entry(actual: Actual, values: dict) -> bool:
    return all(getattr(actual, name) == values.get(name) for name in _COMPARED)


@transaction.atomic
def report_entries_save(
    *, table: GoalTable, as_of: dt.date, entries: list[Entry], user: AbstractBaseUser | None = None
) -> tuple[Report | None, int]:
    """Save a report page: every changed indicator becomes a new actual (a correction names what it
    replaces); unchanged ones are left alone. Returns (the report, how many actuals were recorded).

    Two people saving the same table at once are serialised by a row lock; an entry made on a page shown
    before someone else's save of the same indicator raises EntryConflict and nothing is saved, so no one
    silently overwrites anyone. All or nothing: a ValidationError leaves nothing behind.
    """
    list(GoalTable.objects.select_for_update().filter(pk=table.pk).order_by().values_list("pk", flat=True))
    current = current_actuals(table=table, as_of=as_of)
    conflicts = {}
    changed = []
    for entry in entries:
        now = current.get(entry.indicator.pk)
        if now is not None and _same_entry(now, entry.values):
            continue
        if (now.pk if now else None) != entry.base_actual_id:
            conflicts[entry.indicator.pk] = now
            continue
        changed.append((entry, now))
    if conflicts:
        raise EntryConflict(conflicts)
    if not changed:
        return None, 0
    report = report_open(table=table, as_of=as_of, user=user)
    for entry, now in changed:
        actual_record(indicator=entry.indicator, as_of=as_of, replaces=now, report=report, user=user,
                      **entry.values)
    return report, len(changed)


# --- budget execution ------------------------------------------------------------------------------

@transaction.atomic
def execution_report(
    *,
    project: Project | None = None,
    unit: Unit | None = None,
    year: int | None = None,
    as_of: dt.date,
    executed: Decimal,
    by_source: dict[str, Decimal | None] | None = None,
    user: AbstractBaseUser | None = None,
) -> BudgetExecution:
    """Record cumulative 执行数 as of a date (a project's, or with unit and year the unit's own), with its split
    by source when given, and rescore the goal table it feeds."""
    execution = budgets.execution_record(project=project, unit=unit, year=year, as_of=as_of, executed=executed,
                                         by_source=by_source, user=user)
    goal_tables_rescore_soon(table_ids=goal_table_ids_fed_by(project=project, unit=execution.unit, year=execution.year))
    return execution


@transaction.atomic
def budget_adjust(
    *,
    project: Project | None = None,
    unit: Unit | None = None,
    year: int | None = None,
    adjusted: Decimal | None,
    reason: str,
    by_source: dict[str, Decimal | None] | None = None,
    user: AbstractBaseUser | None = None,
) -> Project | UnitBudget:
    """Set the adjusted 全年预算数 (a project's, or with unit and year the unit's 年度预算) with its reason and
    split by source, and rescore the goal table it feeds. None goes back to the published budget."""
    if project is not None:
        funds = budgets.project_budget_adjust(project=project, budget_adjusted=adjusted, reason=reason,
                                              by_source=by_source, user=user)
    else:
        funds = budgets.unit_budget_adjust(unit=unit, year=year, adjusted=adjusted, reason=reason,
                                           by_source=by_source, user=user)
    goal_tables_rescore_soon(table_ids=goal_table_ids_fed_by(project=project, unit=unit, year=year))
    return funds


def _sources_of(table: GoalTable) -> tuple[tuple[str, str], ...]:
    return PROJECT_SOURCES if table.project_id else UNIT_SOURCES


def _prefixed(error: ValidationError, prefix: str, kept: tuple[str, ...] = ()) -> ValidationError:
    """The same error with its fields renamed as the page's execution form names them."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({
        (name if name in kept or name == NON_FIELD_ERRORS else f"{prefix}{name}"): errors
        for name, errors in error.error_dict.items()
    })


@dataclass
class ExecutionSaved:
    """What `table_execution_record` recorded: the execution row, the adjusted funds (each None when unchanged)."""

    execution: BudgetExecution | None
    funds: Project | UnitBudget | None


@transaction.atomic
def table_execution_record(
    *,
    table: GoalTable,
    as_of: dt.date,
    executed: Decimal,
    executed_by_source: dict[str, Decimal | None] | None = None,
    budget: Decimal | None = None,
    budget_by_source: dict[str, Decimal | None] | None = None,
    reason: str = "",
    user: AbstractBaseUser | None = None,
) -> ExecutionSaved:
    """The report page's budget form: record the table's cumulative 执行数 as of a date, split by source, and
    (administrators) its adjusted 全年预算数 with the reason and split — all of it or nothing.

    Only what differs from what is stored is recorded: the same 执行数 again is no new row; a budget of None,
    or the stored one with the stored split and reason, is no adjustment. Errors name the form's fields: the sources
    as executed_<field> and budget_<field>, and adjustment_reason.
    """
    sources = [field for field, _ in _sources_of(table)]
    funds = table_funds(table)
    split = {field: (budget_by_source or {}).get(field) for field in sources}
    adjusted = None
    if budget is not None:
        stored_split = {field: getattr(funds, f"{field}_adjusted") for field in sources}
        changed_reason = (reason or "").strip() != (funds.adjustment_reason or "")
        if budget != funds.full_year_budget or split != stored_split or changed_reason:
            try:
                adjusted = budget_adjust(project=table.project, unit=table.unit, year=table.year, adjusted=budget,
                                         reason=reason, by_source=split, user=user)
            except ValidationError as error:
                raise _prefixed(error, "budget_", kept=("adjustment_reason",))
    execution = None
    by_source = {field: (executed_by_source or {}).get(field) for field in sources}
    previous = table_executions(table=table).filter(as_of=as_of).order_by("-id").first()
    if previous is None or previous.executed != executed or any(
        getattr(previous, field) != value for field, value in by_source.items()
    ):
        try:
            execution = execution_report(project=table.project, unit=table.unit, year=table.year, as_of=as_of,
                                         executed=executed, by_source=by_source, user=user)
        except ValidationError as error:
            raise _prefixed(error, "executed_")
    return ExecutionSaved(execution=execution, funds=adjusted)


# --- evidence files -----------------------------------------------------------------------------------

def evidence_type(upload, name: str) -> str:
    """The MIME type of an accepted evidence file, judged by its content (kpi.reports.filetypes), or
    ValidationError saying why it is refused."""
    try:
        return filetypes.detect(upload, name).mime
    except filetypes.Refused as refused:
        raise ValidationError({"file": str(refused)}) from None


@transaction.atomic
def evidence_add(*, indicator: Indicator, upload, user: AbstractBaseUser | None = None, max_bytes: int) -> Evidence:
    """Store an evidence file under a random name after checking its size and its type by content."""
    name = (upload.name or "文件")[-255:]
    if upload.size > max_bytes:
        raise ValidationError({"file": f"文件过大（{upload.size / 1024 / 1024:.1f} MB），上限为 {max_bytes // 1024 // 1024} MB。"})
    if upload.size == 0:
        raise ValidationError({"file": "文件是空的。"})
    table = indicator.table
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    content_type = evidence_type(upload, name)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    evidence = Evidence(indicator=indicator, original_name=name, content_type=content_type, size=upload.size,
                        sha256=digest.hexdigest(), uploaded_by=user)
    # A full or read-only disk: no partial file and no row (StorageUnavailable, logged).
    storage = evidence.file.storage
    evidence.file = storage_save(storage, evidence.file.field.generate_filename(evidence, "upload"), upload,
                                 max_length=evidence.file.field.max_length)
    with storage_remove_on_error(storage, evidence.file.name):
        evidence._history_user = user
        evidence.save()
    return evidence


@transaction.atomic
def evidence_remove(*, evidence: Evidence, user: AbstractBaseUser | None = None) -> None:
    """Remove an evidence file (refused in a closed year). The removal is kept in the evidence's history
    (who, when, which file); the stored file goes once the removal is committed."""
    table = evidence.indicator.table
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    stored = evidence.file.name
    storage = evidence.file.storage
    evidence._history_user = user
    evidence.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))
