"""Reads for the scorecards: the unit scorecard's rows, the 主管部门 roll-up and the project scorecard.

The unit scorecard and the roll-up read each table's stored summary (`TableSummary`, written by the
rescore beside the scores: light, last update, latest official total) and sort, filter and aggregate it in
the database; the project scorecard reads its table's scores and lights (`table_statuses`, domain.md §6).
Every function here runs a fixed number of queries, whatever the number of projects or indicators.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, FloatField, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, ExtractMonth, NullIf, Round

from budgets.models import BudgetExecution, Project, Unit
from kpi import scoring
from kpi.lights import Light, forecast
from kpi.models import Actual, Evidence, GoalTable, Indicator, Report, Score, TableScore
from kpi.monitoring.selectors import TableStatus, driver_rows, table_statuses

GRADES = ("优", "良", "中", "差")
_CENT = Decimal("0.01")
_MONEY = Decimal("0.0001")
UNSCORED = "未评分"
# Worst first, as a project shows its worst light; `none` (未填报) last.
LIGHTS = (Light.RED, Light.YELLOW, Light.BLUE, Light.GREEN, Light.NONE)


# --- rows: projects annotated with their stored summary ------------------------------------------

_SUMMARY_FIELDS = {
    # annotation name: TableSummary field (written by the rescore beside the scores)
    "score_as_of": "official_as_of",
    "execution_rate": "official_execution_rate",
    "execution_points": "official_execution_points",
    "indicator_points": "official_indicator_points",
    "total": "official_total",
    "status_as_of": "as_of",
    "last_update": "last_update",
}
_NONE_RANK = LIGHTS.index(Light.NONE)


def _latest_execution(field: str) -> Subquery:
    execution = BudgetExecution.objects.filter(project=OuterRef("pk")).order_by("-as_of", "-id")
    return Subquery(execution.values(field)[:1])


def _annotated(projects: QuerySet[Project]) -> QuerySet[Project]:
    """Projects with 全年预算数, the latest 执行数 and their goal table's stored summary (`TableSummary`: the
    latest official total and its parts, the light, its rank and the last update) as annotations, so that
    sorting, filtering and counting happen in the database. A project without a table, or whose table was
    never scored, has no light (未填报) and no total."""
    return projects.annotate(
        full_budget=Coalesce("budget_adjusted", "budget_initial"),
        executed=_latest_execution("executed"),
        executed_as_of=_latest_execution("as_of"),
        grade=NullIf(F("table_summary__official_grade"), Value("")),
        light=Coalesce(F("table_summary__light"), Value(Light.NONE.value)),
        light_rank=Coalesce(F("table_summary__light_rank"), Value(_NONE_RANK)),
        **{name: F(f"table_summary__{source}") for name, source in _SUMMARY_FIELDS.items()},
    )


def scorecard_rows(*, unit: Unit, year: int) -> QuerySet[Project]:
    """单位绩效看板 — every project of the unit and year, annotated with `full_budget` (全年预算数),
    `executed` (latest 执行数) and `executed_as_of`, the latest official total's `score_as_of`,
    `execution_rate`, `execution_points`, `indicator_points`, `total` and `grade` (None where the project has
    no official score yet), and `light`, `light_rank`, `status_as_of` and `last_update`. One query.
    """
    return _annotated(Project.objects.filter(unit=unit, year=year).select_related("lead")).order_by("name", "pk")


def unit_table_of(*, unit: Unit, year: int) -> GoalTable | None:
    """The unit's 部门整体 table of the year (None without one)."""
    return GoalTable.objects.filter(unit=unit, year=year, scope=GoalTable.Scope.UNIT).select_related("unit").first()


def stale_tables_count(*, unit_ids, year: int) -> int:
    """How many goal tables of the units and year changed since they were last scored (one query)."""
    return GoalTable.objects.filter(GoalTable.STALE, unit_id__in=list(unit_ids), year=year).count()


@dataclass(frozen=True)
class PolicyKey:
    """What deciding a table's scoring policy needs (`kpi.rescoring.selectors.policies_by_table`)."""

    pk: int
    year: int
    policy_id: int | None


