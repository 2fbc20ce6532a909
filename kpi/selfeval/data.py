"""绩效自评 data — everything the official 项目支出绩效自评表 and 部门整体绩效自评表 need (domain.md §7).

Built from approved values only: the official scores (Score / TableScore with official=True) of each
goal table as of the latest date of the year with an approved report, so the figures are exactly the
engine's. Reads only: a table changed since it was last scored (`GoalTable.is_stale`) must be rescored
first by whoever writes (the command, the bundle task); a page refuses to hand it out meanwhile. What is missing is listed (`missing`) and left as
None: never shown as 0.

- `table_evaluation(table=…)`        one table's `ProjectEvaluation` (the web download);
- `unit_evaluation(unit=…, year=…)`  a unit's `UnitEvaluation`: every project table and the 部门整体 table;
- `.as_json()`                       the JSON form of the `selfeval_report` command (decimals as strings).

A fixed number of queries whatever the number of tables and indicators.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Max, Q

from budgets.models import PROJECT_SOURCES, UNIT_SOURCES, BudgetExecution, Unit, UnitBudget
from kpi.formatting import actual_text, money_text, percent_text
from kpi.models import Actual, GoalTable, Indicator, Report, Score, TableScore
from kpi.rescoring.selectors import policies_by_table
from kpi.scoring import EXECUTION_WEIGHT, policy_name, policy_names, score_execution
from kpi.targets import target_text

PROJECT_TITLE = "项目支出绩效自评表"
# The source rows of the funds block: (source field, label on the form).
PROJECT_FUNDS_ROWS = tuple(zip((f for f, _ in PROJECT_SOURCES), ("其中：本年财政拨款", "上年结转资金", "其他资金")))
UNIT_FUNDS_ROWS = UNIT_SOURCES
UNIT_TITLE = "部门整体绩效自评表"
NOT_APPLICABLE = "不适用"
STALE = "评分更新中：本表有尚未计入得分的修改，下列得分为修改前的结果"
SUMMARY_NAMES = 5  # indicators named in the 实际完成情况 summary per kind; the rest are counted

_CENT = Decimal("0.01")
_BASIS = Decimal("0.0001")


class NoTables(Exception):
    """The unit has no goal table in that year (the message is in Chinese)."""


# A scoring policy's version as people name it (默认评分政策, “名称（第2版）”): kpi.scoring.policy_name; several
# as kept with a report ("default、名称@v2"): policy_names.
policy_text = policy_name
policies_text = policy_names


@dataclass(frozen=True)
class FundsRow:
    """One row of the 项目资金（万元） block: the total, or one funds source (its 年初预算数, 全年预算数 and
    全年执行数; 分值, 执行率 and 得分 only on the total row, as on the official form). None: not recorded."""

    label: str
    initial: Decimal | None  # 年初预算数
    full_year: Decimal | None  # 全年预算数
    executed: Decimal | None = None  # 全年执行数
    weight: Decimal | None = None  # 分值 (the policy's execution weight: 10 by default)
    rate: Decimal | None = None  # 执行率, a fraction (0.5370 = 53.70 %)
    points: Decimal | None = None  # 得分
    is_total: bool = False


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator row of the 自评表."""

    level1: str
    level2: str
    name: str
    target: str  # 年度指标值, as published
    weight: Decimal  # 分值
    actual: str | None  # 实际完成值 as shown (in the indicator's unit, 达成/未达成 or the grade); None: missing
    points: Decimal | None  # 得分; None when missing or not applicable
    explanation: str  # 偏差原因分析及改进措施 (for an indicator not applicable: the reason)
    not_applicable: bool = False
    score_explanation: str = ""  # the engine's one-line 计算说明
    graded_achieved: bool = False  # graded 达成年度指标 (a score inside the band, not necessarily full marks)

    @property
    def target_shown(self) -> str:
        """年度指标值 as a person writes it (≥98%, not $\\geq 98\\%$); `target` keeps the published text."""
        return target_text(self.target)

    @property
    def missing(self) -> bool:
        return not self.not_applicable and self.points is None

    @property
    def full_marks(self) -> bool:
        return self.points is not None and self.points >= self.weight.quantize(_CENT)

    @property
    def achieved(self) -> bool:
        """达到年度指标值: full marks, or graded 达成年度指标."""
        return self.full_marks or (self.points is not None and self.graded_achieved)


