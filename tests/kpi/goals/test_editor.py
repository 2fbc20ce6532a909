"""The goal-table editor: header, rows (add, delete, reorder, defaults) without JavaScript, errors that keep
what was typed, who may edit, the query pins, last year beside the rows, and the save's after-effects."""
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from budgets.models import Project, UnitBudget
from kpi.goals.editor import parse_target_json, target_summary
from kpi.library import services as library_services
from kpi.models import GoalTable, Indicator
from kpi.rescoring.tasks import rescore_table
from kpi.targets import parse_target
from tests.factories import (
    ActualFactory,
    ProjectFactory,
    UnitFactory,
    UnitMembershipFactory,
    UnitYearFactory,
    UserFactory,
    approve_reports,
    rescore_stale,
    table_with_indicators,
)

pytestmark = pytest.mark.django_db
ROW_FIELDS = ("level1", "level2", "name", "target_raw", "basis", "last_year", "weight", "rule", "evidence",
              "accumulation")


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def synced(monkeypatch):
    calls = []
    # the row services keep the 指标库 in step, once per transaction (kpi.library.services.library_sync_soon)
    monkeypatch.setattr(library_services, "library_sync_tables", lambda ids: calls.append(list(ids)))
    return calls


@pytest.fixture
def world():
    unit = UnitFactory()
    lead, other_lead, admin = UserFactory(), UserFactory(), UserFactory()
    UnitMembershipFactory(user=lead, unit=unit, role="lead")
    UnitMembershipFactory(user=other_lead, unit=unit, role="lead")
    UnitMembershipFactory(user=admin, unit=unit, role="admin")
    project = ProjectFactory(unit=unit, lead=lead, name="职业技能培训项目")
    table, indicators = table_with_indicators(project)
    return {"unit": unit, "lead": lead, "other_lead": other_lead, "admin": admin, "project": project,
            "table": table, "indicators": indicators}


def edit_url(table):
    return reverse("goals:edit", args=[table.pk])


def header_data(project, **changes):
    data = {"head-name": project.name, "head-lead_name": project.lead_name,
            "head-budget_initial": str(project.budget_initial), "head-fiscal": str(project.fiscal),
            "head-carryover": str(project.carryover), "head-other": str(project.other),
            "head-overall_goal": "提升培训质量"}
    data.update({f"head-{k}": v for k, v in changes.items()})
    return data


def rows_data(indicators, *, new=(), changes=None, extra_blank=1):
    """The formset as the page posts it: each existing row with its values (and `changes` by index), then
    the new rows, then blank ones."""
    changes = changes or {}
    data = {}
    rows = []
    for i, indicator in enumerate(indicators):
        row = {name: getattr(indicator, name) for name in ROW_FIELDS}
        row["id"] = indicator.pk
        row["ORDER"] = i + 1
        row.update(changes.get(i, {}))
        rows.append(row)
    rows += [dict(r) for r in new]
    rows += [{} for _ in range(extra_blank)]
    for i, row in enumerate(rows):
        for name, value in row.items():
            if name == "DELETE":
                if value:
                    data[f"rows-{i}-DELETE"] = "on"
                continue
            data[f"rows-{i}-{name}"] = "" if value is None else str(value)
    data.update({"rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": str(len(indicators)),
                 "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "1000"})
    return data


def current_rows(table):
    return list(Indicator.objects.filter(table=table).order_by("order").values_list("order", "name"))


# --- the summary and the parse endpoint ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "rule", "summary"), [
    (">=95%", "按照完成比例赋分", "正向，≥95%，按完成比例赋分"),
    ("> =485.71万条", "按照完成比例赋分", "正向，≥485.71万条，按完成比例赋分"),
    ("<=4.33万元/月", "按照完成比例赋分", "反向，≤4.33万元/月，按完成比例赋分"),
    ("=100%", "直接赋分", "等于，=100%，直接赋分"),
    ("=50-100元", "按照完成比例赋分", "区间，50–100元，按完成比例赋分"),
    ("每月25日前", "直接赋分", "时限，每月25日前，直接赋分"),
    ("有效提升", "按评判等级赋分", "定性，有效提升，按评判等级赋分"),
    (">=90%", "满意度赋分", "正向，≥90%，满意度赋分"),
])
def test_target_summary_says_how_the_target_is_scored(text, rule, summary):
    assert target_summary(parse_target(text), rule) == summary


