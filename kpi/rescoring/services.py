"""Rescoring: turning recorded actuals and budget execution into scores, with the engine (kpi.scoring).

Writes. A change that feeds the scores marks its goal tables changed and enqueues one rescore per
table after commit (`goal_tables_rescore_soon`); a periodic sweep rescores what a lost message left
stale, and bulk jobs rescore a year or a unit in fixed-size batches with their progress recorded. A policy
edit is saved as a new version (`scoring_policy_save`); what it (or any rescore) would change is computed
beforehand, the same way and writing nothing (`policy_change_preview`, `tables_rescore_diff`).
"""
from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from budgets.models import BudgetExecution, Project, Unit, UnitBudget
from kpi import scoring
from kpi.enqueue import CommitBatch
from kpi.formatting import tidy_decimal
from kpi.models import (
    Actual,
    GoalTable,
    Indicator,
    IndicatorVersion,
    Report,
    RescoreBatch,
    RescoreJob,
    Score,
    ScoringPolicy,
    TableScore,
    TableSummary,
)
from kpi.targets import Kind, Target

from .bulk import RowWriter, analyze, column_converter, delete_rows, in_ids, select_rows
from .selectors import policies_by_table, policy_rows, table_policy_keys, tables_governed
from .summaries import summary_rows, summary_writer

# tables per batch of a bulk job, per transaction of the sweep (JIXIAO_RESCORE_BATCH_SIZE, default 500: measured)
RESCORE_BATCH_SIZE = getattr(settings, "JIXIAO_RESCORE_BATCH_SIZE", 500)
# A bulk job this large first refreshes PostgreSQL's statistics (a year just imported has none).
ANALYZE_FROM_TABLES = 500
SWEEP_LIMIT = 2000  # tables the periodic sweep rescores per run at most; the next run takes the rest


# --- marking tables changed, enqueueing their rescore ----------------------------------------------

def goal_tables_mark_changed(*, table_ids: Iterable[int]) -> None:
    """Something that feeds the scores changed: the tables show "评分更新中" until they are rescored."""
    GoalTable.objects.filter(pk__in=list(table_ids)).update(changed_at=timezone.now())


def goal_tables_rescore_soon(*, table_ids: Iterable[int]) -> None:
    """Mark the tables changed and enqueue one rescore per table once the transaction commits.

    Recording fifty actuals in one transaction sends one message per table, not fifty.
    """
    table_ids = list(table_ids)
    if not table_ids:
        return
    goal_tables_mark_changed(table_ids=table_ids)
    _rescores.add(table_ids)


def _enqueue_rescores(table_ids: list[int]) -> None:
    from kpi.enqueue import send_now

    from .tasks import rescore_table

    for table_id in table_ids:
        if not send_now(rescore_table, table_id):
            return  # the broker is down: the sweep rescores these tables once it is back


_rescores = CommitBatch(_enqueue_rescores)


def goal_table_ids_fed_by(*, project: Project | None = None, unit: Unit | None = None, year: int | None = None):
    """The goal tables a project's figures feed (its table), or a unit's own (its 部门整体 table of the year)."""
    if project is not None:
        return GoalTable.objects.filter(project=project).values_list("pk", flat=True)
    return GoalTable.objects.filter(unit=unit, year=year, scope=GoalTable.Scope.UNIT).values_list("pk", flat=True)


# --- rescoring tables ------------------------------------------------------------------------------

def tables_rescore(*, table_ids: Iterable[int]) -> int:
    """Rescore every indicator of these tables at every reporting date, and their totals. Idempotent.

    A table is scored at each date something was reported for it (an actual or an execution figure),
    using per indicator the latest actual up to that date: approved ones for the official score, and
    where a draft or submitted report says otherwise, a provisional score beside it. The tables are
    locked while they are rescored, so two runs at once cannot interleave. A few queries per call,
    whatever the size. Returns the number of indicator scores written.
    """
    with transaction.atomic():
        tables = _tables_locked(table_ids)
        if not tables:
            return 0
        scores, totals, summaries = _batch_computed(tables, _read_batch(tables))
        _batch_write([t.pk for t in tables], scores, totals, summaries)
    return len(scores)


def _tables_locked(table_ids: Iterable[int]) -> list[GoalTable]:
    """The tables, locked until the end of the transaction (with what a rescore reads of them and their
    projects: _TABLE_FIELDS), by id."""
    return list(
        GoalTable.objects.select_for_update(of=("self",)).filter(pk__in=list(table_ids))
        .select_related("project").only(*_TABLE_FIELDS).order_by("pk")
    )


def _batch_computed(tables: list[GoalTable], rows: _BatchRows) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """(score rows, total rows, summary rows) of these tables from what was read of them, ready to insert."""
    latest: dict = {}
    scores, totals = _compute_scores(tables, rows=rows, latest=latest)
    writer = summary_writer()
    summaries = summary_rows(
        tables, indicators_by_table=rows.indicators, actuals_by_indicator=rows.provisional_actuals,
        executions=rows.executions, budgets=rows.budgets, totals=totals, results=latest,
        now=writer.adapt_datetime(timezone.now()), writer=writer, stamp=rows.stamp,
    )
    return scores, totals, summaries


