"""Writes for goal tables, indicators, actuals and scores. Views and tasks call these, never .save()."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from budgets.models import BudgetExecution, Project, Unit, UnitBudget
from budgets.services import ensure_year_open

from . import scoring
from .bulk import RowWriter
from .models import (
    Actual,
    Evidence,
    GoalTable,
    Indicator,
    Report,
    RescoreBatch,
    RescoreJob,
    Score,
    ScoringPolicy,
    TableScore,
)
from .formatting import tidy_decimal
from .targets import Kind, Target, parse_target

RESCORE_BATCH_SIZE = 200
EXECUTION_WEIGHT = Decimal("10")


# --- goal tables and indicators ----------------------------------------------------------------

def default_accumulation(*, level2: str, target: Target) -> str:
    """数量指标 are year-to-date counts (cumulative); rates, standards and satisfaction are levels."""
    if "数量" in level2 and target.unit not in ("%", "％"):
        return Indicator.Accumulation.CUMULATIVE
    return Indicator.Accumulation.LEVEL


@transaction.atomic
def goal_table_create(
    *,
    unit: Unit,
    year: int,
    project: Project | None = None,
    overall_goal: str = "",
    status: str = GoalTable.Status.DRAFT,
    weights_defaulted: bool = False,
    source: str = "",
) -> GoalTable:
    """Create a project's (or, without project, the unit's 部门整体) goal table."""
    ensure_year_open(unit_id=unit.pk, year=year)
    table = GoalTable(
        scope=GoalTable.Scope.PROJECT if project else GoalTable.Scope.UNIT,
        unit=unit,
        project=project,
        year=year,
        overall_goal=overall_goal,
        status=status,
        weights_defaulted=weights_defaulted,
        source=source,
    )
    table.full_clean()
    table.save()
    return table


def indicator_create(
    *,
    table: GoalTable,
    level1: str,
    level2: str,
    name: str,
    target_raw: str,
    weight: Decimal,
    rule: str | None = None,
    order: int | None = None,
    basis: str = "",
    last_year: str = "",
    evidence: str = "",
    accumulation: str | None = None,
    not_applicable: bool = False,
    not_applicable_reason: str = "",
) -> Indicator:
    """Add an indicator row; the target text is parsed and the rule defaults to the kind's rule."""
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    target = parse_target(target_raw)
    if order is None:
        order = (table.indicators.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    indicator = Indicator(
        table=table,
        order=order,
        level1=level1,
        level2=level2,
        name=name,
        target_raw=target_raw,
        target_kind=target.kind.value,
        target_value=target.value,
        target_upper=target.upper,
        unit=target.unit,
        target_flags=list(target.flags),
        basis=basis,
        last_year=last_year,
        weight=Decimal(weight),
        rule=rule or scoring.default_rule_for(target).value,
        evidence=evidence,
        accumulation=accumulation or default_accumulation(level2=level2, target=target),
        not_applicable=not_applicable,
        not_applicable_reason=not_applicable_reason,
    )
    indicator.full_clean()
    indicator.save()
    goal_table_mark_changed(table_ids=[table.pk])
    return indicator


def goal_table_mark_changed(*, table_ids: Iterable[int]) -> None:
    """Something that feeds the scores changed: the tables need rescoring before they are shown."""
    GoalTable.objects.filter(pk__in=list(table_ids)).update(changed_at=timezone.now())


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
            actual=_engine_actual(value=value, met=met),
            weight=indicator.weight,
            grade=grade or None,
            points=points,
        )
    except scoring.ScoringError as error:
        raise ValidationError(str(error)) from error
    actual._history_user = user
    actual.save()
    _table_changed(indicator.table_id)
    return actual


class _RescoreAfterCommit:
    """One on-commit callback per transaction that enqueues each changed table once."""

    def __init__(self):
        self.table_ids: list[int] = []

    def add(self, table_ids):
        self.table_ids.extend(t for t in table_ids if t not in self.table_ids)

    def __call__(self):
        from .tasks import rescore_table

        for table_id in self.table_ids:
            rescore_table.delay(table_id)


