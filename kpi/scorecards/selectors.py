"""Reads for the scorecards: the unit scorecard's rows, the 主管部门 roll-up and the project scorecard.

Scores are read from the latest official `TableScore`; lights and last updates come from
`kpi.monitoring.selectors.table_statuses` (domain.md §6). Every function here runs a fixed number of queries,
whatever the number of projects or indicators.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from budgets.models import BudgetExecution, Project, Unit
from kpi import scoring
from kpi.lights import Light, forecast
from kpi.models import Actual, Evidence, GoalTable, Indicator, Report, Score, TableScore
from kpi.monitoring.selectors import TableStatus, table_statuses

GRADES = ("优", "良", "中", "差")
_CENT = Decimal("0.01")
_MONEY = Decimal("0.0001")
UNSCORED = "未评分"
# Worst first, as a project shows its worst light; `none` (未填报) last.
LIGHTS = (Light.RED, Light.YELLOW, Light.BLUE, Light.GREEN, Light.NONE)
_SCORE_FIELDS = {
    # annotation name: TableScore field
    "score_as_of": "as_of",
    "execution_rate": "execution_rate",
    "execution_points": "execution_points",
    "indicator_points": "indicator_points",
    "total": "total",
    "grade": "grade",
}


# --- rows: projects annotated with their latest official total ------------------------------------

def _annotated(projects: QuerySet[Project]) -> QuerySet[Project]:
    """Projects with 全年预算数, the latest 执行数 and the fields of the latest official TableScore,
    as annotations, so that sorting and filtering on them happen in the database."""
    latest = TableScore.objects.filter(
        table__project=OuterRef("pk"), table__scope=GoalTable.Scope.PROJECT, official=True
    ).order_by("-as_of", "-pk")
    execution = BudgetExecution.objects.filter(project=OuterRef("pk")).order_by("-as_of", "-id")
    return projects.annotate(
        full_budget=Coalesce("budget_adjusted", "budget_initial"),
        executed=Subquery(execution.values("executed")[:1]),
        executed_as_of=Subquery(execution.values("as_of")[:1]),
        **{name: Subquery(latest.values(source)[:1]) for name, source in _SCORE_FIELDS.items()},
    )


def scorecard_rows(*, unit: Unit, year: int) -> QuerySet[Project]:
    """单位绩效看板 — every project of the unit and year, annotated with `full_budget` (全年预算数),
    `executed` (latest 执行数) and `executed_as_of`, and the latest official total's
    `score_as_of`, `execution_rate`, `execution_points`, `indicator_points`, `total` and `grade`
    (None where the project has no official score yet). One query.
    """
    return _annotated(Project.objects.filter(unit=unit, year=year).select_related("lead")).order_by("name", "pk")


def rollup_rows(*, unit_ids, year: int) -> QuerySet[Project]:
    """The projects of several units and a year, annotated as `scorecard_rows` (for the roll-up)."""
    return _annotated(Project.objects.filter(unit_id__in=list(unit_ids), year=year)).order_by("unit_id", "name")


def scorecard_tables(*, unit_ids, year: int) -> list[GoalTable]:
    """The goal tables (project and 部门整体) of the units and year, projects loaded. One query."""
    return list(
        GoalTable.objects.filter(unit_id__in=list(unit_ids), year=year).select_related("project").order_by("pk")
    )


def statuses_for(*, tables: list[GoalTable]) -> tuple[dict[int, TableStatus], dict[int, TableStatus]]:
    """Lights and last updates of the tables (`table_statuses`, a fixed number of queries):
    keyed by project id for the project tables, and by table id for all of them (部门整体 included)."""
    by_table = table_statuses(tables=tables)
    return {t.project_id: by_table[t.pk] for t in tables if t.project_id}, by_table


def light_of(statuses: dict[int, TableStatus], project_id: int) -> Light:
    status = statuses.get(project_id)
    return status.light if status is not None else Light.NONE


def light_ordering(statuses: dict[int, TableStatus]) -> Case:
    """An expression ranking projects by light, worst first, for sorting in the database."""
    groups: dict[Light, list[int]] = {}
    for project_id, status in statuses.items():
        groups.setdefault(status.light, []).append(project_id)
    rank = {light: i for i, light in enumerate(LIGHTS)}
    if not groups:
        return Value(rank[Light.NONE], output_field=IntegerField())
    return Case(
        *[When(pk__in=ids, then=Value(rank[light])) for light, ids in groups.items()],
        default=Value(rank[Light.NONE]),
        output_field=IntegerField(),
    )


def last_update_ordering(statuses: dict[int, TableStatus]) -> Case:
    """An expression giving each project its last update (from table_statuses), for sorting in the database.

    One WHEN per project that reported anything: bounded by the projects of the page's scope.
    """
    whens = [
        When(pk=project_id, then=Value(status.last_update))
        for project_id, status in statuses.items()
        if status.last_update is not None
    ]
    if not whens:
        return Value(None, output_field=DateTimeField())
    return Case(*whens, default=Value(None), output_field=DateTimeField())


# --- totals of a set of rows ----------------------------------------------------------------------

@dataclass
class Summary:
    """A unit's (or a subtree's) figures for a year: 项目数, budget and execution sums, 执行率, average total."""

    projects: int = 0
    budget: Decimal = Decimal("0")
    executed: Decimal = Decimal("0")
    scored: int = 0
    total_sum: Decimal = Decimal("0")
    lights: Counter = field(default_factory=Counter)
    grades: Counter = field(default_factory=Counter)

    def add_row(self, row, light: Light) -> None:
        # SQLite hands annotations back unrounded (41.8000000000000): money has four places, points two.
        self.projects += 1
        self.budget += Decimal(row.full_budget or 0).quantize(_MONEY)
        self.executed += Decimal(row.executed or 0).quantize(_MONEY)
        if row.total is not None:
            self.scored += 1
            self.total_sum += Decimal(row.total).quantize(_CENT)
        self.grades[row.grade or UNSCORED] += 1
        self.lights[light] += 1

    def add(self, other: Summary) -> None:
        self.projects += other.projects
        self.budget += other.budget
        self.executed += other.executed
        self.scored += other.scored
        self.total_sum += other.total_sum
        self.lights.update(other.lights)
        self.grades.update(other.grades)

    @property
    def execution_rate(self) -> Decimal | None:
        """执行数合计 / 全年预算数合计; None (undefined) when the budgets add up to 0."""
        return scoring.score_execution(budget=self.budget, executed=self.executed).rate

    @property
    def average_total(self) -> Decimal | None:
        """The average total of the projects that have an official score."""
        if not self.scored:
            return None
        return (self.total_sum / self.scored).quantize(_CENT, ROUND_HALF_UP)

    @property
    def light_counts(self) -> list[tuple[Light, int]]:
        return [(light, self.lights.get(light, 0)) for light in LIGHTS]

    @property
    def grade_counts(self) -> list[tuple[str, int]]:
        return [(grade, self.grades.get(grade, 0)) for grade in (*GRADES, UNSCORED)]


def summarize(rows, statuses: dict[int, TableStatus]) -> Summary:
    summary = Summary()
    for row in rows:
        summary.add_row(row, light_of(statuses, row.pk))
    return summary


# --- the unit scorecard's charts ------------------------------------------------------------------

def _percent(value: Decimal | None) -> float | None:
    return None if value is None else float((Decimal(value) * 100).quantize(_CENT, ROUND_HALF_UP))


def elapsed_share(as_of: dt.date | None) -> Decimal | None:
    """The share of the year elapsed at a date, by months (m / 12), as the budget light counts it."""
    return None if as_of is None else Decimal(as_of.month) / Decimal(12)


def unit_chart_data(rows, statuses: dict[int, TableStatus], summary: Summary) -> dict:
    """Data of the unit scorecard's charts: 执行率 against time elapsed per project, and the grade histogram."""
    execution = {"projects": [], "rate": [], "elapsed": []}
    for row in rows:
        status = statuses.get(row.pk)
        as_of = status.as_of if status and status.as_of else row.executed_as_of
        execution["projects"].append(row.name)
        execution["rate"].append(_percent(row.execution_rate))
        execution["elapsed"].append(_percent(elapsed_share(as_of)))
    grades = summary.grade_counts
    return {
        "execution": execution,
        "grades": {"labels": [g for g, _ in grades], "counts": [n for _, n in grades]},
    }