def _batch_write(table_ids: list[int], scores: list[tuple], totals: list[tuple], summaries: list[tuple]) -> None:
    """Store a batch's rows in place of what its tables had, and mark the tables scored."""
    # nothing cascades from these three (no model points at a score, a total or a summary)
    _scores_write(table_ids, scores)
    delete_rows("table_id", table_ids, TableScore, TableSummary)
    _total_writer().insert(totals)
    summary_writer().insert(summaries)
    GoalTable.objects.filter(pk__in=table_ids).update(scored_at=timezone.now())


def _scores_write(table_ids: list[int], scores: list[tuple]) -> None:
    """Store the tables' new score rows, keeping each stored row whose values are unchanged: a rescore that
    changes little (the sweep, a re-approval, a policy moving a few scores, a bulk rescore run again) then
    deletes and inserts only what changed, not every row of its tables (on PostgreSQL each replaced row is
    also a dead one for VACUUM). A kept row's computed_at stays the time its value was first computed."""
    stored = _stored_scores(table_ids)
    if stored:
        fresh, replaced = [], []
        for row in scores:
            # ScoreRow: indicator, table, actual, as_of, official, points, ratio, explanation, flags, policy_version
            old = stored.pop((row[0], row[3], row[4]), None)
            if old is not None:
                if old[1:] == (row[2], row[5], row[6], row[7], row[8], row[9]):
                    continue
                replaced.append(old[0])
            fresh.append(row)
        replaced.extend(old[0] for old in stored.values())  # no longer scored (an actual withdrawn, a date gone)
        delete_rows("id", replaced, Score)
        scores = fresh
    score_writer().insert(scores)


_STORED_SCORE_COLUMNS = ("id", "indicator_id", "as_of", "official", "actual_id", "points", "ratio", "explanation",
                         "flags", "policy_version")


def _stored_scores(table_ids: list[int]) -> dict[tuple, tuple]:
    """The tables' stored score rows by (indicator id, as_of, official): (id, actual id, points, ratio,
    explanation, flags, policy_version), each value as the new rows hold it (the flags as the JSON text they
    were written as: a different spelling of the same list only costs a row replaced). One query."""
    quote = connection.ops.quote_name
    columns = [quote(Score._meta.get_field(name).column) for name in _STORED_SCORE_COLUMNS]
    columns[8] = f"CAST({columns[8]} AS TEXT)"  # PostgreSQL's jsonb as text, not a list decoded per row
    if connection.vendor == "sqlite":
        columns[2] = f"CAST({columns[2]} AS TEXT)"  # converted once per distinct date, not by sqlite3 per row
    where, params = in_ids(quote("table_id"), table_ids)
    sql = f"SELECT {', '.join(columns)} FROM {quote(Score._meta.db_table)} WHERE {where}"
    converters = _converters(Score, "as_of", "points", "ratio")
    converted: dict = {}
    stored = {}
    # official: SQLite's 0/1 are equal to (and hash as) False/True, so they key the same rows
    for pk, indicator_id, as_of, official, actual_id, points, ratio, explanation, flags, version in select_rows(
        sql, params
    ):
        if converters[0] is not None:
            as_of, points, ratio = _converted(converted, converters, (as_of, points, ratio))
        stored[(indicator_id, as_of, official)] = (pk, actual_id, points, ratio, explanation, flags, version)
    return stored


# What a rescore reads of its tables (policies_by_table, _budgets_by_table, _executions_by_table,
# summary_rows): building full GoalTable and Project instances was a tenth of a bulk rescore.
_TABLE_FIELDS = ("unit", "year", "project", "policy", "project__budget_initial", "project__budget_adjusted")


def goal_tables_rescore_stale(*, tables: Iterable[GoalTable]) -> int:
    """Rescore, now, the tables changed since they were last scored (commands and tasks, never a page).

    Returns how many tables were rescored. Tables that are up to date cost nothing beyond the check.
    """
    stale = [t.pk for t in tables if t.is_stale]
    for start in range(0, len(stale), RESCORE_BATCH_SIZE):
        tables_rescore(table_ids=stale[start:start + RESCORE_BATCH_SIZE])
    return len(stale)


def stale_tables_sweep(*, limit: int = SWEEP_LIMIT) -> int:
    """Rescore the tables left stale (a message lost, a worker stopped mid-way), oldest change first."""
    stale = list(
        GoalTable.objects.filter(GoalTable.STALE)
        .order_by("changed_at", "pk").values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(stale), RESCORE_BATCH_SIZE):
        tables_rescore(table_ids=stale[start:start + RESCORE_BATCH_SIZE])
    return len(stale)


class ScoreRow(NamedTuple):
    """A Score row as the rescore writes it (values ready for the driver), by field name."""

    indicator: int
    table: int
    actual: int
    as_of: dt.date
    official: bool
    points: Decimal
    ratio: Decimal | None
    explanation: str
    flags: object
    policy_version: str
    computed_at: object


class TotalRow(NamedTuple):
    """A TableScore row as the rescore writes it, by field name."""

    table: int
    as_of: dt.date
    official: bool
    budget: Decimal | None
    executed: Decimal | None
    execution_rate: Decimal | None
    execution_points: Decimal | None
    indicator_points: Decimal
    total: Decimal
    grade: str
    missing: int
    policy_version: str
    computed_at: object


SCORE_FIELDS = ScoreRow._fields
TOTAL_FIELDS = TotalRow._fields


