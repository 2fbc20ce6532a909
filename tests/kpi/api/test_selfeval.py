"""GET /units/{id}/selfeval/{year}/: the same JSON as `selfeval_report --format json`, for whoever may see the
unit; a unit still being rescored says so (409, Retry-After) instead of handing out old scores."""
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from kpi.reports.services import actual_record, execution_report
from tests.factories import approve_reports, rescore_stale

from .conftest import JULY

pytestmark = pytest.mark.django_db


def url(unit, year=2026):
    return reverse("api:unit-selfeval", args=[unit.pk, year])


def command_json(unit, year=2026) -> dict:
    out = StringIO()
    call_command("selfeval_report", "--unit", unit.code, "--year", str(year), "--format", "json", "--out", "-",
                 stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


@pytest.fixture
def approved(world):
    lead = world.people["lead"]
    actual_record(indicator=world.named("培训人次"), as_of=JULY, value=Decimal("80"), user=lead)
    actual_record(indicator=world.named("完成时间"), as_of=JULY, met=True, user=lead)
    execution_report(project=world.project, as_of=JULY, executed=Decimal("40"), user=lead)
    approve_reports(world.table)
    rescore_stale()


@pytest.mark.parametrize("role", ["admin", "reviewer", "superuser", "readonly"])
def test_the_json_is_the_commands(world, api, approved, role):
    response = api(role).get(url(world.unit))
    assert response.status_code == 200
    assert response.json() == command_json(world.unit)
    assert response.json()["projects"][0]["project"] == "培训项目"


def test_a_unit_being_rescored_is_409_with_retry_after_and_the_tables(world, api, approved):
    actual_record(indicator=world.named("合格率"), as_of=JULY, value=Decimal("96"), user=world.people["lead"])
    response = api("admin").get(url(world.unit))
    assert response.status_code == 409 and response["Retry-After"] == "60"
    assert response.json()["errors"] == {"stale_tables": [world.table.pk]}
    assert response.json()["detail"].startswith("评分更新中")
    rescore_stale()
    assert api("admin").get(url(world.unit)).status_code == 200


def test_a_year_without_tables_is_404_saying_so(world, api):
    response = api("admin").get(url(world.unit, 2025))
    assert response.status_code == 404
    assert response.json()["detail"] == "测试单位（UNIT-A）2025 年度没有绩效目标表，无法生成绩效自评表。"


@pytest.mark.parametrize(("role", "unit"), [("lead", "unit"), ("outsider", "unit"), ("admin", "other_unit")])
def test_a_unit_outside_the_users_scope_is_404(world, api, role, unit):
    response = api(role).get(url(getattr(world, unit)))
    assert response.status_code == 404 and response.json()["detail"].startswith("未找到")
    assert api(role).post(url(getattr(world, unit))).status_code == 404  # not 405: the unit is not theirs


def test_the_documented_shape_is_the_json(world, api, approved):
    """The schema's description of the JSON (SelfEvaluationSerializer) names exactly its keys."""
    from kpi.api import serializers

    data = api("admin").get(url(world.unit)).json()
    assert set(data) == set(serializers.SelfEvaluationSerializer().fields)
    table = data["projects"][0]
    assert set(table) == set(serializers.SelfEvalTableSerializer().fields)
    assert set(table["execution"]) == set(serializers.SelfEvalExecutionSerializer().fields)
    assert set(table["indicators"][0]) == set(serializers.SelfEvalIndicatorSerializer().fields)


@pytest.mark.parametrize("projects", [0, 5])
def test_the_selfeval_runs_a_fixed_number_of_queries(world, api, approved, django_assert_num_queries, projects):
    from tests.factories import ProjectFactory, table_with_indicators

    for n in range(projects):
        table_with_indicators(ProjectFactory(unit=world.unit, name=f"另一项目{n}"))
    rescore_stale()
    with django_assert_num_queries(14):
        assert api("admin").get(url(world.unit)).status_code == 200