def goal_tables_rescore_soon(*, table_ids: Iterable[int]) -> None:
    """Mark the tables for rescoring and enqueue one rescore per table once the transaction commits.

    Recording fifty actuals in one transaction sends one message per table, not fifty.
    """
    table_ids = list(table_ids)
    goal_table_mark_changed(table_ids=table_ids)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # Join the callback already waiting in this transaction; a rolled-back one is gone from the list.
        for _savepoints, callback, _robust in connection.run_on_commit:
            if isinstance(callback, _RescoreAfterCommit):
                callback.add(table_ids)
                return
    callback = _RescoreAfterCommit()
    callback.add(table_ids)
    transaction.on_commit(callback)


def _table_changed(table_id: int) -> None:
    goal_tables_rescore_soon(table_ids=[table_id])


def _report_move(*, report: Report, allowed_from: tuple[str, ...], to: str, verb: str) -> Report:
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status not in allowed_from:
        raise ValidationError(f"该填报当前为“{report.get_status_display()}”，不能{verb}。")
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
    _table_changed(report.table_id)
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
    _table_changed(report.table_id)
    return report


@transaction.atomic
def report_return(*, report: Report, reason: str, user: AbstractBaseUser | None = None) -> Report:
    """Return a submitted report to its lead with a reason; its values stop counting."""
    if not reason.strip():
        raise ValidationError({"review_note": "退回时必须填写原因。"})
    report = _report_move(report=report, allowed_from=(Report.Status.SUBMITTED,), to=Report.Status.RETURNED,
                          verb="退回")
    report.reviewed_by, report.reviewed_at, report.review_note = user, timezone.now(), reason.strip()
    report._history_user = user
    report.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    _table_changed(report.table_id)
    return report


def _engine_actual(*, value: Decimal | None, met: bool | None):
    return value if value is not None else met


# --- scoring ----------------------------------------------------------------------------------------

def policies_by_table(tables: Iterable[GoalTable]) -> dict[int, scoring.Policy]:
    """The policy each table is scored under: its own, else the year's, else the all-years one, else the default."""
    rows = list(ScoringPolicy.objects.all())
    by_id = {p.pk: p.as_policy() for p in rows}
    by_year = {p.year: p.as_policy() for p in sorted(rows, key=lambda p: -p.pk)}
    fallback = by_year.get(None, scoring.DEFAULT_POLICY)
    return {t.pk: by_id[t.policy_id] if t.policy_id else by_year.get(t.year, fallback) for t in tables}


def tables_rescore(*, table_ids: Iterable[int]) -> int:
    """Rescore every indicator of these tables at every reporting date, and their totals. Idempotent.

    A table is scored at each date something was reported for it (an actual or an execution figure),
    using per indicator the latest actual up to that date: approved ones for the official score, and
    where a draft or submitted report says otherwise, a provisional score beside it. The tables are
    locked while they are rescored, so two runs at once cannot interleave. A few queries per call,
    whatever the size. Returns the number of indicator scores written.
    """
    with transaction.atomic():
        tables = list(
            GoalTable.objects.select_for_update(of=("self",)).filter(pk__in=list(table_ids))
            .select_related("project").order_by("pk")
        )
        if not tables:
            return 0
        scores, totals = _compute_scores(tables)
        ids = [t.pk for t in tables]
        Score.objects.filter(table_id__in=ids).delete()
        TableScore.objects.filter(table_id__in=ids).delete()
        _score_writer().insert(scores)
        _total_writer().insert(totals)
        GoalTable.objects.filter(pk__in=ids).update(scored_at=timezone.now())
    return len(scores)


SCORE_FIELDS = ("indicator", "table", "actual", "as_of", "official", "points", "ratio", "explanation", "flags",
                "policy_version", "computed_at")
TOTAL_FIELDS = ("table", "as_of", "official", "budget", "executed", "execution_rate", "execution_points",
                "indicator_points", "total", "grade", "missing", "policy_version", "computed_at")