def score_writer() -> RowWriter:
    """Plain INSERT/COPY of score rows (SCORE_FIELDS), as the rescore writes them."""
    return RowWriter(Score, SCORE_FIELDS)


def _total_writer() -> RowWriter:
    return RowWriter(TableScore, TOTAL_FIELDS)


class _IndicatorRow(NamedTuple):
    id: int
    table_id: int
    target_kind: str
    target_value: Decimal | None
    target_upper: Decimal | None
    unit: str
    target_raw: str
    weight: Decimal
    rule: str
    not_applicable: bool
    accumulation: str

    def target(self) -> Target:
        """The parsed target as the engine wants it (as `Indicator.target`, without the review flags)."""
        return _target(self.target_kind, self.target_value, self.target_upper, self.unit, self.target_raw)


@functools.lru_cache(maxsize=4096)
def _target(kind: str, value: Decimal | None, upper: Decimal | None, unit: str, raw: str) -> Target:
    # Pure and immutable, and a year repeats the same few hundred targets: built once each. Equal Decimals
    # (100 and 100.0000) share an entry, which is right: tidy_decimal gives both the same value.
    return Target(Kind(kind), tidy_decimal(value), tidy_decimal(upper), unit, raw)


class _ActualRow(NamedTuple):
    indicator_id: int
    id: int
    as_of: dt.date
    value: Decimal | None
    met: bool | None
    grade: str
    points: Decimal | None
    report_status: str
    recorded_at: dt.datetime


# target_flags are review hints the engine does not read: not decoded here, for speed
_INDICATOR_COLUMNS = ("id", "table_id", "target_kind", "target_value", "target_upper", "unit", "target_raw",
                      "weight", "rule", "not_applicable", "accumulation")
# what a superseded version holds (IndicatorVersion), read beside its indicator's row
_VERSION_COLUMNS = ("valid_until", "target_kind", "target_value", "target_upper", "unit", "target_raw", "weight", "rule")
_ACTUAL_COLUMNS = ("indicator_id", "id", "as_of", "value", "met", "grade", "points", "report__status", "recorded_at")


@dataclass
class _BatchRows:
    """What a batch of tables is scored from, read as plain rows (no model instances)."""

    indicators: dict[int, list[_IndicatorRow]]  # per table, in order
    provisional_actuals: dict[int, list[_ActualRow]]  # per indicator, every actual that counts, oldest first
    approved_actuals: dict[int, list[_ActualRow]]  # per indicator, the approved ones
    executions: dict[int, list[tuple]]  # per table, (as_of, executed, recorded_at), oldest first
    budgets: dict[int, Decimal]  # 全年预算数 per table
    # An actual's recorded_at is kept as read, as text in time order (see _read_batch): only the latest of a
    # table is used (TableSummary.last_update), converted to a datetime by `stamp`.
    stamp: object = None
    # per adjusted indicator, its superseded versions (valid_until, the row as it was), earliest first: a date
    # before a version's valid_until is scored with that version (`_version_at`). Only adjusted indicators appear.
    versions: dict[int, list[tuple[dt.date, _IndicatorRow]]] = field(default_factory=dict)


_MISSING = object()
_tuple_new = tuple.__new__  # a NamedTuple built without its keyword-parsing __new__ (hot loops)


def _same(value):
    return value


def _converted(cache: dict, converters, raw: tuple) -> tuple:
    """`raw` converted value by value, once per distinct tuple (a year repeats a few hundred)."""
    values = cache.get(raw)
    if values is None:
        values = cache[raw] = tuple(convert(value) for convert, value in zip(converters, raw, strict=True))
    return values


def _converters(model, *names):
    """The columns' converters (`column_converter`); all None when none converts anything (PostgreSQL)."""
    converters = [column_converter(model, name) for name in names]
    if all(c is None for c in converters):
        return [None] * len(names)
    return [c or _same for c in converters]


def _indicators_sql(ids: list[int]) -> tuple[str, list]:
    """The batch's indicators in order, each with its superseded versions (a row per version, by a LEFT JOIN:
    an indicator never adjusted is one row with empty version columns)."""
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    indicator, version = Indicator._meta, IndicatorVersion._meta
    columns = ", ".join(f"i.{quote(indicator.get_field(name).column)}" for name in _INDICATOR_COLUMNS)
    v_columns = ", ".join(f"v.{quote(version.get_field(name).column)}" for name in _VERSION_COLUMNS)
    sql = (f"SELECT {columns}, {v_columns} FROM {quote(indicator.db_table)} i"
           f" LEFT JOIN {quote(version.db_table)} v ON v.{quote('indicator_id')} = i.{quote('id')}"
           f" WHERE i.{quote('table_id')} IN ({marks})"
           f" ORDER BY i.{quote('order')}, i.{quote('id')}, v.{quote('valid_until')}")
    return sql, ids


