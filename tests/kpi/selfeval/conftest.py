"""A hand-built project for the self-evaluation tests, made the way people make it: through the services."""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from kpi import scoring
from kpi.goals.services import goal_table_approve, indicator_set_not_applicable
from kpi.models import GoalTable, Indicator, Report
from kpi.reports.services import report_approve, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    IMPORTED,
    ActualFactory,
    BudgetExecutionFactory,
    ProjectFactory,
    UnitFactory,
    UnitMembershipFactory,
    UserFactory,
    rescore_stale,
    table_with_indicators,
)

JULY = dt.date(2026, 7, 31)
OCTOBER = dt.date(2026, 10, 31)
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("30")),
    ("产出指标", "质量指标", "培训合格率", ">=95%", Decimal("20")),
    ("成本指标", "经济成本指标", "人均培训成本", "<=50元/人", Decimal("15")),
    ("效益指标", "社会效益指标", "就业服务质量", "有效提升", Decimal("10"), "按评判等级赋分"),
    ("满意度指标", "服务对象满意度指标", "参训人员满意度", ">=90%", Decimal("10"), "满意度赋分"),
    ("效益指标", "可持续影响指标", "长效机制建设", "持续提高", Decimal("5"), "按评判等级赋分"),
]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    """Rescoring is never enqueued: every table a report shows is stale until the report rescores it."""
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@dataclass
class World:
    bureau: object
    unit: object
    project: object
    table: GoalTable
    indicators: list[Indicator]
    admin: object
    lead: object
    reviewer: object


def build_world() -> World:
    """主管部门 → unit → project (funds 200 = 150 财政 + 30 结转 + 20 其他) with six indicators: three approved
    actuals, one approved graded, one with no actual at all, one not applicable; plus a correction of
    the cost indicator that is still a draft (must not count) and 150 万元 executed."""
    bureau = UnitFactory(code="SE-BUREAU", name="测试市人社局")
    unit = UnitFactory(code="SE-UNIT", name="测试市就业服务中心", parent=bureau)
    admin, lead, reviewer = UserFactory(), UserFactory(), UserFactory()
    UnitMembershipFactory(user=admin, unit=unit, role="admin")
    UnitMembershipFactory(user=lead, unit=unit, role="lead")
    UnitMembershipFactory(user=reviewer, unit=bureau, role="reviewer")
    project = ProjectFactory(unit=unit, name="职业技能培训补贴项目", lead=lead, budget_initial=Decimal("200.00"),
                             fiscal=Decimal("150.00"), carryover=Decimal("30.00"), other=Decimal("20.00"))
    table, indicators = table_with_indicators(project, rows=ROWS, source=IMPORTED)
    goal_table_approve(table=table)
    table.refresh_from_db()
    indicator_set_not_applicable(indicator=indicators[5], not_applicable=True, reason="本年度未开展")
    ActualFactory(indicator=indicators[0], as_of=JULY, value=Decimal("80"), deviation_category="经费保障",
                  deviation_reason="下半年资金到位较晚", rectification_measures="提前拨付培训资金", user=lead)
    ActualFactory(indicator=indicators[1], as_of=JULY, value=Decimal("96"), user=lead)
    cost = ActualFactory(indicator=indicators[2], as_of=JULY, value=Decimal("40"), user=lead)
    ActualFactory(indicator=indicators[3], as_of=JULY, grade="部分达成年度指标并具有一定效果", points=Decimal("7"),
                  user=lead)
    report = Report.objects.get(table=table, as_of=JULY)
    report_submit(report=report, user=lead)
    report_approve(report=report, user=admin)
    # A correction still in draft: the official figures ignore it.
    ActualFactory(indicator=indicators[2], as_of=JULY, value=Decimal("100"), replaces=cost, user=lead)
    BudgetExecutionFactory(project=project, as_of=JULY, executed=Decimal("150.00"), user=lead)
    rescore_stale()
    return World(bureau, unit, project, table, [Indicator.objects.get(pk=i.pk) for i in indicators], admin, lead,
                 reviewer)


@pytest.fixture
def world(db) -> World:
    return build_world()


@dataclass
class Expected:
    points: list  # per indicator: Decimal, or None (missing / not applicable)
    execution: scoring.ExecutionScore
    total: scoring.TableTotal
    grade: str
    explanations: list  # per indicator: the engine's one-line explanation, or None


def expected_scores(indicators, *, values=None) -> Expected:
    """What the engine gives for the world's approved values, computed with the pure scoring functions."""
    values = values or {}
    inputs = [
        {"actual": values.get(0, Decimal("80"))},
        {"actual": Decimal("96")},
        {"actual": values.get(2, Decimal("40"))},
        {"actual": None, "grade": "部分达成年度指标并具有一定效果", "points": Decimal("7")},
        None,  # no actual
        None,  # not applicable
    ]
    points, explanations = [], []
    for indicator, given in zip(indicators, inputs):
        if given is None:
            points.append(None)
            explanations.append(None)
            continue
        result = scoring.score_indicator(rule=indicator.rule, target=indicator.target, weight=indicator.weight, **given)
        points.append(result.points)
        explanations.append(result.explanation)
    execution = scoring.score_execution(budget=Decimal("200.00"), executed=Decimal("150.00"))
    items = [scoring.TableItem(i.weight, p, i.not_applicable) for i, p in zip(indicators, points)]
    total = scoring.score_table(items=items, execution=execution)
    return Expected(points, execution, total, scoring.grade_for(total.total), explanations)


def other_unit_users():
    """An administrator, a lead and a reviewer of another unit."""
    other = UnitFactory()
    users = {}
    for role in ("admin", "lead", "reviewer"):
        users[role] = UnitMembershipFactory(unit=other, role=role).user
    return users