@dataclass
class ProjectEvaluation:
    """The 自评表 of one goal table: a project's, or the unit's 部门整体 one (project_name None)."""

    table_id: int
    scope: str
    year: int
    project_name: str | None
    unit_name: str  # 实施单位
    department_name: str  # 主管部门 (the unit's parent, or the unit itself)
    as_of: dt.date | None  # the date of the official scores shown (latest approved report)
    table_status: str
    budget: Decimal | None  # 全年预算数
    executed: Decimal | None  # 全年执行数
    rate: Decimal | None
    execution_points: Decimal | None
    funds: list[FundsRow]
    goal_expected: str  # 年度总体目标 · 预期目标
    goal_actual: str  # 年度总体目标 · 实际完成情况 (generated)
    indicators: list[IndicatorRow]
    indicator_points: Decimal | None
    total: Decimal | None
    grade: str | None
    policy_version: str
    missing: list[str] = field(default_factory=list)
    execution_weight: Decimal = EXECUTION_WEIGHT

    @property
    def is_unit_table(self) -> bool:
        return self.scope == GoalTable.Scope.UNIT

    @property
    def title(self) -> str:
        return UNIT_TITLE if self.is_unit_table else PROJECT_TITLE

    @property
    def label(self) -> str:
        """How the table is named in lists: the project name, or “单位（部门整体）”."""
        return self.project_name or f"{self.unit_name}（部门整体）"

    @property
    def full_points(self) -> Decimal:
        """分值 of the whole table: execution plus every indicator's weight (100 for a well-formed table)."""
        return self.execution_weight + sum((i.weight for i in self.indicators), Decimal("0"))

    @property
    def policy_name(self) -> str:
        """The scoring policy by its Chinese name (默认评分政策, “名称（第2版）”)."""
        return policy_text(self.policy_version)

    def as_json(self) -> dict:
        return {
            "project": self.project_name,
            "execution": {
                "budget": _money(self.budget),
                "executed": _money(self.executed),
                "rate": _rate(self.rate),
                "score": _points(self.execution_points),
            },
            "indicators": [
                {
                    "level1": row.level1,
                    "level2": row.level2,
                    "name": row.name,
                    "target": row.target,
                    "actual": row.actual,
                    "weight": _points(row.weight),
                    "score": _points(row.points),
                    # the engine's one-line 计算说明 (the form's 偏差原因分析 column is in the xlsx/pdf)
                    "explanation": row.score_explanation or row.explanation,
                }
                for row in self.indicators
            ],
            "total": _points(self.total),
            "grade": self.grade,
            "missing": list(self.missing),
        }


def note_parts(e: ProjectEvaluation, generated_at) -> list[str]:
    """The small print under each form (as of when, which policy, when generated, how many items missing)."""
    parts = [f"评分截至 {e.as_of:%Y-%m-%d}（已审核数据）" if e.as_of else "尚无已审核的填报",
             f"评分政策：{e.policy_name}"]
    if generated_at:
        parts.append(f"生成时间：{generated_at:%Y-%m-%d %H:%M}")
    return parts


@dataclass
class UnitEvaluation:
    """A unit's self-evaluation of a year: its project tables and its 部门整体 table (None when it has none)."""

    unit_id: int
    unit_code: str
    unit_name: str
    department_name: str
    year: int
    projects: list[ProjectEvaluation]
    unit_table: ProjectEvaluation | None

    @property
    def evaluations(self) -> list[ProjectEvaluation]:
        """Every table: the 部门整体 table first, then the projects."""
        return ([self.unit_table] if self.unit_table else []) + self.projects

    @property
    def missing(self) -> list[tuple[str, str]]:
        """(table label, missing item) of every table, in table order: the cover sheet."""
        return [(e.label, item) for e in self.evaluations for item in e.missing]

    @property
    def policy_version(self) -> str:
        return "、".join(dict.fromkeys(e.policy_version for e in self.evaluations if e.policy_version))

    @property
    def policy_name(self) -> str:
        """The scoring policies of the tables by their Chinese names (默认评分政策, “名称（第2版）”)."""
        return "、".join(dict.fromkeys(e.policy_name for e in self.evaluations if e.policy_version))

    @property
    def projects_total(self) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """合计 of the project summary: (全年预算数, 全年执行数, 执行率); None where a project's figure is missing
        (or, for the rate, where the budget is 0)."""
        budgets = [e.budget for e in self.projects]
        spent = [e.executed for e in self.projects]
        budget = sum(budgets, Decimal("0")) if self.projects and None not in budgets else None
        executed = sum(spent, Decimal("0")) if self.projects and None not in spent else None
        return budget, executed, score_execution(budget=budget, executed=executed).rate

    def as_json(self) -> dict:
        return {
            "unit": self.unit_name,
            "year": self.year,
            "projects": [e.as_json() for e in self.projects],
            "unit_table": self.unit_table.as_json() if self.unit_table else None,
        }


