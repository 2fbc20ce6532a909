"""Reads of 绩效运行监控 (domain.md §6, "双监控"): where each goal table stands, and a unit's 绩效运行监控表.

- `table_statuses(tables=…, cut=…)`: the one computation of a table's lights — its budget light (the
  project's 执行数, or the unit's own for the 部门整体 table), every indicator's light and the worst of them,
  from the latest figures (as of the cut, when one is given). The scorecards and the monitoring page both
  read it, so a table shows the same light everywhere.
- `monitoring_report(unit=…, year=…, cut=…)`: per goal table (each project of the unit and year, and the
  unit's 部门整体 table) 全年预算数 as it stood at the cut (`budgets_at`: read from the history, so a budget
  adjusted in September is not the July one), the cumulative 执行数 as of the cut, 执行率 against the time elapsed
  (cut month / 12) and the budget light; per indicator the latest year-to-date actual as of the cut
  (returned reports ignored; approved or provisional said), 全年预计完成值, 偏差原因, 完成目标可能性,
  整改 and the light; the table's worst light; and the unit's counts per colour.

Both run a fixed number of queries whatever the number of projects and indicators.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.db.models.sql.constants import MULTI
from django.utils import timezone

from budgets.models import BudgetExecution, Project, Unit, UnitBudget
from budgets.selectors import units_for_user
from kpi import scoring
from kpi.formatting import percent_text, tidy_decimal
from kpi.lights import Light, budget_light, forecast, scored_light, worst_light
from kpi.models import Actual, GoalTable, Indicator, Report
from kpi.targets import Kind, Target

__all__ = [
    "DEFAULT_CUT_MONTH",
    "IndicatorLine",
    "LIGHT_ORDER",
    "MONITORING_PAGE_SIZE",
    "MonitoringPage",
    "MonitoringReport",
    "TableBlock",
    "TableStatus",
    "budgets_at",
    "default_cut",
    "month_end",
    "monitoring_page",
    "monitoring_report",
    "monitoring_units",
    "table_statuses",
]

DEFAULT_CUT_MONTH = 7  # 1–7月: the classic mid-year monitoring
# How colours are listed in a summary: the worrying ones first.
LIGHT_ORDER = (Light.RED, Light.YELLOW, Light.GREEN, Light.BLUE, Light.NONE)
_SHARE = Decimal("0.0001")


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def default_cut(year: int) -> dt.date:
    """July 31 of the year: the mid-year (1–7月) monitoring."""
    return month_end(year, DEFAULT_CUT_MONTH)


@dataclass
class IndicatorLine:
    """One indicator of a monitoring table, as of the cut."""

    indicator: Indicator
    actual: Actual | None  # the latest year-to-date actual dated on or before the cut
    light: Light
    forecast: Decimal | None  # 全年预计完成值: as entered, else projected
    forecast_projected: bool  # True when projected by kpi.monitoring.forecast, not entered

    @property
    def approved(self) -> bool | None:
        """Whether the value comes from an approved report (None: nothing reported)."""
        return None if self.actual is None else self.actual.report.status == Report.Status.APPROVED

    @property
    def status_label(self) -> str:
        """已审核, or 暂报 with the report's status (草稿 / 已提交)."""
        if self.actual is None:
            return "未填报"
        if self.approved:
            return "已审核"
        return f"暂报（{self.actual.report.get_status_display()}）"

    @property
    def value(self) -> Decimal | None:
        return None if self.actual is None else self.actual.value

    @property
    def value_text(self) -> str | None:
        """What was achieved when it is not a number: a grade, or 是/否 for 是否达成 (None otherwise)."""
        actual = self.actual
        if actual is None or actual.value is not None:
            return None
        if actual.grade:
            return actual.grade
        if actual.met is not None:
            return "是" if actual.met else "否"
        return None

    @property
    def deviation(self) -> str:
        """偏差原因: the category and the explanation, e.g. “经费保障：资金未到位”."""
        if self.actual is None:
            return ""
        parts = [self.actual.deviation_category, self.actual.deviation_reason.strip()]
        return "：".join(p for p in parts if p)

    @property
    def likelihood(self) -> str:
        return "" if self.actual is None else self.actual.likelihood

    @property
    def needs_rectification(self) -> bool | None:
        return None if self.actual is None else self.actual.needs_rectification

    @property
    def rectification_measures(self) -> str:
        return "" if self.actual is None else self.actual.rectification_measures


