"""A 主管部门 with two units under it, each with a scored project; a finance reviewer above them, a reviewer of
another tree, the first unit's administrator and lead. Nothing is enqueued (rescores run by hand)."""
import datetime as dt
from decimal import Decimal

import pytest

from budgets.services import membership_grant
from kpi.reports.services import actual_record, execution_report
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    ProjectFactory,
    UnitFactory,
    UserFactory,
    approve_reports,
    rescore_stale,
    table_with_indicators,
)

JULY = dt.date(2026, 7, 31)
DECEMBER = dt.date(2026, 12, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def scored_project(unit, name, *, values, executed, as_of=DECEMBER, lead=None, year=2026):
    """A project of the unit with the default indicator rows, its actuals approved and 执行数 recorded."""
    project = ProjectFactory(unit=unit, name=name, lead=lead, year=year)
    table, indicators = table_with_indicators(project)
    for indicator, value in zip(indicators, values, strict=True):
        actual_record(indicator=indicator, as_of=as_of, value=Decimal(value), deviation_reason="说明",
                      deviation_category="其他")
    approve_reports(table)
    execution_report(project=project, as_of=as_of, executed=Decimal(executed))
    return project, table, indicators


class World(dict):
    __getattr__ = dict.__getitem__


@pytest.fixture
def world():
    department = UnitFactory(name="示范市财政局")
    unit_a = UnitFactory(name="单位甲", parent=department)
    unit_b = UnitFactory(name="单位乙", parent=department)
    elsewhere = UnitFactory(name="另一地区财政局")
    people = World(finance=UserFactory(username="finance"), admin=UserFactory(username="admin_a"),
                   lead=UserFactory(username="lead_a"), outsider=UserFactory(username="outsider"),
                   superuser=UserFactory(username="root", is_superuser=True))
    membership_grant(user=people.finance, unit=department, role="reviewer")
    membership_grant(user=people.admin, unit=unit_a, role="admin")
    membership_grant(user=people.lead, unit=unit_a, role="lead")
    membership_grant(user=people.outsider, unit=elsewhere, role="reviewer")
    # 培训人次 ≥100 (40), 合格率 ≥95% (20), 人均成本 ≤50 (20), 满意度 ≥90% (10, 满意度赋分); budget 100
    good = scored_project(unit_a, "培训项目", values=["150", "96", "40", "95"], executed="75", lead=people.lead)
    fair = scored_project(unit_b, "宣传项目", values=["80", "90", "60", "85"], executed="95")
    rescore_stale()
    return World(department=department, unit_a=unit_a, unit_b=unit_b, elsewhere=elsewhere, people=people,
                 good=good, fair=fair)