# --- formatting ------------------------------------------------------------------------------------

def _money(value: Decimal | None) -> str | None:
    return money_text(value)


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(_BASIS, ROUND_HALF_UP))


def _points(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(_CENT, ROUND_HALF_UP))


def points_text(value: Decimal | None) -> str | None:
    return _points(value)


# --- building ----------------------------------------------------------------------------------------

def table_evaluation(*, table: GoalTable) -> ProjectEvaluation:
    """The 自评表 of one goal table."""
    table = GoalTable.objects.select_related("unit__parent", "project").get(pk=table.pk)
    return evaluations_build(tables=[table])[0]


def unit_tables(*, unit: Unit, year: int) -> list[GoalTable]:
    """The unit's goal tables of the year: the 部门整体 table first, then the projects by name."""
    tables = list(
        GoalTable.objects.filter(unit=unit, year=year).select_related("unit__parent", "project")
    )
    return sorted(tables, key=lambda t: (t.scope != GoalTable.Scope.UNIT, t.project.name if t.project_id else ""))


def no_tables(*, unit: Unit, year: int) -> NoTables:
    return NoTables(f"{unit.name}（{unit.code}）{year} 年度没有绩效目标表，无法生成绩效自评表。")


def unit_evaluation(*, unit: Unit, year: int) -> UnitEvaluation:
    """A unit's self-evaluation of the year; NoTables when it has no goal table that year."""
    tables = unit_tables(unit=unit, year=year)
    if not tables:
        raise no_tables(unit=unit, year=year)
    return tables_evaluation(unit=unit, year=year, tables=tables)


def tables_evaluation(*, unit: Unit, year: int, tables: list[GoalTable]) -> UnitEvaluation:
    """The self-evaluation of some of a unit's tables (a page of them, or all), in the order given; the tables
    need `unit__parent` and `project` loaded."""
    evaluations = evaluations_build(tables=tables)
    unit_table = next((e for e in evaluations if e.is_unit_table), None)
    return UnitEvaluation(
        unit_id=unit.pk,
        unit_code=unit.code,
        unit_name=unit.name,
        department_name=_department_name(unit),
        year=year,
        projects=[e for e in evaluations if not e.is_unit_table],
        unit_table=unit_table,
    )


def evaluations_build(*, tables: list[GoalTable]) -> list[ProjectEvaluation]:
    """One evaluation per table, in the order given. The tables need `unit__parent` and `project` loaded."""
    if not tables:
        return []
    ids = [t.pk for t in tables]

    approved_dates = dict(
        Report.objects.filter(table_id__in=ids, status=Report.Status.APPROVED)
        .order_by().values("table_id").annotate(latest=Max("as_of")).values_list("table_id", "latest")
    )
    totals_by_table: dict[int, dict[dt.date, TableScore]] = defaultdict(dict)
    for total in TableScore.objects.filter(table_id__in=ids, official=True):
        totals_by_table[total.table_id][total.as_of] = total
    chosen: dict[int, tuple[dt.date | None, TableScore | None]] = {}
    for table in tables:
        by_date = totals_by_table.get(table.pk, {})
        # The latest official figures, as the scorecard shows them: every approved actual up to then and the
        # latest 执行数 (a later execution figure counts even if no report was approved after it).
        as_of = max(by_date) if by_date else approved_dates.get(table.pk)
        chosen[table.pk] = (as_of, by_date.get(as_of) if as_of else None)

    scores: dict[int, Score] = {}
    # One condition per date, not per table: SQLite refuses an expression tree of a thousand ORs.
    tables_on: dict[dt.date, list[int]] = defaultdict(list)
    for pk, (as_of, _) in chosen.items():
        if as_of is not None:
            tables_on[as_of].append(pk)
    if tables_on:
        condition = Q()
        for as_of, pks in tables_on.items():
            condition |= Q(as_of=as_of, table_id__in=pks)
        for score in Score.objects.filter(condition, official=True).select_related("actual"):
            scores[score.indicator_id] = score

    indicators_by_table: dict[int, list[Indicator]] = defaultdict(list)
    for indicator in Indicator.objects.filter(table_id__in=ids).order_by("table_id", "order"):
        indicators_by_table[indicator.table_id].append(indicator)

    unscored = [i.pk for rows in indicators_by_table.values() for i in rows if not i.not_applicable
                and i.pk not in scores]
    entered: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    if unscored:
        for indicator_id, as_of, status in Actual.objects.filter(indicator_id__in=unscored).that_count().values_list(
            "indicator_id", "as_of", "report__status"
        ):
            entered[indicator_id].append((as_of, status))

    executions = _executions_by_table(tables)

    unit_budgets = {}
    unit_keys = {(t.unit_id, t.year) for t in tables if not t.project_id}
    if unit_keys:
        for budget in UnitBudget.objects.filter(unit_id__in={u for u, _ in unit_keys}):
            unit_budgets[(budget.unit_id, budget.year)] = budget

    # The 分值 of 预算执行率 and, for a table not scored yet, the policy's name come from the table's policy.
    policies = policies_by_table(tables)

    evaluations = []
    for table in tables:
        as_of, total = chosen[table.pk]
        policy = policies[table.pk]
        evaluations.append(_evaluation(
            table=table, as_of=as_of, total=total, approved=table.pk in approved_dates,
            indicators=indicators_by_table.get(table.pk, []), scores=scores, entered=entered,
            unit_budget=unit_budgets.get((table.unit_id, table.year)),
            policy_version=total.policy_version if total else policy.version,
            execution_weight=policy.execution_weight,
            execution=_execution_until(executions.get(table.pk, ()), as_of),
        ))
    return evaluations