def _actuals_sql(ids: list[int]) -> tuple[str, list]:
    """The batch's actuals that count (all but those of returned reports), in date order, with their report's
    status and their recorded_at as text."""
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    indicator, actual, report = Indicator._meta, Actual._meta, Report._meta
    a_columns = [f"a.{quote(actual.get_field(name).column)}" for name in _ACTUAL_COLUMNS[:-2]]
    # recorded_at as text, not through the driver's per-row datetime parsing: only each table's latest is
    # ever converted (`stamp`). The text is in time order: Django's fixed format on SQLite, PostgreSQL's ISO
    # output in the connection's time zone (UTC) there.
    stamp_column = f"CAST(a.{quote('recorded_at')} AS TEXT)"
    if connection.vendor == "sqlite":
        # the few dates too: converted once each (memoised), not by sqlite3 row by row
        a_columns[2] = f"CAST({a_columns[2]} AS TEXT)"
    a_columns = ", ".join(a_columns)
    sql = (f"SELECT {a_columns}, r.{quote('status')}, {stamp_column}"
           f" FROM {quote(actual.db_table)} a"
           f" INNER JOIN {quote(report.db_table)} r ON r.{quote('id')} = a.{quote('report_id')}"
           f" INNER JOIN {quote(indicator.db_table)} i ON i.{quote('id')} = a.{quote('indicator_id')}"
           f" WHERE i.{quote('table_id')} IN ({marks}) AND NOT (r.{quote('status')} = %s)"
           f" ORDER BY a.{quote('as_of')}, a.{quote('id')}")
    return sql, [*ids, Report.Status.RETURNED.value]


def _batch_fetched(tables: list[GoalTable]) -> tuple[list[tuple], list[tuple], dict, dict]:
    """Everything a rescore reads of a batch of tables: (indicator rows, actual rows) as the driver gives them,
    the execution figures and the budgets per table. Four queries (five with a 部门整体 table)."""
    ids = [t.pk for t in tables]
    return (select_rows(*_indicators_sql(ids)), select_rows(*_actuals_sql(ids)), _executions_by_table(tables),
            _budgets_by_table(tables))


def _read_batch(tables: list[GoalTable]) -> _BatchRows:
    """What `_batch_fetched` reads, as rows to score from, whatever the number of indicators. The indicators'
    superseded versions (调整, IndicatorVersion) come with the indicators (`_indicators_sql`).

    Indicators and actuals are read with a plain cursor and explicit columns, each value converted as the
    ORM converts it (`column_converter`: memoised, so a weight or a date repeated 10,000 times is converted
    once); the ORM's per-row converters were most of a bulk rescore's read time."""
    indicator_rows, actual_rows, executions, budgets = _batch_fetched(tables)
    indicator_converters = _converters(Indicator, "target_value", "target_upper", "weight", "not_applicable")
    version_converters = _converters(IndicatorVersion, "valid_until", "target_value", "target_upper", "weight")
    indicators_by_table: dict[int, list[_IndicatorRow]] = defaultdict(list)
    versions: dict[int, list[tuple[dt.date, _IndicatorRow]]] = {}
    converted: dict = {}
    last = None
    for (pk, table_id, kind, value, upper, unit, raw, weight, rule, na, accumulation,
         v_until, v_kind, v_value, v_upper, v_unit, v_raw, v_weight, v_rule) in indicator_rows:
        if pk != last:
            last = pk
            if indicator_converters[0] is not None:
                value, upper, weight, na = _converted(converted, indicator_converters, (value, upper, weight, na))
            indicators_by_table[table_id].append(_tuple_new(_IndicatorRow, (
                pk, table_id, kind, value, upper, unit, raw, weight, rule, na, accumulation)))
        if v_until is None:
            continue
        if version_converters[0] is not None:
            v_until, v_value, v_upper, v_weight = (
                convert(raw_value) for convert, raw_value in zip(
                    version_converters, (v_until, v_value, v_upper, v_weight), strict=True))
        current = indicators_by_table[table_id][-1]
        versions.setdefault(pk, []).append((v_until, current._replace(
            target_kind=v_kind, target_value=v_value, target_upper=v_upper, unit=v_unit, target_raw=v_raw,
            weight=v_weight, rule=v_rule)))

    # Per indicator, actuals in date order: all that count provisionally (all but those of returned
    # reports: ActualQuerySet.that_count), and the approved ones.
    actual_converters = _converters(Actual, "as_of", "value", "met", "points")
    provisional_actuals: dict[int, list[_ActualRow]] = defaultdict(list)
    approved_actuals: dict[int, list[_ActualRow]] = defaultdict(list)
    approved = Report.Status.APPROVED.value
    converted = {}
    for indicator_id, pk, as_of, value, met, grade, points, status, recorded_at in actual_rows:
        if actual_converters[0] is not None:
            as_of, value, met, points = _converted(converted, actual_converters, (as_of, value, met, points))
        row = _tuple_new(_ActualRow, (indicator_id, pk, as_of, value, met, grade, points, status, recorded_at))
        provisional_actuals[indicator_id].append(row)
        if status == approved:
            approved_actuals[indicator_id].append(row)
    return _BatchRows(indicators_by_table, provisional_actuals, approved_actuals, executions, budgets,
                      column_converter(Actual, "recorded_at") or _parse_stamp,
                      versions=versions)


def _version_at(row, versions, as_of, version_keys):
    """(the indicator as scored at `as_of`: the version with the earliest valid_until after it, else the current
    row; its memo key id, or None for the current values). Versions earliest first."""
    for valid_until, version in versions:
        if as_of < valid_until:
            return version, version_keys[(row.id, valid_until)]
    return row, None


def _parse_stamp(text: str) -> dt.datetime:
    """A timestamptz's text as PostgreSQL gives it ("2026-07-31 08:00:00.5+00"), as an aware datetime."""
    return parse_datetime(text)


