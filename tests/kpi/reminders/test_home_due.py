"""我的项目: the 填报 link opens the date that needs the person (a returned or draft report's date, else the
month due), a lead sees what is due this month, and a pending report is never hidden behind a later one."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets.models import Role
from budgets.services import membership_grant
from kpi.reports.services import actual_record, report_approve, report_open, report_return, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
JULY, AUGUST, SEPTEMBER = dt.date(2026, 7, 31), dt.date(2026, 8, 31), dt.date(2026, 9, 30)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def today(monkeypatch):
    """Today is 3 October 2026 unless a test moves it: September's figures are due by the 5th."""
    day = {"today": dt.date(2026, 10, 3)}
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day["today"])
    return day


@pytest.fixture
def world(today):
    unit = UnitFactory(name="示范中心")
    lead, admin = UserFactory(), UserFactory()
    membership_grant(user=lead, unit=unit, role=Role.LEAD)
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    projects = {}
    for name in ("退回项目", "草稿项目", "按时项目", "未报项目"):
        projects[name] = ProjectFactory(unit=unit, name=name, lead=lead)
        table_with_indicators(projects[name])
    return {"unit": unit, "lead": lead, "admin": admin, "projects": projects}


def record(project, as_of, *, submit=False):
    table = project.goal_tables.get()
    report = report_open(table=table, as_of=as_of)
    actual_record(indicator=table.indicators.order_by("order").first(), as_of=as_of, value=Decimal("120"),
                  report=report, deviation_reason="测试")
    return report_submit(report=report) if submit else report


def report_links(page):
    """Per project name, the 填报 link of its row."""
    rows = page.split('class="grid my-projects"', 1)[1].split("</table>", 1)[0].split("<tr>")[2:]
    links = {}
    for row in rows:
        name = re.search(r'href="/projects/\d+/">([^<]+)</a>', row).group(1)
        found = re.search(r'href="(/tables/\d+/report/[^"]*)">填报</a>', row)
        links[name] = found.group(1) if found else None
    return links


def test_the_report_link_opens_the_date_that_needs_the_lead(client, world):
    projects = world["projects"]
    returned = record(projects["退回项目"], JULY, submit=True)
    report_return(report=returned, reason="数据有误")
    record(projects["退回项目"], SEPTEMBER, submit=True)  # later months do not hide the return
    record(projects["草稿项目"], AUGUST)
    record(projects["按时项目"], SEPTEMBER, submit=True)
    client.force_login(world["lead"])
    links = report_links(client.get(reverse("home")).content.decode())
    table = {name: p.goal_tables.get().pk for name, p in projects.items()}
    assert links == {
        "退回项目": f"/tables/{table['退回项目']}/report/?as_of=2026-07-31",
        "草稿项目": f"/tables/{table['草稿项目']}/report/?as_of=2026-08-31",
        "按时项目": f"/tables/{table['按时项目']}/report/?as_of=2026-09-30",
        "未报项目": f"/tables/{table['未报项目']}/report/?as_of=2026-09-30",  # the month due by 5 October
    }
    page = client.get(reverse("home")).content.decode()
    assert "截至 7月31日 的填报已退回，待修改后重新提交" in page and "截至 8月31日 的填报为草稿，尚未提交" in page


def test_a_corrected_return_no_longer_needs_the_lead(client, world):
    project = world["projects"]["退回项目"]
    report_return(report=record(project, JULY, submit=True), reason="数据有误")
    record(project, JULY, submit=True)  # corrected and resubmitted
    client.force_login(world["lead"])
    link = report_links(client.get(reverse("home")).content.decode())["退回项目"]
    assert link.endswith("?as_of=2026-09-30")


def test_a_pending_report_is_not_hidden_behind_a_later_one(client, world):
    project = world["projects"]["按时项目"]
    record(project, AUGUST, submit=True)
    report_approve(report=record(project, SEPTEMBER, submit=True))
    client.force_login(world["admin"])
    page = client.get(reverse("home")).content.decode()
    row = page.split("按时项目", 1)[1].split("</tr>", 1)[0]
    assert "截至 9月30日 · 已审核" in row and "另有 1 份填报待审核" in row


def test_a_lead_sees_what_is_due_this_month(client, world, settings):
    settings.JIXIAO_REMINDER_DAY = 5
    projects = world["projects"]
    record(projects["按时项目"], SEPTEMBER, submit=True)
    record(projects["草稿项目"], dt.date(2026, 9, 1))  # a draft of the month counts, as for the reminders
    client.force_login(world["lead"])
    page = client.get(reverse("home")).content.decode()
    due = page.split('aria-label="本月应报"', 1)[1].split("</section>", 1)[0]
    assert "本月应报：2026年9月（截至 2026-09-30）" in due
    assert "每月 5 日前填报上月的实际完成情况：2026年9月的数据应于 2026年10月5日 前填报" in due
    assert "已过期限" not in due
    assert "退回项目" in due and "未报项目" in due and "按时项目" not in due and "草稿项目" not in due
    unreported = projects["未报项目"]
    assert f'href="/projects/{unreported.pk}/report/?as_of=2026-09-30">去填报 9月30日</a>' in due


def test_after_the_due_day_it_says_the_deadline_has_passed(client, world, today, settings):
    settings.JIXIAO_REMINDER_DAY = 5
    today["today"] = dt.date(2026, 10, 12)
    client.force_login(world["lead"])
    due = client.get(reverse("home")).content.decode().split('aria-label="本月应报"', 1)[1].split("</section>", 1)[0]
    assert "已过期限" in due and "补报 9月30日" in due
    for project in world["projects"].values():
        record(project, SEPTEMBER)
    due = client.get(reverse("home")).content.decode().split('aria-label="本月应报"', 1)[1].split("</section>", 1)[0]
    assert "您负责的项目均已填报2026年9月的数据" in due


def test_only_leads_get_the_due_box(client, world):
    client.force_login(world["admin"])
    assert 'aria-label="本月应报"' not in client.get(reverse("home")).content.decode()


def test_the_home_query_count_does_not_grow_with_projects(client, world, django_assert_num_queries):
    client.force_login(world["lead"])
    # As tests/kpi/test_views.py counts them (19, with the count for the pages).
    with django_assert_num_queries(19):
        client.get(reverse("home"))
    for n in range(4):
        project = ProjectFactory(unit=world["unit"], name=f"新项目{n}", lead=world["lead"])
        table_with_indicators(project)
        record(project, JULY, submit=True)
    with django_assert_num_queries(19):
        page = client.get(reverse("home")).content.decode()
    assert page.count("新项目") >= 8  # in the table and in the due box
