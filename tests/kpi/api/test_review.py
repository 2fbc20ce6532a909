"""POST /reports/{id}/submit/, /withdraw/, /approve/, /return/: the report page's services and predicates;
a step the report's state does not allow, or a closed year, is a 409 with the service's Chinese message."""
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi.models import Report
from kpi.reports.services import actual_record, report_open, report_submit

from .conftest import JULY, close_year

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(world):
    actual = actual_record(indicator=world.indicators[0], as_of=JULY, value=Decimal("80"), user=world.people["lead"])
    return actual.report


@pytest.fixture
def submitted(world, draft):
    return report_submit(report=draft, user=world.people["lead"])


def step(name, report):
    return reverse(f"api:report-{name}", args=[report.pk])


def status_of(report):
    return Report.objects.get(pk=report.pk).status


def test_a_whole_review_submit_withdraw_submit_return_correct_approve(world, api, draft):
    lead, admin = api("lead"), api("admin")
    submitted = lead.post(step("submit", draft))
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert submitted.json()["submitted_by"] == "王芳"
    assert lead.post(step("withdraw", draft)).json()["status"] == "draft"
    lead.post(step("submit", draft))
    returned = admin.post(step("return", draft), {"reason": "请附培训签到表", "indicators": [world.indicators[0].pk]})
    assert returned.status_code == 200
    assert returned.json()["status"] == "returned" and returned.json()["review_note"] == "请附培训签到表"
    assert returned.json()["review_indicators"] == [world.indicators[0].pk]
    # the lead corrects it: a new draft of the same date
    corrected = lead.post(reverse("api:table-reports", args=[world.table.pk]), {
        "as_of": "2026-07-31", "entries": [{"indicator": world.indicators[0].pk, "value": "82"}]})
    assert corrected.status_code == 201 and corrected.json()["id"] != draft.pk
    new = Report.objects.get(pk=corrected.json()["id"])
    lead.post(step("submit", new))
    approved = admin.post(step("approve", new))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["reviewed_by"] == "刘敏"
    assert [e["value"] for e in approved.json()["entries"]] == ["82"]


@pytest.mark.parametrize(("name", "role", "message"), [
    ("approve", "lead", "只有单位管理员可以审核通过。"),
    ("approve", "reviewer", "只有单位管理员可以审核通过。"),
    ("return", "lead", "您无权退回该填报。"),
    ("submit", "reviewer", "只有项目负责人或单位管理员可以提交填报。"),
    ("withdraw", "reviewer", "只有项目负责人或单位管理员可以撤回填报。"),
])
def test_a_step_the_role_may_not_take_is_403(world, api, submitted, name, role, message):
    response = api(role).post(step(name, submitted), {"reason": "x"} if name == "return" else None)
    assert response.status_code == 403 and response.json()["detail"] == message
    assert status_of(submitted) == "submitted"


def test_the_reviewer_above_may_return(world, api, submitted):
    response = api("reviewer").post(step("return", submitted), {"reason": "数据口径不一致"})
    assert response.status_code == 200 and response.json()["reviewed_by"] == "陈静"


@pytest.mark.parametrize("name", ["submit", "withdraw", "approve", "return"])
@pytest.mark.parametrize("role", ["outsider", "readonly_outsider"])
def test_someone_elses_report_is_404_and_a_read_only_token_403(world, api, submitted, name, role):
    if role == "readonly_outsider":
        response = api("readonly").post(step(name, submitted), {"reason": "x"})
        assert response.status_code == 403
    else:
        response = api("outsider").post(step(name, submitted), {"reason": "x"})
        assert response.status_code == 404
    assert status_of(submitted) == "submitted"


@pytest.mark.parametrize(("name", "message"), [
    ("submit", "该填报当前为“已提交”，不能提交。"),
])
def test_a_step_the_state_does_not_allow_is_409(world, api, submitted, name, message):
    response = api("lead").post(step(name, submitted))
    assert response.status_code == 409 and response.json()["detail"] == message


def test_approving_a_draft_or_withdrawing_an_approved_report_is_409(world, api, draft):
    admin = api("admin")
    refused = admin.post(step("approve", draft))
    assert refused.status_code == 409 and refused.json()["detail"] == "该填报当前为“草稿”，不能审核通过。"
    api("lead").post(step("submit", draft))
    admin.post(step("approve", draft))
    late = api("lead").post(step("withdraw", draft))
    assert late.status_code == 409 and late.json()["detail"] == "该填报当前为“已审核”，不能撤回。"


def test_a_return_needs_its_reason_as_on_the_page(world, api, submitted):
    response = api("admin").post(step("return", submitted), {"reason": "  "})
    assert response.status_code == 400 and response.json()["errors"] == {"reason": ["退回时必须填写原因。"]}
    other = world.other_table.indicators.first()
    response = api("admin").post(step("return", submitted), {"reason": "见下", "indicators": [other.pk]})
    assert response.status_code == 400 and "indicators" in response.json()["errors"]
    assert status_of(submitted) == "submitted"


def test_an_empty_draft_cannot_be_submitted(world, api):
    report = report_open(table=world.table, as_of=JULY, user=world.people["lead"])
    response = api("lead").post(step("submit", report))
    assert response.status_code == 409 and response.json()["detail"] == "填报中没有任何实际完成值，不能提交。"


def test_a_closed_year_refuses_every_step_with_409(world, api, submitted):
    close_year(world.unit)
    for name, role in (("approve", "admin"), ("return", "admin"), ("withdraw", "lead")):
        response = api(role).post(step(name, submitted), {"reason": "x"} if name == "return" else None)
        assert response.status_code == 409, name
        assert "2026 年度已关账" in response.json()["detail"]
    assert status_of(submitted) == "submitted"


def test_a_retried_approval_returns_the_first_answer(world, api, submitted):
    admin = api("admin")
    first = admin.post(step("approve", submitted), **{"Idempotency-Key": "approve-1"})
    again = admin.post(step("approve", submitted), **{"Idempotency-Key": "approve-1"})
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
