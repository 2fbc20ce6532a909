"""The administrators' and reviewers' year in a real browser: the review count in the navigation, the queue,
approving from it, 年度关账 with its open items and its explicit confirmation, the overdue list, reopening."""
import datetime as dt
import re
from decimal import Decimal

import pytest

from budgets.models import Role
from budgets.services import membership_grant
from kpi.goals.services import goal_table_approve
from kpi.models import GoalTable, Report
from kpi.reports.services import actual_record, report_open, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.e2e.conftest import login
from tests.factories import IMPORTED, ProjectFactory, UnitFactory, UserFactory, rescore_stale, table_with_indicators

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
AUGUST, SEPTEMBER = dt.date(2026, 8, 31), dt.date(2026, 9, 30)




def nav(page):
    return page.locator("header nav")


def build_year():
    """主管局 above 甲中心 (closing its year) and 乙中心. 甲: 培训项目 with August and September reports
    submitted, 宣传项目 reported nothing; 乙: 道路项目 reported nothing. Tables approved."""
    bureau = UnitFactory(name="市人社局")
    unit = UnitFactory(name="甲中心", parent=bureau)
    other = UnitFactory(name="乙中心", parent=bureau)
    admin = UserFactory(username="admin1", last_name="刘", first_name="敏")
    reviewer = UserFactory(username="reviewer1", last_name="陈", first_name="静")
    lead = UserFactory(username="lead1", last_name="王", first_name="芳")
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    membership_grant(user=reviewer, unit=bureau, role=Role.REVIEWER)
    membership_grant(user=lead, unit=unit, role=Role.LEAD)
    training = ProjectFactory(unit=unit, name="培训项目", lead=lead)
    publicity = ProjectFactory(unit=unit, name="宣传项目", lead=lead)
    roads = ProjectFactory(unit=other, name="道路项目", lead_name="赵六")
    tables = {}
    for project in (training, publicity, roads):
        tables[project.name], _ = table_with_indicators(project, source=IMPORTED)
        goal_table_approve(table=tables[project.name], user=admin)
    for as_of in (AUGUST, SEPTEMBER):
        report = report_open(table=tables["培训项目"], as_of=as_of, user=lead)
        for indicator, value in zip(tables["培训项目"].indicators.order_by("order"), ("120", "96", "45", "93"),
                                    strict=True):
            actual_record(indicator=indicator, as_of=as_of, value=Decimal(value), report=report, user=lead)
        report_submit(report=report, user=lead)
    rescore_stale()
    return unit, tables, training


def test_the_administrator_approves_from_the_queue_closes_the_year_and_reopens_it(browser_page, live_server,
                                                                                  monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    page = browser_page
    unit, tables, training = build_year()
    login(page, live_server, "admin1")

    # The count in the navigation, then the queue, the longest waiting first.
    assert "待审核 (2)" in nav(page).inner_text()
    nav(page).get_by_role("link", name=re.compile("待审核")).click()
    page.wait_for_url(re.compile(r"/reviews/$"))
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    assert "2026-08-31" in rows.nth(0).inner_text() and "培训项目" in rows.nth(0).inner_text()

    # It opens on the report at its date, at its 审核 buttons; approve there.
    rows.nth(0).get_by_role("link", name="打开审核").click()
    page.wait_for_url(re.compile(r"/tables/\d+/report/\?as_of=2026-08-31#review$"))
    page.locator("#review").get_by_role("button", name="审核通过").click()
    page.wait_for_load_state()
    assert "已审核通过" in page.locator("main").inner_text()
    assert "待审核 (1)" in nav(page).inner_text()
    assert Report.objects.get(table=tables["培训项目"], as_of=AUGUST).status == Report.Status.APPROVED

    # 年度关账, from the project page: what is still open is listed.
    page.goto(f"{live_server.url}/projects/{training.pk}/")
    page.get_by_role("link", name="年度关账").first.click()
    page.wait_for_url(re.compile(rf"/units/{unit.pk}/years/2026/$"))
    checks = page.locator(".card").first.inner_text()
    assert "1 份填报待审核" in checks and "0 份草稿未提交" in checks
    assert "宣传项目" in checks and "培训人次、合格率、人均成本、满意度" in checks

    # Refused while a report waits, beside the checkbox; then confirmed explicitly.
    page.get_by_role("button", name="确认关账 2026 年度").click()
    page.wait_for_load_state()
    form = page.locator("form.close-form")
    assert "仍有 1 份填报已提交、等待审核" in form.inner_text()
    assert page.locator(".summary").inner_text().count("开放") == 1
    page.get_by_label("仍有待审核的填报，确认关账").check()
    page.get_by_role("button", name="确认关账 2026 年度").click()
    page.wait_for_load_state()
    assert "2026 年度已关账。" in page.locator("main").inner_text()
    assert "已关账" in page.locator(".summary").inner_text()
    assert set(GoalTable.objects.filter(unit=unit).values_list("status", flat=True)) == {"closed"}
    # The waiting report leaves the count; the queue lists it apart, as a closed year's.
    assert "待审核 (" not in nav(page).inner_text()
    nav(page).get_by_role("link", name=re.compile("待审核")).click()
    assert "已关账年度中未审核的填报" in page.locator("main").inner_text()

    # A reviewer above sees who has not reported, per unit and the month chosen.
    login(page, live_server, "reviewer1")
    nav(page).get_by_role("link", name="逾期未报").click()
    page.wait_for_url(re.compile(r"/reminders/overdue/"))
    page.select_option("select[name=month]", "2026-08")
    page.get_by_role("button", name="查看").click()
    page.wait_for_load_state()
    main = page.locator("main").inner_text()
    assert "2026年8月" in main and "乙中心" in main and "道路项目" in main and "赵六" in main
    assert "宣传项目" not in main  # 甲中心's year is closed: nothing more is due there

    # Reopening gives each table its status back.
    login(page, live_server, "admin1")
    page.goto(f"{live_server.url}/units/{unit.pk}/years/2026/")
    page.get_by_label("重新开放原因").fill("审计要求补充九月数据")
    page.get_by_role("button", name="重新开放 2026 年度").click()
    page.wait_for_load_state()
    assert "已重新开放" in page.locator("main").inner_text()
    statuses = page.locator("xpath=//h2[text()='绩效目标表']/following-sibling::table[1]").inner_text()
    assert statuses.count("已批复") == 2 and "已关闭" not in statuses
    assert set(GoalTable.objects.filter(unit=unit).values_list("status", flat=True)) == {"approved"}
    assert "待审核 (1)" in nav(page).inner_text()