def _compute_scores(tables: list[GoalTable], *, policies: dict[int, scoring.Policy] | None = None,
                    notes: dict | None = None, rows: _BatchRows | None = None,
                    latest: dict | None = None) -> tuple[list[tuple], list[tuple]]:
    """Score rows (SCORE_FIELDS) and total rows (TOTAL_FIELDS) of these tables, as values ready to insert,
    under `policies` (by table id; by default the policy each table is scored under). With `notes`, the
    explanation of each total (which execution cap applied) is kept there by (table id, as_of, official).
    `rows`: what `_read_batch` read of the tables (read here when not given). With `latest`, each indicator's
    result for its latest actual that counts is kept there by indicator id, for tables under the default
    policy (the lights judge by the default policy's ratio: see kpi.lights.scored_light)."""
    if policies is None:
        policies = policies_by_table(tables)
    writer = score_writer()
    now = writer.adapt_datetime(timezone.now())

    if rows is None:
        rows = _read_batch(tables)
    indicators_by_table, executions, budgets = rows.indicators, rows.executions, rows.budgets
    provisional_actuals, approved_actuals = rows.provisional_actuals, rows.approved_actuals
    versions = rows.versions

    scores: list[tuple] = []
    totals: list[tuple] = []
    # The engine is pure: one result per distinct (policy, rule, target, weight, actual) in the batch, kept
    # with the score row's values that follow from it. A year repeats the same targets, weights and actuals
    # ("=100%" met at 100, "≥95%" at 98 …) across thousands of tables. Keys compare Decimals by value, which
    # is exact here: weights and entered points come from columns of fixed places, and the engine sees
    # target values and actuals through tidy_decimal (equal values, same text).
    memo: dict = {}
    indicator_keys: dict = {}
    missing = _MISSING
    for table in tables:
        policy = policies[table.pk]
        version = policy.version
        rows = indicator_rows = indicators_by_table.get(table.pk, [])
        dates = {a.as_of for row in rows for a in provisional_actuals.get(row.id, ())}
        dates.update(as_of for as_of, _, _ in executions.get(table.pk, ()))
        def key_of(row, policy=policy):
            # what the engine's result depends on: the values in force (a version's, for an adjusted indicator)
            return indicator_keys.setdefault(
                (id(policy), row.rule, row.target_kind, row.target_value, row.target_upper, row.unit, row.target_raw,
                 row.weight), len(indicator_keys))

        keys = {row.id: key_of(row) for row in rows}
        # adjusted indicators: the key of each superseded version, by (id, valid_until)
        version_keys = {(row.id, until): key_of(old) for row in rows for until, old in versions.get(row.id, ())}
        budget = budgets.get(table.pk)
        keep = latest if latest is not None and policy is scoring.DEFAULT_POLICY else None
        last_date = max(dates) if dates else None

        def scored(row, actual, key_id=None, keys=keys, policy=policy, version=version):
            """(the engine's result, the score row's values from points to policy_version) of one actual."""
            key = (keys[row.id] if key_id is None else key_id, actual.value, actual.met, actual.grade, actual.points)
            hit = memo.get(key, missing)
            if hit is missing:
                result = _score_actual(row, actual, row.target(), policy)
                hit = memo[key] = (result, None if result is None else (
                    result.points, result.ratio, result.explanation[:500], writer.adapt_json_list(result.flags),
                    version))
            return hit

        for as_of in sorted(dates):
            at_last = keep is not None and as_of == last_date
            official_items, provisional_items = [], []
            differs = False
            for row in indicator_rows:
                key_id = None
                if version_keys and row.id in versions:
                    row, key_id = _version_at(row, versions[row.id], as_of, version_keys)
                if row.not_applicable:
                    item = (row.weight, None, True)
                    official_items.append(item)
                    provisional_items.append(item)
                    continue
                official = _latest_until(approved_actuals.get(row.id, ()), as_of)
                provisional = _latest_until(provisional_actuals.get(row.id, ()), as_of)
                if official is None:
                    official_result = values = None
                else:
                    official_result, values = scored(row, official, key_id)
                official_items.append(item := (row.weight, values and values[0]))
                if values is not None:
                    scores.append(_tuple_new(ScoreRow, (row.id, row.table_id, official.id, as_of, True, *values, now)))
                if provisional is official:
                    provisional_items.append(item)
                    if at_last:
                        keep[row.id] = official_result
                    continue
                differs = True
                if provisional is None:
                    provisional_result = values = None
                else:
                    provisional_result, values = scored(row, provisional, key_id)
                if at_last:
                    keep[row.id] = provisional_result
                provisional_items.append((row.weight, values and values[0]))
                if values is not None:
                    scores.append(_tuple_new(ScoreRow, (row.id, row.table_id, provisional.id, as_of, False, *values,
                                                        now)))
            executed = _latest_execution_until(executions.get(table.pk, ()), as_of)
            execution = (
                scoring.score_execution(budget=budget, executed=executed, weight=policy.execution_weight,
                                        whole_points=policy.whole_points)
                if executed is not None
                else scoring.ExecutionScore(None, None)
            )
            variants = [(True, official_items)] + ([(False, provisional_items)] if differs else [])
            for official_flag, items in variants:
                total = scoring.score_table(items=items, execution=execution, policy=policy)
                if notes is not None and total.explanation:
                    notes[(table.pk, as_of, official_flag)] = total.explanation
                totals.append(TotalRow(
                    table.pk, as_of, official_flag, budget, executed, execution.rate, execution.points,
                    total.indicator_points, total.total, scoring.grade_for(total.total, policy), total.missing,
                    policy.version, now,
                ))
    return scores, totals