def _score_writer() -> RowWriter:
    return RowWriter(Score, SCORE_FIELDS)


def _total_writer() -> RowWriter:
    return RowWriter(TableScore, TOTAL_FIELDS)


def _compute_scores(tables: list[GoalTable]) -> tuple[list[tuple], list[tuple]]:
    """Score rows (SCORE_FIELDS) and total rows (TOTAL_FIELDS) of these tables, as values ready to insert."""
    ids = [t.pk for t in tables]
    policies = policies_by_table(tables)
    writer = _score_writer()
    now = writer.adapt_datetime(timezone.now())

    indicators_by_table: dict[int, list[tuple]] = defaultdict(list)
    for row in Indicator.objects.filter(table_id__in=ids).order_by("order").values_list(
        # target_flags are review hints the engine does not read: not decoded here, for speed
        "id", "table_id", "target_kind", "target_value", "target_upper", "unit", "target_raw",
        "weight", "rule", "not_applicable",
    ):
        indicators_by_table[row[1]].append(row)

    # Per indicator, actuals in date order: all that count provisionally, and the approved ones.
    provisional_actuals: dict[int, list[tuple]] = defaultdict(list)
    approved_actuals: dict[int, list[tuple]] = defaultdict(list)
    for row in (
        Actual.objects.filter(indicator__table_id__in=ids)
        .exclude(report__status=Report.Status.RETURNED)
        .order_by("as_of", "id")
        .values_list("indicator_id", "id", "as_of", "value", "met", "grade", "points", "report__status")
    ):
        provisional_actuals[row[0]].append(row)
        if row[7] == Report.Status.APPROVED:
            approved_actuals[row[0]].append(row)

    executions = _executions_by_table(tables)
    budgets = _budgets_by_table(tables)

    scores: list[Score] = []
    totals: list[TableScore] = []
    for table in tables:
        policy = policies[table.pk]
        rows = indicators_by_table.get(table.pk, [])
        dates = {a[2] for row in rows for a in provisional_actuals.get(row[0], ())}
        dates.update(as_of for as_of, _ in executions.get(table.pk, ()))
        targets = {row[0]: Target(Kind(row[2]), tidy_decimal(row[3]), tidy_decimal(row[4]), row[5], row[6])
                   for row in rows}
        budget = budgets.get(table.pk)
        for as_of in sorted(dates):
            official_items, provisional_items = [], []
            differs = False
            for row in rows:
                indicator_id, weight, not_applicable = row[0], row[7], row[9]
                if not_applicable:
                    official_items.append(scoring.TableItem(weight, None, True))
                    provisional_items.append(scoring.TableItem(weight, None, True))
                    continue
                official = _latest_until(approved_actuals.get(indicator_id, ()), as_of)
                provisional = _latest_until(provisional_actuals.get(indicator_id, ()), as_of)
                official_result = _score_actual(row, official, targets[indicator_id], policy)
                official_items.append(scoring.TableItem(weight, official_result and official_result.points))
                if official_result is not None:
                    scores.append(_score_row(writer, table.pk, row[0], official, as_of, official_result, policy, now,
                                             True))
                if provisional is official:
                    provisional_items.append(official_items[-1])
                    continue
                differs = True
                provisional_result = _score_actual(row, provisional, targets[indicator_id], policy)
                provisional_items.append(scoring.TableItem(weight, provisional_result and provisional_result.points))
                if provisional_result is not None:
                    scores.append(_score_row(writer, table.pk, row[0], provisional, as_of, provisional_result, policy, now,
                                             False))
            executed = _latest_execution_until(executions.get(table.pk, ()), as_of)
            execution = (
                scoring.score_execution(budget=budget, executed=executed, weight=EXECUTION_WEIGHT)
                if executed is not None
                else scoring.ExecutionScore(None, None)
            )
            variants = [(True, official_items)] + ([(False, provisional_items)] if differs else [])
            for official_flag, items in variants:
                total = scoring.score_table(items=items, execution=execution, execution_weight=EXECUTION_WEIGHT)
                totals.append((
                    table.pk, as_of, official_flag, budget, executed, execution.rate, execution.points,
                    total.indicator_points, total.total, scoring.grade_for(total.total, policy), total.missing,
                    policy.version, now,
                ))
    return scores, totals