@dataclass
class TableBlock:
    """One project's (or the unit's 部门整体) monitoring table."""

    title: str  # the project's name, or “{unit}（部门整体）”
    project: Project | None
    table: GoalTable | None  # None: the project has no goal table yet
    budget: Decimal | None  # 全年预算数（万元）as it stood at the cut
    executed: Decimal | None  # 执行数 as of the cut（万元）; None: nothing recorded
    execution_as_of: dt.date | None
    execution_rate: Decimal | None  # a fraction: 0.4321 = 43.21 %
    budget_light: Light
    lines: list[IndicatorLine] = field(default_factory=list)
    light: Light = Light.NONE  # the worst of the budget light and the indicator lights
    budget_now: Decimal | None = None  # 全年预算数 today: differs from `budget` when adjusted after the cut

    @property
    def adjusted_since(self) -> bool:
        """The budget was adjusted after the cut: the page says so beside the figure of the cut."""
        return self.budget is not None and self.budget_now is not None and self.budget_now != self.budget

    @property
    def is_unit(self) -> bool:
        return self.project is None

    @property
    def execution_rate_text(self) -> str:
        return percent_text(self.execution_rate) or ""


@dataclass
class MonitoringReport:
    """绩效运行监控表 of a unit and year at a cut date."""

    unit: Unit
    year: int
    cut: dt.date
    blocks: list[TableBlock]

    @property
    def month(self) -> int:
        return self.cut.month

    @property
    def time_share(self) -> Decimal:
        """时间进度: the share of the year elapsed at the cut month (m / 12)."""
        return (Decimal(self.cut.month) / 12).quantize(_SHARE, ROUND_HALF_UP)

    @property
    def time_share_text(self) -> str:
        return percent_text(self.time_share) or ""

    @property
    def counts(self) -> dict[Light, int]:
        """Tables (projects and 部门整体) per colour of their worst light."""
        return _count(block.light for block in self.blocks)

    @property
    def indicator_counts(self) -> dict[Light, int]:
        return _count(line.light for block in self.blocks for line in block.lines)


def _count(lights) -> dict[Light, int]:
    counts = dict.fromkeys(LIGHT_ORDER, 0)
    for light in lights:
        counts[light] += 1
    return counts


# --- where each table stands: its lights ----------------------------------------------------------

@dataclass
class TableStatus:
    """Where a goal table stands (today, or at a cut): its lights (domain.md §6), last update, latest report."""

    as_of: dt.date | None = None  # the latest date anything was reported (on or before the cut)
    light: Light = Light.NONE  # the worst of the budget light and the indicator lights
    budget_light: Light = Light.NONE
    indicator_lights: dict[int, Light] = field(default_factory=dict)
    last_update: dt.datetime | None = None
    report: Report | None = None  # the latest report (any status)
    budget: Decimal | None = None  # 全年预算数 (as it stood at the cut, when one is given)
    budget_now: Decimal | None = None  # 全年预算数 today
    execution: BudgetExecution | None = None  # the latest 执行数 (on or before the cut)
    execution_rate: Decimal | None = None
    indicators: list[Indicator] = field(default_factory=list)  # the applicable ones, in order
    actuals: dict[int, Actual] = field(default_factory=dict)  # per indicator, the latest actual that counts


