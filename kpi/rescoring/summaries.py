"""Each goal table's stored summary (`kpi.models.TableSummary`): what the scorecards show of it.

Computed by the rescore from the rows it has already read for the scores (plain rows, no model objects)
and written in the same transaction, so a summary is always the one of the scores beside it. The light is
computed exactly as `kpi.monitoring.selectors.table_statuses` computes it for a page (without a cut): from
the latest actual that counts of every applicable indicator and the latest 执行数, judged at the month of
the table's latest figure; a test compares the two for random changes.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from kpi import scoring
from kpi.lights import Light, budget_light, scored_light, worst_light
from kpi.models import Indicator, TableSummary

from .bulk import RowWriter

# Worst first, as the scorecards sort and show them; `none` (未填报) last.
LIGHT_RANKS = {light: rank for rank, light in enumerate((Light.RED, Light.YELLOW, Light.BLUE, Light.GREEN, Light.NONE))}


class SummaryRow(NamedTuple):
    """A TableSummary row as the rescore writes it (values ready for the driver), by field name."""

    table: int
    unit: int
    year: int
    project: int | None
    light: str
    light_rank: int
    budget_light: str
    as_of: dt.date | None
    last_update: object
    missing: int
    budget: Decimal | None
    executed: Decimal | None
    execution_rate: Decimal | None
    official_as_of: dt.date | None = None
    official_execution_rate: Decimal | None = None
    official_execution_points: Decimal | None = None
    official_indicator_points: Decimal | None = None
    official_total: Decimal | None = None
    official_grade: str = ""
    official_missing: int | None = None
    provisional_as_of: dt.date | None = None
    provisional_total: Decimal | None = None
    provisional_grade: str = ""
    provisional_missing: int | None = None
    computed_at: object = None


SUMMARY_FIELDS = SummaryRow._fields


def summary_writer() -> RowWriter:
    return RowWriter(TableSummary, SUMMARY_FIELDS)


def summary_rows(tables, *, indicators_by_table, actuals_by_indicator, executions, budgets, totals,
                 now, writer: RowWriter, results: dict | None = None, stamp=None) -> list[SummaryRow]:
    """One row per table, ready to insert.

    `indicators_by_table`: the rescore's indicator rows per table id, in order; `actuals_by_indicator`: per
    indicator the actuals that count, oldest first; `executions`: per table (as_of, executed, recorded_at),
    oldest first; `budgets`: 全年预算数 per table; `totals`: the TotalRows just computed; `results`: the
    engine's result for an indicator's latest actual, where the rescore already has it under the default
    policy (scored again here otherwise). `stamp`: turns an actual's recorded_at as read into a datetime
    (the rescore reads them raw and converts only each table's latest); None: they are datetimes already.
    """
    results = results if results is not None else {}
    latest_totals = _latest_totals(totals)
    lights: dict = {}  # the light is pure in its inputs: computed once per distinct indicator and actual
    rows = []
    for table in tables:
        applicable = [row for row in indicators_by_table.get(table.pk, ()) if not row.not_applicable]
        latest = {row.id: actuals_by_indicator[row.id][-1] for row in applicable if actuals_by_indicator.get(row.id)}
        figures = executions.get(table.pk) or ()
        execution = figures[-1] if figures else None
        budget = budgets.get(table.pk)
        executed = execution[1] if execution is not None else None
        rate = scoring.score_execution(budget=budget, executed=executed).rate
        dates = [actual.as_of for actual in latest.values()]
        stamps = [actual.recorded_at for actual in latest.values()]
        if stamps and stamp is not None:
            stamps = [stamp(max(stamps))]
        if execution is not None:
            dates.append(execution[0])
            stamps.append(execution[2])
        as_of = max(dates) if dates else None
        light = money_light = Light.NONE
        if as_of is not None:
            month = as_of.month
            money_light = budget_light(rate=rate, month=month)
            light = worst_light([money_light, *(_light(row, latest.get(row.id), month, results, lights)
                                                for row in applicable)])
        official, provisional = latest_totals.get(table.pk, (None, None))
        extra = {}
        if official is not None:
            extra.update(official_as_of=official.as_of, official_execution_rate=official.execution_rate,
                         official_execution_points=official.execution_points,
                         official_indicator_points=official.indicator_points, official_total=official.total,
                         official_grade=official.grade, official_missing=official.missing)
        if provisional is not None:
            extra.update(provisional_as_of=provisional.as_of, provisional_total=provisional.total,
                         provisional_grade=provisional.grade, provisional_missing=provisional.missing)
        rows.append(SummaryRow(
            table=table.pk, unit=table.unit_id, year=table.year, project=table.project_id, light=light.value,
            light_rank=LIGHT_RANKS[light], budget_light=money_light.value, as_of=as_of,
            last_update=writer.adapt_datetime(max(stamps)) if stamps else None,
            missing=sum(1 for row in applicable if row.id not in latest),
            budget=budget, executed=executed, execution_rate=rate, computed_at=now, **extra,
        ))
    return rows


def _latest_totals(totals) -> dict[int, tuple]:
    """Per table, (its latest official total, its latest provisional one when not older than it — a report
    awaiting approval), as the project scorecard shows them (`table_scorecard`)."""
    latest: dict[tuple[int, bool], tuple] = {}
    for row in totals:
        key = (row.table, row.official)
        if key not in latest or latest[key].as_of < row.as_of:
            latest[key] = row
    result = {}
    for table_id in {table_id for table_id, _ in latest}:
        official, provisional = latest.get((table_id, True)), latest.get((table_id, False))
        if official is not None and provisional is not None and provisional.as_of < official.as_of:
            provisional = None
        result[table_id] = (official, provisional)
    return result


def _light(row, actual, month: int, results: dict, memo: dict | None = None) -> Light:
    if actual is None:
        return Light.NONE
    known = row.id in results
    key = (known, row.rule, row.target_kind, row.target_value, row.target_upper, row.unit, row.target_raw,
           row.weight, row.accumulation, actual.value, actual.met, actual.grade, actual.points, month)
    if memo is not None and key in memo:
        return memo[key]
    extra = {}
    if known:  # the engine's result of this very actual, already computed by the rescore
        result = results[row.id]
        extra["ratio"] = result.ratio if result is not None else None
    light = scored_light(
        rule=row.rule, target=row.target(), weight=row.weight,
        cumulative=row.accumulation == Indicator.Accumulation.CUMULATIVE,
        value=actual.value, met=actual.met, grade=actual.grade, points=actual.points, month=month, **extra,
    )
    if memo is not None:
        memo[key] = light
    return light