def _score_actual(indicator_row, actual_row, target, policy) -> scoring.IndicatorScore | None:
    """Score one indicator with one actual row; None when there is no actual or it cannot be scored."""
    if actual_row is None:
        return None
    _, _, _, value, met, grade, points, _ = actual_row
    try:
        return scoring.score_indicator(
            rule=indicator_row[8],
            target=target,
            actual=tidy_decimal(value) if value is not None else met,
            weight=indicator_row[7],
            policy=policy,
            grade=grade or None,
            points=points,
        )
    except scoring.ScoringError:
        # The target or rule changed after the actual was recorded: shown as missing until re-entered.
        return None


def _score_row(writer, table_id, indicator_id, actual_row, as_of, result, policy, now, official) -> tuple:
    return (indicator_id, table_id, actual_row[1], as_of, official, result.points, result.ratio,
            result.explanation[:500], writer.adapt_json_list(result.flags), policy.version, now)


def _latest_until(rows, as_of):
    """The last row (rows sorted by date, then id) dated on or before as_of."""
    latest = None
    for row in rows:
        if row[2] > as_of:
            break
        latest = row
    return latest


def _latest_execution_until(rows, as_of):
    latest = None
    for date, executed in rows:
        if date > as_of:
            break
        latest = executed
    return latest


def _executions_by_table(tables: list[GoalTable]) -> dict[int, list[tuple[dt.date, Decimal]]]:
    """Execution figures (date, executed) per table: the project's, or the unit's own for 部门整体 tables."""
    project_tables = {t.project_id: t.pk for t in tables if t.project_id}
    unit_tables = {(t.unit_id, t.year): t.pk for t in tables if not t.project_id}
    result: dict[int, list] = defaultdict(list)
    if project_tables:
        for project_id, as_of, executed in BudgetExecution.objects.filter(
            project_id__in=project_tables
        ).order_by("as_of", "id").values_list("project_id", "as_of", "executed"):
            result[project_tables[project_id]].append((as_of, executed))
    if unit_tables:
        for unit_id, year, as_of, executed in BudgetExecution.objects.filter(
            project__isnull=True, unit_id__in={u for u, _ in unit_tables}
        ).order_by("as_of", "id").values_list("unit_id", "year", "as_of", "executed"):
            table_id = unit_tables.get((unit_id, year))
            if table_id:
                result[table_id].append((as_of, executed))
    return result


def _budgets_by_table(tables: list[GoalTable]) -> dict[int, Decimal]:
    """全年预算数 per table: the project's adjusted budget, or the unit's for 部门整体 tables."""
    result = {t.pk: t.project.full_year_budget for t in tables if t.project_id}
    unit_tables = {(t.unit_id, t.year): t.pk for t in tables if not t.project_id}
    if unit_tables:
        for budget in UnitBudget.objects.filter(unit_id__in={u for u, _ in unit_tables}):
            table_id = unit_tables.get((budget.unit_id, budget.year))
            if table_id:
                result[table_id] = budget.full_year_budget
    return result


# --- bulk rescoring jobs -------------------------------------------------------------------------

def rescore_job_create(
    *, unit: Unit | None = None, year: int | None = None, user: AbstractBaseUser | None = None
) -> RescoreJob:
    """Queue a bulk rescore of a unit and/or year (everything when neither is given)."""
    job = RescoreJob.objects.create(unit=unit, year=year, created_by=user)
    from .tasks import rescore_job_start

    rescore_job_start.delay_on_commit(job.pk)
    return job


