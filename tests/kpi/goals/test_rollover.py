"""以上年为基础编制: next year's tables started from this year's, 上年完成值 from the final approved actuals."""
import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets.models import Project, UnitBudget
from kpi.goals.rollover import tables_start_next_year
from kpi.goals.services import indicator_set_not_applicable
from kpi.library import services as library
from kpi.models import GoalTable, Indicator
from kpi.reports.services import report_return, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    ActualFactory,
    ProjectFactory,
    UnitBudgetFactory,
    UnitFactory,
    UnitMembershipFactory,
    UnitYearFactory,
    UserFactory,
    approve_reports,
    table_with_indicators,
)

pytestmark = pytest.mark.django_db
YEAR, NEXT = 2026, 2027
JULY, DECEMBER = dt.date(YEAR, 7, 31), dt.date(YEAR, 12, 31)


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(rescore_table, "delay", lambda table_id: calls.append(table_id))
    return calls


@pytest.fixture
def unit_year():
    """A unit's 2026: a 部门整体 table and two projects; actuals approved, corrected, returned and drafted."""
    unit = UnitFactory(name="示范市社会保险服务中心")
    admin, lead = UserFactory(), UserFactory()
    UnitMembershipFactory(user=admin, unit=unit, role="admin")
    UnitMembershipFactory(user=lead, unit=unit, role="lead")
    UnitBudgetFactory(unit=unit, year=YEAR, fiscal_superior=Decimal("35"), fiscal_local=Decimal("612.4"))
    whole, whole_rows = table_with_indicators(unit=unit, rows=[
        ("履职效能", "质量指标", "基金稽核覆盖率", ">=95%", "60"),
        ("服务对象满意度", "服务对象满意度指标", "服务对象满意度", ">=90%", "30", "满意度赋分"),
    ])
    first = ProjectFactory(unit=unit, name="城乡居民养老保险待遇发放服务项目", code="P-001", lead=lead, lead_name="王芳",
                           budget_initial=Decimal("48.6"), fiscal=Decimal("48.6"))
    table, rows = table_with_indicators(first, rows=[
        ("产出指标", "数量指标", "资格认证人数", ">=3万人次", "30"),
        ("产出指标", "质量指标", "按时足额发放率", "=100%", "20"),
        ("产出指标", "时效指标", "待遇发放完成时间", "每月20日前", "10"),
        ("效益指标", "社会效益指标", "办事便利度", "有效提升", "20", "按评判等级赋分"),
        ("满意度指标", "服务对象满意度指标", "待遇领取人员满意度", ">=90%", "10", "满意度赋分"),
    ])
    Indicator.objects.filter(pk=rows[0].pk).update(basis="上年度认证人数", evidence="工作资料",
                                                   accumulation=Indicator.Accumulation.CUMULATIVE)
    indicator_set_not_applicable(indicator=rows[3], not_applicable=True, reason="本年不考核")
    second = ProjectFactory(unit=unit, name="社会保障卡服务网点建设项目", lead_name="赵磊")
    bare, bare_rows = table_with_indicators(second, rows=[("产出指标", "数量指标", "新建网点数", ">=12个", "90")])

    # July approved, December approved (the final one), then a correction of December approved too
    ActualFactory(indicator=whole_rows[0], as_of=JULY, value=Decimal("80"))
    ActualFactory(indicator=rows[0], as_of=JULY, value=Decimal("1.5"))
    ActualFactory(indicator=rows[2], as_of=JULY, met=False)
    approve_reports(whole)
    approve_reports(table)
    ActualFactory(indicator=whole_rows[0], as_of=DECEMBER, value=Decimal("96.5"))
    ActualFactory(indicator=rows[0], as_of=DECEMBER, value=Decimal("3.1"))
    ActualFactory(indicator=rows[2], as_of=DECEMBER, met=True)
    approve_reports(whole)
    approve_reports(table)
    ActualFactory(indicator=rows[0], as_of=DECEMBER, value=Decimal("3.2"))  # a correction of December
    approve_reports(table)
    # a returned report's and a draft's actuals never count
    returned = ActualFactory(indicator=rows[1], as_of=DECEMBER, value=Decimal("99"))
    report_return(report=report_submit(report=returned.report), reason="数据有误")
    ActualFactory(indicator=whole_rows[1], as_of=DECEMBER, value=Decimal("93"))  # still a draft
    return {"unit": unit, "admin": admin, "lead": lead, "whole": whole, "table": table, "rows": rows, "bare": bare}


