"""申报 → 审核 → 批复 (kpi.goals.workflow): every transition, every refusal, by role, and its pages."""
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kpi.formatting import person_name
from kpi.goals import workflow
from kpi.goals.review import MUST, SHOULD, Finding
from kpi.goals.services import goal_table_approve
from kpi.goals.workflow import table_pass, table_ratify, table_return, table_submit
from kpi.models import GoalTable, GoalTableStep
from kpi.rescoring.tasks import rescore_table
from tests.factories import IMPORTED, ProjectFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
S = GoalTable.Status


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture(autouse=True)
def clean_review(monkeypatch):
    """The quality review finds nothing unless a test says otherwise (its rules are tested on their own)."""
    monkeypatch.setattr(workflow, "table_findings", lambda table: [])


@pytest.fixture
def w(review_tree):
    """The review tree (conftest) and a draft project table of its unit."""
    table, _ = table_with_indicators(ProjectFactory(unit=review_tree["unit"], lead=review_tree["lead"]))
    return {"table": table, **review_tree}


def status(table):
    return GoalTable.objects.get(pk=table.pk).status


def test_the_whole_path_records_every_step(w):
    table = w["table"]
    table_submit(table, w["admin"])
    table_return(table, w["reviewer"], "满意度指标值偏低")
    assert status(table) == S.RETURNED
    table_submit(table, w["admin"])
    table_pass(table, w["reviewer"], note="同意")
    assert status(table) == S.PASSED
    table_ratify(table, w["finance"])
    assert status(table) == S.APPROVED
    steps = list(GoalTableStep.objects.filter(table=table).order_by("at", "id"))
    assert [(s.action, s.from_status, s.to_status, s.by.username, s.reason) for s in steps] == [
        ("submit", "draft", "submitted", "admin", ""),
        ("return", "submitted", "returned", "reviewer", "满意度指标值偏低"),
        ("submit", "returned", "submitted", "admin", ""),
        ("pass", "submitted", "passed", "reviewer", "同意"),
        ("approve", "passed", "approved", "finance", ""),
    ]
    assert all(s.at is not None and s.adjustment is None for s in steps)
    assert GoalTable.objects.get(pk=table.pk).history.first().history_user == w["finance"]


def test_finance_may_return_a_passed_table(w):
    table = w["table"]
    table_submit(table, w["admin"])
    table_pass(table, w["reviewer"])
    table_return(table, w["finance"], "预算未安排")
    assert status(table) == S.RETURNED


@pytest.mark.parametrize("who", ["lead", "reviewer", "finance", "stranger", "peer_admin"])
def test_only_the_units_administrator_submits(w, who):
    with pytest.raises(PermissionDenied, match="只有本单位的单位管理员可以申报"):
        table_submit(w["table"], w[who])
    assert status(w["table"]) == S.DRAFT and not GoalTableStep.objects.exists()


@pytest.mark.parametrize("who", ["admin", "lead", "stranger", "peer_admin"])
def test_only_a_reviewer_above_passes_or_returns(w, who):
    table = w["table"]
    table_submit(table, w["admin"])
    with pytest.raises(PermissionDenied, match="只有主管部门的审核人可以审核"):
        table_pass(table, w[who])
    with pytest.raises(PermissionDenied, match="退回"):
        table_return(table, w[who], "原因")
    assert status(table) == S.SUBMITTED and GoalTableStep.objects.count() == 1


@pytest.mark.parametrize("who", ["admin", "lead", "reviewer", "stranger"])
def test_only_the_finance_side_ratifies(w, who):
    table = w["table"]
    table_submit(table, w["admin"])
    table_pass(table, w["reviewer"])
    with pytest.raises(PermissionDenied, match="只有财政部门的审核人可以批复"):
        table_ratify(table, w[who])
    assert status(table) == S.PASSED


def test_a_superuser_may_do_every_step(w):
    root = UserFactory(is_superuser=True)
    table = w["table"]
    table_submit(table, root)
    table_pass(table, root)
    table_ratify(table, root)
    assert status(table) == S.APPROVED