def _score_actual(indicator: _IndicatorRow, actual: _ActualRow | None, target, policy) -> scoring.IndicatorScore | None:
    """Score one indicator with one actual row; None when there is no actual or it cannot be scored."""
    if actual is None:
        return None
    try:
        return scoring.score_indicator(
            rule=indicator.rule,
            target=target,
            actual=tidy_decimal(actual.value) if actual.value is not None else actual.met,
            weight=indicator.weight,
            policy=policy,
            grade=actual.grade or None,
            points=actual.points,
        )
    except scoring.ScoringError:
        # The target or rule changed after the actual was recorded: shown as missing until re-entered.
        return None


def _latest_until(rows: Iterable[_ActualRow], as_of: dt.date) -> _ActualRow | None:
    """The last row (rows sorted by date, then id) dated on or before as_of."""
    latest = None
    for row in rows:
        if row.as_of > as_of:
            break
        latest = row
    return latest


def _latest_execution_until(rows, as_of):
    latest = None
    for date, executed, _ in rows:
        if date > as_of:
            break
        latest = executed
    return latest


def _executions_by_table(tables: list[GoalTable]) -> dict[int, list[tuple[dt.date, Decimal, dt.datetime]]]:
    """Execution figures (date, executed, recorded_at) per table, oldest first: the project's, or the unit's
    own for 部门整体 tables."""
    project_tables = {t.project_id: t.pk for t in tables if t.project_id}
    unit_tables = {(t.unit_id, t.year): t.pk for t in tables if not t.project_id}
    result: dict[int, list] = defaultdict(list)
    if project_tables:
        for project_id, as_of, executed, recorded_at in BudgetExecution.objects.filter(
            project_id__in=project_tables
        ).order_by("as_of", "id").values_list("project_id", "as_of", "executed", "recorded_at"):
            result[project_tables[project_id]].append((as_of, executed, recorded_at))
    if unit_tables:
        for unit_id, year, as_of, executed, recorded_at in BudgetExecution.objects.filter(
            project__isnull=True, unit_id__in={u for u, _ in unit_tables}
        ).order_by("as_of", "id").values_list("unit_id", "year", "as_of", "executed", "recorded_at"):
            table_id = unit_tables.get((unit_id, year))
            if table_id:
                result[table_id].append((as_of, executed, recorded_at))
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
    from kpi.enqueue import send_after_commit

    from .tasks import rescore_job_start

    job = RescoreJob.objects.create(unit=unit, year=year, created_by=user)
    send_after_commit(rescore_job_start, job.pk)
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
            if len(ids) >= ANALYZE_FROM_TABLES:
                analyze(GoalTable, Indicator, Actual, Report, Score, TableScore, TableSummary)
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
    """Rescore one batch of a job and update the job's progress; running it twice counts once (a batch
    already finished is not rescored again)."""
    batch = RescoreBatch.objects.get(job_id=job_id, index=index)
    if batch.finished_at is not None:
        return
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


def stalled_after() -> dt.timedelta:
    """A running job with no batch finished for this long has lost its worker (a batch takes seconds)."""
    return dt.timedelta(seconds=settings.JIXIAO_RESCORE_STALLED_SECONDS)


def unstarted_after() -> dt.timedelta:
    """A job still 排队中 this long after it was queued lost its start message (the broker was down)."""
    return dt.timedelta(seconds=settings.JIXIAO_RESCORE_UNSTARTED_SECONDS)


def _resend_once(job: RescoreJob, interval: dt.timedelta) -> bool:
    """True at most once per interval for a job: a resent job whose worker is merely busy is not sent again
    at every sweep (each resend of a start fans out every unfinished batch)."""
    from django.core.cache import cache

    key = f"rescore-job-resent:{job.pk}:{job.created_at.timestamp()}"
    try:
        return cache.add(key, 1, timeout=max(1, int(interval.total_seconds())))
    except Exception:  # the cache is down: resending twice is safe, never resending is not
        return True


def stalled_jobs_resume(*, now: dt.datetime | None = None) -> int:
    """Send again what a lost message or a killed worker left undone: the start of a job still 排队中 after
    `unstarted_after()`, the unfinished batches of a running job with no batch finished for `stalled_after()`
    (settings JIXIAO_RESCORE_UNSTARTED_SECONDS, JIXIAO_RESCORE_STALLED_SECONDS). Returns how many jobs."""
    from kpi.enqueue import send_now

    from .tasks import rescore_batch, rescore_job_start

    now = now or timezone.now()
    unstarted, stalled = unstarted_after(), stalled_after()
    resumed = 0
    for job in RescoreJob.objects.filter(status=RescoreJob.Status.PENDING, created_at__lt=now - unstarted):
        if _resend_once(job, unstarted):
            resumed += send_now(rescore_job_start, job.pk)
    for job in RescoreJob.objects.filter(status=RescoreJob.Status.RUNNING):
        progressed = max(
            (f for f in job.batches.values_list("finished_at", flat=True) if f is not None), default=job.created_at
        )
        if progressed >= now - stalled or not _resend_once(job, stalled):
            continue
        unfinished = list(job.batches.filter(finished_at__isnull=True).order_by("index").values_list("index", flat=True))
        if all(send_now(rescore_batch, job.pk, index) for index in unfinished):
            resumed += 1
    return resumed