def rescore_job_plan(*, job_id: int) -> list[int]:
    """Split the job's tables into fixed-size batches (once) and return the indexes still to run."""
    with transaction.atomic():
        job = RescoreJob.objects.select_for_update().get(pk=job_id)
        if not job.batches.exists():
            tables = GoalTable.objects.order_by("pk")
            if job.unit_id:
                tables = tables.filter(unit_id=job.unit_id)
            if job.year:
                tables = tables.filter(year=job.year)
            ids = list(tables.values_list("pk", flat=True))
            RescoreBatch.objects.bulk_create(
                [
                    RescoreBatch(job=job, index=i, table_ids=ids[start:start + RESCORE_BATCH_SIZE])
                    for i, start in enumerate(range(0, len(ids), RESCORE_BATCH_SIZE))
                ],
                ignore_conflicts=True,
            )
            job.total_tables = len(ids)
        job.status = RescoreJob.Status.RUNNING if job.total_tables else RescoreJob.Status.DONE
        if not job.total_tables:
            job.finished_at = timezone.now()
        job.save(update_fields=["total_tables", "status", "finished_at"])
        return list(job.batches.filter(finished_at__isnull=True).order_by("index").values_list("index", flat=True))


def rescore_batch_run(*, job_id: int, index: int) -> None:
    """Rescore one batch of a job and update the job's progress; running it twice counts once."""
    batch = RescoreBatch.objects.get(job_id=job_id, index=index)
    tables_rescore(table_ids=batch.table_ids)
    with transaction.atomic():
        job = RescoreJob.objects.select_for_update().get(pk=job_id)
        RescoreBatch.objects.filter(pk=batch.pk, finished_at__isnull=True).update(finished_at=timezone.now())
        finished = job.batches.filter(finished_at__isnull=False).values_list("table_ids", flat=True)
        job.done_tables = sum(len(ids) for ids in finished)
        if job.done_tables >= job.total_tables and job.status != RescoreJob.Status.DONE:
            job.status = RescoreJob.Status.DONE
            job.finished_at = timezone.now()
        job.save(update_fields=["done_tables", "status", "finished_at"])


def rescore_job_fail(*, job_id: int, error: str) -> None:
    RescoreJob.objects.filter(pk=job_id).update(status=RescoreJob.Status.FAILED, error=error[:2000])


@transaction.atomic
def scoring_policy_save(*, policy: ScoringPolicy) -> ScoringPolicy:
    """Save a policy edit as a new version and mark the tables it governs for rescoring."""
    if policy.pk:
        policy.version = ScoringPolicy.objects.get(pk=policy.pk).version + 1
    policy.full_clean()
    policy.save()
    tables = GoalTable.objects.all() if policy.year is None else GoalTable.objects.filter(year=policy.year)
    goal_table_mark_changed(table_ids=tables.values_list("pk", flat=True))
    return policy


@transaction.atomic
def indicator_set_not_applicable(*, indicator: Indicator, not_applicable: bool, reason: str = "") -> Indicator:
    """Mark an indicator 不适用 (with a written reason) or applicable again; the table total is rescaled."""
    if not_applicable and not reason.strip():
        raise ValidationError({"not_applicable_reason": "标记为不适用时必须填写原因。"})
    indicator.not_applicable = not_applicable
    indicator.not_applicable_reason = reason.strip() if not_applicable else ""
    indicator.full_clean()
    indicator.save(update_fields=["not_applicable", "not_applicable_reason"])
    _table_changed(indicator.table_id)
    return indicator


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


def current_actuals(*, table: GoalTable, as_of: dt.date) -> dict[int, Actual]:
    """Per indicator, the actual now standing for this date (a returned report's excepted): the one a new
    entry for that date corrects."""
    current: dict[int, Actual] = {}
    for actual in (
        Actual.objects.filter(indicator__table=table, as_of=as_of).exclude(report__status=Report.Status.RETURNED)
        .select_related("report", "recorded_by").order_by("id")
    ):
        current[actual.indicator_id] = actual
    return current


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


# --- evidence files -----------------------------------------------------------------------------------