# --- a goal table's indicators with their latest scores -------------------------------------------

def _newest(rows, *, official: bool):
    return next((row for row in rows if row.official == official), None)


def table_scorecard(*, table: GoalTable) -> tuple[list[Indicator], dict]:
    """A goal table's indicators with `latest_score` (official), `pending_score` (provisional, when a report
    awaits approval) and `latest_actual`, and its latest totals `{"official": TableScore|None, "pending":
    TableScore|None}`. Four queries."""
    indicators = list(
        table.indicators.order_by("order").prefetch_related(
            Prefetch("scores", queryset=Score.objects.order_by("-as_of"), to_attr="scores_newest_first"),
            Prefetch(
                "actuals",
                queryset=Actual.objects.that_count().order_by("-as_of", "-id"),
                to_attr="actuals_newest_first",
            ),
        )
    )
    for indicator in indicators:
        indicator.latest_score = _newest(indicator.scores_newest_first, official=True)
        pending = _newest(indicator.scores_newest_first, official=False)
        indicator.pending_score = (
            pending if pending and (not indicator.latest_score or pending.as_of >= indicator.latest_score.as_of)
            else None
        )
        indicator.latest_actual = indicator.actuals_newest_first[0] if indicator.actuals_newest_first else None
    totals = list(table.totals.order_by("-as_of"))
    official = _newest(totals, official=True)
    pending = _newest(totals, official=False)
    if pending is not None and official is not None and pending.as_of < official.as_of:
        pending = None
    return indicators, {"official": official, "pending": pending}


