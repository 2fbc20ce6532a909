"""A table shows the same light everywhere: the scorecard and the 绩效运行监控表 read one computation, and
for the 部门整体 table both count the unit's own 执行数 against the unit's 年度预算."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.models import UnitBudget
from budgets.services import membership_grant
from kpi.goals.services import goal_table_create, indicator_create
from kpi.lights import Light
from kpi.monitoring.selectors import monitoring_report, table_statuses
from kpi.reports.services import actual_record, execution_report
from kpi.rescoring.tasks import rescore_table
from tests.factories import UnitFactory, UserFactory, approve_reports, rescore_stale

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def unit_with_its_own_table(*, executed: str):
    unit = UnitFactory()
    UnitBudget.objects.create(unit=unit, year=2026, fiscal_local=Decimal("1000"))
    table = goal_table_create(unit=unit, year=2026)
    indicator = indicator_create(table=table, level1="履职效能", level2="质量指标", name="办结率", target_raw=">=95%",
                                 weight=Decimal("90"))
    actual_record(indicator=indicator, as_of=JULY, value=Decimal("98"))  # green
    approve_reports(table)
    execution_report(unit=unit, year=2026, as_of=JULY, executed=Decimal(executed))
    rescore_stale()
    return unit, table


# At July the budget light is 执行率 × 12 / 7 of the unit's 1000 万元: 100 → 0.17 red, 400 → 0.69 yellow,
# 700 → 1.2 green; the indicator is green, so the table shows the budget's light.
@pytest.mark.parametrize(("executed", "light"), [("100", Light.RED), ("400", Light.YELLOW), ("700", Light.GREEN)])
def test_the_unit_table_light_counts_the_units_own_execution(executed, light):
    unit, table = unit_with_its_own_table(executed=executed)
    table.project = None
    status = table_statuses(tables=[table])[table.pk]
    block = monitoring_report(unit=unit, year=2026, cut=JULY).blocks[0]
    assert block.is_unit
    assert status.budget_light == block.budget_light == light
    assert status.light == block.light == light
    assert (status.execution_rate, status.budget) == (block.execution_rate, block.budget)


def test_scorecard_and_monitoring_page_show_the_same_light(client):
    unit, table = unit_with_its_own_table(executed="100")
    admin = UserFactory()
    membership_grant(user=admin, unit=unit, role="admin")
    client.force_login(admin)
    scorecard = client.get(reverse("scorecards:unit", args=[unit.pk, 2026]))
    monitoring = client.get(reverse("monitoring:unit", args=[unit.pk, 2026]))
    assert scorecard.context["unit_status"].light == Light.RED
    assert monitoring.context["report"].blocks[0].light == Light.RED
