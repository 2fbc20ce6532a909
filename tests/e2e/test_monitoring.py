"""The 绩效运行监控表 as a reviewer finds it in a real browser, and the Chinese 403 page a lead meets."""
import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from budgets.services import membership_grant
from kpi.reports.services import actual_record, budget_adjust, execution_report
from kpi.rescoring.tasks import rescore_table
from tests.e2e.conftest import login
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
YEAR = 2026
D = Decimal


@contextmanager
def on(day: dt.date):
    """What is saved inside is dated that day (its history records too)."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield




@pytest.fixture
def year_of_a_unit(monkeypatch):
    """A unit under a 主管部门: a project budgeted 120 万元 in January, 42 spent by July, its budget raised to
    200 on September 10, 150 spent by September; its reviewer and its lead."""
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    with on(dt.date(YEAR, 1, 10)):
        parent = UnitFactory(name="示范市人社局")
        unit = UnitFactory(name="示范社保中心", parent=parent)
        reviewer = UserFactory(username="reviewer1", first_name="陈静")
        lead = UserFactory(username="lead1", first_name="王芳")
        membership_grant(user=reviewer, unit=parent, role="reviewer")
        membership_grant(user=lead, unit=unit, role="lead")
        project = ProjectFactory(unit=unit, name="待遇发放项目", lead=lead, budget_initial=D("120"), fiscal=D("120"))
        _table, (indicator, *_rest) = table_with_indicators(project)
    with on(dt.date(YEAR, 8, 1)):
        execution_report(project=project, as_of=dt.date(YEAR, 7, 31), executed=D("42"))
        actual_record(indicator=indicator, as_of=dt.date(YEAR, 7, 31), value=D("60"), user=lead)
    with on(dt.date(YEAR, 9, 10)):
        budget_adjust(project=project, adjusted=D("200"), reason="追加预算")
    with on(dt.date(YEAR, 10, 2)):
        execution_report(project=project, as_of=dt.date(YEAR, 9, 30), executed=D("150"))
    return {"unit": unit, "project": project}


def budget_cell(page):
    """The 全年预算数 cell of the project's block on the 监控表."""
    block = page.locator("section.monitoring-block", has_text="待遇发放项目")
    return block.locator("table").first.locator("tbody td").first.inner_text()


def test_a_reviewer_goes_from_the_scorecard_and_a_project_page_to_the_monitoring_at_a_cut(
        browser_page, live_server, year_of_a_unit):
    page, unit = browser_page, year_of_a_unit["unit"]
    login(page, live_server, "reviewer1")

    # from the unit scorecard: the cut chosen there, 1–7月 already picked
    page.goto(f"{live_server.url}/scorecards/units/{unit.pk}/{YEAR}/")
    form = page.locator("form.monitoring-cut")
    assert form.locator("select[name=cut]").input_value() == "2026-07-31"
    form.locator("select[name=cut]").select_option(label="1–7月")
    form.locator("button", has_text="查看监控表").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "示范社保中心 2026年 绩效运行监控表（1–7月）"
    cell = budget_cell(page)
    assert cell.startswith("120") and "之后调整为 200" in cell  # the July budget, not September's
    assert "35.00%" in page.content()  # 42 / 120

    # from the project page: the project's unit, another month picked there
    page.go_back()
    page.wait_for_load_state()
    page.locator("table tbody").get_by_role("link", name="待遇发放项目").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "待遇发放项目"
    form = page.locator("form.monitoring-cut")
    assert "示范社保中心 绩效运行监控表" in form.inner_text()
    form.locator("select[name=cut]").select_option(label="1–10月")
    form.locator("button", has_text="查看监控表").click()
    page.wait_for_load_state()
    assert "绩效运行监控表（1–10月）" in page.locator("h1").inner_text()
    cell = budget_cell(page)
    assert cell.startswith("200") and "之后调整为" not in cell
    assert "75.00%" in page.content()  # 150 / 200

    # and back to the index, where 1–7月 is the default
    page.click("text=← 绩效运行监控")
    page.wait_for_load_state()
    assert page.locator("select[name=month]").input_value() == "10"
    page.goto(f"{live_server.url}/monitoring/")
    assert page.locator("select[name=month]").input_value() == "7"
    page.locator("tr", has_text="示范社保中心").get_by_role("link", name="1–7月监控表").click()
    page.wait_for_load_state()
    assert budget_cell(page).startswith("120")


def test_a_lead_opening_an_administrator_page_sees_the_chinese_403_page(browser_page, live_server, year_of_a_unit):
    page, unit = browser_page, year_of_a_unit["unit"]
    login(page, live_server, "lead1")
    response = page.goto(f"{live_server.url}/units/{unit.pk}/years/{YEAR}/")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "无权访问（403）"
    assert "只有本单位的单位管理员" in page.locator(".message.error").inner_text()
    assert "Forbidden" not in page.content()
    page.click("text=回到“我的项目”")
    page.wait_for_url(f"{live_server.url}/")
    assert "待遇发放项目" in page.content()
    # the lead has no way to the unit's monitoring from their project page
    page.click("text=待遇发放项目")
    page.wait_for_load_state()
    assert page.locator("form.monitoring-cut").count() == 0
