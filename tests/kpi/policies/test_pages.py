"""The 评分政策 pages: who may open them, the list, creating, copying and editing a policy — each save previewed
first (what it changes once rescored), then confirmed; every bad input said beside its field, nothing typed
lost; a policy scoring tables of units the user cannot see is not theirs to change."""
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from kpi.models import GoalTable, ScoringPolicy
from tests.factories import ProjectFactory, ScoringPolicyFactory, rescore_stale, table_with_indicators

pytestmark = pytest.mark.django_db
D = Decimal
LIST, CREATE = reverse("policies:list"), reverse("policies:create")


def form_data(**overrides) -> dict:
    data = {"name": "新疆2026", "region": "新疆", "year": "2026", "execution_weight": "20", "reverse_formula": "ratio",
            "satisfaction_floor": "", "overachievement_flag": "0.30", "overachievement_deduction": "2",
            "caps": "80 89\n70 79\n60 69\n50 59", "reason_below_execution_rate": "90",
            "reason_over_target_percent": "130", "grade_excellent": "90", "grade_good": "80", "grade_pass": "60",
            "step": "preview"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def errors_beside(page: str, field: str) -> list[str]:
    """The errors shown in the label of a form field."""
    match = re.search(rf'<label[^>]*>[^<]*<(?:input|select|textarea)[^>]*name="{field}".*?</label>', page, re.S)
    assert match, field
    return re.findall(r'<span class="error">([^<]*)</span>', match.group(0))


# --- who -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["admin", "lead"])
def test_unit_administrators_and_leads_may_not_manage_policies(client, world, who):
    client.force_login(world.people[who])
    assert client.get(LIST).status_code == 403
    assert client.post(CREATE, form_data()).status_code == 403
    assert not ScoringPolicy.objects.exists()


def test_the_pages_need_a_login(client, world):
    assert client.get(LIST).status_code == 302 and client.get(CREATE).status_code == 302


def test_a_reviewer_of_another_tree_cannot_open_a_policy_that_scores_units_they_cannot_see(client, world):
    policy = ScoringPolicyFactory(name="示范市2026", year=2026)
    client.force_login(world.people.outsider)
    for name in ("policies:edit", "policies:copy"):
        assert client.get(reverse(name, args=[policy.pk])).status_code == 404
        assert client.post(reverse(name, args=[policy.pk]), form_data(step="confirm")).status_code == 404
    page = client.get(LIST).content.decode()
    assert "示范市2026" not in page and "另有 1 个评分政策用于您无权查看的单位的目标表" in page


def test_a_reviewer_of_another_tree_cannot_save_a_policy_that_would_rescore_units_they_cannot_see(client, world):
    client.force_login(world.people.outsider)
    page = client.post(CREATE, form_data()).content.decode()
    assert "不能保存：使用该政策的目标表中有 2 张属于您无权查看的单位" in page and "确认保存" not in page
    response = client.post(CREATE, form_data(step="confirm"))
    assert "未保存：保存后将重新评分 2 张您无权查看的单位的目标表" in response.content.decode()
    assert not ScoringPolicy.objects.exists()


def test_a_reviewer_may_create_a_policy_no_table_uses_yet(client, world):
    client.force_login(world.people.outsider)
    response = client.post(CREATE, form_data(year="2031", step="confirm"))
    assert response.status_code == 302 and ScoringPolicy.objects.get(year=2031).version == 1


# --- the list --------------------------------------------------------------------------------------------

def test_the_list_shows_the_default_and_each_policy_with_its_tables(client, world):
    ScoringPolicyFactory(name="示范市2026", region="示范市", year=2026, execution_weight=D(20),
                         execution_caps=[[80, 89]], whole_points=True)
    client.force_login(world.people.finance)
    page = client.get(LIST).content.decode()
    assert "默认评分政策" in page and "示范市2026（第1版）" in page
    assert "低于 80% 最高 89 分" in page and "按整数计分" in page and "20 分" in page
    assert re.search(r"示范市2026（第1版）.*?data-label=\"使用该政策的目标表\">2 <small", page, re.S)  # both 2026 tables


def test_the_list_query_count_does_not_grow_with_policies_or_tables(client, world, django_assert_num_queries):
    ScoringPolicyFactory(name="甲", year=2026)
    client.force_login(world.people.finance)
    # Session and user 2, may manage 1, the policies 1, the tables 1, the units seen (memberships, the unit
    # tree, the units) 3, navigation 3.
    with django_assert_num_queries(11):
        client.get(LIST)
    for year in (2027, 2028, None):
        ScoringPolicyFactory(name=f"政策{year}", year=year)
    for i in range(5):
        table_with_indicators(ProjectFactory(unit=world.unit_b, name=f"又一项目{i}"))
    with django_assert_num_queries(11):
        assert client.get(LIST).status_code == 200


# --- create: preview, then confirm -----------------------------------------------------------------------

def test_creating_previews_first_then_saves_on_confirm(client, world):
    client.force_login(world.people.finance)
    assert "预览影响" in client.get(CREATE).content.decode()
    page = client.post(CREATE, form_data()).content.decode()
    assert not ScoringPolicy.objects.exists()  # the preview saves nothing
    assert "保存前预览" in page and "重新评分的目标表" in page
    assert re.search(r"变化的总分</span><strong>\d+</strong>", page)
    assert "培训项目" in page and "预算执行率 75% 低于 80%，总分最高 89 分" in page
    assert "预算执行率分值" in page and "执行率封顶" in page  # the settings it sets
    response = client.post(CREATE, form_data(step="confirm"))
    assert response.status_code == 302 and response["Location"] == LIST
    policy = ScoringPolicy.objects.get()
    assert (policy.version, policy.execution_weight, policy.execution_caps) == (
        1, D(20), [[80, 89], [70, 79], [60, 69], [50, 59]])
    assert all(t.is_stale for t in GoalTable.objects.all())
    assert "已保存“新疆2026（第1版）”" in client.get(LIST).content.decode()


def test_back_to_the_form_keeps_everything_typed(client, world):
    client.force_login(world.people.finance)
    page = client.post(CREATE, form_data(step="edit")).content.decode()
    assert 'value="新疆2026"' in page and 'value="20"' in page and "80 89\n70 79" in page
    assert not ScoringPolicy.objects.exists()


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("caps", "80", "第 1 行“80”应为两个数：执行率低于（%）和总分最高"),
    ("caps", "80 89\n80 79", "第 2 行：执行率 80% 重复了"),
    ("caps", "120 89", "执行率应在 0 到 100 之间"),
    ("execution_weight", "120", "预算执行率分值不能超过 100"),
    ("execution_weight", "abc", "请输入数字"),
    ("reason_over_target_percent", "90", "应大于 100"),
    ("reason_below_execution_rate", "120", "0 到 100 之间的百分数"),
    ("grade_good", "95", "优 ≥ 良 ≥ 中"),
    ("year", "1999", "年度应在 2000 到 2100 之间"),
    ("name", "", "请填写政策名称"),
])
def test_a_bad_setting_is_said_beside_its_field_and_nothing_is_lost(client, world, field, typed, message):
    client.force_login(world.people.finance)
    page = client.post(CREATE, form_data(**{field: typed})).content.decode()
    assert "未保存：请按提示修改" in page
    assert any(message in error for error in errors_beside(page, field)), errors_beside(page, field)
    assert 'value="新疆"' in page and 'value="0.30"' in page  # the other fields as typed
    assert typed in page
    assert not ScoringPolicy.objects.exists()


