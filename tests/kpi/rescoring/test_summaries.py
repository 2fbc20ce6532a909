"""The stored table summaries (kpi.models.TableSummary) always equal a fresh computation.

Random sequences of what people do through the year (record, submit, approve, return, 执行数, budget
adjustments, 不适用) are applied through the services; after the rescore every table's stored light, last
update, missing count, budget and execution and its latest official / provisional totals must equal what
the pages computed before the summaries existed: `table_statuses` (the lights) and `table_scorecard` (the
totals).
"""
import datetime as dt
import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kpi.goals.services import indicator_set_not_applicable
from kpi.lights import Light
from kpi.models import GoalTable, Report, TableSummary
from kpi.monitoring.selectors import table_statuses
from kpi.reports.services import (
    actual_record,
    budget_adjust,
    execution_report,
    report_approve,
    report_return,
    report_submit,
)
from kpi.rescoring.summaries import LIGHT_RANKS
from kpi.scorecards.selectors import table_scorecard
from tests.factories import ProjectFactory, UnitBudgetFactory, UnitFactory, rescore_stale, table_with_indicators

pytestmark = pytest.mark.django_db

YEAR = 2026
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", "20"),
    ("产出指标", "质量指标", "合格率", ">=95%", "15"),
    ("成本指标", "经济成本指标", "人均成本", "<=50元/人", "15"),
    ("产出指标", "时效指标", "完成时间", "2026年10月底前", "10"),
    ("效益指标", "社会效益指标", "群众获得感", "有效提升", "20"),
    ("满意度指标", "服务对象满意度指标", "满意度", ">=90%", "10", "满意度赋分"),
]
DATES = [dt.date(YEAR, month, 28 if month == 2 else 30) for month in (2, 4, 6, 9, 11)]
GRADES = ["达成年度指标", "部分达成年度指标并具有一定效果", "未达成年度指标且效果较差"]


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr("kpi.rescoring.tasks.rescore_table.delay", lambda *a, **k: None)
    unit = UnitFactory()
    UnitBudgetFactory(unit=unit, year=YEAR, fiscal_local=Decimal("800"))
    tables = []
    for n in range(4):
        project = ProjectFactory(unit=unit, year=YEAR, budget_initial=Decimal(100 + 37 * n), fiscal=Decimal(100 + 37 * n))
        tables.append(table_with_indicators(project, rows=ROWS))
    tables.append(table_with_indicators(None, rows=ROWS[:3], unit=unit, year=YEAR))
    return unit, tables


def _value(rng: random.Random, indicator) -> dict:
    kind = indicator.target_kind
    if kind == "deadline":
        return {"met": rng.random() < 0.7}
    if kind == "qualitative":
        return {"grade": rng.choice(GRADES)}
    target = indicator.target_value or Decimal(100)
    value = (target * Decimal(rng.uniform(0.2, 1.6))).quantize(Decimal("0.01"))
    if indicator.unit == "%":
        value = min(value, Decimal(100))
    extra = {}
    if rng.random() < 0.5:  # a reason may be required below target; giving one is always allowed
        extra = {"deviation_category": "其他", "deviation_reason": "进度滞后", "likelihood": "有可能"}
    return {"value": value, **extra}


def _step(rng: random.Random, unit, tables) -> str | None:
    """One random action through the services; returns what was done (None: refused or nothing to do)."""
    table, indicators = rng.choice(tables)
    action = rng.choices(["record", "submit", "approve", "return", "execution", "budget", "not_applicable"],
                         weights=[8, 3, 3, 1, 2, 1, 1])[0]
    as_of = rng.choice(DATES)
    try:
        if action == "record":
            indicator = rng.choice(indicators)
            actual_record(indicator=indicator, as_of=as_of, **_value(rng, indicator))
        elif action in ("submit", "approve", "return"):
            reports = list(Report.objects.filter(table=table, status__in=Report.OPEN).order_by("as_of"))
            if not reports:
                return None
            report = rng.choice(reports)
            if report.status == Report.Status.DRAFT:
                report = report_submit(report=report)
            if action == "approve":
                report_approve(report=report)
            elif action == "return":
                report_return(report=report, reason="数据有误")
        elif action == "execution":
            executed = Decimal(rng.randint(0, 900))
            if table.project_id:
                execution_report(project=table.project, as_of=as_of, executed=executed)
            else:
                execution_report(unit=unit, year=YEAR, as_of=as_of, executed=executed)
        elif action == "budget":
            adjusted = Decimal(rng.randint(50, 1000))
            if table.project_id:
                budget_adjust(project=table.project, adjusted=adjusted, reason="年中调整")
            else:
                budget_adjust(unit=unit, year=YEAR, adjusted=adjusted, reason="年中调整")
        else:
            indicator = rng.choice(indicators)
            indicator.refresh_from_db()
            indicator_set_not_applicable(indicator=indicator, not_applicable=not indicator.not_applicable,
                                         reason="政策调整")
    except ValidationError:
        return None  # refused as a person would be (a value the rules refuse): nothing changed
    return action


