"""GET /units/, /tables/ and /tables/{id}/: what each role sees (the pages' scoping), the JSON's contract
names, decimals as strings, and query counts that do not grow with the rows."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi.reports.services import actual_record, execution_report, report_approve, report_submit
from tests.factories import ProjectFactory, approve_reports, rescore_stale, table_with_indicators

from .conftest import JULY, ROWS

pytestmark = pytest.mark.django_db
AUGUST = dt.date(2026, 8, 31)
INDICATOR_FIELDS = {"id", "level1", "level2", "name", "target", "kind", "value", "upper", "unit", "weight", "rule",
                    "accumulation", "not_applicable"}


def codes(response):
    return [unit["code"] for unit in response.json()]


@pytest.mark.parametrize(("role", "expected"), [
    ("lead", []),  # a lead sees no unit's data, only their projects
    ("admin", ["UNIT-A"]),
    ("readonly", ["UNIT-A"]),
    ("reviewer", ["PARENT", "UNIT-A", "UNIT-B"]),
    ("outsider", ["UNIT-B"]),
])
def test_units_are_those_the_user_may_see(world, api, role, expected):
    response = api(role).get(reverse("api:units"))
    assert response.status_code == 200 and codes(response) == expected


def test_the_superuser_sees_every_unit_with_its_parent(world, api):
    units = api("superuser").get(reverse("api:units")).json()
    assert [u["code"] for u in units] == ["PARENT", "UNIT-A", "UNIT-B"]
    assert units[1] == {"id": world.unit.pk, "code": "UNIT-A", "name": "测试单位", "parent": world.parent.pk}


def table_ids(response):
    return sorted(t["id"] for t in response.json()["results"])


@pytest.mark.parametrize(("role", "tables"), [
    ("lead", ["table"]),
    ("admin", ["table", "unit_table"]),
    ("reviewer", ["table", "unit_table", "other_table"]),
    ("superuser", ["table", "unit_table", "other_table"]),
    ("outsider", ["other_table"]),
])
def test_tables_are_those_the_user_may_see(world, api, role, tables):
    response = api(role).get(reverse("api:tables"))
    assert response.status_code == 200
    assert table_ids(response) == sorted(getattr(world, name).pk for name in tables)


def test_tables_filter_by_year_and_unit_and_an_unseen_unit_has_none(world, api):
    reviewer = api("reviewer")
    url = reverse("api:tables")
    assert table_ids(reviewer.get(f"{url}?year=2026&unit={world.unit.pk}")) == sorted(
        [world.table.pk, world.unit_table.pk])
    assert table_ids(reviewer.get(f"{url}?year=2025")) == []
    assert table_ids(api("admin").get(f"{url}?unit={world.other_unit.pk}")) == []


@pytest.mark.parametrize(("query", "field"), [("?year=x", "year"), ("?year=20261", "year"), ("?unit=-1", "unit")])
def test_a_wrong_filter_is_400_naming_it(world, api, query, field):
    response = api("admin").get(reverse("api:tables") + query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field] and "无效" in response.json()["errors"][field][0]


def test_tables_are_paginated(world, api):
    for n in range(3):
        table_with_indicators(ProjectFactory(unit=world.unit, name=f"分页项目{n}"))
    response = api("admin").get(reverse("api:tables") + "?page_size=2")
    body = response.json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["next"].endswith("page=2&page_size=2")
    last = api("admin").get(reverse("api:tables") + "?page_size=2&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert api("admin").get(reverse("api:tables") + "?page=9").status_code == 404


def scored(world):
    """July approved for the project's table (with execution), an August draft after it, all rescored."""
    lead = world.people["lead"]
    values = {"培训人次": {"value": Decimal("80")}, "合格率": {"value": Decimal("96")}, "完成时间": {"met": True},
              "服务质量": {"grade": "达成年度指标", "points": Decimal("18")}, "满意度": {"value": Decimal("92")}}
    for name, fields in values.items():
        actual_record(indicator=world.named(name), as_of=JULY, user=lead, **fields)
    execution_report(project=world.project, as_of=JULY, executed=Decimal("55.5"), by_source={"fiscal": Decimal("55.5")},
                     user=lead)
    approve_reports(world.table)
    actual_record(indicator=world.named("培训人次"), as_of=AUGUST, value=Decimal("150"), user=lead)
    rescore_stale()