def test_target_summary_of_an_unreadable_target_asks_for_a_rewrite():
    assert target_summary(parse_target("≤****000元"), "按照完成比例赋分").startswith("无法识别的指标值")


def test_parse_json_fills_the_default_rule_and_accumulation():
    data = parse_target_json(text=">=3 万人次", level2="数量指标")
    assert data == {
        "kind": "positive", "kind_label": "正向", "comparator": "≥", "value": "3", "upper": None, "unit": "万人次",
        "rule": "按照完成比例赋分", "accumulation": "cumulative", "summary": "正向，≥3万人次，按完成比例赋分",
        "flags": [], "flag_notes": [],
    }
    # the row's own rule is what the summary says; the default stays the default
    chosen = parse_target_json(text="100%", level2="质量指标", rule="直接赋分")
    assert chosen["summary"] == "等于，=100%，直接赋分" and chosen["rule"] == "按照完成比例赋分"
    assert chosen["flags"] == ["no_comparator"] and "请确认方向" in chosen["flag_notes"][0]
    assert parse_target_json(text="有效提升")["rule"] == "按评判等级赋分"


def test_parse_endpoint_answers_json(client, world):
    client.force_login(world["lead"])
    response = client.get(reverse("goals:parse-target"), {"target": "≥95%", "level2": "质量指标"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["summary"] == "正向，≥95%，按完成比例赋分" and data["accumulation"] == "level"
    assert set(data) >= {"kind", "kind_label", "comparator", "value", "unit", "rule", "accumulation", "summary",
                         "flags"}


def test_parse_endpoint_needs_a_login(client):
    response = client.get(reverse("goals:parse-target"), {"target": "≥95%"})
    assert response.status_code == 302


# --- the page, without JavaScript ------------------------------------------------------------------------

def test_the_page_shows_header_rows_summaries_and_the_weight_sum(client, world):
    client.force_login(world["lead"])
    response = client.get(edit_url(world["table"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "职业技能培训项目" in html and "培训人次" in html and "满意度" in html
    assert "正向，≥100人次，按完成比例赋分" in html  # beside the row, rendered by the server
    assert '<b id="weight-sum" class="">90</b> / <span>90</span>' in html
    assert "js/goal_editor.js" in html and "onclick" not in html
    assert html.count('name="rows-') and "rows-6-target_raw" in html  # 4 rows + 3 blank ones


def test_edit_add_delete_and_reorder_in_one_post(client, world, synced, django_capture_on_commit_callbacks):
    table, indicators, project = world["table"], world["indicators"], world["project"]
    client.force_login(world["lead"])
    new = {"level1": "效益指标", "level2": "社会效益指标", "name": "就业率", "target_raw": ">=80%",
           "weight": "10", "ORDER": "1"}
    # 培训人次 (1) goes last, 合格率 gets a new target, 人均成本 is deleted, a new row comes first
    data = {**header_data(project, budget_initial="120", fiscal="100", carryover="15", other="5"),
            **rows_data(indicators, new=[new], changes={
                0: {"ORDER": 9}, 1: {"target_raw": ">=98%", "ORDER": 2}, 2: {"DELETE": True}, 3: {"ORDER": 3}})}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(edit_url(table), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"].endswith("?saved=1")
    assert current_rows(table) == [(1, "就业率"), (2, "合格率"), (3, "满意度"), (4, "培训人次")]
    added = Indicator.objects.get(table=table, name="就业率")
    assert added.rule == "按照完成比例赋分" and added.accumulation == "level"  # blank → the defaults
    assert added.target_kind == "positive" and added.target_value == Decimal("80")
    assert Indicator.objects.get(pk=indicators[1].pk).target_value == Decimal("98")
    project.refresh_from_db()
    assert (project.budget_initial, project.fiscal, project.carryover, project.other) == (
        Decimal("120"), Decimal("100"), Decimal("15"), Decimal("5"))
    table.refresh_from_db()
    assert table.overall_goal == "提升培训质量"
    assert synced == [[table.pk]]


def test_a_qualitative_row_gets_the_graded_rule_and_a_count_is_cumulative(client, world, synced):
    table, indicators = world["table"], world["indicators"]
    client.force_login(world["admin"])
    new = [{"level1": "效益指标", "level2": "可持续影响指标", "name": "长效机制", "target_raw": "有效提升", "weight": "0"},
           {"level1": "产出指标", "level2": "数量指标", "name": "开班期数", "target_raw": ">=6期", "weight": "0",
            "accumulation": "level"}]
    response = client.post(edit_url(table), {**header_data(world["project"]), **rows_data(indicators, new=new)})
    assert response.status_code == 302
    graded = Indicator.objects.get(table=table, name="长效机制")
    assert graded.rule == "按评判等级赋分" and graded.order == 5
    assert Indicator.objects.get(table=table, name="开班期数").accumulation == "level"  # chosen, kept


def test_an_unchanged_post_writes_no_history(client, world, synced):
    table, indicators = world["table"], world["indicators"]
    client.force_login(world["lead"])
    before = Indicator.history.filter(table_id=table.pk).count()
    response = client.post(edit_url(table), {**header_data(world["project"], overall_goal=""),
                                             **rows_data(indicators)})
    assert response.status_code == 302
    assert Indicator.history.filter(table_id=table.pk).count() == before
    assert Project.history.filter(id=world["project"].pk).count() == 1


def test_swapping_two_rows_keeps_the_order_unique(client, world, synced):
    table, indicators = world["table"], world["indicators"]
    client.force_login(world["lead"])
    data = {**header_data(world["project"]), **rows_data(indicators, changes={0: {"ORDER": 2}, 1: {"ORDER": 1}})}
    assert client.post(edit_url(table), data).status_code == 302
    assert current_rows(table) == [(1, "合格率"), (2, "培训人次"), (3, "人均成本"), (4, "满意度")]


def test_deleting_a_row_with_actuals_is_refused_and_nothing_is_lost(client, world, synced):
    table, indicators = world["table"], world["indicators"]
    ActualFactory(indicator=indicators[0], value=Decimal("80"))
    client.force_login(world["lead"])
    data = {**header_data(world["project"], name="改名的项目"),
            **rows_data(indicators, changes={0: {"DELETE": True}, 1: {"target_raw": ">=99%"}})}
    response = client.post(edit_url(table), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "已有实际完成值，不能删除" in html
    assert 'value="改名的项目"' in html and 'value="&gt;=99%"' in html  # what was typed is still there
    assert len(current_rows(table)) == 4 and Indicator.objects.get(pk=indicators[1].pk).target_raw == ">=95%"
    assert Project.objects.get(pk=world["project"].pk).name == "职业技能培训项目"
    assert synced == []


def test_bad_input_re_renders_with_chinese_errors_and_keeps_what_was_typed(client, world, synced):
    table, indicators = world["table"], world["indicators"]
    client.force_login(world["lead"])
    new = {"level1": "效益指标", "level2": "", "name": "就业率", "target_raw": ">=80%", "weight": "abc"}
    data = {**header_data(world["project"], fiscal="90.12345"), **rows_data(indicators, new=[new])}
    response = client.post(edit_url(table), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "这个字段是必填项" in html  # 二级指标 of the new row
    assert "输入一个数字" in html  # weight
    assert "小数不超过 4 位" in html  # 万元 to four places at most
    assert 'value="就业率"' in html and 'value="abc"' in html and 'value="90.12345"' in html
    assert len(current_rows(table)) == 4


def test_a_funds_split_that_does_not_add_up_is_refused(client, world, synced):
    table, project = world["table"], world["project"]
    client.force_login(world["lead"])
    data = {**header_data(project, budget_initial="120", fiscal="100", carryover="10"),
            **rows_data(world["indicators"])}
    response = client.post(edit_url(table), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "项目资金不平衡" in html and "110 万元" in html and "年初预算数 120 万元不一致" in html
    project.refresh_from_db()
    assert project.budget_initial == Decimal("100.00")


def test_the_unit_table_header_creates_the_unit_budget(client, world, synced):
    unit = world["unit"]
    table, indicators = table_with_indicators(unit=unit, rows=[
        ("履职效能", "质量指标", "社会保险基金稽核覆盖率", ">=95%", Decimal("60")),
        ("服务对象满意度", "服务对象满意度指标", "服务对象满意度", ">=90%", Decimal("30"), "满意度赋分"),
    ])
    assert not UnitBudget.objects.filter(unit=unit).exists()
    client.force_login(world["admin"])
    assert "部门联系人" in client.get(edit_url(table)).content.decode()
    data = {"head-contact": "李明", "head-phone": "0571-1234567", "head-overall_goal": "保障待遇按时足额发放",
            "head-fiscal_superior": "35", "head-fiscal_local": "612.4", "head-other": "",
            **rows_data(indicators)}
    response = client.post(edit_url(table), data)
    assert response.status_code == 302
    budget = UnitBudget.objects.get(unit=unit, year=table.year)
    assert (budget.fiscal_superior, budget.fiscal_local, budget.other) == (Decimal("35"), Decimal("612.4"), 0)
    unit.refresh_from_db()
    assert (unit.contact, unit.phone) == ("李明", "0571-1234567")


# --- who may edit, and when --------------------------------------------------------------------------

def test_a_lead_edits_only_their_own_projects_table(client, world):
    # Another lead of the unit does not even see it; a reviewer above sees it but may not write it.
    client.force_login(world["other_lead"])
    assert client.get(edit_url(world["table"])).status_code == 404
    reviewer = UserFactory()
    parent = UnitFactory()
    world["unit"].parent = parent
    world["unit"].save()
    UnitMembershipFactory(user=reviewer, unit=parent, role="reviewer")
    client.force_login(reviewer)
    response = client.get(edit_url(world["table"]))
    assert response.status_code == 403 and "项目负责人或本单位的单位管理员" in response.content.decode()
    response = client.post(edit_url(world["table"]), {**header_data(world["project"], name="X"),
                                                      **rows_data(world["indicators"])})
    assert response.status_code == 403
    assert Project.objects.get(pk=world["project"].pk).name == "职业技能培训项目"
    # the lead of the project may
    client.force_login(world["lead"])
    assert client.get(edit_url(world["table"])).status_code == 200


def test_the_unit_table_is_only_for_administrators(client, world):
    table, _ = table_with_indicators(unit=world["unit"])
    parent = UnitFactory()
    world["unit"].parent = parent
    world["unit"].save()
    reviewer = UserFactory()
    UnitMembershipFactory(user=reviewer, unit=parent, role="reviewer")
    client.force_login(reviewer)
    response = client.get(edit_url(table))
    assert response.status_code == 403 and "只能由本单位的单位管理员编制" in response.content.decode()
    client.force_login(world["lead"])
    assert client.get(edit_url(table)).status_code == 404
    client.force_login(world["admin"])
    assert client.get(edit_url(table)).status_code == 200


def test_a_submitted_table_is_read_only(client, world):
    table = world["table"]
    GoalTable.objects.filter(pk=table.pk).update(status=GoalTable.Status.SUBMITTED)
    client.force_login(world["lead"])
    html = client.get(edit_url(table)).content.decode()
    assert "正在审核中，只读" in html and "<fieldset class=\"plain\" disabled>" in html
    assert 'type="submit" class="primary">保存' not in html
    response = client.post(edit_url(table), {**header_data(world["project"], name="X"),
                                             **rows_data(world["indicators"])})
    assert response.status_code == 403
    assert Project.objects.get(pk=world["project"].pk).name == "职业技能培训项目"


def test_an_approved_table_points_to_the_adjustment(client, world):
    table = world["table"]
    GoalTable.objects.filter(pk=table.pk).update(status=GoalTable.Status.APPROVED)
    client.force_login(world["admin"])
    html = client.get(edit_url(table)).content.decode()
    assert "已批复，不能直接修改" in html
    assert f'href="{reverse("goals:workflow", args=[table.pk])}">前往调整' in html


def test_a_closed_year_is_refused(client, world, synced):
    table = world["table"]
    client.force_login(world["admin"])
    UnitYearFactory(unit=world["unit"], year=table.year, user=world["admin"], closed=True, reason="")
    GoalTable.objects.filter(pk=table.pk).update(status=GoalTable.Status.DRAFT)  # closing closed the table too
    assert "已关账" in client.get(edit_url(table)).content.decode()
    response = client.post(edit_url(table), {**header_data(world["project"], name="X"),
                                             **rows_data(world["indicators"])})
    assert response.status_code == 200 and "已关账" in response.content.decode()
    assert Project.objects.get(pk=world["project"].pk).name == "职业技能培训项目"
    assert synced == []


def test_another_units_user_gets_404(client, world):
    outsider = UserFactory()
    UnitMembershipFactory(user=outsider, unit=UnitFactory(), role="admin")
    client.force_login(outsider)
    assert client.get(edit_url(world["table"])).status_code == 404


# --- after a save ------------------------------------------------------------------------------------------

def test_the_findings_are_shown_after_a_save(client, world, synced):
    table, indicators = world["table"], world["indicators"]
    client.force_login(world["lead"])
    data = {**header_data(world["project"]), **rows_data(indicators, changes={3: {"weight": "20"}})}
    response = client.post(edit_url(table), data, follow=True)
    html = response.content.decode()
    assert "绩效目标表已保存" in html and "指标质量审核" in html
    assert "必须修改" in html or "建议修改" in html
    assert "100" in html.split('id="weight-sum"')[1][:40]
    # every visit shows the findings of the table as saved (what 申报 will check)
    again = client.get(edit_url(table)).content.decode()
    assert "指标质量审核" in again and ("必须修改" in again or "建议修改" in again)


# --- query pins --------------------------------------------------------------------------------------------

def test_the_page_reads_in_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    client.force_login(world["lead"])
    url = edit_url(world["table"])
    client.get(url)
    # session, user, the scoped table (its units twice), may write, year closed, the rows (read once: the
    # review uses the formset's), the policy, the quality review's library entries and base.html's context
    # (its units, may import)
    with django_assert_num_queries(14):
        client.get(url)
    bigger, _ = table_with_indicators(ProjectFactory(unit=world["unit"], lead=world["lead"]), rows=[
        ("产出指标", "数量指标", f"指标{i}", f">={i}人次", Decimal("5")) for i in range(1, 19)
    ])
    with django_assert_num_queries(14):
        client.get(edit_url(bigger))


# --- last year beside the rows ----------------------------------------------------------------------------

@pytest.fixture
def next_year(world):
    """2027 started from 2026: 培训人次 and 合格率 had approved actuals and are scored; the others had none."""
    from kpi.goals.rollover import tables_start_next_year

    indicators = world["indicators"]
    ActualFactory(indicator=indicators[0], value=Decimal("120"), user=world["lead"])
    ActualFactory(indicator=indicators[1], value=Decimal("90"), report=indicators[0].actuals.get().report)
    approve_reports(world["table"])
    rescore_stale()
    tables = tables_start_next_year(unit=world["unit"], from_year=2026, user=world["admin"])
    return next(t for t in tables if t.project_id)


def test_last_year_is_shown_beside_each_row(client, world, next_year):
    client.force_login(world["admin"])
    html = client.get(edit_url(next_year)).content.decode()
    assert ">上年情况</th>" in html
    assert "完成 120人次" in html and "得分 40 / 40" in html
    assert "完成 90%" in html and "得分 18.95 / 20" in html
    assert html.count("上年无完成值") == 2


def test_last_year_reads_in_a_fixed_number_of_queries(client, world, next_year, django_assert_num_queries):
    client.force_login(world["admin"])
    client.get(edit_url(next_year))
    # an administrator's page is 17 (base.html counts the reports waiting for review), then last year's actuals
    # and last year's scores, and the review's read of last year's final actuals: whatever the number of rows
    with django_assert_num_queries(18):
        client.get(edit_url(next_year))


# --- links to the editor -------------------------------------------------------------------------------

def test_the_project_page_and_the_unit_year_page_link_to_the_editor(client, world):
    table = world["table"]
    client.force_login(world["lead"])
    html = client.get(reverse("scorecards:project", args=[world["project"].pk])).content.decode()
    assert f'href="{edit_url(table)}">编制目标表' in html
    client.force_login(world["admin"])
    html = client.get(reverse("yearclose:unit-year", args=[world["unit"].pk, table.year])).content.decode()
    assert f'href="{edit_url(table)}">编制目标表' in html
    assert reverse("goals:table-history", args=[table.pk]) in html


def test_a_reviewer_sees_no_editor_link_on_the_project_page(client, world):
    parent = UnitFactory()
    world["unit"].parent = parent
    world["unit"].save()
    reviewer = UserFactory()
    UnitMembershipFactory(user=reviewer, unit=parent, role="reviewer")
    client.force_login(reviewer)
    html = client.get(reverse("scorecards:project", args=[world["project"].pk])).content.decode()
    assert edit_url(world["table"]) not in html


def test_hostile_rows_are_refused_in_chinese_and_nothing_is_saved(client, world, synced):
    table, indicators = world["table"], world["indicators"]
    client.force_login(world["lead"])
    before = current_rows(table)
    hostile = [
        {"level1": "产出指标", "level2": "数量指标", "name": "培训\x00人次", "target_raw": ">=1人次", "weight": "1"},
        {"level1": "产出指标", "level2": "数量指标", "name": "超长" * 200, "target_raw": ">=1人次", "weight": "1"},
        {"level1": "产出指标", "level2": "数量指标", "name": "权重", "target_raw": ">=1人次", "weight": "NaN"},
        {"level1": "产出指标", "level2": "数量指标", "name": "权重2", "target_raw": ">=1人次", "weight": "1e30"},
    ]
    response = client.post(edit_url(table), {**header_data(world["project"]), **rows_data(indicators, new=hostile)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "空字符" in html  # Django's own check, in Chinese
    assert "最多 300 个字" in html or "不超过 300" in html or "确保该值不超过 300 个字符" in html
    assert current_rows(table) == before


def test_too_many_rows_are_refused_in_chinese(client, world, synced):
    table, indicators = world["table"], world["indicators"]
    client.force_login(world["lead"])
    data = {**header_data(world["project"]), **rows_data(indicators)}
    data["rows-TOTAL_FORMS"] = "5000"
    response = client.post(edit_url(table), data)
    assert response.status_code == 200
    assert "一张绩效目标表最多 200 行指标" in response.content.decode()
    assert len(current_rows(table)) == 4