def _fresh(table: GoalTable) -> dict:
    status = table_statuses(tables=[table])[table.pk]
    indicators, totals = table_scorecard(table=table)
    official, pending = totals["official"], totals["pending"]
    applicable = [i for i in indicators if not i.not_applicable]
    return {
        "light": status.light.value, "light_rank": LIGHT_RANKS[status.light], "budget_light": status.budget_light.value,
        "as_of": status.as_of, "last_update": status.last_update,
        "missing": sum(1 for i in applicable if i.pk not in status.actuals),
        "budget": status.budget, "executed": status.execution.executed if status.execution else None,
        "execution_rate": status.execution_rate,
        "official_as_of": official and official.as_of, "official_total": official and official.total,
        "official_grade": official.grade if official else "", "official_missing": official and official.missing,
        "official_execution_points": official and official.execution_points,
        "official_indicator_points": official and official.indicator_points,
        "official_execution_rate": official and official.execution_rate,
        "provisional_as_of": pending and pending.as_of, "provisional_total": pending and pending.total,
        "provisional_grade": pending.grade if pending else "", "provisional_missing": pending and pending.missing,
    }


def _stored(table: GoalTable) -> dict:
    summary = TableSummary.objects.get(table=table)
    return {name: getattr(summary, name) for name in _fresh_keys()}


def _fresh_keys():
    return ("light", "light_rank", "budget_light", "as_of", "last_update", "missing", "budget", "executed",
            "execution_rate", "official_as_of", "official_total", "official_grade", "official_missing",
            "official_execution_points", "official_indicator_points", "official_execution_rate",
            "provisional_as_of", "provisional_total", "provisional_grade", "provisional_missing")


def _same(a, b) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return a == b


@pytest.mark.parametrize("seed", range(6))
def test_stored_summaries_equal_a_fresh_computation_after_random_changes(world, seed):
    unit, tables = world
    rng = random.Random(seed)
    seen_lights, done = set(), []
    for round_ in range(4):
        for _ in range(12):
            done.append(_step(rng, unit, tables))
        rescore_stale()
        for table, _ in tables:
            table = GoalTable.objects.select_related("project").get(pk=table.pk)
            fresh, stored = _fresh(table), _stored(table)
            wrong = {k: (stored[k], fresh[k]) for k in fresh if not _same(stored[k], fresh[k])}
            assert not wrong, f"seed {seed}, round {round_}, {table}: stored ≠ fresh {wrong}"
            seen_lights.add(stored["light"])
    assert seen_lights - {Light.NONE.value}, "the random year lit no table at all"
    assert done.count("record") >= 8 and done.count("approve") >= 2, done


def test_a_table_never_reported_has_a_summary_with_no_light_and_no_total(world):
    unit, tables = world
    rescore_stale()
    table, _ = tables[0]
    summary = TableSummary.objects.get(table=table)
    assert (summary.light, summary.light_rank, summary.as_of, summary.official_total, summary.missing) == (
        "none", 4, None, None, 6)
    assert (summary.unit_id, summary.year, summary.project_id) == (unit.pk, YEAR, table.project_id)
    unit_table, _ = tables[-1]
    assert TableSummary.objects.get(table=unit_table).project_id is None


def test_the_summary_is_written_with_the_scores_and_replaced_by_the_next_rescore(world):
    unit, tables = world
    table, indicators = tables[0]
    actual_record(indicator=indicators[0], as_of=DATES[2], value=Decimal("10"),
                  deviation_category="其他", deviation_reason="进度滞后", likelihood="有可能")
    rescore_stale()
    first = TableSummary.objects.get(table=table)
    assert first.light == "red" and first.provisional_total is not None and first.official_total is not None
    assert first.missing == 5
    actual_record(indicator=indicators[0], as_of=DATES[2], value=Decimal("100"))
    rescore_stale()
    assert TableSummary.objects.filter(table=table).count() == 1
    assert TableSummary.objects.get(table=table).provisional_total > first.provisional_total


def _status_view(status) -> dict:
    return {
        "light": status.light, "budget_light": status.budget_light, "as_of": status.as_of,
        "last_update": status.last_update, "report": status.report and status.report.pk,
        "budget": status.budget, "execution": status.execution and status.execution.pk,
        "execution_rate": status.execution_rate, "indicators": [i.pk for i in status.indicators],
        "lights": dict(status.indicator_lights),
        "actuals": {k: a.pk for k, a in status.actuals.items()},
        "actual_reports": {k: a.report.pk for k, a in status.actuals.items()},
    }


@pytest.mark.parametrize("seed", range(3))
def test_lights_from_the_scorecards_indicators_equal_those_read_afresh(world, seed, django_assert_num_queries):
    """`table_statuses(…, indicators=…)` (the unit scorecard's 部门整体 table, the project page, the API) judges
    the lights from `table_scorecard`'s indicators and actuals: the same status as reading them again."""
    unit, tables = world
    rng = random.Random(100 + seed)
    for _ in range(3):
        for _ in range(15):
            _step(rng, unit, tables)
        rescore_stale()
        for table, _ in tables:
            table = GoalTable.objects.select_related("project").get(pk=table.pk)
            afresh = table_statuses(tables=[table])[table.pk]
            indicators, _ = table_scorecard(table=table)
            with django_assert_num_queries(2 if table.project_id else 3):  # reports, 执行数 (, the unit budget)
                reused = table_statuses(tables=[table], indicators=indicators)[table.pk]
            assert _status_view(reused) == _status_view(afresh)


def test_reused_indicators_are_for_one_table_without_a_cut(world):
    _, tables = world
    with pytest.raises(ValueError):
        table_statuses(tables=[t for t, _ in tables[:2]], indicators=[])
    with pytest.raises(ValueError):
        table_statuses(tables=[tables[0][0]], cut=dt.date(YEAR, 6, 30), indicators=[])