def test_copies_every_table_and_indicator_as_drafts(unit_year):
    unit, source = unit_year["unit"], unit_year["table"]
    tables = tables_start_next_year(unit=unit, from_year=YEAR, user=unit_year["admin"])
    assert [t.project.name if t.project_id else "部门整体" for t in tables] == [
        "部门整体", "城乡居民养老保险待遇发放服务项目", "社会保障卡服务网点建设项目"]
    assert all(t.year == NEXT and t.status == GoalTable.Status.DRAFT for t in tables)
    assert {t.previous_id for t in tables} == {unit_year["whole"].pk, source.pk, unit_year["bare"].pk}
    copy = GoalTable.objects.get(previous=source)
    assert copy.overall_goal == source.overall_goal and copy.source == "" and copy.policy_id is None
    project = copy.project
    assert (project.year, project.name, project.code, project.lead, project.lead_name) == (
        NEXT, "城乡居民养老保险待遇发放服务项目", "P-001", unit_year["lead"], "王芳")
    assert (project.budget_initial, project.fiscal, project.carryover, project.other) == (0, 0, 0, 0)
    old_rows = list(source.indicators.order_by("order"))
    new_rows = list(copy.indicators.order_by("order"))
    fields = ("order", "level1", "level2", "name", "target_raw", "target_kind", "target_value", "unit", "basis",
              "weight", "rule", "evidence", "accumulation")
    assert [[getattr(i, f) for f in fields] for i in new_rows] == [[getattr(i, f) for f in fields] for i in old_rows]
    assert [i.previous_id for i in new_rows] == [i.pk for i in old_rows]
    assert old_rows[3].not_applicable and not new_rows[3].not_applicable and new_rows[3].not_applicable_reason == ""
    budget = UnitBudget.objects.get(unit=unit, year=NEXT)
    assert (budget.fiscal_superior, budget.fiscal_local, budget.other) == (0, 0, 0)
    # the history says who started them
    assert copy.history.first().history_user == unit_year["admin"]
    assert new_rows[0].history.first().history_user == unit_year["admin"]


def test_last_year_is_the_final_approved_actual_with_its_unit(unit_year):
    tables_start_next_year(unit=unit_year["unit"], from_year=YEAR, user=unit_year["admin"])
    shown = {i.name: (i.last_year, i.last_year_missing) for i in Indicator.objects.filter(table__year=NEXT)}
    assert shown == {
        "基金稽核覆盖率": ("96.5%", False),  # December's, not July's
        "服务对象满意度": ("", True),  # only a draft
        "资格认证人数": ("3.2万人次", False),  # the correction of December
        "按时足额发放率": ("", True),  # only a returned report
        "待遇发放完成时间": ("已完成", False),
        "办事便利度": ("", True),
        "待遇领取人员满意度": ("", True),
        "新建网点数": ("", True),
    }


def test_a_grade_becomes_the_grade_text(unit_year):
    graded = unit_year["rows"][3]
    indicator_set_not_applicable(indicator=graded, not_applicable=False)
    ActualFactory(indicator=graded, as_of=DECEMBER, grade="达成年度指标", points=Decimal("18"))
    approve_reports(unit_year["table"])
    tables_start_next_year(unit=unit_year["unit"], from_year=YEAR, user=unit_year["admin"])
    copy = Indicator.objects.get(previous=graded)
    assert (copy.last_year, copy.last_year_missing) == ("达成年度指标", False)


def test_a_second_call_is_refused_and_duplicates_nothing(unit_year):
    unit = unit_year["unit"]
    tables_start_next_year(unit=unit, from_year=YEAR, user=unit_year["admin"])
    counts = (Project.objects.count(), GoalTable.objects.count(), Indicator.objects.count(), UnitBudget.objects.count())
    with pytest.raises(ValidationError) as refused:
        tables_start_next_year(unit=unit, from_year=YEAR, user=unit_year["admin"])
    message = refused.value.messages[0]
    assert "2027 年已有绩效目标表" in message and "部门整体绩效目标表" in message and "共 3 张" in message
    assert counts == (Project.objects.count(), GoalTable.objects.count(), Indicator.objects.count(),
                      UnitBudget.objects.count())


def test_an_existing_next_year_project_without_a_table_is_used(unit_year):
    unit = unit_year["unit"]
    made = ProjectFactory(unit=unit, year=NEXT, name="社会保障卡服务网点建设项目", budget_initial=Decimal("80"),
                          fiscal=Decimal("80"))
    tables_start_next_year(unit=unit, from_year=YEAR, user=unit_year["admin"])
    assert GoalTable.objects.get(previous=unit_year["bare"]).project == made
    assert Project.objects.filter(unit=unit, year=NEXT).count() == 2