def project_with_scorecard(*, project: Project) -> tuple[GoalTable | None, list[Indicator], dict]:
    """A project's goal table with `table_scorecard`'s indicators and totals (None, [], no totals without one)."""
    table = GoalTable.objects.filter(project=project).first()
    if table is None:
        return None, [], {"official": None, "pending": None}
    indicators, totals = table_scorecard(table=table)
    return table, indicators, totals


def latest_table_scores(*, tables: QuerySet[GoalTable], official: bool = True) -> dict[int, TableScore]:
    """The most recent official (or provisional) total of each table, keyed by table id (one query)."""
    latest = (
        TableScore.objects.filter(table=OuterRef("table"), official=official).order_by("-as_of").values("pk")[:1]
    )
    return {ts.table_id: ts for ts in TableScore.objects.filter(table__in=tables, pk=Subquery(latest))}


# --- the project scorecard ------------------------------------------------------------------------

@dataclass
class ProjectScorecard:
    """What the project page adds to the goal table: lights, forecasts, evidence counts, budget execution,
    the reports' history and the indicator-progress chart."""

    status: TableStatus
    budget: Decimal
    execution: BudgetExecution | None
    execution_score: scoring.ExecutionScore
    reports: list[Report]
    chart: dict
    unit_visible: object = False  # a lazy bool: may the user open the unit's scorecard?

    @property
    def budget_light(self) -> Light:
        return self.status.budget_light


def indicator_forecast(indicator: Indicator, actual: Actual | None) -> Decimal | None:
    """全年预计完成值: what the lead entered, else linear for a cumulative indicator (a level holds)."""
    if actual is None:
        return None
    if actual.forecast is not None:
        return actual.forecast
    return forecast(
        actual=actual.value, cumulative=indicator.accumulation == Indicator.Accumulation.CUMULATIVE,
        month=actual.as_of.month,
    )


