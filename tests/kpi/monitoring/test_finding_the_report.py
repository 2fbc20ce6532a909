"""The 绩效运行监控表 can be found: an index of the units the user may see (`monitoring:home`, the year and
the cut month chosen there, 1–7月 by default), and a way to it from the unit scorecard and each project page
with the cut chosen there — not for a lead, who may not see the unit."""
import re

import pytest
from django.urls import reverse

from budgets.services import membership_grant
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
YEAR = 2026


@pytest.fixture
def world():
    parent = UnitFactory(name="市人社局", code="A00")
    unit = UnitFactory(name="社保中心", code="A01", parent=parent)
    other = UnitFactory(name="别的单位", code="B01")
    lead, admin, reviewer = UserFactory(), UserFactory(), UserFactory()
    membership_grant(user=lead, unit=unit, role="lead")
    membership_grant(user=admin, unit=unit, role="admin")
    membership_grant(user=reviewer, unit=parent, role="reviewer")
    project = ProjectFactory(unit=unit, name="待遇发放项目", lead=lead)
    table_with_indicators(project)
    ProjectFactory(unit=unit, name="旧年项目", year=2025)
    ProjectFactory(unit=other, name="别人的项目")
    return {"parent": parent, "unit": unit, "other": other, "lead": lead, "admin": admin, "reviewer": reviewer,
            "project": project}


def unit_link(unit, cut="2026-07-31", year=YEAR):
    return f'{reverse("monitoring:unit", args=[unit.pk, year])}?cut={cut}'


# --- the index ----------------------------------------------------------------------------------------

def test_an_administrator_finds_the_units_report_at_the_mid_year_cut_by_default(client, world):
    client.force_login(world["admin"])
    response = client.get(reverse("monitoring:home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "绩效运行监控 · 2026年 1–7月" in page
    assert unit_link(world["unit"]) in page and "社保中心" in page
    assert "别的单位" not in page and unit_link(world["parent"]) not in page  # only the units they may see
    assert '<option value="7" selected>1–7月</option>' in page and '<option value="2026" selected>' in page
    row = re.search(r"<tr>\s*<td>社保中心.*?</tr>", page, re.S).group(0)
    assert '<td class="num">1</td>' in row  # its projects of 2026 (not the 2025 one)


def test_a_reviewer_finds_every_unit_under_theirs(client, world):
    client.force_login(world["reviewer"])
    page = client.get(reverse("monitoring:home")).content.decode()
    assert unit_link(world["unit"]) in page and unit_link(world["parent"]) in page
    assert unit_link(world["other"]) not in page


def test_the_year_and_month_chosen_set_every_link(client, world):
    client.force_login(world["admin"])
    page = client.get(reverse("monitoring:home"), {"year": "2025", "month": "6"}).content.decode()
    assert unit_link(world["unit"], cut="2025-06-30", year=2025) in page
    assert "2025年 1–6月" in page and '<option value="6" selected>' in page


@pytest.mark.parametrize(("params", "message"), [
    ({"month": "13"}, "月份“13”无效，应为 1–12 之间的整数，已按2026年 1–7月显示。"),
    ({"month": "七"}, "月份“七”无效"),
    ({"year": "abc"}, "年度“abc”无效，应为 2000–2100 之间的整数，已按2026年 1–7月显示。"),
])
def test_an_invalid_choice_says_so_and_shows_the_default(client, world, params, message):
    client.force_login(world["admin"])
    response = client.get(reverse("monitoring:home"), params)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and unit_link(world["unit"]) in page


def test_a_lead_sees_no_unit_and_is_told_where_to_look(client, world):
    client.force_login(world["lead"])
    page = client.get(reverse("monitoring:home")).content.decode()
    assert "您没有可查看绩效运行监控表的单位" in page and "我的项目" in page
    assert reverse("monitoring:unit", args=[world["unit"].pk, YEAR]) not in page


def test_the_index_needs_a_login(client):
    response = client.get(reverse("monitoring:home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_index_query_count_does_not_grow_with_units(client, world, django_assert_num_queries):
    reviewer = world["reviewer"]
    client.force_login(reviewer)
    # Session and user 2, the units the reviewer may see 2 (memberships, the unit tree), the years 1,
    # the units with their project counts 1, navigation 3 (may see scorecards, the review count, may import).
    with django_assert_num_queries(9) as one:
        client.get(reverse("monitoring:home"))
    for _n in range(6):
        unit = UnitFactory(parent=world["parent"])
        ProjectFactory(unit=unit)
    with django_assert_num_queries(len(one)):
        page = client.get(reverse("monitoring:home")).content.decode()
    assert page.count("1–7月监控表") == 8


# --- from the unit scorecard and the project page ------------------------------------------------------

CUT_FORM = re.compile(r'<form method="get" action="(?P<action>[^"]+)" class="inline monitoring-cut">(?P<body>.*?)</form>',
                      re.S)


def cut_form(page):
    match = CUT_FORM.search(page)
    return None if match is None else (match["action"], match["body"])


def test_the_unit_scorecard_links_to_the_report_with_the_cut_chosen_there(client, world):
    client.force_login(world["reviewer"])
    page = client.get(reverse("scorecards:unit", args=[world["unit"].pk, YEAR])).content.decode()
    action, body = cut_form(page)
    assert action == reverse("monitoring:unit", args=[world["unit"].pk, YEAR])
    assert '<select name="cut"' in body and '<option value="2026-07-31" selected>1–7月</option>' in body
    assert '<option value="2026-03-31">1–3月</option>' in body and "查看监控表" in body


@pytest.mark.parametrize("who", ["admin", "reviewer"])
def test_the_project_page_links_to_its_units_report(client, world, who):
    client.force_login(world[who])
    page = client.get(reverse("scorecards:project", args=[world["project"].pk])).content.decode()
    action, body = cut_form(page)
    assert action == reverse("monitoring:unit", args=[world["unit"].pk, YEAR])
    assert "社保中心 绩效运行监控表" in body and '<option value="2026-07-31" selected>' in body


def test_a_lead_who_may_not_see_the_unit_gets_no_link(client, world):
    client.force_login(world["lead"])
    page = client.get(reverse("scorecards:project", args=[world["project"].pk])).content.decode()
    assert cut_form(page) is None and reverse("monitoring:unit", args=[world["unit"].pk, YEAR]) not in page
    # …and the link would not have opened anything for them
    assert client.get(unit_link(world["unit"])).status_code == 404


def test_a_lead_who_reviews_another_unit_gets_no_link_to_the_unit_they_may_not_see(client, world):
    lead = world["lead"]
    membership_grant(user=lead, unit=world["other"], role="reviewer")
    client.force_login(lead)
    page = client.get(reverse("scorecards:project", args=[world["project"].pk])).content.decode()
    assert cut_form(page) is None


def test_the_report_links_back_to_the_index_and_the_scorecard(client, world):
    client.force_login(world["admin"])
    page = client.get(unit_link(world["unit"], cut="2026-06-30")).content.decode()
    assert f'{reverse("monitoring:home")}?year=2026&amp;month=6' in page
    assert reverse("scorecards:unit", args=[world["unit"].pk, YEAR]) in page
