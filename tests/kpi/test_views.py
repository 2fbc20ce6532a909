"""The plain pages: login, 我的项目, the project page — scoped per user, constant query counts."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi.reports.services import actual_record
from kpi.rescoring.services import tables_rescore
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UserFactory, approve_reports, table_with_indicators

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def scored_project(lead, extra_rows=0):
    project = ProjectFactory(lead=lead)
    rows = [("产出指标", "数量指标", f"指标{i}", ">=10个", Decimal("90") / (4 + extra_rows)) for i in range(4 + extra_rows)]
    table, indicators = table_with_indicators(project, rows=[(*r[:4], r[4].quantize(Decimal("0.01"))) for r in rows])
    for indicator in indicators:
        actual_record(indicator=indicator, as_of=JULY, value=Decimal("8"))
    approve_reports(table)
    tables_rescore(table_ids=[table.pk])
    return project


def test_pages_require_login(client):
    project = ProjectFactory()
    for url in (reverse("home"), reverse("scorecards:project", args=[project.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_login_page_is_in_chinese(client):
    response = client.get(reverse("login"))
    assert "登录" in response.content.decode()
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    assert "用户名或密码不正确" in response.content.decode()


def test_project_page_shows_scored_indicators(client):
    lead = UserFactory()
    project = scored_project(lead)
    client.force_login(lead)
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    assert project.name in page
    assert "指标0" in page and "&gt;=10个" in page
    assert "18.00" in page  # 22.5 × 8 / 10
    assert "按完成比例" in page or "×" in page  # the one-line explanation is shown


def test_a_lead_cannot_open_another_leads_project(client):
    mine, theirs = UserFactory(), UserFactory()
    other = scored_project(theirs)
    client.force_login(mine)
    assert client.get(reverse("scorecards:project", args=[other.pk])).status_code == 404
    assert other.name not in client.get(reverse("home")).content.decode()


def test_project_page_query_count_does_not_grow_with_indicators(client, django_assert_num_queries):
    lead = UserFactory()
    small, large = scored_project(lead), scored_project(lead, extra_rows=8)
    client.force_login(lead)
    # Session and user 2, the project through the scoping 3, its table 1, the scorecard 5 (indicators, scores,
    # actuals, totals, execution), the lights 2 (from the scorecard's indicators), evidence 1, reports 1, may
    # administer 1, navigation 3, the
    # table's scoring policy 1.
    with django_assert_num_queries(21) as small_queries:
        client.get(reverse("scorecards:project", args=[small.pk]))
    with django_assert_num_queries(len(small_queries)):
        response = client.get(reverse("scorecards:project", args=[large.pk]))
    assert response.status_code == 200


def test_home_query_count_does_not_grow_with_projects(client, django_assert_num_queries):
    lead = UserFactory()
    scored_project(lead)
    client.force_login(lead)
    # Session and user 2, the visible projects 3 (and their count for the pages 1), their tables 1, official and provisional totals 2, the lights
    # 4 (indicators, actuals, execution, reports), the editable ones 1, navigation 2 (with the count waiting
    # for review), the 部门整体 tables 1, the tables' reports 1 (the 填报 link's date), what is due this month 1.
    with django_assert_num_queries(19) as one:
        client.get(reverse("home"))
    for _ in range(5):
        scored_project(lead)
    with django_assert_num_queries(len(one)):
        page = client.get(reverse("home")).content.decode()
    assert len(re.findall(r'href="/projects/\d+/"', page)) == 6


def test_home_shows_fifty_projects_a_page_at_a_fixed_cost(client, django_assert_num_queries):
    """A finance bureau sees thousands of projects: 我的项目 shows them 50 a page, each page at the same cost."""
    from kpi.scorecards.views import HOME_PAGE_SIZE

    lead = UserFactory()
    for _ in range(HOME_PAGE_SIZE + 5):
        scored_project(lead)
    client.force_login(lead)
    with django_assert_num_queries(19):
        first = client.get(reverse("home")).content.decode()
    with django_assert_num_queries(19):
        second = client.get(reverse("home") + "?page=2").content.decode()
    assert len(re.findall(r'href="/projects/\d+/"', first)) == HOME_PAGE_SIZE
    assert len(re.findall(r'href="/projects/\d+/"', second)) == 5
    assert f"共 {HOME_PAGE_SIZE + 5} 个项目，第 1 / 2 页" in first and "下一页" in first and "上一页" in second
    # Every project once over the pages, none twice; a page past the end shows the last.
    ids = set(re.findall(r'href="/projects/(\d+)/"', first)) | set(re.findall(r'href="/projects/(\d+)/"', second))
    assert len(ids) == HOME_PAGE_SIZE + 5
    assert client.get(reverse("home") + "?page=99").content.decode().count('href="/projects/') >= 5


def test_admin_lists_scores_for_a_superuser(admin_client):
    scored_project(UserFactory())
    assert admin_client.get(reverse("admin:kpi_score_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:kpi_goaltable_changelist")).status_code == 200