def policy_keys_and_stale(*, unit_ids, year: int) -> tuple[list[PolicyKey], int]:
    """One key per distinct policy the units' tables of the year name (or none): enough to name the policies
    they are scored under without loading every table; and, as `stale_tables_count`, how many of those
    tables changed since they were last scored. One query (the tables grouped by policy)."""
    groups = (GoalTable.objects.filter(unit_id__in=list(unit_ids), year=year).order_by("policy_id")
              .values("policy_id").annotate(stale=Count("pk", filter=GoalTable.STALE)))
    keys, stale = [], 0
    for i, group in enumerate(groups):
        keys.append(PolicyKey(pk=i, year=year, policy_id=group["policy_id"]))
        stale += group["stale"]
    return keys, stale


def light_of(record) -> Light:
    """The light of a row of `scorecard_rows`."""
    return Light(record.light)


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

    def add_group(self, *, light: str, grade: str | None, projects: int, budget, executed, scored: int,
                  total_sum) -> None:
        """Add one group of `unit_summaries`' aggregate (projects of one unit with one light and grade)."""
        # SQLite hands sums back unrounded (41.8000000000000): money has four places, points two.
        self.projects += projects
        self.budget += Decimal(budget or 0).quantize(_MONEY)
        self.executed += Decimal(executed or 0).quantize(_MONEY)
        self.scored += scored
        self.total_sum += Decimal(total_sum or 0).quantize(_CENT)
        self.grades[grade or UNSCORED] += projects
        self.lights[Light(light)] += projects

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


def unit_summaries(*, unit_ids, year: int) -> dict[int, Summary]:
    """Per unit, the figures of its projects of the year, aggregated in the database from the stored table
    summaries: one query grouped by unit, light and grade, whatever the number of units and projects."""
    unit_ids = list(unit_ids)
    summaries = {pk: Summary() for pk in unit_ids}
    groups = (
        _annotated(Project.objects.filter(unit_id__in=unit_ids, year=year))
        .order_by().values("unit_id", "light", "grade")
        .annotate(
            projects=Count("pk"), budget_sum=Sum("full_budget"), executed_sum=Sum("executed"),
            scored=Count("table_summary__official_total"), total_sum=Sum("table_summary__official_total"),
        )
    )
    for group in groups:
        summaries[group["unit_id"]].add_group(
            light=group["light"], grade=group["grade"], projects=group["projects"], budget=group["budget_sum"],
            executed=group["executed_sum"], scored=group["scored"], total_sum=group["total_sum"],
        )
    return summaries


# --- the unit scorecard's charts ------------------------------------------------------------------

def _percent(value: Decimal | None) -> float | None:
    return None if value is None else float((Decimal(value) * 100).quantize(_CENT, ROUND_HALF_UP))


def elapsed_share(as_of: dt.date | None) -> Decimal | None:
    """The share of the year elapsed at a date, by months (m / 12), as the budget light counts it."""
    return None if as_of is None else Decimal(as_of.month) / Decimal(12)


class _Month(ExtractMonth):
    """ExtractMonth, in SQLite's own strftime: Django's SQLite extract calls back into Python once per row
    (a thousand calls for the unit scorecard's chart)."""

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.lhs)
        return f"CAST(strftime('%%m', {sql}) AS INTEGER)", params


def unit_chart_data(rows: QuerySet[Project], summary: Summary) -> dict:
    """Data of the unit scorecard's charts: 执行率 against time elapsed per project, and the grade histogram
    (one query: the rows' values, no model instances)."""
    projects, rates, elapsed = [], [], []
    # Only the month of the date counts (elapsed_share: m / 12): taken in SQL, one share per month, not a date
    # converted and divided per row. The rate comes as a float percentage from SQL too: a stored rate has four
    # places, so ×100 rounded to two is exact, and a thousand Decimals built and rounded per request were a
    # tenth of the unit scorecard's time. The driver's rows, converted without a generator per row.
    shares: dict[int | None, float | None] = {None: None}
    values, convert = driver_rows(rows.annotate(
        chart_month=_Month(Coalesce("status_as_of", "executed_as_of")),
        chart_rate=Cast(Round(F("execution_rate") * 100, 2), FloatField()),
    ).values_list("name", "chart_rate", "chart_month"))
    for name, rate, month in map(convert, values):
        projects.append(name)
        rates.append(rate)
        if month not in shares:
            shares[month] = _percent(Decimal(month) / Decimal(12))
        elapsed.append(shares[month])
    execution = {"projects": projects, "rate": rates, "elapsed": elapsed}
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
    status = table_statuses(tables=[table], indicators=indicators)[table.pk]
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
