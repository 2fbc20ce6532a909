"""Builders of the scorecard tests: units and projects scored the way users score them.

Not a conftest: the monitoring tests share this folder; test modules import the fixtures they use.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpi.rescoring.services import tables_rescore
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    ActualFactory,
    BudgetExecutionFactory,
    GoalTableFactory,
    IndicatorFactory,
    ProjectFactory,
    UnitFactory,
    UnitMembershipFactory,
    UserFactory,
    approve_reports,
    table_with_indicators,
)

JULY = dt.date(2026, 7, 31)
YEAR = 2026


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def scored_project(unit, name, *, value=None, executed=None, budget=Decimal("100"), lead_name="张三", lead=None,
                   indicators=4, rescore=True):
    """A project whose `indicators` cumulative indicators (>=10个, 90 points shared) all report `value` in
    July and whose execution is `executed` of `budget`, reports approved. No goal table when value is None
    and executed is None."""
    project = ProjectFactory(unit=unit, name=name, budget_initial=budget, fiscal=budget, lead_name=lead_name,
                             lead=lead)
    if value is None and executed is None:
        return project
    weight = (Decimal("90") / indicators).quantize(Decimal("0.01"))
    rows = [("产出指标", "数量指标", f"{name}指标{i}", ">=10个", weight) for i in range(indicators)]
    table, created = table_with_indicators(project, rows=rows)
    if value is not None:
        for indicator in created:
            ActualFactory(indicator=indicator, as_of=JULY, value=Decimal(value))
    if executed is not None:
        BudgetExecutionFactory(project=project, as_of=JULY, executed=Decimal(executed))
    approve_reports(table)
    if rescore:
        tables_rescore(table_ids=[table.pk])
    return project


def unit_table(unit, *, value=Decimal("95")):
    """The unit's 部门整体 table with two indicators, reported and approved."""
    table = GoalTableFactory(project=None, unit=unit, year=YEAR)
    first = IndicatorFactory(table=table, level1="履职效能", level2="数量指标", name="服务人次", target_raw=">=1000人次",
                             weight=Decimal("60"))
    second = IndicatorFactory(table=table, level1="服务对象满意度", level2="满意度指标", name="群众满意度",
                              target_raw=">=90%", weight=Decimal("30"), rule="满意度赋分")
    ActualFactory(indicator=first, as_of=JULY, value=Decimal("800"))
    ActualFactory(indicator=second, as_of=JULY, value=value)
    approve_reports(table)
    tables_rescore(table_ids=[table.pk])
    return table


# name: (value of each indicator, executed); totals at July with 4 × 22.5 points and 10 for execution:
#   甲 90 + 10 = 100 优 · 丁 81 + 5 = 86 良 · 庚 63 + 8 = 71 中 · 乙 45 + 6 = 51 差 · 戊 36 + 5.8 = 41.8 差
#   丙 27 + 3 = 30 差 · 己 no goal table.
# Lights at month 7 (a × 12 / (t × 7); budget rate × 12 / 7), the project's worst:
#   甲 blue (1.71; budget green) · 丁 blue (1.54; budget 0.86 green) · 庚 blue (1.2; budget 1.37 green)
#   乙 green (0.86; 1.03) · 戊 yellow (0.69; 0.99) · 丙 red (0.51; 0.51) · 己 none
SCENARIO = {
    "甲项目": ("10", "100"),
    "乙项目": ("5", "60"),
    "丙项目": ("3", "30"),
    "丁项目": ("9", "50"),
    "戊项目": ("4", "58"),
    "庚项目": ("7", "80"),
    "己项目": (None, None),
}
TOTALS = {"甲项目": "100.00", "丁项目": "86.00", "庚项目": "71.00", "乙项目": "51.00", "戊项目": "41.80",
          "丙项目": "30.00"}


@pytest.fixture
def unit_world():
    """A 主管部门 with a unit under it holding the scenario's projects; the people around them."""
    parent = UnitFactory(name="市人社局")
    unit = UnitFactory(name="社保中心", parent=parent)
    other = UnitFactory(name="就业局", parent=parent)
    people = {name: UserFactory() for name in ("admin", "lead", "reviewer", "other_admin", "child_reviewer")}
    UnitMembershipFactory(user=people["admin"], unit=unit, role="admin")
    UnitMembershipFactory(user=people["lead"], unit=unit, role="lead")
    UnitMembershipFactory(user=people["reviewer"], unit=parent, role="reviewer")
    UnitMembershipFactory(user=people["other_admin"], unit=other, role="admin")
    projects = {}
    for name, (value, executed) in SCENARIO.items():
        lead_name = "李四" if name in ("甲项目", "丙项目") else "张三"
        projects[name] = scored_project(unit, name, value=value, executed=executed, lead_name=lead_name,
                                        lead=people["lead"] if name == "乙项目" else None)
    return {"parent": parent, "unit": unit, "other": other, "people": people, "projects": projects}


def count_queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries), response
