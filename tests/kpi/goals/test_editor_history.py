"""The goal table's 变更记录 (goals:table-history): who changed what and when, field by field in Chinese."""
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi.formatting import person_name
from kpi.library import services as library_services
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    ProjectFactory,
    UnitFactory,
    UnitMembershipFactory,
    UserFactory,
    table_with_indicators,
)
from tests.kpi.goals.test_editor import header_data, rows_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    monkeypatch.setattr(library_services, "library_sync_tables", lambda ids: None)


@pytest.fixture
def world():
    parent = UnitFactory()
    unit = UnitFactory(parent=parent)
    lead, admin, reviewer = UserFactory(first_name="王芳"), UserFactory(), UserFactory()
    UnitMembershipFactory(user=lead, unit=unit, role="lead")
    UnitMembershipFactory(user=admin, unit=unit, role="admin")
    UnitMembershipFactory(user=reviewer, unit=parent, role="reviewer")
    project = ProjectFactory(unit=unit, lead=lead, name="职业技能培训项目")
    table, indicators = table_with_indicators(project)
    return {"unit": unit, "lead": lead, "admin": admin, "reviewer": reviewer, "project": project,
            "table": table, "indicators": indicators}


def history_url(table):
    return reverse("goals:table-history", args=[table.pk])


def test_an_edit_shows_who_changed_which_field(client, world):
    table, indicators, project = world["table"], world["indicators"], world["project"]
    client.force_login(world["lead"])
    data = {**header_data(project, budget_initial="120", fiscal="120"),
            **rows_data(indicators, changes={1: {"target_raw": ">=98%", "weight": "25"}, 2: {"DELETE": True}},
                        new=[{"level1": "效益指标", "level2": "社会效益指标", "name": "就业率", "target_raw": ">=80%",
                              "weight": "5"}])}
    assert client.post(reverse("goals:edit", args=[table.pk]), data).status_code == 302

    client.force_login(world["reviewer"])  # whoever may see the table sees its history
    response = client.get(history_url(table))
    assert response.status_code == 200
    html = response.content.decode()
    assert person_name(world["lead"]) in html
    assert "指标“合格率”" in html and "≥95%" in html and "≥98%" in html and "分值权重：20 → 25" in html
    assert "指标“人均成本”" in html and "删除" in html
    assert "指标“就业率”" in html and "新增" in html
    assert "年初预算数：100 → 120" in html and "其中：财政拨款：100 → 120" in html
    assert "总体目标：— → 提升培训质量" in html
    assert f'href="{reverse("goals:edit", args=[table.pk])}"' not in html  # a reviewer may not edit


def test_the_unit_tables_history_has_its_budget(client, world):
    table, indicators = table_with_indicators(unit=world["unit"])
    client.force_login(world["admin"])
    data = {"head-contact": "", "head-phone": "", "head-overall_goal": "", "head-fiscal_superior": "35",
            "head-fiscal_local": "612.4", "head-other": "0", **rows_data(indicators)}
    assert client.post(reverse("goals:edit", args=[table.pk]), data).status_code == 302
    html = client.get(history_url(table)).content.decode()
    assert f"部门年度预算 {table.year}" in html and "财政资金（本级安排）：612.4" in html


def test_the_history_reads_in_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    client.force_login(world["lead"])
    client.get(history_url(world["table"]))
    with django_assert_num_queries(14):
        client.get(history_url(world["table"]))
    bigger, _ = table_with_indicators(ProjectFactory(unit=world["unit"], lead=world["lead"]), rows=[
        ("产出指标", "数量指标", f"指标{i}", f">={i}人次", Decimal("5")) for i in range(1, 19)
    ])
    with django_assert_num_queries(14):
        client.get(history_url(bigger))


def test_another_units_user_gets_404(client, world):
    outsider = UserFactory()
    UnitMembershipFactory(user=outsider, unit=UnitFactory(), role="admin")
    client.force_login(outsider)
    assert client.get(history_url(world["table"])).status_code == 404