def rescore_job_fail(*, job_id: int, error: str) -> None:
    RescoreJob.objects.filter(pk=job_id).update(status=RescoreJob.Status.FAILED, error=error[:2000])


# --- policies and what a change of them does ------------------------------------------------------------

@dataclass
class TotalChange:
    """One table whose latest total or grade a rescore changes: old → new, and why."""

    table_id: int
    table: str  # how the table is named: "2026 项目名称", "2026 单位（部门整体）"
    as_of: dt.date
    old_total: Decimal | None
    new_total: Decimal | None
    old_grade: str
    new_grade: str
    reasons: list[str] = field(default_factory=list)

    @property
    def size(self) -> Decimal:
        """How large the change is: the total's move (a total that appears or goes counts from 0)."""
        return abs((self.new_total or Decimal(0)) - (self.old_total or Decimal(0)))

    def as_json(self) -> dict:
        return {"table": self.table, "old_total": _points_text(self.old_total),
                "new_total": _points_text(self.new_total), "old_grade": self.old_grade or "—",
                "new_grade": self.new_grade or "—"}


@dataclass
class RescoreDiff:
    """What rescoring some tables would change, computed without writing: how many stored indicator scores,
    totals and grades differ (a row that would appear or go counts), and each table whose latest total or
    grade changes, the largest change first."""

    tables: int = 0  # tables compared
    table_ids: set[int] = field(default_factory=set)
    scores_changed: int = 0
    totals_changed: int = 0
    grades_changed: int = 0
    changes: list[TotalChange] = field(default_factory=list)

    @property
    def largest(self) -> list[TotalChange]:
        """The ten largest changes (what the policy page lists)."""
        return self.changes[:PREVIEW_CHANGES]

    def as_json(self) -> dict:
        """The JSON of `rescore --diff`."""
        return {"scores_changed": self.scores_changed, "totals_changed": self.totals_changed,
                "grades_changed": self.grades_changed, "changes": [c.as_json() for c in self.changes]}


PREVIEW_CHANGES = 10
REASONS_PER_CHANGE = 3  # indicator score changes named under a table's change


def _points_text(value: Decimal | None) -> str:
    return "—" if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def tables_rescore_diff(*, table_ids: Iterable[int], policies: dict[int, scoring.Policy] | None = None) -> RescoreDiff:
    """What rescoring these tables would change against their stored scores — under `policies` (by table
    id; by default the policy each is scored under now) — computed in batches, writing nothing."""
    table_ids = sorted(set(table_ids))
    diff = RescoreDiff(tables=len(table_ids), table_ids=set(table_ids))
    for start in range(0, len(table_ids), RESCORE_BATCH_SIZE):
        batch = list(GoalTable.objects.filter(pk__in=table_ids[start:start + RESCORE_BATCH_SIZE])
                     .select_related("project", "unit").order_by("pk"))
        _diff_batch(batch, policies, diff)
    diff.changes.sort(key=lambda c: (-c.size, c.old_grade == c.new_grade, c.table, c.table_id))
    _name_indicators(diff.largest)
    return diff


def _diff_batch(tables: list[GoalTable], policies, diff: RescoreDiff) -> None:
    notes: dict = {}
    batch_policies = None if policies is None else {t.pk: policies[t.pk] for t in tables}
    scores, totals = _compute_scores(tables, policies=batch_policies, notes=notes)
    ids = [t.pk for t in tables]
    old_scores = {
        (indicator_id, as_of, official): points
        for indicator_id, as_of, official, points in Score.objects.filter(table_id__in=ids)
        .values_list("indicator_id", "as_of", "official", "points")
    }
    new_scores = {(row.indicator, row.as_of, row.official): (row.points, row.explanation, row.table) for row in scores}
    changed_scores: dict[tuple[int, dt.date, bool], list] = defaultdict(list)  # (table, as_of, official) → changes
    for key in old_scores.keys() | new_scores.keys():
        old, new = old_scores.get(key), new_scores.get(key)
        if old is not None and new is not None and old == new[0]:
            continue
        diff.scores_changed += 1
        if new is not None:
            changed_scores[(new[2], key[1], key[2])].append((key[0], old, new[0], new[1]))

    old_totals = {
        (table_id, as_of, official): (total, grade, execution_points)
        for table_id, as_of, official, total, grade, execution_points in TableScore.objects.filter(table_id__in=ids)
        .values_list("table_id", "as_of", "official", "total", "grade", "execution_points")
    }
    new_totals = {(row.table, row.as_of, row.official): (row.total, row.grade, row.execution_points) for row in totals}
    for key in old_totals.keys() | new_totals.keys():
        old, new = old_totals.get(key), new_totals.get(key)
        if old is None or new is None or old[0] != new[0]:
            diff.totals_changed += 1
        if old is None or new is None or old[1] != new[1]:
            diff.grades_changed += 1

    by_pk = {t.pk: t for t in tables}
    for table_id in ids:
        key = _latest_total_key(table_id, old_totals.keys() | new_totals.keys())
        if key is None:
            continue
        old, new = old_totals.get(key), new_totals.get(key)
        old_total, old_grade, old_execution = old if old else (None, "", None)
        new_total, new_grade, new_execution = new if new else (None, "", None)
        if old_total == new_total and old_grade == new_grade:
            continue
        change = TotalChange(table_id=table_id, table=str(by_pk[table_id]), as_of=key[1], old_total=old_total,
                             new_total=new_total, old_grade=old_grade, new_grade=new_grade)
        change.reasons = _reasons(change, notes.get(key, ""), old_execution, new_execution, changed_scores.get(key, []))
        diff.changes.append(change)


