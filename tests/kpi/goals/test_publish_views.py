"""The 部门预算公开 page and its downloads: who sees them, what they hold, how many queries they take."""
from io import BytesIO
from urllib.parse import quote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from budgets.models import Unit
from kpi.importers.services import import_file
from kpi.models import GoalTable
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UnitMembershipFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
YEAR = 2026
FILE = "示范市社会保险服务中心2026年绩效目标表（部门预算公开）"


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world():
    """A unit under a 主管部门 with three approved tables (the demo disclosure) and one draft; its
    administrator and lead, the reviewer above, an administrator of another unit."""
    from tests.factories import DEMO_DISCLOSURE

    parent = UnitFactory(name="示范市人力资源和社会保障局")
    document, _ = import_file(data=DEMO_DISCLOSURE.read_bytes(), filename=DEMO_DISCLOSURE.name)
    unit = Unit.objects.get(name=document.unit)
    unit.parent = parent
    unit.save()
    GoalTable.objects.filter(unit=unit).update(status=GoalTable.Status.APPROVED)
    draft_project = ProjectFactory(unit=unit, name="待批复的培训项目")
    table_with_indicators(draft_project)
    people = {role: UserFactory() for role in ("admin", "lead", "reviewer", "outsider")}
    UnitMembershipFactory(user=people["admin"], unit=unit, role="admin")
    UnitMembershipFactory(user=people["lead"], unit=unit, role="lead")
    UnitMembershipFactory(user=people["reviewer"], unit=parent, role="reviewer")
    UnitMembershipFactory(user=people["outsider"], unit=UnitFactory(), role="admin")
    return unit, people


def urls(unit):
    return {name: reverse(f"goals:{name}", args=[unit.pk, YEAR]) for name in ("publish", "publish-text", "publish-xlsx")}


def test_the_page_lists_what_is_published_and_what_is_not(client, world, django_assert_num_queries):
    unit, people = world
    client.force_login(people["admin"])
    with django_assert_num_queries(15):  # 7 of them the session, the user and the navigation's
        page = client.get(urls(unit)["publish"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "已批复、可公开的绩效目标表（3 张）" in html
    assert "城乡居民养老保险待遇发放服务项目" in html and "647.40" in html
    assert "尚未批复、不公开的绩效目标表（1 张）" in html and "待批复的培训项目" in html and "草稿" in html
    assert urls(unit)["publish-text"] in html and urls(unit)["publish-xlsx"] in html


def test_the_page_costs_the_same_with_more_tables(client, world, django_assert_num_queries):
    unit, people = world
    for n in range(5):
        table, _ = table_with_indicators(ProjectFactory(unit=unit, name=f"新增项目{n}"))
        GoalTable.objects.filter(pk=table.pk).update(status=GoalTable.Status.APPROVED)
    client.force_login(people["admin"])
    with django_assert_num_queries(15):
        assert client.get(urls(unit)["publish"]).status_code == 200


def test_downloads_have_a_chinese_file_name_and_the_approved_tables(client, world, django_assert_num_queries):
    unit, people = world
    client.force_login(people["reviewer"])
    with django_assert_num_queries(11):
        text = client.get(urls(unit)["publish-text"])
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert quote(f"{FILE}.txt") in text["Content-Disposition"] and "attachment" in text["Content-Disposition"]
    body = text.content.decode()
    assert body.count("## 项目支出绩效目标表") == 2 and "待批复的培训项目" not in body
    with django_assert_num_queries(11):
        xlsx = client.get(urls(unit)["publish-xlsx"])
    assert quote(f"{FILE}.xlsx") in xlsx["Content-Disposition"]
    workbook = load_workbook(BytesIO(xlsx.content))
    assert workbook.sheetnames[0] == "部门整体绩效目标表" and len(workbook.sheetnames) == 3


def test_who_may_see_it(client, world):
    unit, people = world
    for role, status in (("admin", 200), ("reviewer", 200), ("lead", 403), ("outsider", 404)):
        client.force_login(people[role])
        for url in urls(unit).values():
            assert client.get(url).status_code == status, (role, url)
    client.logout()
    assert client.get(urls(unit)["publish"]).status_code == 302  # to the login page


def test_nothing_approved_means_nothing_to_download(client, world):
    unit, people = world
    GoalTable.objects.filter(unit=unit).update(status=GoalTable.Status.DRAFT)
    client.force_login(people["admin"])
    assert "尚无已批复的绩效目标表" in client.get(urls(unit)["publish"]).content.decode()
    assert client.get(urls(unit)["publish-text"]).status_code == 404
    assert client.get(urls(unit)["publish-xlsx"]).status_code == 404