def test_a_table_shows_its_header_funds_indicators_scores_total_grade_and_light(world, api):
    scored(world)
    body = api("lead").get(reverse("api:table", args=[world.table.pk])).json()
    assert body["id"] == world.table.pk and body["scope"] == "project" and body["year"] == 2026
    assert body["project"] == {"id": world.project.pk, "name": "培训项目", "code": "", "lead": "王芳"}
    assert body["unit"] == {"id": world.unit.pk, "code": "UNIT-A", "name": "测试单位"}
    assert body["stale"] is False and body["year_closed"] is False
    official = body["scores"]["official"]  # scored at each reporting date, with the approved values only
    assert official["as_of"] == "2026-08-31" and body["total"] == official["total"] and body["grade"] == official["grade"]
    assert isinstance(official["total"], str) and official["execution_rate"] == "0.5550"
    assert body["light"] in {"red", "yellow", "green", "blue"}
    assert body["funds"]["budget"] == "100.00" and body["funds"]["execution"]["executed"] == "55.50"
    assert body["funds"]["sources"][0] == {"source": "fiscal", "label": "本年财政拨款", "initial": "100.00",
                                           "budget": None, "executed": "55.50"}
    assert body["funds"]["execution"]["fiscal"] == "55.50"

    by_name = {i["name"]: i for i in body["indicators"]}
    assert [i["name"] for i in body["indicators"]] == [row[2] for row in ROWS]
    count = by_name["培训人次"]
    assert INDICATOR_FIELDS <= set(count)
    assert {k: count[k] for k in ("target", "kind", "value", "upper", "unit", "weight", "rule", "accumulation")} == {
        "target": ">=100人次", "kind": "positive", "value": "100", "upper": None, "unit": "人次", "weight": "30.00",
        "rule": "按照完成比例赋分", "accumulation": "cumulative"}
    # July approved: official 80/100 of 30; the August draft: provisional full marks
    assert count["official_score"]["points"] == "24.00"
    assert count["provisional_score"]["points"] == "30.00" and count["provisional_score"]["as_of"] == "2026-08-31"
    assert count["actual"]["value"] == "150" and count["actual"]["recorded_by"] == "王芳"
    assert count["entry_mode"] == "number" and by_name["完成时间"]["entry_mode"] == "met"
    assert by_name["服务质量"]["entry_mode"] == "grade" and by_name["服务质量"]["actual"]["points"] == "18.00"
    assert by_name["满意度"]["provisional_score"] is None


def test_the_unit_table_shows_the_units_funds(world, api):
    body = api("admin").get(reverse("api:table", args=[world.unit_table.pk])).json()
    assert body["scope"] == "unit" and body["project"] is None
    assert body["funds"]["initial"] == "635.00"
    assert [s["source"] for s in body["funds"]["sources"]] == ["fiscal_superior", "fiscal_local", "other"]
    assert body["total"] is None and body["grade"] is None and body["light"] == "none"


@pytest.mark.parametrize(("role", "table", "status"), [
    ("lead", "table", 200), ("lead", "unit_table", 404), ("lead", "other_table", 404),
    ("admin", "unit_table", 200), ("admin", "other_table", 404),
    ("reviewer", "other_table", 200), ("outsider", "table", 404), ("outsider", "unit_table", 404),
])
def test_a_table_outside_the_users_scope_is_404(world, api, role, table, status):
    response = api(role).get(reverse("api:table", args=[getattr(world, table).pk]))
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "未找到：对象不存在，或不在您可查看的范围内。", "errors": {}}


def test_a_stale_table_says_so(world, api):
    actual_record(indicator=world.named("培训人次"), as_of=JULY, value=Decimal("80"), user=world.people["lead"])
    assert api("lead").get(reverse("api:table", args=[world.table.pk])).json()["stale"] is True


# --- query counts: the same whatever the number of rows -----------------------------------------------

def more_rows(world, projects: int, indicators_each: int):
    lead, admin = world.people["lead"], world.people["admin"]
    rows = [("产出指标", "数量指标", f"指标{n}", ">=10人", Decimal("5")) for n in range(indicators_each)]
    for n in range(projects):
        table, indicators = table_with_indicators(ProjectFactory(unit=world.unit, name=f"项目{n}", lead=lead), rows=rows)
        for indicator in indicators:
            actual_record(indicator=indicator, as_of=JULY, value=Decimal("9"), user=lead)
        report = table.reports.get()
        report_approve(report=report_submit(report=report, user=lead), user=admin)
    rescore_stale()


@pytest.mark.parametrize("size", [1, 6])
def test_the_tables_list_runs_a_fixed_number_of_queries(world, api, django_assert_num_queries, size):
    more_rows(world, projects=size, indicators_each=size)
    client = api("admin")
    # the token, the scope (twice: projects and units), the page and its count, the totals, the lights
    with django_assert_num_queries(13):
        response = client.get(reverse("api:tables") + "?year=2026")
    assert response.json()["count"] == 2 + size


@pytest.mark.parametrize("size", [1, 8])
def test_a_table_runs_a_fixed_number_of_queries(world, api, django_assert_num_queries, size):
    more_rows(world, projects=1, indicators_each=size)
    table = world.unit.goal_tables.get(project__name="项目0")
    client = api("admin")
    # the token, the scope, the table, the scorecard (4), the lights (3: from the scorecard's indicators), who
    # recorded, the year
    with django_assert_num_queries(14):
        response = client.get(reverse("api:table", args=[table.pk]))
    assert len(response.json()["indicators"]) == size


@pytest.mark.parametrize("role", ["admin", "reviewer"])
def test_the_units_list_runs_a_fixed_number_of_queries(world, api, django_assert_num_queries, role):
    with django_assert_num_queries(4):  # the token, the user's roles, the unit tree, the units
        api(role).get(reverse("api:units"))