def table_statuses(*, tables: list[GoalTable], cut: dt.date | None = None,
                   indicators: list[Indicator] | None = None) -> dict[int, TableStatus]:
    """Lights, last update and latest report of each table, from the latest year-to-date figures on or
    before `cut` (all of them without a cut): what was entered, approved or not, returned reports excepted.

    Lights are judged at the cut's month, or without a cut at the month of the table's latest figure. The
    budget is the project's 全年预算数, or the unit's 年度预算 for its 部门整体 table, and so is the 执行数;
    at a cut, the budget as it stood then (`budgets_at`). Not-applicable indicators have no light. The
    tables need `project` loaded (select_related). Five queries in all without a cut (four without a
    部门整体 table), one more at a cut (the projects' history).

    `indicators`: one table's indicators (without a cut) as `kpi.scorecards.selectors.table_scorecard` read
    them, each with `actuals_newest_first` (the actuals that count, newest first): the lights are judged from
    those, without reading the indicators and actuals again (two queries fewer).
    """
    if indicators is not None and (cut is not None or len(tables) != 1):
        raise ValueError("indicators 只用于一张目标表、不带截止日期的情况。")
    project_budgets = None
    if cut is not None:
        project_budgets = budgets_at(project_ids=[t.project_id for t in tables if t.project_id], cut=cut)
    return _table_statuses(tables=tables, cut=cut, project_budgets=project_budgets, read=indicators)


def _table_statuses(*, tables: list[GoalTable], cut: dt.date | None,
                    project_budgets: dict[int, Decimal] | None,
                    read: list[Indicator] | None = None) -> dict[int, TableStatus]:
    """`table_statuses`, with the projects' budgets at the cut already read (None: today's) and, for one
    table, its indicators with their actuals newest first already read (`read`)."""
    statuses = {t.pk: TableStatus() for t in tables}
    if not tables:
        return statuses
    ids = list(statuses)
    by_table: dict[int, list[Indicator]] = {pk: [] for pk in ids}
    if read is not None:
        by_table[ids[0]] = [i for i in sorted(read, key=lambda i: i.order) if not i.not_applicable]
        newest = [i.actuals_newest_first[0] for i in read if i.actuals_newest_first]
    else:
        for indicator in Indicator.objects.filter(table_id__in=ids, not_applicable=False).order_by("order"):
            by_table[indicator.table_id].append(indicator)
        actuals = Actual.objects.filter(indicator__table_id__in=ids).that_count()
        if cut is not None:
            actuals = actuals.filter(as_of__lte=cut)
    reports: dict[int, Report] = {}
    for report in Report.objects.filter(table_id__in=ids).order_by("as_of", "id"):
        statuses[report.table_id].report = report
        reports[report.pk] = report
    latest_actual: dict[int, Actual] = {}
    for actual in newest if read is not None else newest_per_indicator(actuals):
        # Each actual's report is one of its table's, read just above: no join, no second copy of it per
        # actual (8,000 Report objects were a fifth of the time of a 1,000-project 监控表).
        report = reports.get(actual.report_id)
        if report is not None:
            actual.report = report
        latest_actual[actual.indicator_id] = actual
    executions = _latest_executions(tables, cut=cut)
    budgets = _budgets(tables, cut=cut, project_budgets=project_budgets)

    for table in tables:
        status = statuses[table.pk]
        status.indicators = by_table[table.pk]
        status.actuals = {i.pk: latest_actual[i.pk] for i in status.indicators if i.pk in latest_actual}
        status.budget, status.budget_now = budgets.get(table.pk, (None, None))
        status.execution = execution = executions.get(table.pk)
        executed = execution.executed if execution is not None else None
        status.execution_rate = scoring.score_execution(budget=status.budget, executed=executed).rate
        dates = [a.as_of for a in status.actuals.values()]
        stamps = [a.recorded_at for a in status.actuals.values()]
        if execution is not None:
            dates.append(execution.as_of)
            stamps.append(execution.recorded_at)
        if dates:
            status.as_of, status.last_update = max(dates), max(stamps)
        if cut is None and not dates:
            continue
        month = cut.month if cut is not None else status.as_of.month
        status.budget_light = budget_light(rate=status.execution_rate, month=month)
        for indicator in status.indicators:
            status.indicator_lights[indicator.pk] = _indicator_light(indicator, status.actuals.get(indicator.pk),
                                                                     month)
        status.light = worst_light([status.budget_light, *status.indicator_lights.values()])
    return statuses