def test_a_taken_name_is_said_beside_the_name(client, world):
    ScoringPolicyFactory(name="新疆2026", year=2030)
    client.force_login(world.people.finance)
    page = client.post(CREATE, form_data()).content.decode()
    assert "已有同名的评分政策" in " ".join(errors_beside(page, "name"))


# --- copy and edit ---------------------------------------------------------------------------------------

def test_copying_starts_from_the_other_policys_settings(client, world):
    source = ScoringPolicyFactory(name="新疆2025", region="新疆", year=2025, execution_weight=D(20),
                                  execution_caps=[[80, 89]], whole_points=True)
    client.force_login(world.people.finance)
    page = client.get(reverse("policies:copy", args=[source.pk])).content.decode()
    assert 'value="新疆2025（副本）"' in page and 'value="20.00"' in page and "80 89" in page
    response = client.post(reverse("policies:copy", args=[source.pk]),
                           form_data(name="新疆2026", caps="80 89", step="confirm"))
    assert response.status_code == 302
    copy = ScoringPolicy.objects.get(name="新疆2026")
    assert (copy.version, copy.execution_caps) == (1, [[80, 89]])
    assert ScoringPolicy.objects.get(pk=source.pk).version == 1  # the source is untouched


def test_editing_previews_the_change_and_saves_a_new_version(client, world):
    policy = ScoringPolicyFactory(name="示范市2026", year=2026)
    rescore_stale()
    url = reverse("policies:edit", args=[policy.pk])
    client.force_login(world.people.finance)
    assert "当前为第 1 版，保存后为第 2 版" in client.get(url).content.decode()
    page = client.post(url, form_data(name="示范市2026")).content.decode()
    # old → new, setting by setting
    assert '预算执行率分值</strong></td><td data-label="原值">10</td><td data-label="新值">20</td>' in page
    assert all(not t.is_stale for t in GoalTable.objects.all())
    response = client.post(url, form_data(name="示范市2026", step="confirm", previewed_version="1"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.version, policy.execution_weight) == (2, D(20))
    assert all(t.is_stale for t in GoalTable.objects.all())


def test_an_edit_saved_meanwhile_by_someone_else_is_not_overwritten(client, world):
    policy = ScoringPolicyFactory(name="示范市2026", year=2026)
    url = reverse("policies:edit", args=[policy.pk])
    client.force_login(world.people.finance)
    client.post(url, form_data(name="示范市2026"))  # previewed at version 1 …
    policy.execution_weight = D(15)
    from kpi.rescoring.services import scoring_policy_save

    scoring_policy_save(policy=policy)  # … someone saves version 2
    page = client.post(url, form_data(name="示范市2026", step="confirm", previewed_version="1")).content.decode()
    assert "在您预览之后已被修改（现为第 2 版），请重新预览后再保存" in page
    policy.refresh_from_db()
    assert (policy.version, policy.execution_weight) == (2, D(15))


# --- which policy applies, shown on the pages ------------------------------------------------------------

def test_the_scorecards_say_which_policy_applies_and_which_versions_scored(client, world):
    policy = ScoringPolicyFactory(name="示范市2026", year=2026, execution_weight=D(20))
    rescore_stale()
    policy.whole_points = True
    from kpi.rescoring.services import scoring_policy_save

    scoring_policy_save(policy=policy)
    project = world.good[0]
    client.force_login(world.people.admin)
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    assert "评分政策：<strong>示范市2026（第2版）</strong>" in page
    assert "已存得分计算所用的政策版本：示范市2026（第1版）" in page  # stale: not rescored under v2 yet
    assert "15.00 / 20" in page  # 执行率 75% of the policy's 20 points
    rescore_stale()
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    assert "已存得分计算所用的政策版本：示范市2026（第2版）" in page and "15.00 / 20" in page
    assert "/ 10</strong>" not in page  # the header's 执行率得分 too is out of the policy's 20
    page = client.get(reverse("scorecards:unit", args=[world.unit_a.pk, 2026])).content.decode()
    assert "评分政策：示范市2026（第2版）" in page


def test_a_table_without_a_policy_says_the_default(client, world):
    client.force_login(world.people.admin)
    page = client.get(reverse("scorecards:project", args=[world.good[0].pk])).content.decode()
    assert "评分政策：<strong>默认评分政策</strong>" in page and "7.50 / 10" in page


# --- the admin -------------------------------------------------------------------------------------------

def test_the_admin_edits_the_caps_as_text_and_saves_a_new_version(client, world):
    policy = ScoringPolicyFactory(name="示范市2026", year=2026)
    client.force_login(world.people.superuser)
    url = reverse("admin:kpi_scoringpolicy_change", args=[policy.pk])
    page = client.get(url).content.decode()
    assert 'name="caps"' in page
    data = form_data(name="示范市2026", caps="80 89\n50 59")
    data.pop("step")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert (policy.version, policy.execution_caps) == (2, [[80, 89], [50, 59]])
    bad = client.post(url, {**data, "caps": "80"}).content.decode()
    assert "应为两个数" in bad


def test_the_form_and_the_preview_query_counts_do_not_grow_with_tables(client, world, django_assert_num_queries):
    policy = ScoringPolicyFactory(name="示范市2026", year=2026)
    rescore_stale()
    client.force_login(world.people.finance)
    edit = reverse("policies:edit", args=[policy.pk])
    # Session and user 2, may manage 1, the policy through the scoping 5 (the policies, the tables, the units
    # seen 3), the policy 1, navigation 3.
    with django_assert_num_queries(12):
        client.get(edit)
    # The same 9, the form's checks 3 (two constraints, the name), the request's savepoints 4; the preview: the
    # policies, the stored version, the tables 3, one batch of tables and what scores them 7 (tables,
    # indicators, actuals, execution, stored scores and totals, the indicators named), the tables outside the
    # units seen 4, whether the year changed 1; navigation 3 … 35 in all.
    with django_assert_num_queries(35):
        client.post(edit, form_data(name="示范市2026"))
    for i in range(4):
        from .conftest import scored_project

        scored_project(world.unit_b, f"又一项目{i}", values=["100", "95", "50", "90"], executed="80")
    rescore_stale()
    with django_assert_num_queries(12):
        client.get(edit)
    with django_assert_num_queries(35):
        assert "保存前预览" in client.post(edit, form_data(name="示范市2026")).content.decode()
