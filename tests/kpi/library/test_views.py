"""指标库 pages: list, detail, search JSON, curation (permissions server-side)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kpi.library import services
from kpi.library.keys import library_key
from kpi.models import LibraryEntry, LibraryUse
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

from .conftest import rows

pytestmark = pytest.mark.django_db
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def entry(level2="质量指标", name="合格率"):
    return LibraryEntry.objects.get(key=library_key(level2, name))


@pytest.fixture
def built(tree):
    services.library_build()
    return tree


def test_list_filters_and_searches(client, built):
    client.force_login(built["admin"])
    page = client.get(reverse("library:list")).content.decode()
    assert "合格率" in page and "人均成本" in page and "指标库" in page
    page = client.get(reverse("library:list"), {"q": "合格"}).content.decode()
    assert "合格率" in page and "人均成本" not in page
    page = client.get(reverse("library:list"), {"level1": "成本指标"}).content.decode()
    assert "人均成本" in page and "合格率" not in page
    services.library_entry_set_recommended(entry=entry(), recommended=True)
    page = client.get(reverse("library:list"), {"recommended": "1"}).content.decode()
    assert "合格率" in page and "人均成本" not in page
    page = client.get(reverse("library:list"), {"q": "长" * 500}).content.decode()
    assert "搜索内容过长" in page


def test_list_queries_do_not_grow_with_entries(client, built, django_assert_num_queries):
    client.force_login(built["admin"])
    client.get(reverse("library:list"))  # warm the session
    # the session and the base page's counts included; the user's trees, the 一级/二级 choices, count, rows
    with django_assert_num_queries(13):
        client.get(reverse("library:list"))
    for i in range(10):
        unit = UnitFactory(name=f"更多单位{i}", parent=built["parent"])
        table_with_indicators(ProjectFactory(unit=unit), rows(">=95%", name=f"新指标{i}"))
    services.library_build()
    with django_assert_num_queries(13):
        response = client.get(reverse("library:list"))
    assert "新指标9" in response.content.decode()


def test_detail_queries_do_not_grow_with_uses(client, built, django_assert_num_queries):
    client.force_login(built["admin"])
    url = reverse("library:detail", args=[entry().pk])
    client.get(url)
    with django_assert_num_queries(17) as before:
        client.get(url)
    for i in range(5):
        unit = UnitFactory(name=f"又一单位{i}", parent=built["parent"])
        table_with_indicators(ProjectFactory(unit=unit), rows(">=96%"))
    services.library_build()
    with django_assert_num_queries(len(before)):
        assert "又一单位4" in client.get(url).content.decode()


def test_detail_shows_defaults_and_uses_by_unit_and_year(client, built):
    client.force_login(built["lead"])
    response = client.get(reverse("library:detail", args=[entry().pk]))
    page = response.content.decode()
    assert "常见指标值" in page and "&gt;=95%" in page and "示范单位3" in page and "&gt;=98%" in page
    assert "设为推荐" not in page  # a lead does not curate


def test_outsiders_get_404_and_unknown_ids_404(client, built):
    client.force_login(built["outsider"])
    assert client.get(reverse("library:detail", args=[entry().pk])).status_code == 404
    client.force_login(built["admin"])
    assert client.get(reverse("library:detail", args=[987654])).status_code == 404


def test_search_json_as_in_the_contract(client, built):
    client.force_login(built["lead"])
    data = client.get(reverse("library:search"), {"q": "合格", "level1": "产出指标"}).json()
    assert [r["name"] for r in data["results"]] == ["合格率"]
    assert data["results"][0]["target"] == ">=95%" and data["results"][0]["uses"] == 4
    bad = client.get(reverse("library:search"), {"q": "长" * 101})
    assert bad.status_code == 400 and "过长" in bad.json()["error"]
    assert client.post(reverse("library:search")).status_code == 405
    client.logout()
    assert client.get(reverse("library:search")).status_code == 302


def test_pages_never_write(client, built):
    client.force_login(built["reviewer"])
    pk = entry().pk
    urls = [reverse("library:list"), reverse("library:list") + "?q=率&level1=产出指标",
            reverse("library:search") + "?q=率", reverse("library:detail", args=[pk]),
            reverse("library:edit", args=[pk]), reverse("library:merge", args=[pk]) + "?q=率"]
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)], url


@pytest.mark.parametrize("role", ["admin", "lead"])
def test_curation_is_refused_to_units(client, built, role):
    client.force_login(built[role])
    pk = entry().pk
    assert client.get(reverse("library:edit", args=[pk])).status_code == 403
    assert client.post(reverse("library:edit", args=[pk]), {"name": "改"}).status_code == 403
    assert client.post(reverse("library:recommend", args=[pk]), {"recommended": "1"}).status_code == 403
    assert client.post(reverse("library:merge", args=[pk]), {"into": entry("数量指标", "培训人次").pk}).status_code == 403
    assert not entry().recommended and not entry().curated and entry().merged_into is None


def test_reviewer_edits_and_it_is_kept_curated_with_history(client, built):
    client.force_login(built["reviewer"])
    rate = entry()
    response = client.post(reverse("library:edit", args=[rate.pk]), {
        "level1": "产出指标", "level2": "质量指标", "name": "培训合格率", "explanation": "合格人数 / 参训人数 × 100%",
        "standard": "达到目标得满分，每低 1 个百分点扣 1 分", "target_kind": "positive", "unit": "%",
        "rule": "按照完成比例赋分", "accumulation": "level", "recommended": "on",
    })
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.curated and rate.recommended and rate.name == "培训合格率" and "扣 1 分" in rate.standard
    assert rate.history.first().history_user == built["reviewer"]
    services.library_build()
    rate.refresh_from_db()
    assert rate.name == "培训合格率"
    # too long a text is refused in Chinese
    response = client.post(reverse("library:edit", args=[rate.pk]), {
        "level1": "产出指标", "level2": "质量指标", "name": "x", "explanation": "长" * 5000, "standard": "",
        "target_kind": "positive", "unit": "%", "rule": "按照完成比例赋分", "accumulation": "level",
    })
    assert "指标解释过长" in response.content.decode()


def test_reviewer_recommends_and_merges(client, built):
    unit = UnitFactory(name="示范单位8", parent=built["parent"])
    table_with_indicators(ProjectFactory(unit=unit), rows(">=95%", name="培训合格率"))
    services.library_build()
    client.force_login(built["reviewer"])
    synonym, rate = entry("质量指标", "培训合格率"), entry()
    client.post(reverse("library:recommend", args=[rate.pk]), {"recommended": "1"})
    assert entry().recommended
    page = client.get(reverse("library:merge", args=[synonym.pk])).content.decode()
    assert "合格率" in page
    response = client.post(reverse("library:merge", args=[synonym.pk]), {"into": rate.pk})
    assert response.status_code == 302 and response.url == reverse("library:detail", args=[rate.pk])
    synonym.refresh_from_db()
    assert synonym.merged_into == rate and LibraryUse.objects.filter(entry=rate).count() == 5
    assert synonym.history.first().history_user == built["reviewer"]
    # the synonym's page now shows the entry it stands for
    assert client.get(reverse("library:detail", args=[synonym.pk])).url == reverse("library:detail", args=[rate.pk])
    # an entry outside the reviewer's tree, or an unknown one, is refused
    response = client.post(reverse("library:merge", args=[rate.pk]), {"into": 987654})
    assert response.status_code == 200 and "不能作为归并目标" in response.content.decode()


def test_superuser_curates_too(client, built):
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(reverse("library:edit", args=[entry().pk])).status_code == 200