def _latest_executions(tables: list[GoalTable], *, cut: dt.date | None) -> dict[int, BudgetExecution]:
    """Per table, its latest 执行数 on or before the cut: the project's, or the unit's own (no project). One query."""
    of_project = {t.project_id: t.pk for t in tables if t.project_id}
    of_unit = {(t.unit_id, t.year): t.pk for t in tables if not t.project_id}
    wanted = Q(project_id__in=list(of_project))
    if of_unit:
        wanted |= Q(project__isnull=True, unit_id__in={u for u, _ in of_unit}, year__in={y for _, y in of_unit})
    executions = BudgetExecution.objects.filter(wanted)
    if cut is not None:
        executions = executions.filter(as_of__lte=cut)
    latest: dict[int, BudgetExecution] = {}
    for execution in executions.order_by("as_of", "id"):
        table_id = (of_project.get(execution.project_id) if execution.project_id
                    else of_unit.get((execution.unit_id, execution.year)))
        if table_id is not None:
            latest[table_id] = execution
    return latest


def _budgets(tables: list[GoalTable], *, cut: dt.date | None,
             project_budgets: dict[int, Decimal] | None) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """(全年预算数 at the cut, today's) per table: the project's, or for the 部门整体 table the unit's 年度预算
    (None when not recorded); without a cut both are today's. One query for the unit budgets (their history
    at a cut), none without a 部门整体 table."""
    result: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    for t in tables:
        if t.project_id:
            now = t.project.full_year_budget
            known = project_budgets.get(t.project_id) if project_budgets is not None else None
            result[t.pk] = (now if known is None else known, now)
    of_unit = {(t.unit_id, t.year): t.pk for t in tables if not t.project_id}
    if of_unit:
        result.update(dict.fromkeys(of_unit.values(), (None, None)))
        units, years = {u for u, _ in of_unit}, {y for _, y in of_unit}
        if cut is None:
            budgets = [(b, b) for b in UnitBudget.objects.filter(unit_id__in=units, year__in=years)]
        else:  # every save of a unit budget goes through its service, so through its history
            budgets = _in_force(UnitBudget.history.filter(unit_id__in=units, year__in=years), cut=cut).values()
        for then, now in budgets:
            table_id = of_unit.get((now.unit_id, now.year))
            if table_id is not None:
                result[table_id] = (then.full_year_budget, now.full_year_budget)
    return result


# --- budgets as they stood at a cut -----------------------------------------------------------------

def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the site's time zone: what was saved before it was in force that day."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def _in_force(history, *, cut: dt.date) -> dict[int, tuple]:
    """Per object of the history queryset, (the object as it stood at the end of the cut day, as it is
    now): model instances built from its history records, no further query. An object first recorded
    after the cut (its data entered later in the year) is taken as first recorded, the nearest known state
    to the cut. Objects deleted since are left out. One query."""
    end = end_of_day(cut)
    first: dict[int, object] = {}
    in_force: dict[int, object] = {}
    last: dict[int, object] = {}
    for record in history.order_by("history_date", "history_id"):
        first.setdefault(record.id, record)
        last[record.id] = record
        if record.history_date < end and record.history_type != "-":
            in_force[record.id] = record
    return {
        pk: (in_force.get(pk, first[pk]).instance, last[pk].instance)
        for pk in first
        if last[pk].history_type != "-"
    }


def budgets_at(*, project_ids, cut: dt.date) -> dict[int, Decimal]:
    """全年预算数 of each project as it stood at the end of the cut day, from the projects' history
    (django-simple-history): an adjustment saved in September is not in a July cut. A project without any
    history record is missing (the caller uses today's budget). One query for all the projects."""
    ids = list(project_ids)
    if not ids:
        return {}
    projects = _in_force(Project.history.filter(id__in=ids), cut=cut)
    return {pk: then.full_year_budget for pk, (then, _now) in projects.items()}


def _indicator_light(indicator: Indicator, actual: Actual | None, month: int) -> Light:
    if actual is None:
        return Light.NONE
    return scored_light(
        rule=indicator.rule, target=indicator.target, weight=indicator.weight,
        cumulative=indicator.accumulation == Indicator.Accumulation.CUMULATIVE,
        value=actual.value, met=actual.met, grade=actual.grade, points=actual.points, month=month,
    )


