"""年度关账, 指定项目负责人, 批复目标表 and a project's 变更记录: the rules, the refusals, the pages."""
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from budgets.models import Project, Role, UnitYear
from budgets.selectors import is_unit_admin
from budgets.services import membership_grant, project_assign_lead
from kpi.goals.services import goal_table_approve, goal_table_create, indicator_create
from kpi.history.selectors import project_history
from kpi.importers import services as importer
from kpi.models import GoalTable, Indicator
from kpi.reports.services import actual_record, execution_report, report_return, report_submit
from kpi.rescoring.tasks import rescore_table
from kpi.yearclose.services import unit_year_close, unit_year_reopen
from tests.factories import IMPORTED, ProjectFactory, UnitFactory, UserFactory, approve_reports, table_with_indicators

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)
AUGUST = dt.date(2026, 8, 31)
DEMO = Path(__file__).resolve().parents[2] / "kpi" / "demo" / "demo-disclosure-2026.txt"


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world():
    """A unit with its administrator and a lead, a project with a goal table, and an unrelated unit's administrator."""
    unit = UnitFactory(name="示范中心")
    admin, lead, outsider = UserFactory(first_name="管理员甲"), UserFactory(first_name="负责人乙"), UserFactory()
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    membership_grant(user=lead, unit=unit, role=Role.LEAD)
    membership_grant(user=outsider, unit=UnitFactory(), role=Role.ADMIN)
    project = ProjectFactory(unit=unit, lead=lead)
    table, indicators = table_with_indicators(project, source=IMPORTED)  # approved directly (goal_table_approve)
    return {"unit": unit, "admin": admin, "lead": lead, "outsider": outsider, "project": project, "table": table,
            "indicators": indicators}


# --- 关账 and 重新开放 ------------------------------------------------------------------------------

def test_closing_closes_every_table_and_reopening_gives_each_its_status_back(world):
    unit, admin = world["unit"], world["admin"]
    approved = world["table"]
    goal_table_approve(table=approved, user=admin)
    draft, _ = table_with_indicators(ProjectFactory(unit=unit))
    already_closed = goal_table_create(unit=unit, year=2026, status=GoalTable.Status.CLOSED)
    other_year, _ = table_with_indicators(ProjectFactory(unit=unit, year=2025))

    unit_year = unit_year_close(unit=unit, year=2026, user=admin)

    assert unit_year.closed and unit_year.changed_by == admin
    assert set(GoalTable.objects.filter(unit=unit, year=2026).values_list("status", flat=True)) == {"closed"}
    other_year.refresh_from_db()
    assert other_year.status == GoalTable.Status.DRAFT

    unit_year_reopen(unit=unit, year=2026, user=admin, reason="审计发现执行数有误，需更正")

    for table, status in ((approved, "approved"), (draft, "draft"), (already_closed, "closed")):
        table.refresh_from_db()
        assert table.status == status, table
    unit_year = UnitYear.objects.get(unit=unit, year=2026)
    assert not unit_year.closed and unit_year.reason == "审计发现执行数有误，需更正"
    # a second close and reopen works the same way
    unit_year_close(unit=unit, year=2026, user=admin)
    unit_year_reopen(unit=unit, year=2026, user=admin, reason="再次更正")
    approved.refresh_from_db()
    assert approved.status == GoalTable.Status.APPROVED
    assert list(unit_year.history.values_list("closed", "history_user_id")) == [
        (False, admin.pk), (True, admin.pk), (False, admin.pk), (True, admin.pk)]


def test_close_and_reopen_refuse_what_makes_no_sense(world):
    unit, admin = world["unit"], world["admin"]
    with pytest.raises(ValidationError, match="尚未关账"):
        unit_year_reopen(unit=unit, year=2026, user=admin, reason="无")
    unit_year_close(unit=unit, year=2026, user=admin)
    with pytest.raises(ValidationError, match="已经关账"):
        unit_year_close(unit=unit, year=2026, user=admin)
    for blank in ("", "   "):
        with pytest.raises(ValidationError, match="必须填写原因"):
            unit_year_reopen(unit=unit, year=2026, user=admin, reason=blank)
    assert UnitYear.objects.get(unit=unit, year=2026).closed