def _latest_total_key(table_id: int, keys) -> tuple | None:
    """The table's latest official total (the one the scorecards show), else its latest provisional one."""
    mine = [k for k in keys if k[0] == table_id]
    if not mine:
        return None
    return max(mine, key=lambda k: (k[2], k[1]))


def _reasons(change: TotalChange, cap_note: str, old_execution, new_execution, scores: list) -> list:
    """Why a table's total changes: the execution cap that applies, the execution points, and the indicator
    scores that move most (named later, for the changes shown: `_name_indicators`)."""
    reasons: list = []
    if cap_note:
        reasons.append(cap_note)
    if old_execution != new_execution:
        reasons.append(f"预算执行率得分 {_points_text(old_execution)} → {_points_text(new_execution)}")
    moves = sorted(scores, key=lambda s: -abs((s[2] or 0) - (s[1] or 0)))
    for indicator_id, old, new, explanation in moves[:REASONS_PER_CHANGE]:
        reasons.append((indicator_id, f"{_points_text(old)} → {_points_text(new)}（{explanation}）"))
    if len(moves) > REASONS_PER_CHANGE:
        reasons.append(f"另有 {len(moves) - REASONS_PER_CHANGE} 项指标得分变化")
    if not reasons and change.old_total == change.new_total:
        reasons.append(f"等级区间变化：{_points_text(change.new_total)} 分评为“{change.new_grade}”")
    return reasons


def _name_indicators(changes: list[TotalChange]) -> None:
    """Turn the (indicator id, text) reasons of the changes shown into “指标“名称”：…” (one query)."""
    ids = {r[0] for c in changes for r in c.reasons if isinstance(r, tuple)}
    names = dict(Indicator.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    for change in changes:
        change.reasons = [f"指标“{names.get(r[0], r[0])}”：{r[1]}" if isinstance(r, tuple) else r
                          for r in change.reasons]


def policy_change_preview(*, policy: ScoringPolicy) -> RescoreDiff:
    """What saving this edit of a policy (or this new policy) would change once the tables it concerns are
    rescored — exactly what `scoring_policy_save` and the rescore then write — computed without writing.

    The tables concerned are those scored under the policy before or after the edit (a year changed moves
    them), each under the policy it will have; the edit is previewed with the version it will be saved as.
    """
    before = policy_rows()
    after = _rows_with(before, _as_saved(policy))
    keys = table_policy_keys()
    table_ids = _tables_concerned(before, after, policy, keys)
    pure = {id(row): row.as_policy() for row in after}
    governed = tables_governed(after, [k for k in keys if k[0] in table_ids])
    policies = {pk: scoring.DEFAULT_POLICY if row is None else pure[id(row)] for pk, row in governed.items()}
    return tables_rescore_diff(table_ids=table_ids, policies=policies)


def policy_tables_concerned(*, policy: ScoringPolicy) -> set[int]:
    """The goal tables (ids) a save of this edit would mark for rescoring: scored under it before or after."""
    before = policy_rows()
    return _tables_concerned(before, _rows_with(before, _as_saved(policy)), policy, table_policy_keys())


def _as_saved(policy: ScoringPolicy) -> ScoringPolicy:
    """A copy of the edit carrying the version `scoring_policy_save` will give it."""
    import copy

    saved = copy.copy(policy)
    saved.version = (ScoringPolicy.objects.get(pk=policy.pk).version + 1) if policy.pk else 1
    return saved


def _rows_with(rows: list[ScoringPolicy], edited: ScoringPolicy) -> list[ScoringPolicy]:
    """The policy rows once the edit is saved: it replaces its row, or (new) comes last."""
    if edited.pk is None:
        return [*rows, edited]
    return [edited if row.pk == edited.pk else row for row in rows]


def _tables_concerned(before, after, policy: ScoringPolicy, keys) -> set[int]:
    """The tables scored under the policy before the edit or after it (a new policy: after only)."""
    old, new = tables_governed(before, keys), tables_governed(after, keys)
    mine = policy.pk  # None for a new policy: the unsaved row in `after`

    def under(row) -> bool:
        return row is not None and row.pk == mine

    return {pk for pk in old if under(old[pk]) or under(new[pk])}


@transaction.atomic
def scoring_policy_save(*, policy: ScoringPolicy) -> ScoringPolicy:
    """Save a policy edit (or a new policy) as a new version and mark the tables scored under it before or
    after for rescoring (the sweep rescores them; `policy_change_preview` says beforehand what changes)."""
    concerned = policy_tables_concerned(policy=policy)
    if policy.pk:
        policy.version = ScoringPolicy.objects.select_for_update().get(pk=policy.pk).version + 1
    policy.full_clean()
    policy.save()
    goal_tables_mark_changed(table_ids=concerned)
    return policy
