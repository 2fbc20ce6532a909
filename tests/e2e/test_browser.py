"""A manager's path through the site in a real browser."""
import pytest

from budgets.services import membership_grant
from kpi.rescoring.tasks import rescore_table
from tests.e2e.conftest import login
from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]




def test_login_and_home(browser_page, live_server):
    lead = UserFactory(username="lead1")
    project = ProjectFactory(lead=lead)
    membership_grant(user=lead, unit=project.unit, role="lead")
    login(browser_page, live_server, "lead1")
    assert project.name in browser_page.content()


def scored_unit():
    """A unit with three scored projects (approved July reports) and its administrator."""
    import datetime as dt
    from decimal import Decimal

    from kpi.reports.services import actual_record, execution_report
    from kpi.rescoring.services import tables_rescore
    from tests.factories import UnitFactory, approve_reports, table_with_indicators

    unit = UnitFactory(name="浏览器测试单位")
    manager = UserFactory(username="manager1", first_name="管理员")
    membership_grant(user=manager, unit=unit, role="admin")
    july = dt.date(2026, 7, 31)
    projects = {}
    for name, achieved in (("乙项目", Decimal("60")), ("甲项目", Decimal("95")), ("丙项目", Decimal("30"))):
        project = ProjectFactory(unit=unit, name=name)
        table, indicators = table_with_indicators(project)
        for indicator in indicators:
            actual_record(indicator=indicator, as_of=july, value=achieved, deviation_reason="测试")
        execution_report(project=project, as_of=july, executed=Decimal("50"))
        approve_reports(table)
        tables_rescore(table_ids=[table.pk])
        projects[name] = project
    return unit, projects


def test_a_manager_sorts_the_scorecard_opens_a_project_and_downloads_its_selfeval(browser_page, live_server, monkeypatch):

    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    page = browser_page
    unit, projects = scored_unit()
    login(page, live_server, "manager1")

    page.goto(f"{live_server.url}/scorecards/units/{unit.pk}/2026/")
    assert "浏览器测试单位" in page.content()
    # sort by 总分, highest first (a click on the header sorts ascending, a second descending)
    page.click("th >> text=总分")
    page.click("th >> text=总分")
    page.wait_for_load_state()
    rows = page.locator("table tbody tr")
    names = [rows.nth(i).locator("td").first.inner_text().strip() for i in range(rows.count())]
    names = [n for n in names if n in projects]
    assert names == ["甲项目", "乙项目", "丙项目"], names

    page.click("table tbody >> text=甲项目")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "甲项目"
    with page.expect_download() as download_info:
        page.click("text=xlsx")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    import io

    import openpyxl

    with open(download.path(), "rb") as handle:
        workbook = openpyxl.load_workbook(io.BytesIO(handle.read()))
    text = " ".join(str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "甲项目" in text and "项目支出绩效自评表" in text