def test_a_closed_year_refuses_actuals_execution_and_approval_until_reopened(world):
    unit, admin, project, table = world["unit"], world["admin"], world["project"], world["table"]
    indicator = world["indicators"][0]
    unit_year_close(unit=unit, year=2026, user=admin)

    with pytest.raises(ValidationError, match="已关"):
        actual_record(indicator=indicator, as_of=JULY, value=Decimal("50"), user=world["lead"])
    with pytest.raises(ValidationError, match="已关账"):
        execution_report(project=project, as_of=JULY, executed=Decimal("10"), user=admin)
    with pytest.raises(ValidationError, match="只有草稿可以批复"):
        goal_table_approve(table=table, user=admin)
    assert not indicator.actuals.exists() and not project.executions.exists()

    unit_year_reopen(unit=unit, year=2026, user=admin, reason="补录七月数据")
    actual_record(indicator=indicator, as_of=JULY, value=Decimal("50"), user=world["lead"])
    execution_report(project=project, as_of=JULY, executed=Decimal("10"), user=admin)
    assert indicator.actuals.count() == 1 and project.executions.count() == 1


def test_no_goal_table_or_indicator_can_be_added_to_a_closed_year(world):
    """ensure_year_open guards creation too: nothing new appears in a closed year."""
    unit, admin = world["unit"], world["admin"]
    open_table = goal_table_create(unit=unit, year=2026)  # the 部门整体 table, created before the close
    unit_year_close(unit=unit, year=2026, user=admin)
    with pytest.raises(ValidationError, match="年度已关账"):
        goal_table_create(unit=unit, year=2026)
    with pytest.raises(ValidationError, match="年度已关账"):
        indicator_create(table=open_table, level1="产出指标", level2="数量指标", name="件数", target_raw=">=10件",
                         weight=Decimal("10"))


def test_an_import_into_a_closed_year_is_skipped_and_changes_nothing():
    data = DEMO.read_bytes()
    _document, first = importer.import_file(data=data, filename=DEMO.name)
    unit = Project.objects.get(name="城乡居民养老保险待遇发放服务项目").unit
    indicators = Indicator.objects.filter(table__unit=unit).count()
    admin = UserFactory()
    unit_year_close(unit=unit, year=2026, user=admin)

    changed = data.decode("utf-8").replace("\t20\t按照完成比例赋分", "\t25\t按照完成比例赋分", 1).encode("utf-8")
    _document, outcome = importer.import_file(data=changed, filename=DEMO.name)

    assert outcome.tables and all(t.action == "跳过" for t in outcome.tables)
    assert all("已关账" in note for t in outcome.tables for note in t.notes)
    assert Indicator.objects.filter(table__unit=unit).count() == indicators
    assert not Indicator.objects.filter(table__unit=unit, weight=Decimal("25")).exists()
    assert first.tables and all(t.action == "新建" for t in first.tables)


# --- 项目负责人 and 批复 ------------------------------------------------------------------------------

def test_only_a_lead_of_the_unit_can_be_named_lead(world):
    unit, admin, project = world["unit"], world["admin"], world["project"]
    stranger = UserFactory()
    lead_elsewhere = UserFactory()
    membership_grant(user=lead_elsewhere, unit=UnitFactory(), role=Role.LEAD)
    for candidate in (stranger, lead_elsewhere, admin):  # the administrator holds no 项目负责人 role
        with pytest.raises(ValidationError, match="不是示范中心的项目负责人"):
            project_assign_lead(project=project, lead=candidate, user=admin)
    project.refresh_from_db()
    assert project.lead == world["lead"]

    newcomer = UserFactory()
    membership_grant(user=newcomer, unit=unit, role=Role.LEAD)
    project_assign_lead(project=project, lead=newcomer, user=admin)
    project.refresh_from_db()
    assert project.lead == newcomer and project.lead_name == "张三"  # the published name stays
    project_assign_lead(project=project, lead=None, user=admin)
    project.refresh_from_db()
    assert project.lead is None
    assert project.history.first().history_user == admin