# --- the 绩效运行监控表 of a unit -----------------------------------------------------------------------

def monitoring_report(*, unit: Unit, year: int, cut: dt.date) -> MonitoringReport:
    """The unit's 绩效运行监控表 at `cut` (see the module docstring): the lights of `table_statuses`.

    Not-applicable indicators are left out, as they are of the lights everywhere else.
    """
    if cut.year != year:
        raise ValueError(f"截至日期 {cut:%Y-%m-%d} 不在 {year} 年度内。")
    projects = list(Project.objects.filter(unit=unit, year=year).order_by("code", "name", "pk"))
    by_pk = {p.pk: p for p in projects}
    tables = list(GoalTable.objects.filter(unit=unit, year=year))
    for table in tables:
        if table.project_id:
            table.project = by_pk[table.project_id]
    # From plain history rows: `budgets_at` made three model objects per project (its history record, the
    # project then and now) for one figure.
    project_budgets = _project_budgets_at(unit=unit, year=year, cut=cut)
    statuses = _table_statuses(tables=tables, cut=cut, project_budgets=project_budgets)
    table_of_project = {t.project_id: t for t in tables if t.project_id}
    blocks = []
    for project in projects:
        table = table_of_project.get(project.pk)
        budget = project_budgets.get(project.pk, project.full_year_budget)
        blocks.append(_block(title=project.name, project=project, table=table,
                             status=statuses[table.pk] if table is not None else None, budget=budget,
                             budget_now=project.full_year_budget, cut=cut))
    unit_table = next((t for t in tables if t.project_id is None), None)
    if unit_table is not None:
        status = statuses[unit_table.pk]
        blocks.insert(0, _block(title=f"{unit.name}（部门整体）", project=None, table=unit_table, status=status,
                                budget=status.budget, budget_now=status.budget_now, cut=cut))
    return MonitoringReport(unit=unit, year=year, cut=cut, blocks=blocks)


def _block(*, title, project, table, status: TableStatus | None, budget, budget_now, cut: dt.date) -> TableBlock:
    if status is None:  # a project without a goal table: its budget, nothing reported
        return TableBlock(title=title, project=project, table=None, budget=budget, executed=None,
                          execution_as_of=None, execution_rate=None,
                          budget_light=budget_light(rate=None, month=cut.month), budget_now=budget_now)
    execution = status.execution
    block = TableBlock(
        title=title, project=project, table=table, budget=budget,
        executed=execution.executed if execution is not None else None,
        execution_as_of=execution.as_of if execution is not None else None,
        execution_rate=status.execution_rate, budget_light=status.budget_light, light=status.light,
        budget_now=budget_now,
    )
    for indicator in status.indicators:
        actual = status.actuals.get(indicator.pk)
        expected, projected = _forecast(indicator, actual)
        block.lines.append(IndicatorLine(
            indicator=indicator, actual=actual, light=status.indicator_lights[indicator.pk],
            forecast=expected, forecast_projected=projected,
        ))
    return block


def _forecast(indicator: Indicator, actual: Actual | None) -> tuple[Decimal | None, bool]:
    """全年预计完成值: the one entered, else projected from the value at its own date.

    A June figure still shown at a July cut is projected × 12 / 6, not × 12 / 7: it covers six months.
    """
    if actual is None:
        return None, False
    if actual.forecast is not None:
        return actual.forecast, False
    projected = forecast(
        actual=actual.value, cumulative=indicator.accumulation == Indicator.Accumulation.CUMULATIVE,
        month=actual.as_of.month,
    )
    return projected, projected is not None


# --- the index of 监控表: the units the user may see ------------------------------------------------------

@dataclass(frozen=True)
class MonitoringUnits:
    """The units whose 监控表 the user may open for a year, with the years that have goal tables."""

    units: list[Unit]  # by code, each with `project_count` (its projects of the year) and its parent
    years: list[int]  # newest first
    default_year: int  # the newest year with a goal table (this year when none)