def test_refused_for_a_year_out_of_range_a_closed_year_or_no_tables(unit_year):
    unit = unit_year["unit"]
    with pytest.raises(ValidationError, match="年度“2101”无效"):
        tables_start_next_year(unit=unit, from_year=2100, user=None)
    with pytest.raises(ValidationError, match="2024 年没有绩效目标表"):
        tables_start_next_year(unit=unit, from_year=2024, user=None)
    UnitYearFactory(unit=unit, year=NEXT)
    with pytest.raises(ValidationError, match="2027 年度已关账"):
        tables_start_next_year(unit=unit, from_year=YEAR, user=None)
    assert not GoalTable.objects.filter(year=NEXT).exists()


def test_new_tables_are_rescored_and_synced_to_the_library_after_commit(unit_year, sent, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    synced = []
    monkeypatch.setattr(library, "library_sync_tables", lambda table_ids: synced.append(sorted(table_ids)))
    with django_capture_on_commit_callbacks(execute=True):
        tables = tables_start_next_year(unit=unit_year["unit"], from_year=YEAR, user=unit_year["admin"])
    ids = sorted(t.pk for t in tables)
    assert sorted(sent) == ids
    assert synced == [ids]


def _unit_with_projects(count: int):
    unit = UnitFactory()
    table_with_indicators(unit=unit, rows=[("履职效能", "数量指标", "办件数", ">=100件", "90")])
    for n in range(count):
        project = ProjectFactory(unit=unit, name=f"项目{n:02d}")
        table, rows = table_with_indicators(project, rows=[("产出指标", "数量指标", f"指标{n}", ">=10个", "90")])
        ActualFactory(indicator=rows[0], as_of=DECEMBER, value=Decimal("12"))
        approve_reports(table)
    return unit


def test_queries_do_not_grow_with_the_number_of_projects():
    """Bulk writes: the same queries for 30 projects as for 2 (Django splits an INSERT only past the
    database's parameter limit, which SQLite reaches at a few dozen rows of a wide model)."""
    small, large = _unit_with_projects(2), _unit_with_projects(30)

    def queries(unit):
        with CaptureQueriesContext(connection) as captured:
            tables_start_next_year(unit=unit, from_year=YEAR, user=None)
        return len(captured)

    assert queries(small) == queries(large) == 19
    assert Indicator.objects.filter(table__unit=large, table__year=NEXT, last_year="12个").count() == 30


# --- the button -------------------------------------------------------------------------------------

def test_the_button_starts_next_year_and_says_what_it_did(client, unit_year):
    client.force_login(unit_year["admin"])
    page = client.get(reverse("yearclose:unit-year", args=[unit_year["unit"].pk, YEAR]))
    assert "以 2026 年为基础编制 2027 年目标表" in page.content.decode()
    url = reverse("goals:rollover", args=[unit_year["unit"].pk, YEAR])
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("yearclose:unit-year", args=[unit_year["unit"].pk, NEXT])
    message = [str(m) for m in get_messages(response.wsgi_request)][0]
    assert "已以 2026 年为基础编制 2027 年绩效目标表：3 张目标表、8 个指标" in message
    assert "其中 5 个指标没有上年审核通过的实际完成值" in message
    assert GoalTable.objects.filter(unit=unit_year["unit"], year=NEXT).count() == 3

    again = client.post(url, follow=True)
    assert again.redirect_chain[-1][0] == reverse("yearclose:unit-year", args=[unit_year["unit"].pk, YEAR])
    assert "未编制：" in again.content.decode() and "2027 年已有绩效目标表" in again.content.decode()
    assert GoalTable.objects.filter(unit=unit_year["unit"], year=NEXT).count() == 3


def test_only_the_units_administrators_may_start_next_year(client, unit_year):
    url = reverse("goals:rollover", args=[unit_year["unit"].pk, YEAR])
    reviewer = UserFactory()
    UnitMembershipFactory(user=reviewer, unit=UnitFactory(), role="reviewer")
    unit_year["unit"].parent = reviewer.memberships.get().unit
    unit_year["unit"].save()
    for user in (unit_year["lead"], reviewer):
        client.force_login(user)
        assert client.post(url).status_code == 403
    client.force_login(unit_year["admin"])
    assert client.get(url).status_code == 405
    assert not GoalTable.objects.filter(year=NEXT).exists()


def test_the_library_holds_the_new_tables_once_committed(unit_year, django_capture_on_commit_callbacks):
    from kpi.models import LibraryUse

    with django_capture_on_commit_callbacks(execute=True):
        tables_start_next_year(unit=unit_year["unit"], from_year=YEAR, user=unit_year["admin"])
    new = Indicator.objects.filter(table__year=NEXT)
    assert set(LibraryUse.objects.filter(year=NEXT).values_list("indicator_id", flat=True)) == set(
        new.values_list("pk", flat=True))
