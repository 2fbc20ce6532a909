"""A 主管部门 tree with four units, each with a project using the same indicators; a reviewer above them, a
unit administrator and a lead; a unit of another tree. Nothing is enqueued."""
from decimal import Decimal

import pytest

from budgets.services import membership_grant
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def rows(rate: str, cost: str = "<=50元/人", name: str = "合格率"):
    return [
        ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("40")),
        ("产出指标", "质量指标", name, rate, Decimal("20")),
        ("成本指标", "经济成本指标", "人均成本", cost, Decimal("20")),
        ("满意度指标", "服务对象满意度指标", "满意度", ">=90%", Decimal("10"), "满意度赋分"),
    ]


@pytest.fixture
def tree():
    parent = UnitFactory(name="示范市人社局")
    units = [UnitFactory(name=f"示范单位{i}", parent=parent) for i in range(4)]
    tables = []
    for unit, rate, cost in zip(units, (">=90%", ">=95%", ">=95%", ">=98%"), ("<=40元/人", "<=50元/人", "<=55元/人", "<=60元/人"),
                                strict=True):
        table, indicators = table_with_indicators(ProjectFactory(unit=unit), rows(rate, cost))
        tables.append((table, indicators))
    reviewer, admin, lead, outsider = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    membership_grant(user=reviewer, unit=parent, role="reviewer")
    membership_grant(user=admin, unit=units[0], role="admin")
    membership_grant(user=lead, unit=units[0], role="lead")
    membership_grant(user=outsider, unit=UnitFactory(name="另一省某单位"), role="admin")
    return {"parent": parent, "units": units, "tables": tables, "reviewer": reviewer, "admin": admin, "lead": lead,
            "outsider": outsider}
