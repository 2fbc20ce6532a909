"""The project page labels each value by the state of its report (草稿 / 已提交 / 已审核 / 已退回), also to
a reviewer, shows a returned value (which counts nowhere) with the reason beside the indicators it names,
and says that the provisional score counts drafts and unapproved reports."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.models import Role
from budgets.services import membership_grant
from kpi.reports.services import actual_record, report_approve, report_open, report_return, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, rescore_stale, table_with_indicators

pytestmark = pytest.mark.django_db
JULY, AUGUST = dt.date(2026, 7, 31), dt.date(2026, 8, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world():
    bureau = UnitFactory(name="主管局")
    unit = UnitFactory(name="示范中心", parent=bureau)
    lead, admin, reviewer = UserFactory(), UserFactory(), UserFactory()
    membership_grant(user=lead, unit=unit, role=Role.LEAD)
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    membership_grant(user=reviewer, unit=bureau, role=Role.REVIEWER)
    project = ProjectFactory(unit=unit, lead=lead)
    table, indicators = table_with_indicators(project)
    return {"lead": lead, "admin": admin, "reviewer": reviewer, "project": project, "table": table,
            "indicators": indicators}


def record(world, as_of, values):
    report = report_open(table=world["table"], as_of=as_of, user=world["lead"])
    for indicator, value in zip(world["indicators"], values, strict=False):
        if value is not None:
            actual_record(indicator=indicator, as_of=as_of, value=Decimal(value), report=report, user=world["lead"],
                          deviation_reason="测试")
    return report


def cells(client, world):
    page = client.get(reverse("scorecards:project", args=[world["project"].pk])).content.decode()
    body = page.split('<table class="grid scorecard">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr(?: class=\"na\")?>\s*(.*?)</tr>", body, re.S)[1:]
    return page, [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[4] for row in rows]  # 实际完成值


def test_each_value_says_the_state_of_its_report(client, world):
    july = record(world, JULY, ["120", "96", None, None])
    report_approve(report=report_submit(report=july, user=world["lead"]), user=world["admin"])
    august = record(world, AUGUST, [None, "97", "45", None])
    report_submit(report=august, user=world["lead"])
    record(world, dt.date(2026, 9, 30), [None, None, None, "93"])  # a draft
    rescore_stale()
    for who in ("lead", "admin", "reviewer"):
        client.force_login(world[who])
        page, (count, rate, cost, satisfaction) = cells(client, world)
        assert "（2026-07-31 · 已审核）" in count
        assert "（2026-08-31 · 已提交）" in rate and "（2026-08-31 · 已提交）" in cost
        assert "（2026-09-30 · 草稿）" in satisfaction
        assert "待审核）" not in "".join((count, rate, cost, satisfaction)), who


def test_a_returned_value_is_shown_as_returned_with_its_reason(client, world):
    july = record(world, JULY, ["120", "96", "45", "93"])
    report_approve(report=report_submit(report=july, user=world["lead"]), user=world["admin"])
    august = report_submit(report=record(world, AUGUST, ["130", "80", None, None]), user=world["lead"])
    rate = world["indicators"][1]
    report_return(report=august, reason="合格率与台账不符", indicator_ids=[rate.pk], user=world["admin"])
    rescore_stale()
    client.force_login(world["reviewer"])
    _page, (count, rate_cell, cost, _satisfaction) = cells(client, world)
    # The approved July value still counts; August's returned one is shown as such, counted nowhere.
    assert "（2026-07-31 · 已审核）" in count and "130" in count and "已退回，不计分" in count
    assert "80%" in rate_cell and "已退回，不计分" in rate_cell and "退回原因：合格率与台账不符" in rate_cell
    assert "退回原因" not in count  # the reason goes beside the indicators it names
    assert "已退回" not in cost

    # Once the lead corrects the date, the returned value is answered: it leaves the page.
    record(world, AUGUST, ["130", "95", None, None])
    rescore_stale()
    _page, (count, rate_cell, _cost, _satisfaction) = cells(client, world)
    assert "已退回" not in count + rate_cell and "（2026-08-31 · 草稿）" in rate_cell


def test_a_project_reported_only_in_a_returned_report_shows_that_value(client, world):
    report = report_submit(report=record(world, JULY, ["60", None, None, None]), user=world["lead"])
    report_return(report=report, reason="请补充佐证", user=world["admin"])
    client.force_login(world["lead"])
    _page, (count, rate, *_rest) = cells(client, world)
    assert "60" in count and "已退回，不计分" in count and "未填报" not in count
    assert "未填报" in rate


def test_the_provisional_score_says_it_counts_drafts_and_unapproved_reports(client, world):
    record(world, JULY, ["50", None, None, None])  # a draft only
    rescore_stale()
    client.force_login(world["admin"])
    page, _cells = cells(client, world)
    assert "暂算 " in page and "含草稿、待审核的填报" in page
    assert "指标进度（完成比例，含草稿、待审核的填报）" in page
    home = client.get(reverse("home")).content.decode()
    assert "暂算（含草稿、待审核的填报）" in home


def test_the_labels_cost_no_query_without_a_returned_report(client, world, django_assert_num_queries):
    """The returned values are read only while a returned report waits for its correction: one query."""
    from tests.kpi.scorecards.builders import count_queries

    report_approve(report=report_submit(report=record(world, JULY, ["120", "96", "45", "93"]), user=world["lead"]),
                   user=world["admin"])
    rescore_stale()
    client.force_login(world["lead"])
    url = reverse("scorecards:project", args=[world["project"].pk])
    plain, _ = count_queries(client, url)
    report_return(report=report_submit(report=record(world, AUGUST, ["1", "2", "3", "4"]), user=world["lead"]),
                  reason="全部有误", user=world["admin"])
    rescore_stale()
    returned, _ = count_queries(client, url)
    assert returned == plain + 1