# Types accepted as 佐证资料, judged by content (filetype reads the magic bytes), never by the file name.
EVIDENCE_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG 图片", "image/png": "PNG 图片", "image/gif": "GIF 图片", "image/bmp": "BMP 图片",
    "image/tiff": "TIFF 图片", "image/webp": "WebP 图片",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 表格",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint 演示文稿",
    "application/msword": "Word 97-2003 文档", "application/vnd.ms-excel": "Excel 97-2003 表格",
    "application/vnd.ms-powerpoint": "PowerPoint 97-2003 演示文稿",
    "application/vnd.oasis.opendocument.text": "ODF 文档", "application/vnd.oasis.opendocument.spreadsheet": "ODF 表格",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word/Excel 97-2003 and WPS (.wps/.et/.dps) compound files
_WPS_NAMES = (".doc", ".xls", ".ppt", ".wps", ".et", ".dps")


def evidence_type(head: bytes, name: str) -> str | None:
    """The MIME type of an accepted evidence file from its first bytes, or None when it is not accepted."""
    import filetype

    kind = filetype.guess(head)
    if kind is not None and kind.mime in EVIDENCE_TYPES:
        return kind.mime
    # WPS Office's own formats are compound files filetype does not name; the bytes must still be one.
    if head.startswith(_OLE2) and name.lower().endswith(_WPS_NAMES):
        return "application/x-ole-storage"
    return None


@transaction.atomic
def evidence_add(*, indicator: Indicator, upload, user: AbstractBaseUser | None = None, max_bytes: int) -> Evidence:
    """Store an evidence file under a random name after checking its size and its type by content."""
    import hashlib

    name = (upload.name or "文件")[-255:]
    if upload.size > max_bytes:
        raise ValidationError({"file": f"文件过大（{upload.size / 1024 / 1024:.1f} MB），上限为 {max_bytes // 1024 // 1024} MB。"})
    if upload.size == 0:
        raise ValidationError({"file": "文件是空的。"})
    table = indicator.table
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    upload.seek(0)
    head = upload.read(8192)
    content_type = evidence_type(head, name)
    if content_type is None:
        raise ValidationError({"file": "不支持的文件类型：佐证资料只接受 PDF、图片（JPG/PNG/GIF/BMP/TIFF/WebP）和 Word、Excel、WPS 文档（按文件内容判断，不看扩展名）。"})
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    evidence = Evidence(indicator=indicator, original_name=name, content_type=content_type, size=upload.size,
                        sha256=digest.hexdigest(), uploaded_by=user)
    evidence.file.save("upload", upload, save=False)
    evidence.save()
    return evidence


# --- goal table approval ------------------------------------------------------------------------------

@transaction.atomic
def goal_table_approve(*, table: GoalTable, user: AbstractBaseUser | None = None) -> GoalTable:
    """批复: the unit administrator approves a draft goal table; re-imports leave it alone from then on."""
    table = GoalTable.objects.select_for_update().get(pk=table.pk)
    if table.status != GoalTable.Status.DRAFT:
        raise ValidationError(f"该绩效目标表当前为“{table.get_status_display()}”，只有草稿可以批复。")
    ensure_year_open(unit_id=table.unit_id, year=table.year)
    if not table.indicators.exists():
        raise ValidationError("该绩效目标表还没有任何指标，不能批复。")
    table.status = GoalTable.Status.APPROVED
    table.full_clean()
    table._history_user = user
    table.save(update_fields=["status"])
    return table


def goal_tables_rescore_stale(*, tables: Iterable[GoalTable]) -> int:
    """Rescore, now, the tables changed since they were last scored, so a report never shows stale scores.

    Returns how many tables were rescored. Tables that are up to date cost nothing beyond the check.
    """
    stale = [t.pk for t in tables if t.is_stale]
    for start in range(0, len(stale), RESCORE_BATCH_SIZE):
        tables_rescore(table_ids=stale[start:start + RESCORE_BATCH_SIZE])
    return len(stale)
