"""Each goal table's stored summary (`kpi.models.TableSummary`): what the scorecards show of it.

Computed by the rescore from the rows it has already read for the scores (plain rows, no model objects)
and written in the same transaction, so a summary is always the one of the scores beside it. The light is
computed exactly as `kpi.monitoring.selectors.table_statuses` computes it for a page (without a cut): from
the latest actual that counts of every applicable indicator and the latest 执行数, judged at the month of
the table's latest figure; a test compares the two for random changes.
"""
from __future__ import annotations

from collections import defaultdict

from kpi import scoring
from kpi.formatting import tidy_decimal
from kpi.lights import Light, budget_light, indicator_light, scored_light, worst_light
from kpi.models import Indicator, TableSummary
from kpi.targets import Kind, Target

from .bulk import RowWriter

# Worst first, as the scorecards sort and show them; `none` (未填报) last.
LIGHT_RANKS = {light: rank for rank, light in enumerate((Light.RED, Light.YELLOW, Light.BLUE, Light.GREEN, Light.NONE))}

SUMMARY_FIELDS = (
    "table", "unit", "year", "project", "light", "light_rank", "budget_light", "as_of", "last_update", "missing",
    "budget", "executed", "execution_rate",
    "official_as_of", "official_execution_rate", "official_execution_points", "official_indicator_points",
    "official_total", "official_grade", "official_missing",
    "provisional_as_of", "provisional_total", "provisional_grade", "provisional_missing",
    "computed_at",
)


def summary_writer() -> RowWriter:
    return RowWriter(TableSummary, SUMMARY_FIELDS)


def summary_rows(tables, *, indicators_by_table, actuals_by_indicator, executions, budgets, totals,
                 now, writer: RowWriter, results: dict | None = None) -> list[tuple]:
    """One row of SUMMARY_FIELDS per table, ready to insert.

    `indicators_by_table`: the rescore's indicator rows per table id, in order; `actuals_by_indicator`: per
    indicator the actuals that count, oldest first; `executions`: per table (as_of, executed, recorded_at),
    oldest first; `budgets`: 全年预算数 per table; `totals`: the total rows (TOTAL_FIELDS) just computed;
    `results`: the engine's result for an indicator's latest actual, where the rescore already has it under
    the default policy (scored again here otherwise).
    """
    results = results if results is not None else {}
    latest_totals = _latest_totals(totals)
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
        if execution is not None:
            dates.append(execution[0])
            stamps.append(execution[2])
        as_of = max(dates) if dates else None
        light = money_light = Light.NONE
        if as_of is not None:
            month = as_of.month
            money_light = budget_light(rate=rate, month=month)
            light = worst_light([money_light, *(_light(row, latest.get(row.id), month, results)
                                                for row in applicable)])
        official, provisional = latest_totals.get(table.pk, (None, None))
        rows.append((
            table.pk, table.unit_id, table.year, table.project_id, light.value, LIGHT_RANKS[light], money_light.value,
            as_of, writer.adapt_datetime(max(stamps)) if stamps else None,
            sum(1 for row in applicable if row.id not in latest),
            budget, executed, rate,
            *(_official(official) if official else (None,) * 5 + ("", None)),
            *((provisional[1], provisional[8], provisional[9], provisional[10]) if provisional else (None, None, "", None)),
            now,
        ))
    return rows


def _official(total: tuple) -> tuple:
    # TOTAL_FIELDS: table, as_of, official, budget, executed, execution_rate, execution_points,
    #               indicator_points, total, grade, missing, policy_version, computed_at
    return total[1], total[5], total[6], total[7], total[8], total[9], total[10]


def _latest_totals(totals) -> dict[int, tuple[tuple | None, tuple | None]]:
    """Per table, its latest official total and its latest provisional one when not older than it (a
    report awaiting approval), as the project scorecard shows them (`table_scorecard`)."""
    official: dict[int, tuple] = {}
    provisional: dict[int, tuple] = defaultdict(lambda: None)
    for row in totals:
        chosen = official if row[2] else provisional
        if chosen.get(row[0]) is None or chosen[row[0]][1] < row[1]:
            chosen[row[0]] = row
    result = {}
    for table_id in official.keys() | {k for k, v in provisional.items() if v is not None}:
        ours, theirs = official.get(table_id), provisional[table_id]
        if ours is not None and theirs is not None and theirs[1] < ours[1]:
            theirs = None
        result[table_id] = (ours, theirs)
    return result


def _light(row, actual, month: int, results: dict) -> Light:
    if actual is None:
        return Light.NONE
    if row.id in results:  # the engine's result of this very actual, already computed by the rescore
        result = results[row.id]
        return indicator_light(
            kind=row.target_kind, cumulative=row.accumulation == Indicator.Accumulation.CUMULATIVE,
            target_value=row.target_value, actual=actual.value, met=actual.met, grade=actual.grade,
            score_ratio=result.ratio if result is not None else None, month=month,
        )
    return scored_light(
        rule=row.rule,
        target=Target(Kind(row.target_kind), tidy_decimal(row.target_value), tidy_decimal(row.target_upper),
                      row.unit, row.target_raw),
        weight=row.weight, cumulative=row.accumulation == Indicator.Accumulation.CUMULATIVE,
        value=actual.value, met=actual.met, grade=actual.grade, points=actual.points, month=month,
    )