def monitoring_units(*, user, year: int | None) -> MonitoringUnits:
    """The units the user may see (`units_for_user`: administrators their units, reviewers their subtree),
    each with the number of its projects of `year` (the newest year with a goal table when None). A fixed
    number of queries whatever the number of units."""
    visible = units_for_user(user=user)
    years = sorted(GoalTable.objects.filter(unit__in=visible).order_by().values_list("year", flat=True).distinct(),
                   reverse=True)
    default_year = years[0] if years else timezone.localdate().year
    chosen = default_year if year is None else year
    units = list(
        visible.select_related("parent")
        .annotate(project_count=Count("projects", filter=Q(projects__year=chosen)))
        .order_by("code")
    )
    return MonitoringUnits(units=units, years=sorted({chosen, *years}, reverse=True), default_year=default_year)


# --- the 绩效运行监控 page: one page of projects, the unit's counts at the cut ------------------------------

MONITORING_PAGE_SIZE = 20  # projects per page (the 部门整体 table is shown on every page besides)


@dataclass
class MonitoringPage:
    """One page of a unit's 绩效运行监控表: the 部门整体 block, the page's project blocks (of those with the
    light asked for, when one is), and the whole unit's counts per colour at the cut."""

    report: MonitoringReport  # its blocks: the 部门整体 table first (when there is one), then the page's projects
    page: object  # django.core.paginator.Page of the project ids (of the light asked for)
    light: Light | None  # the light the projects are filtered by (None: all)
    counts: dict[Light, int]  # tables (projects and 部门整体) per colour, the whole unit
    indicator_counts: dict[Light, int]  # indicators per colour, the whole unit
    project_count: int  # the unit's projects of the year, whatever their light

    @property
    def unit_block(self) -> TableBlock | None:
        return next((b for b in self.report.blocks if b.is_unit), None)

    @property
    def project_blocks(self) -> list[TableBlock]:
        return [b for b in self.report.blocks if not b.is_unit]


def monitoring_page(*, unit: Unit, year: int, cut: dt.date, page=1, light: Light | None = None,
                    per_page: int = MONITORING_PAGE_SIZE) -> MonitoringPage:
    """A page of the unit's 绩效运行监控表 at `cut` (`page` as Paginator.get_page takes it: out of range or
    invalid gives the nearest page).

    The blocks of the page are those `monitoring_report` gives (the same `_table_statuses`), built only for
    the page's tables and the 部门整体 one. The lights of every other table, for the counts per colour and the
    filter by light, are judged at the cut from plain rows (`_lights_at`: no model objects), exactly as
    `_table_statuses` judges them; a test compares the two. A fixed number of queries whatever the number of
    projects and indicators.
    """
    if cut.year != year:
        raise ValueError(f"截至日期 {cut:%Y-%m-%d} 不在 {year} 年度内。")
    projects = list(Project.objects.filter(unit=unit, year=year).order_by("code", "name", "pk")
                    .values_list("pk", "budget_initial", "budget_adjusted"))
    # No ordering: the model's default one joins the units and projects to sort what a dict keeps by key.
    tables = dict(GoalTable.objects.filter(unit=unit, year=year).order_by().values_list("pk", "project_id"))
    table_of_project = {project_id: pk for pk, project_id in tables.items() if project_id}
    unit_table_id = next((pk for pk, project_id in tables.items() if project_id is None), None)
    budgets_then = _project_budgets_at(unit=unit, year=year, cut=cut)
    budgets = {pk: budgets_then.get(pk, initial if adjusted is None else adjusted)
               for pk, initial, adjusted in projects}
    lights, indicator_counts = _lights_at(unit=unit, year=year, cut=cut, project_of_table={
        pk: project_id for pk, project_id in tables.items() if project_id}, budgets={
        table_of_project[pk]: budget for pk, budget in budgets.items() if pk in table_of_project})
    project_lights = {pk: lights.get(table_of_project.get(pk), Light.NONE) for pk, _, _ in projects}
    shown = [pk for pk, _, _ in projects if light is None or project_lights[pk] == light]
    paged = Paginator(shown, per_page).get_page(page)

    wanted = list(paged.object_list)
    by_pk = {p.pk: p for p in Project.objects.filter(pk__in=wanted).order_by()}  # shown in `wanted`'s order
    page_tables = list(GoalTable.objects.order_by().filter(
        pk__in=[table_of_project[pk] for pk in wanted if pk in table_of_project]
        + ([unit_table_id] if unit_table_id else [])))
    for table in page_tables:
        if table.project_id:
            table.project = by_pk[table.project_id]
    statuses = _table_statuses(tables=page_tables, cut=cut,
                               project_budgets={pk: budgets_then[pk] for pk in wanted if pk in budgets_then})
    table_by_pk = {t.pk: t for t in page_tables}
    blocks = []
    for pk in wanted:
        project = by_pk[pk]
        table = table_by_pk.get(table_of_project.get(pk))
        blocks.append(_block(title=project.name, project=project, table=table,
                             status=statuses[table.pk] if table is not None else None, budget=budgets[pk],
                             budget_now=project.full_year_budget, cut=cut))
    counts = _count(project_lights.values())
    if unit_table_id is not None:
        unit_table = table_by_pk[unit_table_id]
        status = statuses[unit_table_id]
        block = _block(title=f"{unit.name}（部门整体）", project=None, table=unit_table, status=status,
                       budget=status.budget, budget_now=status.budget_now, cut=cut)
        blocks.insert(0, block)
        counts[block.light] += 1
        for line in block.lines:
            indicator_counts[line.light] += 1
    return MonitoringPage(report=MonitoringReport(unit=unit, year=year, cut=cut, blocks=blocks), page=paged,
                          light=light, counts=counts, indicator_counts=indicator_counts,
                          project_count=len(projects))