def _executions_by_table(tables: list[GoalTable]) -> dict[int, list[BudgetExecution]]:
    """Execution figures per table in the engine's order (date, then entry): the project's, or the unit's own
    for 部门整体 tables (kpi.rescoring scores the latest one up to each date). One query."""
    project_tables = {t.project_id: t.pk for t in tables if t.project_id}
    unit_tables = {(t.unit_id, t.year): t.pk for t in tables if not t.project_id}
    condition = Q(project_id__in=list(project_tables))
    if unit_tables:
        condition |= Q(project__isnull=True, unit_id__in={u for u, _ in unit_tables})
    result: dict[int, list[BudgetExecution]] = defaultdict(list)
    for execution in BudgetExecution.objects.filter(condition).order_by("as_of", "id"):
        table_id = project_tables.get(execution.project_id) if execution.project_id else unit_tables.get(
            (execution.unit_id, execution.year))
        if table_id is not None:
            result[table_id].append(execution)
    return result


def _execution_until(rows, as_of: dt.date | None) -> BudgetExecution | None:
    """The execution figure that counts at the evaluation's date: the latest up to it."""
    latest = None
    if as_of is not None:
        for row in rows:
            if row.as_of > as_of:
                break
            latest = row
    return latest


def _department_name(unit: Unit) -> str:
    return unit.parent.name if unit.parent_id else unit.name


def _evaluation(*, table, as_of, total, approved, indicators, scores, entered, unit_budget,
                policy_version, execution_weight, execution) -> ProjectEvaluation:
    missing: list[str] = []
    if table.status == GoalTable.Status.DRAFT:
        missing.append("绩效目标表尚未批复（仍为草稿）")
    elif table.status not in (GoalTable.Status.APPROVED, GoalTable.Status.CLOSED):
        missing.append(f"绩效目标表尚未批复（当前为{table.get_status_display()}）")
    if not approved:
        missing.append("尚无已审核的填报")
    if not indicators:
        missing.append("绩效目标表没有任何绩效指标")

    budget, executed, rate, execution_points = _execution(table, total, unit_budget)
    funds = _funds(table, unit_budget, budget, executed, rate, execution_points, execution, missing,
                   execution_weight)
    if budget is not None and budget == 0:
        missing.append("全年预算数为 0，预算执行率无法计算（执行率未定义，不计分）")
    if executed is None:
        when = f"截至 {as_of:%Y-%m-%d} " if as_of else ""
        missing.append(f"缺少全年执行数（{when}未登记预算执行数），预算执行率无法计算")

    if table.is_stale:
        missing.insert(0, STALE)  # first: every other item may be out of date
    rows = [_indicator_row(i, scores.get(i.pk), as_of, entered.get(i.pk, ()), missing, stale=table.is_stale)
            for i in indicators]
    if total is None:
        missing.append("尚无正式得分，总分和等级无法确定")

    evaluation = ProjectEvaluation(
        table_id=table.pk,
        scope=table.scope,
        year=table.year,
        project_name=table.project.name if table.project_id else None,
        unit_name=table.unit.name,
        department_name=_department_name(table.unit),
        as_of=as_of,
        table_status=table.get_status_display(),
        budget=budget,
        executed=executed,
        rate=rate,
        execution_points=execution_points,
        funds=funds,
        goal_expected=table.overall_goal.strip(),
        goal_actual="",
        indicators=rows,
        indicator_points=total.indicator_points if total else None,
        total=total.total if total else None,
        grade=total.grade if total else None,
        policy_version=policy_version,
        missing=missing,
        execution_weight=execution_weight,
    )
    evaluation.goal_actual = _goal_summary(evaluation)
    return evaluation


