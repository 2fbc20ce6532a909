"""逾期未报: a reviewer (or administrator) sees, per unit and month, the projects not yet reported — the list
the reminders mail — for the units they may see."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from budgets.models import Role
from budgets.services import membership_grant
from kpi.reminders.selectors import month_period, overdue_projects
from kpi.reports.services import actual_record, report_return, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def in_august(monkeypatch):
    """Today is 10 August 2026: July's figures were due on the 5th."""
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 8, 10))


def project_in(unit, name, *, lead=None, reported=None):
    project = ProjectFactory(unit=unit, name=name, lead=lead)
    _table, indicators = table_with_indicators(project)
    if reported:
        actual_record(indicator=indicators[0], as_of=reported, value=Decimal("120"))
    return project


@pytest.fixture
def world():
    bureau = UnitFactory(name="市人社局")
    unit_a = UnitFactory(name="甲中心", parent=bureau)
    unit_b = UnitFactory(name="乙中心", parent=bureau)
    elsewhere = UnitFactory(name="外单位")
    reviewer, admin_a, lead = UserFactory(), UserFactory(), UserFactory(last_name="王", first_name="芳",
                                                                        email="wang@example.org")
    membership_grant(user=reviewer, unit=bureau, role=Role.REVIEWER)
    membership_grant(user=admin_a, unit=unit_a, role=Role.ADMIN)
    membership_grant(user=lead, unit=unit_a, role=Role.LEAD)
    project_in(unit_a, "甲未报项目", lead=lead, reported=dt.date(2026, 6, 30))
    project_in(unit_a, "甲已报项目", lead=lead, reported=JULY)
    returned = project_in(unit_b, "乙退回项目")
    report = actual_record(indicator=returned.goal_tables.get().indicators.first(), as_of=JULY,
                           value=Decimal("100")).report
    report_return(report=report_submit(report=report), reason="数据有误")
    never = ProjectFactory(unit=unit_b, name="乙从未填报项目", lead_name="赵六")
    table_with_indicators(never)
    project_in(elsewhere, "外单位未报项目")
    return {"reviewer": reviewer, "admin_a": admin_a, "lead": lead, "units": (bureau, unit_a, unit_b, elsewhere)}


def test_a_reviewer_sees_per_unit_who_has_not_reported_last_month(client, world):
    client.force_login(world["reviewer"])
    page = client.get(reverse("reminders:overdue")).content.decode()
    assert "逾期未报 · 2026年7月" in page and "应于 2026年8月5日 前填报" in page
    _bureau, unit_a, unit_b, _elsewhere = world["units"]
    section_a = page.split(f'id="unit-{unit_a.pk}"', 1)[1].split("</section>", 1)[0]
    section_b = page.split(f'id="unit-{unit_b.pk}"', 1)[1].split("</section>", 1)[0]
    assert "甲未报项目" in section_a and "王芳" in section_a and "截至 2026-06-30" in section_a
    assert "甲已报项目" not in page
    assert "乙退回项目" in section_b  # a returned report is not a report
    assert "乙从未填报项目" in section_b and "赵六" in section_b and "从未填报" in section_b
    assert "外单位" not in page  # not under the reviewer's 主管部门


def test_the_page_is_the_list_the_reminders_use(client, world):
    client.force_login(world["reviewer"])
    page = client.get(reverse("reminders:overdue")).content.decode()
    listed = {item.project_name for item in overdue_projects(period=month_period(year=2026, month=7))}
    assert listed == {"甲未报项目", "乙退回项目", "乙从未填报项目", "外单位未报项目"}
    for name in listed - {"外单位未报项目"}:
        assert name in page


def test_the_month_and_the_unit_are_chosen_on_the_page(client, world):
    _bureau, unit_a, unit_b, _elsewhere = world["units"]
    client.force_login(world["reviewer"])
    page = client.get(reverse("reminders:overdue"), {"month": "2026-06", "unit": unit_b.pk}).content.decode()
    assert "2026年6月" in page and '<option value="2026-06" selected>2026年6月</option>' in page
    assert "乙从未填报项目" in page and "甲未报项目" not in page  # June was reported by 甲 (30 June)
    assert f'<option value="{unit_b.pk}" selected>乙中心</option>' in page
    page = client.get(reverse("reminders:overdue"), {"month": "2026-09"}).content.decode()
    assert "尚未填报 · 2026年9月" in page and "尚未到填报期限" in page  # due in October, not yet overdue


def test_a_bad_month_or_someone_elses_unit_says_so_in_chinese(client, world):
    client.force_login(world["reviewer"])
    page = client.get(reverse("reminders:overdue"), {"month": "七月"}).content.decode()
    assert "月份“七月”无效，应写作 2026-07" in page and "2026年7月" in page
    other = world["units"][3]
    page = client.get(reverse("reminders:overdue"), {"unit": other.pk}).content.decode()
    assert "所选单位不存在或您无权查看" in page and "外单位未报项目" not in page


def test_an_administrator_sees_their_unit_and_a_lead_is_refused(client, world):
    client.force_login(world["admin_a"])
    page = client.get(reverse("reminders:overdue")).content.decode()
    assert "甲未报项目" in page and "乙从未填报项目" not in page
    client.force_login(world["lead"])
    response = client.get(reverse("reminders:overdue"))
    assert response.status_code == 403


def test_the_navigation_links_it_for_reviewers_and_administrators_only(client, world):
    for who, shown in (("reviewer", True), ("admin_a", True), ("lead", False)):
        client.force_login(world[who])
        nav = client.get(reverse("home")).content.decode().split("<nav>", 1)[1].split("</nav>", 1)[0]
        assert (f'href="{reverse("reminders:overdue")}">逾期未报</a>' in nav) is shown, who
        assert (f'href="{reverse("monitoring:home")}">监控表</a>' in nav) is shown, who


def test_the_query_count_does_not_grow_with_units_or_projects(client, world, django_assert_num_queries):
    client.force_login(world["reviewer"])
    # Session and user 2, the visible units 3, the overdue list 1, the tables per unit 1, the years 1;
    # navigation 3 (may see scorecards 1, may import 1, the count 1).
    with django_assert_num_queries(11):
        client.get(reverse("reminders:overdue"))
    bureau = world["units"][0]
    for n in range(3):
        unit = UnitFactory(name=f"新单位{n}", parent=bureau)
        for m in range(2):
            project_in(unit, f"新项目{n}-{m}")
    with django_assert_num_queries(11):
        page = client.get(reverse("reminders:overdue")).content.decode()
    assert page.count("新项目") == 6