def _project_budgets_at(*, unit: Unit, year: int, cut: dt.date) -> dict[int, Decimal]:
    """`budgets_at` for the unit's projects of the year, from plain history rows (no model objects). One query."""
    end = end_of_day(cut)
    first: dict[int, tuple] = {}
    in_force: dict[int, tuple] = {}
    last_type: dict[int, str] = {}
    rows = (Project.history.filter(id__in=Project.objects.filter(unit=unit, year=year).values("pk"))
            .order_by("history_date", "history_id")
            .values_list("id", "history_date", "history_type", "budget_initial", "budget_adjusted"))
    for pk, when, kind, initial, adjusted in rows:
        figure = initial if adjusted is None else adjusted
        first.setdefault(pk, figure)
        last_type[pk] = kind
        if when < end and kind != "-":
            in_force[pk] = figure
    return {pk: in_force.get(pk, first[pk]) for pk in first if last_type[pk] != "-"}


def newest_per_indicator(actuals):
    """The latest of the actuals of each indicator (by date, then by id: the later correction), chosen in
    SQL with a window function: one row per indicator, however many months were reported before the cut."""
    return actuals.annotate(newest=Window(RowNumber(), partition_by=[F("indicator_id")],
                                          order_by=[F("as_of").desc(), F("id").desc()])).filter(newest=1).order_by()


def driver_rows(queryset) -> tuple[list[tuple], Callable[[tuple], tuple]]:
    """The rows of a `values_list()` queryset as the database driver returns them, without Django's
    per-value converters (on SQLite a Decimal made from a float and quantized, a bool from 0/1, for every
    value of every row), and the function that converts one such row to what the queryset itself would give
    (a tuple).

    For reads of thousands of rows whose values repeat (the indicators of tables copied from one template):
    the caller keys on the raw values and converts each distinct one once. Raw values that compare equal
    convert to equal values (the converters are functions of the value), so a raw key is as good as the
    converted one. Through Django's SQLCompiler (execute_sql, get_converters), as `values_list()` itself
    reads; a test compares the two. One query.
    """
    compiler = queryset.query.get_compiler(using=queryset.db)
    rows = [row for chunk in compiler.execute_sql(MULTI, chunk_size=_DRIVER_CHUNK) for row in chunk]
    if not rows:  # an empty result may never have set the compiler's columns up
        return rows, tuple
    # What SQLCompiler.apply_converters does to each row, without its generator per row.
    converters = [(pos, convs, expression) for pos, (convs, expression)
                  in compiler.get_converters([s[0] for s in compiler.select[:compiler.col_count]]).items()]
    if not converters:
        return rows, tuple
    connection = compiler.connection

    def convert(row) -> tuple:
        row = list(row)
        for pos, convs, expression in converters:
            value = row[pos]
            for converter in convs:
                value = converter(value, expression, connection)
            row[pos] = value
        return tuple(row)

    return rows, convert