def _execution(table, total, unit_budget):
    """(全年预算数, 全年执行数, 执行率, 得分) as the engine scored them."""
    if total is not None:
        return total.budget, total.executed, total.execution_rate, total.execution_points
    if table.project_id:
        budget = table.project.full_year_budget
    else:
        budget = unit_budget.full_year_budget if unit_budget else None
    return budget, None, None, None


def _funds(table, unit_budget, budget, executed, rate, points, execution, missing,
           execution_weight=EXECUTION_WEIGHT) -> list[FundsRow]:
    """The funds block: 年度资金总额 and each source (a project's 本年财政拨款 / 上年结转 / 其他资金, or a unit's
    财政资金 上级安排 / 本级安排 and 其他资金) with its 年初预算数 (the published split), 全年预算数 (the
    adjusted split, or the published one when the budget was not adjusted) and 全年执行数 (the split of the
    execution figure that counts). What is not recorded is None and listed in `missing`, never guessed."""
    if table.project_id:
        funds, sources = table.project, PROJECT_FUNDS_ROWS
        initial = funds.budget_initial
    elif unit_budget is not None:
        funds, sources = unit_budget, UNIT_FUNDS_ROWS
        initial = unit_budget.total
    else:
        missing.append("未登记部门年度预算（年初预算数、全年预算数）")
        funds, sources, initial = None, UNIT_FUNDS_ROWS, None
    names = "、".join(label.removeprefix("其中：") for _, label in sources)

    published = dict.fromkeys((field for field, _ in sources), None)
    if funds is not None:
        split = {field: getattr(funds, field) for field, _ in sources}
        if sum(split.values(), Decimal("0")) == initial:
            published = split
        else:
            missing.append(f"年初预算数未按资金来源登记完整（{_split_text(split, sources)}，合计 "
                           f"{_money(sum(split.values(), Decimal('0')))} 万元，年初预算数 {_money(initial)} 万元），"
                           "请补齐各资金来源的年初预算数")

    full_year = dict.fromkeys(published, None)
    adjusted = {field: getattr(funds, f"{field}_adjusted") for field, _ in sources} if funds is not None else {}
    if any(value is not None for value in adjusted.values()):
        full_year = adjusted
    elif budget is not None and initial is not None and budget == initial:
        full_year = published  # not adjusted: the published split stands
    elif budget is not None and initial is not None:
        missing.append(f"全年预算数已调整（年初 {_money(initial)} 万元 → 全年 {_money(budget)} 万元），"
                       f"各资金来源（{names}）的全年预算数未登记，请补齐")

    spent = dict.fromkeys(published, None)
    if executed is not None and execution is not None:
        split = {field: getattr(execution, field) for field, _ in sources}
        if all(value is not None for value in split.values()):
            spent = split
        else:
            missing.append(f"截至 {execution.as_of:%Y-%m-%d} 的全年执行数未按资金来源（{names}）登记，请补齐")

    rows = [FundsRow("年度资金总额", initial, budget, executed, execution_weight, rate, points, is_total=True)]
    rows += [FundsRow(label, published[field], full_year[field], spent[field]) for field, label in sources]
    return rows


def _split_text(split: dict, sources) -> str:
    return "、".join(f"{label.removeprefix('其中：')} {_money(split[field])} 万元" for field, label in sources)


def _actual_text(actual: Actual, indicator: Indicator) -> str:
    return actual_text(value=actual.value, met=actual.met, grade=actual.grade, unit=indicator.unit)