def progress_chart_data(indicators: list[Indicator]) -> dict:
    """Per indicator, the completion ratio (%) at each date the table was scored, from the scores already
    prefetched (`scores_newest_first`): the provisional score where a report awaits approval, else the
    official one. Plus the share of the year elapsed at each date, the plan of a cumulative indicator."""
    dates = sorted({score.as_of for i in indicators for score in i.scores_newest_first})
    series = []
    for indicator in indicators:
        if indicator.not_applicable:
            continue
        at: dict[dt.date, Score] = {}
        for score in indicator.scores_newest_first:
            if score.as_of not in at or not score.official:
                at[score.as_of] = score
        points = [_percent(at[d].ratio) if d in at else None for d in dates]
        if any(p is not None for p in points):
            series.append({"name": indicator.name, "data": points})
    return {
        "dates": [d.isoformat() for d in dates],
        "elapsed": [_percent(elapsed_share(d)) for d in dates],
        "series": series,
    }


def project_scorecard(
    *, project: Project, table: GoalTable | None, indicators: list[Indicator], user=None
) -> ProjectScorecard:
    """Enrich the indicators of `project_with_scorecard` in place with `light`, `forecast`,
    `evidence_count`, `actual_report` (the report of the latest actual, whose status labels it: 草稿 / 已提交 /
    已审核), `actual_pending` (not approved yet) and `returned_actual` / `returned_report` (a value of a
    returned report not yet corrected, 已退回: it counts nowhere, but it is what the lead reported), and
    gather the project's budget execution, reports and chart data. Seven queries with a goal table (eight
    while a returned report waits for its correction), one without (plus, when the page asks, whether the
    user may open the unit's scorecard)."""
    from django.utils.functional import SimpleLazyObject

    from kpi.permissions import can_see_unit

    unit_visible = SimpleLazyObject(lambda: user is not None and can_see_unit(user, project.unit_id))
    execution = BudgetExecution.objects.filter(project=project).order_by("-as_of", "-id").first()
    budget = project.full_year_budget
    execution_score = scoring.score_execution(budget=budget, executed=execution.executed if execution else None)
    if table is None:
        return ProjectScorecard(TableStatus(), budget, execution, execution_score, [], progress_chart_data([]),
                                unit_visible)
    table.project = project  # table_statuses reads the project's budget
    status = table_statuses(tables=[table])[table.pk]
    evidence = dict(
        Evidence.objects.filter(indicator__table=table).values("indicator_id").annotate(n=Count("id"))
        .values_list("indicator_id", "n")
    )
    reports = list(
        Report.objects.filter(table=table).select_related("submitted_by", "reviewed_by", "created_by")
        .order_by("-as_of", "-id")
    )
    by_pk = {r.pk: r for r in reports}
    returned = _returned_actuals(table=table, reports=reports)
    for indicator in indicators:
        actual = indicator.latest_actual
        indicator.light = status.indicator_lights.get(indicator.pk, Light.NONE)
        indicator.forecast = indicator_forecast(indicator, actual)
        indicator.evidence_count = evidence.get(indicator.pk, 0)
        indicator.actual_report = by_pk.get(actual.report_id) if actual is not None else None
        indicator.actual_pending = actual is not None and indicator.actual_report.status != Report.Status.APPROVED
        back = returned.get(indicator.pk)
        if back is not None and (actual is None or (back.as_of, back.report_id) > (actual.as_of, actual.report_id)):
            indicator.returned_actual, indicator.returned_report = back, by_pk[back.report_id]
            indicator.returned_here = indicator.pk in (indicator.returned_report.review_indicators or [])
        else:
            indicator.returned_actual = indicator.returned_report = None
            indicator.returned_here = False
    return ProjectScorecard(status, budget, execution, execution_score, reports, progress_chart_data(indicators),
                            unit_visible)


def _returned_actuals(*, table: GoalTable, reports: list[Report]) -> dict[int, Actual]:
    """Per indicator, the newest actual of a returned report that no later report of its date answers yet
    (no query when there is none)."""
    answered = {(r.as_of, r.pk) for r in reports if r.status != Report.Status.RETURNED}
    waiting = [
        r.pk for r in reports
        if r.status == Report.Status.RETURNED and not any(d == r.as_of and pk > r.pk for d, pk in answered)
    ]
    if not waiting:
        return {}
    newest: dict[int, Actual] = {}
    for actual in Actual.objects.filter(report_id__in=waiting).order_by("as_of", "report_id", "id"):
        newest[actual.indicator_id] = actual
    return newest
