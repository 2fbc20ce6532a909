"""POST /projects/{id}/execution/: the report page's budget form and service — 执行数 by source, the adjusted
全年预算数 (administrators, with a reason) — and its errors per field."""
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.models import BudgetExecution, Project
from tests.factories import ProjectFactory

from .conftest import close_year

pytestmark = pytest.mark.django_db


def url(project):
    return reverse("api:project-execution", args=[project.pk])


def test_the_lead_records_execution_by_source(world, api):
    response = api("lead").post(url(world.project), {"as_of": "2026-07-31", "executed": "55.5",
                                                     "executed_fiscal": "50", "executed_other": "5.5"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["recorded"] is True and body["adjusted"] is False and body["table"] == world.table.pk
    assert body["detail"] == "已记录截至 2026-07-31 的累计执行数 55.50 万元。"
    assert body["execution"]["executed"] == "55.50" and body["execution"]["fiscal"] == "50.00"
    assert body["execution"]["carryover"] == "0.00" and body["execution"]["recorded_by"] == "王芳"
    assert body["funds"]["execution_rate"] == "0.5550"
    execution = BudgetExecution.objects.get(project=world.project)
    assert execution.executed == Decimal("55.5") and execution.other == Decimal("5.5")
    # the same figure again records nothing new
    again = api("lead").post(url(world.project), {"as_of": "2026-07-31", "executed": "55.50",
                                                  "executed_fiscal": "50", "executed_other": "5.5"})
    assert again.status_code == 200 and again.json()["recorded"] is False
    assert again.json()["detail"] == "预算执行没有修改，无需保存。"
    assert BudgetExecution.objects.filter(project=world.project).count() == 1


def test_a_blank_total_is_the_sum_of_its_sources_as_on_the_page(world, api):
    response = api("lead").post(url(world.project), {"as_of": "2026-07-31", "executed_fiscal": "30",
                                                     "executed_carryover": 2})
    assert response.status_code == 201 and response.json()["execution"]["executed"] == "32.00"


@pytest.mark.parametrize(("sent", "field", "message"), [
    ({"as_of": "2026-07-31"}, "executed", "请填写累计执行数（或各资金来源的执行数）。"),
    ({"as_of": "2026-07-31", "executed": "-1"}, "executed", "执行数不能为负数。"),
    ({"as_of": "2026-07-31", "executed": "abc"}, "executed", "请输入金额（万元）。"),
    ({"as_of": "2026-07-31", "executed": "1.00001"}, "executed", "金额最多 4 位小数（万元）。"),
    ({"as_of": "2026-07-31", "executed": "40", "executed_fiscal": "30"}, "non_field_errors",
     "各资金来源的执行数合计 30 万元（本年财政拨款 30 + 上年结转 0 + 其他资金 0），与执行数 40 万元不一致，请核对。"),
    ({"as_of": "2025-12-31", "executed": "40"}, "as_of", "截至日期 2025-12-31 不在 2026 年度内。"),
    ({"executed": "40"}, "as_of", "这个字段是必填项。"),
    ({"as_of": "2026-07-31", "executed": "40", "executed_fiscal_superior": "40"}, "executed_fiscal_superior",
     "未知字段“executed_fiscal_superior”。"),
    ({"as_of": "2026-07-31", "executed": True}, "executed", "请以字符串填写数字，如 \"3.1\"。"),
])
def test_a_wrong_figure_is_400_beside_its_field(world, api, sent, field, message):
    response = api("lead").post(url(world.project), sent)
    assert response.status_code == 400
    assert response.json()["errors"][field] == [message], response.json()
    assert not BudgetExecution.objects.filter(project=world.project).exists()


def test_the_administrator_adjusts_the_budget_with_a_reason(world, api):
    admin = api("admin")
    missing = admin.post(url(world.project), {"as_of": "2026-07-31", "executed": "40", "budget": "120"})
    assert missing.status_code == 400 and missing.json()["errors"] == {"reason": ["调整全年预算数时必须填写调整原因。"]}
    response = admin.post(url(world.project), {"as_of": "2026-07-31", "executed": "40", "budget": "120",
                                                "budget_fiscal": "100", "budget_carryover": "20", "reason": "追加培训班"})
    assert response.status_code == 201 and response.json()["adjusted"] is True
    assert response.json()["funds"]["budget"] == "120.00" and response.json()["funds"]["execution_rate"] == "0.3333"
    project = Project.objects.get(pk=world.project.pk)
    assert project.budget_adjusted == Decimal("120") and project.carryover_adjusted == Decimal("20")
    assert project.adjustment_reason == "追加培训班"


def test_a_budget_split_that_does_not_add_up_names_the_sources(world, api):
    response = api("admin").post(url(world.project), {"as_of": "2026-07-31", "executed": "40", "budget": "120",
                                                      "budget_fiscal": "100", "reason": "追加"})
    assert response.status_code == 400
    assert "各资金来源的全年预算数合计 100 万元" in response.json()["detail"]
    assert Project.objects.get(pk=world.project.pk).budget_adjusted is None


def test_only_administrators_adjust_the_budget(world, api):
    response = api("lead").post(url(world.project), {"as_of": "2026-07-31", "executed": "40", "budget": "120",
                                                     "reason": "追加"})
    assert response.status_code == 403 and response.json()["detail"] == "只有单位管理员可以调整全年预算数：请只填写执行数。"
    assert not BudgetExecution.objects.exists()


@pytest.mark.parametrize(("role", "project", "status"), [
    ("reviewer", "project", 403), ("outsider", "project", 404), ("lead", "other_project", 404),
    ("readonly", "project", 403), ("superuser", "other_project", 201), ("admin", "project", 201),
])
def test_who_may_record_execution(world, api, role, project, status):
    response = api(role).post(url(getattr(world, project)), {"as_of": "2026-07-31", "executed": "40"})
    assert response.status_code == status
    if role == "reviewer":
        assert response.json()["detail"] == "只有项目负责人或单位管理员可以填报预算执行。"


def test_a_project_without_a_goal_table_records_execution_too(world, api):
    bare = ProjectFactory(unit=world.unit, lead=world.people["lead"], name="待编目标表项目")
    response = api("lead").post(url(bare), {"as_of": "2026-07-31", "executed": "10"})
    assert response.status_code == 201 and response.json()["table"] is None
    assert BudgetExecution.objects.get(project=bare).executed == Decimal("10")


def test_a_closed_year_refuses_execution_with_409(world, api):
    close_year(world.unit)
    response = api("lead").post(url(world.project), {"as_of": "2026-07-31", "executed": "40"})
    assert response.status_code == 409 and "2026 年度已关账" in response.json()["detail"]


def test_a_retried_execution_returns_the_first_answer(world, api):
    lead = api("lead")
    sent = {"as_of": "2026-07-31", "executed": "40"}
    first = lead.post(url(world.project), sent, **{"Idempotency-Key": "exec-7"})
    again = lead.post(url(world.project), sent, **{"Idempotency-Key": "exec-7"})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