def test_wrong_states_are_refused_and_change_nothing(w):
    table, admin, reviewer, finance = w["table"], w["admin"], w["reviewer"], w["finance"]
    with pytest.raises(ValidationError, match="当前为“草稿”，只有已申报的目标表可以审核通过"):
        table_pass(table, reviewer)
    with pytest.raises(ValidationError, match="只有已申报、审核通过的目标表可以退回"):
        table_return(table, reviewer, "原因")
    with pytest.raises(ValidationError, match="只有审核通过的目标表可以批复"):
        table_ratify(table, finance)
    table_submit(table, admin)
    with pytest.raises(ValidationError, match="当前为“已申报”，只有草稿、已退回的目标表可以申报"):
        table_submit(table, admin)
    with pytest.raises(ValidationError, match="只有审核通过的目标表可以批复"):
        table_ratify(table, finance)
    table_pass(table, reviewer)
    table_ratify(table, finance)
    for action, user in ((table_submit, admin), (table_pass, reviewer), (table_ratify, finance)):
        with pytest.raises(ValidationError, match="当前为“已批复”"):
            action(table, user)
    assert GoalTableStep.objects.count() == 3 and status(table) == S.APPROVED


def test_returning_needs_a_reason(w):
    table = w["table"]
    table_submit(table, w["admin"])
    with pytest.raises(ValidationError, match="退回时必须填写原因"):
        table_return(table, w["reviewer"], "   ")
    assert status(table) == S.SUBMITTED


def test_an_empty_table_is_not_submitted(w):
    from kpi.goals.services import goal_table_create

    empty = goal_table_create(unit=w["unit"], year=2026)
    with pytest.raises(ValidationError, match="还没有任何指标，不能申报"):
        table_submit(empty, w["admin"])


def test_a_must_finding_blocks_submission_and_is_named(w, monkeypatch):
    findings = [
        Finding("测试项目", "满意度", 4, MUST, "satisfaction_low", "满意度目标低于 80%"),
        Finding("测试项目", None, None, MUST, "weights_sum", "权重合计 85，应为 90"),
        Finding("测试项目", "合格率", 2, SHOULD, "x", "建议说明依据"),
    ]
    monkeypatch.setattr(workflow, "table_findings", lambda table: findings)
    with pytest.raises(ValidationError) as refused:
        table_submit(w["table"], w["admin"])
    message = refused.value.messages[0]
    assert "还有 2 项必须修改的问题，不能申报" in message
    assert "第 4 行“满意度”：满意度目标低于 80%" in message and "权重合计 85，应为 90" in message
    assert "建议说明依据" not in message
    assert status(w["table"]) == S.DRAFT and not GoalTableStep.objects.exists()
    monkeypatch.setattr(workflow, "table_findings", lambda table: findings[2:])  # only 建议修改: submitted
    table_submit(w["table"], w["admin"])
    assert status(w["table"]) == S.SUBMITTED


def test_the_real_review_is_asked(w, monkeypatch):
    """Without the stand-in, table_submit asks kpi.goals.review_selectors.table_findings of this table."""
    monkeypatch.undo()
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    asked = []
    from kpi.goals import review_selectors

    real = review_selectors.table_findings
    monkeypatch.setattr(workflow, "table_findings", lambda table: asked.append(table.pk) or real(table))
    try:
        table_submit(w["table"], w["admin"])
    except ValidationError as error:  # the real review may flag the fixture's rows: then it names them
        assert "必须修改" in error.messages[0]
    assert asked == [w["table"].pk]


def test_the_direct_approval_is_for_imported_tables_only(w):
    with pytest.raises(ValidationError, match="须经申报、主管部门审核和财政批复，不能直接批复"):
        goal_table_approve(table=w["table"], user=w["admin"])
    assert status(w["table"]) == S.DRAFT
    imported, _ = table_with_indicators(ProjectFactory(unit=w["unit"]), source=IMPORTED)
    goal_table_approve(table=imported, user=w["admin"])
    assert status(imported) == S.APPROVED
    step = GoalTableStep.objects.get(table=imported)
    assert (step.action, step.from_status, step.to_status, step.by) == ("approve", "draft", "approved", w["admin"])


def test_permissions_of_the_direct_approval(w):
    from kpi.permissions import can_approve_table, table_permissions

    imported, _ = table_with_indicators(ProjectFactory(unit=w["unit"]), source=IMPORTED)
    assert can_approve_table(w["admin"], imported) and table_permissions(w["admin"], imported).approve_table
    assert not can_approve_table(w["admin"], w["table"]) and not table_permissions(w["admin"], w["table"]).approve_table
    assert not can_approve_table(w["lead"], imported)


