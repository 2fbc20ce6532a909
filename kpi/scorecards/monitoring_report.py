"""绩效运行监控表 — a unit's monitoring report at a cut date (domain.md §6, "双监控"). Reads only.

Per goal table (each project of the unit and year, then the unit's 部门整体 table): 全年预算数, the
cumulative 执行数 as of the cut, 执行率 against the time elapsed (cut month / 12) and the budget light;
per indicator the latest year-to-date actual as of the cut (returned reports ignored; approved or
provisional said), 全年预计完成值, 偏差原因, 完成目标可能性, 整改 and the light; the table's worst light;
and the unit's counts per colour. Six queries whatever the number of projects and indicators.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import OuterRef, Subquery

from budgets.models import BudgetExecution, Project, Unit, UnitBudget
from kpi import scoring
from kpi.models import Actual, GoalTable, Indicator, Report
from kpi.monitoring import Light, budget_light, forecast, worst_light
from kpi.selectors import _indicator_light

__all__ = [
    "DEFAULT_CUT_MONTH",
    "IndicatorLine",
    "LIGHT_ORDER",
    "MonitoringReport",
    "TableBlock",
    "default_cut",
    "month_end",
    "monitoring_report",
    "percent_text",
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
    budget: Decimal | None  # 全年预算数（万元）
    executed: Decimal | None  # 执行数 as of the cut（万元）; None: nothing recorded
    execution_as_of: dt.date | None
    execution_rate: Decimal | None  # a fraction: 0.4321 = 43.21 %
    budget_light: Light
    lines: list[IndicatorLine] = field(default_factory=list)
    light: Light = Light.NONE  # the worst of the budget light and the indicator lights

    @property
    def is_unit(self) -> bool:
        return self.project is None

    @property
    def execution_rate_text(self) -> str:
        return percent_text(self.execution_rate)


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
        return percent_text(self.time_share)

    @property
    def counts(self) -> dict[Light, int]:
        """Tables (projects and 部门整体) per colour of their worst light."""
        return _count(block.light for block in self.blocks)

    @property
    def indicator_counts(self) -> dict[Light, int]:
        return _count(line.light for block in self.blocks for line in block.lines)


def percent_text(fraction: Decimal | None) -> str:
    """0.4321 → “43.21%”; None → “”."""
    if fraction is None:
        return ""
    return f"{(fraction * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)}%"


def _count(lights) -> dict[Light, int]:
    counts = dict.fromkeys(LIGHT_ORDER, 0)
    for light in lights:
        counts[light] += 1
    return counts


def monitoring_report(*, unit: Unit, year: int, cut: dt.date) -> MonitoringReport:
    """The unit's 绩效运行监控表 at `cut` (see the module docstring). Six queries in all.

    Not-applicable indicators are left out, as they are of the lights everywhere else (selectors.table_statuses).
    """
    if cut.year != year:
        raise ValueError(f"截至日期 {cut:%Y-%m-%d} 不在 {year} 年度内。")
    month = cut.month
    projects = list(Project.objects.filter(unit=unit, year=year).order_by("code", "name", "pk"))
    tables = list(GoalTable.objects.filter(unit=unit, year=year))
    table_of_project = {t.project_id: t for t in tables if t.project_id}
    unit_table = next((t for t in tables if t.project_id is None), None)
    table_ids = [t.pk for t in tables]

    lines_by_table: dict[int, list[Indicator]] = {pk: [] for pk in table_ids}
    for indicator in Indicator.objects.filter(table_id__in=table_ids, not_applicable=False).order_by("order"):
        lines_by_table[indicator.table_id].append(indicator)
    latest = (
        Actual.objects.filter(indicator=OuterRef("indicator"), as_of__lte=cut)
        .exclude(report__status=Report.Status.RETURNED).order_by("-as_of", "-id").values("pk")[:1]
    )
    actuals = {
        a.indicator_id: a
        for a in Actual.objects.filter(indicator__table_id__in=table_ids, as_of__lte=cut, pk=Subquery(latest))
        .select_related("report")
    }

    executions = _executions_at(unit=unit, year=year, cut=cut)
    blocks = [
        _block(
            title=project.name, project=project, table=table_of_project.get(project.pk),
            budget=project.full_year_budget, execution=executions.get(project.pk),
            indicators=lines_by_table.get(table_of_project[project.pk].pk, []) if project.pk in table_of_project else [],
            actuals=actuals, month=month,
        )
        for project in projects
    ]
    if unit_table is not None:
        unit_budget = UnitBudget.objects.filter(unit=unit, year=year).first()
        blocks.insert(0, _block(
            title=f"{unit.name}（部门整体）", project=None, table=unit_table,
            budget=unit_budget.full_year_budget if unit_budget else None, execution=executions.get(None),
            indicators=lines_by_table[unit_table.pk], actuals=actuals, month=month,
        ))
    return MonitoringReport(unit=unit, year=year, cut=cut, blocks=blocks)


def _executions_at(*, unit: Unit, year: int, cut: dt.date) -> dict[int | None, BudgetExecution]:
    """The latest 执行数 on or before the cut per project (key None: the unit's own figure)."""
    latest: dict[int | None, BudgetExecution] = {}
    for execution in BudgetExecution.objects.filter(unit=unit, year=year, as_of__lte=cut).order_by("as_of", "id"):
        latest[execution.project_id] = execution
    return latest


def _block(*, title, project, table, budget, execution, indicators, actuals, month) -> TableBlock:
    executed = execution.executed if execution is not None else None
    rate = scoring.score_execution(budget=budget, executed=executed).rate
    block = TableBlock(
        title=title, project=project, table=table, budget=budget, executed=executed,
        execution_as_of=execution.as_of if execution is not None else None, execution_rate=rate,
        budget_light=budget_light(rate=rate, month=month),
    )
    for indicator in indicators:
        actual = actuals.get(indicator.pk)
        expected, projected = _forecast(indicator, actual)
        block.lines.append(IndicatorLine(
            indicator=indicator, actual=actual, light=_indicator_light(indicator, actual, month),
            forecast=expected, forecast_projected=projected,
        ))
    block.light = worst_light([block.budget_light, *(line.light for line in block.lines)])
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