def test_only_a_draft_table_is_approved(world):
    table, admin = world["table"], world["admin"]
    goal_table_approve(table=table, user=admin)
    table.refresh_from_db()
    assert table.status == GoalTable.Status.APPROVED
    assert table.history.first().history_user == admin
    with pytest.raises(ValidationError, match="当前为“已批复”，只有草稿可以批复"):
        goal_table_approve(table=table, user=admin)
    empty = goal_table_create(unit=world["unit"], year=2026, source=IMPORTED)
    with pytest.raises(ValidationError, match="没有任何指标"):
        goal_table_approve(table=empty, user=admin)


def test_is_unit_admin(world):
    unit = world["unit"]
    assert is_unit_admin(user=world["admin"], unit_id=unit.pk)
    assert not is_unit_admin(user=world["lead"], unit_id=unit.pk)
    assert not is_unit_admin(user=world["outsider"], unit_id=unit.pk)
    assert is_unit_admin(user=UserFactory(is_superuser=True), unit_id=unit.pk)


# --- 变更记录 ---------------------------------------------------------------------------------------

def _lines(project, subject_part):
    return [line for line in project_history(project=project) if subject_part in line.subject]


def _fields(line):
    return {change.label: (change.old, change.new) for change in line.changes}


def test_history_shows_an_actual_correction_with_who_when_and_old_to_new(world):
    lead, project, table = world["lead"], world["project"], world["table"]
    indicator = world["indicators"][0]
    before = timezone.now()
    first = actual_record(indicator=indicator, as_of=JULY, value=Decimal("80"), user=lead)
    approve_reports(table)
    actual_record(indicator=indicator, as_of=JULY, value=Decimal("95"), replaces=first, user=lead)

    corrections = _lines(project, "实际完成值（更正）")
    assert len(corrections) == 1
    line = corrections[0]
    assert line.who == "负责人乙" and line.change == "新增"
    assert before <= line.when <= timezone.now()
    assert "培训人次" in line.subject and "2026-07-31" in line.subject
    assert _fields(line)["实际完成值"] == ("80", "95")
    original = _lines(project, "实际完成值 ·")
    assert len(original) == 1 and _fields(original[0])["实际完成值"] == (None, "80")


