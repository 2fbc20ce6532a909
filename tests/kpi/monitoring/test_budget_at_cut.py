"""A cut shows the figures as they stood at that date: the 全年预算数 of each project (and of the unit's
部门整体 table) is the one in force at the end of the cut day, read from the history — a budget adjusted
in September is not the July one — on the page, in the workbook and in a fixed number of queries."""
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from io import BytesIO
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from budgets.services import membership_grant
from kpi.monitoring.selectors import budgets_at, end_of_day, monitoring_report, table_statuses
from kpi.reports.services import actual_record, budget_adjust, execution_report
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
D = Decimal
YEAR = 2026
JULY, SEPTEMBER, OCTOBER = dt.date(YEAR, 7, 31), dt.date(YEAR, 9, 30), dt.date(YEAR, 10, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@contextmanager
def on(day: dt.date, hour: int = 10):
    """Everything saved inside happens on that day (its history records and timestamps are dated then)."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def world():
    """A project published at 120 万元 in January, 42 spent by July, adjusted to 200 on September 10 and
    150 spent by September; the unit's own budget 150, raised to 300 on September 10; and a project first
    entered in August (80, adjusted to 90 in September)."""
    with on(dt.date(YEAR, 1, 10)):
        unit = UnitFactory(name="预算测试单位")
        project = ProjectFactory(unit=unit, name="甲项目", code="P1", budget_initial=D("120"), fiscal=D("120"))
        table, (indicator, *_rest) = table_with_indicators(project)
        unit_table, (check,) = table_with_indicators(
            unit=unit, year=YEAR, rows=[("产出指标", "数量指标", "检查次数", ">=12次", D("20"))])
        budget_adjust(unit=unit, year=YEAR, adjusted=D("150"), reason="年初预算")
    with on(dt.date(YEAR, 8, 1)):
        execution_report(project=project, as_of=JULY, executed=D("42"))
        execution_report(unit=unit, year=YEAR, as_of=JULY, executed=D("60"))
        actual_record(indicator=indicator, as_of=JULY, value=D("60"))
    with on(dt.date(YEAR, 8, 5)):
        late = ProjectFactory(unit=unit, name="乙项目", code="P2", budget_initial=D("80"), fiscal=D("80"))
    with on(dt.date(YEAR, 9, 10)):
        budget_adjust(project=project, adjusted=D("200"), reason="追加预算")
        budget_adjust(project=late, adjusted=D("90"), reason="追加预算")
        budget_adjust(unit=unit, year=YEAR, adjusted=D("300"), reason="追加预算")
    with on(dt.date(YEAR, 10, 2)):
        execution_report(project=project, as_of=SEPTEMBER, executed=D("150"))
    return {"unit": unit, "project": project, "late": late, "table": table, "unit_table": unit_table}


def block_of(report, project):
    return next(b for b in report.blocks if b.project == project)


def unit_block(report):
    return next(b for b in report.blocks if b.is_unit)


def test_the_july_report_shows_the_july_budget_and_the_october_report_the_new_one(world):
    july = monitoring_report(unit=world["unit"], year=YEAR, cut=JULY)
    block = block_of(july, world["project"])
    assert (block.budget, block.executed, block.execution_rate) == (D("120"), D("42"), D("0.3500"))
    assert block.budget_now == D("200") and block.adjusted_since
    # 0.35 / (7/12) = 0.6: yellow against the July budget (it would be red, 0.36, against the adjusted 200)
    assert block.budget_light.value == "yellow"
    assert (unit_block(july).budget, unit_block(july).execution_rate) == (D("150"), D("0.4000"))

    october = monitoring_report(unit=world["unit"], year=YEAR, cut=OCTOBER)
    block = block_of(october, world["project"])
    assert (block.budget, block.executed, block.execution_rate) == (D("200"), D("150"), D("0.7500"))
    assert not block.adjusted_since
    assert (unit_block(october).budget, unit_block(october).execution_rate) == (D("300"), D("0.2000"))


def test_the_budget_is_the_one_in_force_at_the_end_of_the_cut_day(world):
    """The adjustment saved on September 10 (local time) is in the September 10 cut, not the September 9 one."""
    project = world["project"]
    assert budgets_at(project_ids=[project.pk], cut=dt.date(YEAR, 9, 9)) == {project.pk: D("120")}
    assert budgets_at(project_ids=[project.pk], cut=dt.date(YEAR, 9, 10)) == {project.pk: D("200")}
    assert end_of_day(dt.date(YEAR, 9, 10)) == timezone.make_aware(dt.datetime(YEAR, 9, 11))


def test_a_project_entered_after_the_cut_shows_its_budget_as_first_entered(world):
    july = monitoring_report(unit=world["unit"], year=YEAR, cut=JULY)
    assert block_of(july, world["late"]).budget == D("80")  # not the 90 of September
    assert block_of(monitoring_report(unit=world["unit"], year=YEAR, cut=OCTOBER), world["late"]).budget == D("90")


def test_the_lights_of_a_table_at_a_cut_use_the_budget_of_the_cut(world):
    table = world["table"]
    table.project = world["project"]
    at_july = table_statuses(tables=[table], cut=JULY)[table.pk]
    assert (at_july.budget, at_july.budget_now, at_july.execution_rate) == (D("120"), D("200"), D("0.3500"))
    today = table_statuses(tables=[table])[table.pk]  # the scorecards: today's budget
    assert (today.budget, today.execution_rate) == (D("200"), D("0.7500"))


@pytest.fixture
def admin(world):
    user = UserFactory()
    membership_grant(user=user, unit=world["unit"], role="admin")
    return user


def test_the_page_and_the_workbook_follow_the_cut(client, world, admin):
    client.force_login(admin)
    url = reverse("monitoring:unit", args=[world["unit"].pk, YEAR])
    page = client.get(f"{url}?cut={JULY}").content.decode()
    assert "35.00%" in page and "截至日的预算；之后调整为 200" in page
    page = client.get(f"{url}?cut={OCTOBER}").content.decode()
    assert "75.00%" in page and "之后调整为" not in page

    xlsx = reverse("monitoring:unit-xlsx", args=[world["unit"].pk, YEAR])
    ws = load_workbook(BytesIO(client.get(f"{xlsx}?cut={JULY}").content)).active
    rows = list(ws.iter_rows())
    head = next(i for i, row in enumerate(rows) if row[0].value == "项目名称" and row[1].value == "甲项目")
    budget = rows[head + 1]
    assert [c.value for c in budget[:6]] == ["全年预算数", 120, "执行数", 42, "执行率", 0.35]
    assert "之后调整为 200" in budget[1].comment.text
    ws = load_workbook(BytesIO(client.get(f"{xlsx}?cut={OCTOBER}").content)).active
    rows = list(ws.iter_rows())
    head = next(i for i, row in enumerate(rows) if row[0].value == "项目名称" and row[1].value == "甲项目")
    assert [c.value for c in rows[head + 1][:6]] == ["全年预算数", 200, "执行数", 150, "执行率", 0.75]
    assert rows[head + 1][1].comment is None


def test_the_query_count_does_not_grow_with_projects_or_adjustments(django_assert_num_queries):
    def unit_with(projects: int, adjustments: int):
        unit = UnitFactory()
        for _n in range(projects):
            project = ProjectFactory(unit=unit, budget_initial=D("100"), fiscal=D("100"))
            table_with_indicators(project)
            for k in range(adjustments):
                budget_adjust(project=project, adjusted=D(101 + k), reason=f"第{k + 1}次调整")
        table_with_indicators(unit=unit, year=YEAR, rows=[("产出指标", "数量指标", "次数", ">=1次", D("10"))])
        for k in range(adjustments):
            budget_adjust(unit=unit, year=YEAR, adjusted=D(50 + k), reason="调整")
        return unit

    small, large = unit_with(1, 1), unit_with(5, 4)
    with CaptureQueriesContext(connection) as one:
        monitoring_report(unit=small, year=YEAR, cut=JULY)
    # projects, tables, the projects' history, indicators, actuals, execution, the unit budget's history, reports
    assert len(one) == 8
    with django_assert_num_queries(len(one)):
        report = monitoring_report(unit=large, year=YEAR, cut=JULY)
    assert len(report.blocks) == 6