# --- the pages -----------------------------------------------------------------------------------------

def page(client, user, table):
    client.force_login(user)
    response = client.get(reverse("goals:workflow", args=[table.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_each_user_their_buttons(client, w):
    table = w["table"]
    html = page(client, w["admin"], table)
    assert "草稿" in html and reverse("goals:submit", args=[table.pk]) in html
    assert reverse("goals:pass", args=[table.pk]) not in html
    html = page(client, w["reviewer"], table)
    assert reverse("goals:submit", args=[table.pk]) not in html and reverse("goals:pass", args=[table.pk]) not in html
    table_submit(table, w["admin"])
    html = page(client, w["reviewer"], table)
    assert reverse("goals:pass", args=[table.pk]) in html and reverse("goals:return", args=[table.pk]) in html
    assert reverse("goals:ratify", args=[table.pk]) not in html and "同类单位比较" in html
    html = page(client, w["lead"], table)
    assert "已申报" in html and "<form" not in html.split("<main", 1)[-1].split("指标质量审核")[0]
    assert "同类单位比较" not in html  # peer notes are for reviewers
    table_pass(table, w["reviewer"])
    html = page(client, w["finance"], table)
    assert reverse("goals:ratify", args=[table.pk]) in html and reverse("goals:return", args=[table.pk]) in html


def test_the_buttons_walk_the_path_and_steps_are_shown(client, w):
    table = w["table"]
    client.force_login(w["admin"])
    response = client.post(reverse("goals:submit", args=[table.pk]), follow=True)
    assert "绩效目标表已申报" in response.content.decode()
    client.force_login(w["reviewer"])
    response = client.post(reverse("goals:return", args=[table.pk]), {"reason": ""}, follow=True)
    assert "退回时必须填写原因" in response.content.decode() and status(table) == S.SUBMITTED
    client.post(reverse("goals:return", args=[table.pk]), {"reason": "请补充效益指标"})
    client.force_login(w["admin"])
    client.post(reverse("goals:submit", args=[table.pk]))
    client.force_login(w["reviewer"])
    client.post(reverse("goals:pass", args=[table.pk]), {"note": "同意上报"})
    client.force_login(w["finance"])
    html = client.post(reverse("goals:ratify", args=[table.pk]), follow=True).content.decode()
    assert "绩效目标表已批复" in html and status(table) == S.APPROVED
    text = re.sub(r"<[^>]+>", "", html)
    for shown in ("请补充效益指标", "同意上报", "已申报 → 已退回", "审核通过 → 已批复", person_name(w["reviewer"]),
                  person_name(w["finance"])):
        assert shown in text, shown


def test_a_wrong_users_post_is_403_with_the_reason_and_changes_nothing(client, w):
    client.force_login(w["lead"])
    response = client.post(reverse("goals:submit", args=[w["table"].pk]))
    assert response.status_code == 403 and "只有本单位的单位管理员可以申报" in response.content.decode()
    client.force_login(w["admin"])
    response = client.post(reverse("goals:ratify", args=[w["table"].pk]))
    assert response.status_code == 403 and "只有财政部门的审核人可以批复" in response.content.decode()
    assert status(w["table"]) == S.DRAFT and not GoalTableStep.objects.exists()


def test_another_trees_reviewer_gets_404(client, w):
    client.force_login(w["stranger"])
    assert client.get(reverse("goals:workflow", args=[w["table"].pk])).status_code == 404
    assert client.post(reverse("goals:submit", args=[w["table"].pk])).status_code == 404


def test_the_workflow_page_costs_a_fixed_number_of_queries(client, w, django_assert_num_queries):
    from kpi.models import Indicator

    table = w["table"]
    table_submit(table, w["admin"])
    client.force_login(w["reviewer"])
    client.get(reverse("goals:workflow", args=[table.pk]))  # warm caches (content types, …)
    with django_assert_num_queries(QUERIES) as captured:
        client.get(reverse("goals:workflow", args=[table.pk]))
    for n in range(3):
        Indicator.objects.create(table=table, order=10 + n, level1="产出指标", level2="数量指标", name=f"新增{n}",
                                 target_raw="≥1个", weight=0, rule="按照完成比例赋分")
    with django_assert_num_queries(len(captured)):
        client.get(reverse("goals:workflow", args=[table.pk]))


# session, user, the table found in the user's scope (4), indicators, adjustments, the permissions (6), the
# peer notes, the steps, the quality review (3), the navigation (base.html: 5)
QUERIES = 22


def test_the_queues_of_the_reviewer_and_the_finance_side(client, w, django_assert_num_queries):
    table = w["table"]
    other, _ = table_with_indicators(ProjectFactory(unit=w["unit"], name="第二个项目"))
    table_submit(table, w["admin"])
    table_submit(other, w["admin"])
    table_pass(other, w["reviewer"])
    url = reverse("goals:queue")
    client.force_login(w["reviewer"])
    client.get(url)
    with django_assert_num_queries(QUEUE_QUERIES):
        html = client.get(url).content.decode()
    assert table.project.name in html and "第二个项目" not in html.split("待审核的指标调整")[0].split("<tbody>")[1]
    client.force_login(w["finance"])
    html = client.get(url).content.decode()
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "第二个项目" in body and "批复" in body
    client.force_login(w["stranger"])
    html = client.get(url).content.decode()
    assert "目前没有等待您审核或批复的绩效目标表" in html
    client.force_login(w["lead"])
    assert "您不是主管部门或财政部门的审核人" in client.get(url).content.decode()


# session, user, the scope (memberships with parents, the tree), tables, adjustments, the navigation (5)
QUEUE_QUERIES = 9


def test_the_project_and_unit_year_pages_link_to_the_workflow(client, w):
    table = w["table"]
    client.force_login(w["admin"])
    url = reverse("goals:workflow", args=[table.pk])
    assert url in client.get(reverse("scorecards:project", args=[table.project_id])).content.decode()
    assert url in client.get(reverse("yearclose:unit-year", args=[w["unit"].pk, 2026])).content.decode()


def test_the_demo_has_a_finance_bureau_and_its_reviewer(settings):
    """load_demo: 示范市财政局 above the 主管部门, 孙丽 ratifies; an older load (no bureau) gets it on reload."""
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from budgets.models import Unit
    from kpi.permissions import can_ratify_table, can_review_table

    settings.JIXIAO_ALLOW_DEMO_DATA = True
    call_command("load_demo", stdout=StringIO())
    users = {u.username: u for u in get_user_model().objects.all()}
    table = GoalTable.objects.filter(unit__code="DEMO-SB").first()
    assert Unit.objects.get(code="DEMO-RS").parent.code == "DEMO-CZ"
    assert can_ratify_table(users["sunli"], table) and not can_ratify_table(users["chenjing"], table)
    assert can_review_table(users["chenjing"], table)
    # an older demo database: DEMO-RS at the top, no finance bureau, no 孙丽
    Unit.objects.filter(code="DEMO-RS").update(parent=None)
    users["sunli"].delete()
    Unit.objects.filter(code="DEMO-CZ").delete()
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    assert Unit.objects.get(code="DEMO-RS").parent.code == "DEMO-CZ" and Unit.objects.filter(code="DEMO-CZ").count() == 1
    assert can_ratify_table(get_user_model().objects.get(username="sunli"), table)


def test_a_hostile_reason_or_note_is_refused_and_the_table_stays(w, client):
    table = w["table"]
    table_submit(table, w["admin"])
    with pytest.raises(ValidationError, match="退回原因含有不可见的控制字符"):
        table_return(table, w["reviewer"], "满意度\x00偏低")
    with pytest.raises(ValidationError, match="审核意见不能超过 1000 个字"):
        table_pass(table, w["reviewer"], note="同" * 1001)
    assert status(table) == S.SUBMITTED
    # through the page: the message shown, nothing recorded
    client.force_login(w["reviewer"])
    response = client.post(reverse("goals:return", args=[table.pk]), {"reason": "x" * 5000}, follow=True)
    assert "退回原因不能超过 1000 个字（现为 5000 个字）" in response.content.decode()
    assert status(table) == S.SUBMITTED
    assert not GoalTableStep.objects.filter(table=table, action="return").exists()