_DRIVER_CHUNK = 2000  # rows per fetchmany: Django's 100 made 80 calls for a unit's 8,000 indicators


def _lights_at(*, unit: Unit, year: int, cut: dt.date, project_of_table: dict[int, int],
               budgets: dict[int, Decimal]) -> tuple[dict[int, Light], dict[Light, int]]:
    """The light of each project table of the unit and year at the cut (per table id), and the unit's
    applicable indicators of those tables counted per colour: what `_table_statuses` gives at a cut, from
    plain rows. `project_of_table`: the project of each project table; `budgets`: 全年预算数 at the cut per
    table id. Three queries (indicators, actuals, 执行数)."""
    # Plain rows: 8,000 indicators as model objects (and their JSON hints, which never enter a light) were
    # most of the time of a 1,000-project page. No ordering: the model's default one joined the units and
    # projects and sorted 8,000 rows for nothing (the lights do not depend on it).
    indicators, indicator_of = driver_rows(
        Indicator.objects.filter(table__unit=unit, table__year=year, table__project__isnull=False,
                                 not_applicable=False).order_by()
        .values_list("table_id", "pk", "rule", "target_kind", "target_value", "target_upper", "unit", "target_raw",
                     "weight", "accumulation"))
    actuals, actual_of = driver_rows(newest_per_indicator(
        Actual.objects.filter(indicator__table__unit=unit, indicator__table__year=year,
                              indicator__table__project__isnull=False, as_of__lte=cut).that_count()
    ).values_list("indicator_id", "value", "met", "grade", "points"))
    latest = {row[0]: row for row in actuals}
    executed: dict[int, Decimal] = {}
    for project_id, figure in (BudgetExecution.objects.filter(project__unit=unit, project__year=year,
                                                               as_of__lte=cut)
                               .order_by("as_of", "id").values_list("project_id", "executed")):
        executed[project_id] = figure
    month = cut.month
    # A light is a function of the indicator's scoring fields and the actual's: tables copied from one
    # template repeat the first (a handful of targets like ">=95%" in thousands of rows) and often both, so
    # each distinct target is built once and each distinct case judged once — keyed on the raw rows, so that
    # only those are converted.
    targets: dict[tuple, dict] = {}

    def judge(indicator_row, actual_row) -> Light:
        spec = indicator_row[2:]
        scored = targets.get(spec)
        if scored is None:
            _table, _pk, rule, kind, value, upper, unit_text, raw, weight, accumulation = indicator_of(indicator_row)
            scored = targets[spec] = {
                "rule": rule, "weight": weight, "cumulative": accumulation == Indicator.Accumulation.CUMULATIVE,
                "target": Target(kind=Kind(kind), value=tidy_decimal(value), upper=tidy_decimal(upper),
                                 unit=unit_text, raw=raw),  # a target's hints (flags) never score
            }
        _indicator, actual, met, grade, points = actual_of(actual_row)
        return scored_light(**scored, value=actual, met=met, grade=grade, points=points, month=month)

    judged: dict[tuple, Light] = {}
    by_table: dict[int, set[Light]] = {}
    counts = dict.fromkeys(LIGHT_ORDER, 0)
    none = Light.NONE
    for row in indicators:
        actual = latest.get(row[1])
        if actual is None:
            found = none
        else:
            key = (row[2:], actual[1:])
            found = judged.get(key)
            if found is None:
                found = judged[key] = judge(row, actual)
        counts[found] += 1
        seen = by_table.get(row[0])
        if seen is None:
            by_table[row[0]] = {found}
        else:
            seen.add(found)
    lights = {}
    for table_id, project_id in project_of_table.items():
        rate = scoring.score_execution(budget=budgets.get(table_id), executed=executed.get(project_id)).rate
        lights[table_id] = worst_light([budget_light(rate=rate, month=month), *by_table.get(table_id, ())])
    return lights, counts