def test_history_shows_an_indicator_weight_change_made_in_the_admin(world, client):
    """Weights are edited by hand in the 管理后台: the request's user is recorded (HistoryRequestMiddleware)."""
    indicator = world["indicators"][0]
    superuser = UserFactory(first_name="财政局", is_superuser=True, is_staff=True)
    client.force_login(superuser)
    data = {k: v for k, v in model_to_dict(indicator).items() if v is not None}
    data.update(weight="30", target_flags=json.dumps(indicator.target_flags))
    response = client.post(reverse("admin:kpi_indicator_change", args=[indicator.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    line = _lines(world["project"], "指标“培训人次”")[0]
    assert (line.who, line.change) == ("财政局", "修改")
    assert _fields(line) == {"分值权重": ("40", "30")}


def test_history_shows_a_return_with_its_reason_and_who_returned_it(world):
    admin, lead, table = world["admin"], world["lead"], world["table"]
    actual = actual_record(indicator=world["indicators"][0], as_of=JULY, value=Decimal("80"), user=lead)
    report_submit(report=actual.report, user=lead)
    report_return(report=actual.report, reason="人数与台账不符，请核实", user=admin)

    lines = _lines(world["project"], "填报 截至 2026-07-31")
    returned, submitted = lines[0], lines[1]
    assert (returned.who, returned.change) == ("管理员甲", "修改")
    fields = _fields(returned)
    assert fields["状态"] == ("已提交", "已退回")
    assert fields["审核意见（退回原因）"] == ("—", "人数与台账不符，请核实")
    assert fields["审核人"] == ("—", "管理员甲")
    assert submitted.who == "负责人乙" and _fields(submitted)["状态"] == ("草稿", "已提交")
    assert table.pk  # the table's own history is there too
    assert _lines(world["project"], "绩效目标表")


def test_history_shows_role_assignments_of_the_unit_and_the_lead_and_close(world):
    unit, admin, project = world["unit"], world["admin"], world["project"]
    newcomer = UserFactory(first_name="新人丙")
    membership_grant(user=newcomer, unit=unit, role=Role.LEAD, granted_by=admin)
    project_assign_lead(project=project, lead=newcomer, user=admin)
    unit_year_close(unit=unit, year=2026, user=admin)

    lines = project_history(project=project)
    closed, lead_change, granted = lines[0], lines[1], lines[2]
    assert closed.subject == "绩效目标表" and closed.reason == "年度关账" and closed.who == "管理员甲"
    assert _fields(closed)["状态"] == ("草稿", "已关闭")
    assert lead_change.subject == "项目" and _fields(lead_change)["项目负责人（用户）"] == ("负责人乙", "新人丙")
    assert granted.subject == "角色 · 新人丙（项目负责人）" and granted.who == "管理员甲" and granted.change == "新增"
    assert _fields(granted)["角色"] == (None, "项目负责人")
    # memberships granted without granted_by (the fixture's) are the system's
    assert any(line.who == "系统" and "负责人乙" in line.subject for line in lines)
    # roles in another unit are not this project's history
    assert not any("#" in line.subject for line in lines)
    assert [line.when for line in lines] == sorted((line.when for line in lines), reverse=True)


# --- the pages ----------------------------------------------------------------------------------------

def _urls(world):
    project, table = world["project"], world["table"]
    return {
        "yearclose:unit-year": reverse("yearclose:unit-year", args=[world["unit"].pk, 2026]),
        "goals:lead": reverse("goals:lead", args=[project.pk]),
        "history:project": reverse("history:project", args=[project.pk]),
        "goals:approve": reverse("goals:approve", args=[table.pk]),
    }


def _open(client, name, url):
    return client.post(url) if name == "goals:approve" else client.get(url)


def test_every_page_needs_login(world, client):
    for name, url in _urls(world).items():
        response = _open(client, name, url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), name


def test_another_units_administrator_gets_404_everywhere(world, client):
    client.force_login(world["outsider"])
    for name, url in _urls(world).items():
        assert _open(client, name, url).status_code == 404, name


def test_a_lead_gets_403_on_administration_pages_and_sees_the_history(world, client):
    client.force_login(world["lead"])
    urls = _urls(world)
    for name in ("yearclose:unit-year", "goals:lead", "goals:approve"):
        assert _open(client, name, urls[name]).status_code == 403, name
    assert client.get(urls["history:project"]).status_code == 200
    page = client.get(reverse("scorecards:project", args=[world["project"].pk])).content.decode()
    assert "变更记录" in page and "指定负责人" not in page and "批复目标表" not in page
    world["table"].refresh_from_db()
    assert world["table"].status == GoalTable.Status.DRAFT


def test_a_reviewer_of_the_unit_sees_the_unit_but_may_not_close_it(world, client):
    reviewer = UserFactory()
    membership_grant(user=reviewer, unit=world["unit"], role=Role.REVIEWER)
    client.force_login(reviewer)
    assert client.get(_urls(world)["yearclose:unit-year"]).status_code == 403
    assert client.get(_urls(world)["history:project"]).status_code == 200


def test_the_administrator_closes_and_reopens_on_the_year_page(world, client):
    admin, unit = world["admin"], world["unit"]
    url = _urls(world)["yearclose:unit-year"]
    client.force_login(admin)
    page = client.get(url).content.decode()
    assert "开放" in page and "关账 2026 年度" in page and "该年度尚未关账过" in page

    response = client.post(url, {"action": "close"}, follow=True)
    page = response.content.decode()
    assert "2026 年度已关账。" in page and "重新开放原因" in page and "已关闭" in page
    assert UnitYear.objects.get(unit=unit, year=2026).closed

    page = client.post(url, {"action": "reopen", "reason": "  "}).content.decode()
    assert "这个字段是必填项" in page or "必须填写原因" in page
    assert UnitYear.objects.get(unit=unit, year=2026).closed

    page = client.post(url, {"action": "reopen", "reason": "补录八月数据"}, follow=True).content.decode()
    assert "已重新开放" in page and "补录八月数据" in page and "管理员甲" in page
    assert not UnitYear.objects.get(unit=unit, year=2026).closed
    assert page.count("<td>关账</td>") == 1 and page.count("<td>重新开放</td>") == 1

    page = client.post(url, {"action": "reopen", "reason": "再来一次"}, follow=True).content.decode()
    assert "尚未关账，无需重新开放" in page


def test_the_administrator_names_a_lead_and_approves_the_table(world, client):
    admin, unit, project, table = world["admin"], world["unit"], world["project"], world["table"]
    newcomer = UserFactory(first_name="新人丙")
    membership_grant(user=newcomer, unit=unit, role=Role.LEAD)
    client.force_login(admin)

    detail = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    for text in ("变更记录", "指定负责人", "批复目标表", "年度关账"):
        assert text in detail, text

    urls = _urls(world)
    page = client.get(urls["goals:lead"]).content.decode()
    assert "新人丙" in page and "负责人乙" in page and "管理员甲" not in page.split("<select")[1].split("</select>")[0]
    response = client.post(urls["goals:lead"], {"lead": admin.pk})  # not a lead: not even offered
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    response = client.post(urls["goals:lead"], {"lead": newcomer.pk})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.lead == newcomer
    client.post(urls["goals:lead"], {"lead": ""})
    project.refresh_from_db()
    assert project.lead is None

    assert client.get(urls["goals:approve"]).status_code == 405
    response = client.post(urls["goals:approve"], follow=True)
    assert "绩效目标表已批复" in response.content.decode()
    table.refresh_from_db()
    assert table.status == GoalTable.Status.APPROVED
    detail = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    assert "批复目标表" not in detail
    page = client.post(urls["goals:approve"], follow=True).content.decode()
    assert "只有草稿可以批复" in page


def test_history_page_lists_changes(world, client):
    admin, lead = world["admin"], world["lead"]
    first = actual_record(indicator=world["indicators"][0], as_of=JULY, value=Decimal("80"), user=lead)
    approve_reports(world["table"])
    actual_record(indicator=world["indicators"][0], as_of=JULY, value=Decimal("95"), replaces=first, user=lead)
    client.force_login(admin)
    page = client.get(_urls(world)["history:project"]).content.decode()
    assert "实际完成值：80 → 95" in page and "负责人乙" in page and "指标“培训人次”" in page
    assert "新增" in page and "修改" in page


def _busy_project(world, n: int):
    """n indicators, each with an actual, a correction and a return; n execution figures and role grants."""
    unit, admin, lead = world["unit"], world["admin"], world["lead"]
    project = ProjectFactory(unit=unit, lead=lead)
    table, indicators = table_with_indicators(
        project, rows=[("产出指标", "数量指标", f"指标{i}", ">=10个", Decimal("1")) for i in range(n)]
    )
    firsts = [actual_record(indicator=i, as_of=JULY, value=Decimal("8"), user=lead) for i in indicators]
    approve_reports(table)
    for indicator, first in zip(indicators, firsts):
        actual_record(indicator=indicator, as_of=JULY, value=Decimal("9"), replaces=first, user=lead)
    corrected = firsts[0].report.corrections.get()
    report_submit(report=corrected, user=lead)
    report_return(report=corrected, reason="请核实", user=admin)
    for i in range(n):
        actual_record(indicator=indicators[i], as_of=AUGUST, value=Decimal("10"), user=lead)
        execution_report(project=project, as_of=dt.date(2026, 1 + i % 12, 1), executed=Decimal(i), user=admin)
        membership_grant(user=UserFactory(), unit=unit, role=Role.LEAD, granted_by=admin)
    project_assign_lead(project=project, lead=lead, user=admin)
    return project


def test_history_page_query_count_does_not_grow_with_records(world, client, django_assert_max_num_queries,
                                                             django_assert_num_queries):
    client.force_login(world["admin"])
    small = _busy_project(world, 1)
    # Session and user 2, the project through the scoping 3, the history of the project, its table,
    # indicators, reports, actuals, execution, evidence and the unit's roles 8, their users 1, navigation 3
    # (with the count waiting for review).
    with django_assert_num_queries(17) as baseline:
        assert client.get(reverse("history:project", args=[small.pk])).status_code == 200
    big = _busy_project(world, 15)
    assert len(project_history(project=big)) > 90
    with django_assert_max_num_queries(len(baseline)):
        response = client.get(reverse("history:project", args=[big.pk]))
    assert response.status_code == 200 and "指标14" in response.content.decode()