def _deviation_text(actual: Actual) -> str:
    """偏差原因分析及改进措施, from the actual's deviation reason and rectification measures."""
    parts = []
    reason = actual.deviation_reason.strip()
    if reason or actual.deviation_category:
        category = f"（{actual.deviation_category}）" if actual.deviation_category else ""
        parts.append(f"偏差原因{category}：{reason or '—'}")
    measures = actual.rectification_measures.strip()
    if measures:
        parts.append(f"改进措施：{measures}")
    return "；".join(parts)


def _indicator_row(indicator, score, as_of, entered, missing, *, stale: bool) -> IndicatorRow:
    base = {"level1": indicator.level1, "level2": indicator.level2, "name": indicator.name,
            "target": indicator.target_raw, "weight": indicator.weight}
    if indicator.not_applicable:
        return IndicatorRow(**base, actual=NOT_APPLICABLE, points=None, not_applicable=True,
                            explanation=f"不适用：{indicator.not_applicable_reason}")
    if score is None or score.actual is None:
        missing.append(f"指标“{indicator.name}”：{_why_missing(entered, as_of, stale=stale)}")
        return IndicatorRow(**base, actual=None, points=None, explanation="")
    actual = score.actual
    explanation = _deviation_text(actual)
    achieved = actual.grade == Actual.Grade.ACHIEVED
    if not explanation:
        if score.points < indicator.weight.quantize(_CENT) and not achieved:
            missing.append(f"指标“{indicator.name}”：未达满分（{score.points}/{indicator.weight.quantize(_CENT)}），"
                           "缺少偏差原因分析及改进措施")
        elif {"over_target", "overachievement"} & set(score.flags or ()):
            missing.append(f"指标“{indicator.name}”：超出年度指标值，缺少偏差原因分析")
    return IndicatorRow(**base, actual=_actual_text(actual, indicator), points=score.points,
                        explanation=explanation, score_explanation=score.explanation, graded_achieved=achieved)


def _why_missing(entered, as_of, *, stale: bool) -> str:
    if stale and entered:
        return "评分更新中，得分尚未计入"
    if any(status == Report.Status.APPROVED and (as_of is None or date <= as_of) for date, status in entered):
        return "已审核的实际完成值无法按当前指标值或赋分规则计分，需重新填报"
    if entered:
        return "实际完成值尚未审核通过，缺少已审核的实际完成值"
    return "缺少实际完成值（未填报）"


def _goal_summary(e: ProjectEvaluation) -> str:
    """实际完成情况: a summary of the results, in Chinese, from the same figures as the table."""
    sentences = []
    if e.as_of:
        sentences.append(f"截至 {e.as_of:%Y年%m月%d日}（已审核数据）")
    else:
        sentences.append("尚无已审核的填报")
    if e.rate is not None:
        sentences.append(f"全年执行数 {_money(e.executed)} 万元，预算执行率 {percent_text(e.rate)}")
    elif e.budget is not None and e.budget == 0:
        sentences.append("全年预算数为 0，预算执行率无法计算")
    else:
        sentences.append("尚无全年执行数")
    head = "，".join(sentences) + "。"

    applicable = [r for r in e.indicators if not r.not_applicable]
    full = [r for r in applicable if r.achieved]
    partial = [r for r in applicable if r.points is not None and not r.achieved]
    absent = [r for r in applicable if r.missing]
    na = [r for r in e.indicators if r.not_applicable]
    if not e.indicators:
        body = "没有绩效指标。"
    else:
        parts = [f"{len(e.indicators)} 项绩效指标中，{len(full)} 项达到年度指标值"]
        if partial:
            details = "；".join(f"{r.name}（实际 {r.actual}，年度指标值 {r.target_shown}）" for r in partial[:SUMMARY_NAMES])
            more = f"等 {len(partial)} 项" if len(partial) > SUMMARY_NAMES else ""
            parts.append(f"{len(partial)} 项未完全达到：{details}{more}")
        if absent:
            names = "、".join(r.name for r in absent[:SUMMARY_NAMES])
            more = f"等 {len(absent)} 项" if len(absent) > SUMMARY_NAMES else ""
            parts.append(f"{len(absent)} 项缺少已审核的实际完成值：{names}{more}")
        if na:
            parts.append(f"{len(na)} 项不适用")
        body = "，".join(parts) + "。"
    if e.total is not None:
        tail = f"自评得分 {e.total} 分，等级“{e.grade}”。"
    else:
        tail = "尚无正式得分。"
    return head + body + tail
