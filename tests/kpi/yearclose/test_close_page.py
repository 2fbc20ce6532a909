"""年度关账: the page lists what is still open, refuses to close while reports wait for review unless the
administrator says so, the pages say in Chinese that a closed year takes no review, and reopening gives
every table its status back (the demo's approved tables included)."""
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from budgets.models import Role, Unit, UnitYear
from budgets.services import membership_grant
from kpi.goals.services import goal_table_approve
from kpi.models import GoalTable, Report
from kpi.reports.services import actual_record, report_approve, report_submit
from kpi.rescoring.tasks import rescore_table
from kpi.yearclose.services import RESTORED_UNKNOWN, YEAR_CLOSE_REASON, unit_year_close, unit_year_reopen
from tests.factories import IMPORTED, ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
JULY, AUGUST = dt.date(2026, 7, 31), dt.date(2026, 8, 31)


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def world():
    """A unit with three project tables: 培训 with an approved July and a submitted August report, 宣传 with
    a draft, 维修 with nothing reported; and its administrator."""
    bureau = UnitFactory(name="主管局")
    unit = UnitFactory(name="示范中心", parent=bureau)
    admin, lead, reviewer = UserFactory(first_name="管理员"), UserFactory(first_name="负责人"), UserFactory()
    membership_grant(user=admin, unit=unit, role=Role.ADMIN)
    membership_grant(user=lead, unit=unit, role=Role.LEAD)
    membership_grant(user=reviewer, unit=bureau, role=Role.REVIEWER)
    tables = {}
    for name in ("培训项目", "宣传项目", "维修项目"):
        tables[name], _ = table_with_indicators(ProjectFactory(unit=unit, name=name, lead=lead), source=IMPORTED)
        goal_table_approve(table=tables[name], user=admin)

    def record(table, as_of, count):
        indicators = list(table.indicators.order_by("order"))[:count]
        report = None
        for indicator in indicators:
            report = actual_record(indicator=indicator, as_of=as_of, value=Decimal("120"), user=lead,
                                   deviation_reason="测试").report
        return report

    july = record(tables["培训项目"], JULY, 4)
    report_approve(report=report_submit(report=july, user=lead), user=admin)
    waiting = report_submit(report=record(tables["培训项目"], AUGUST, 1), user=lead)
    draft = record(tables["宣传项目"], JULY, 2)
    return {"unit": unit, "admin": admin, "lead": lead, "reviewer": reviewer, "tables": tables,
            "waiting": waiting, "draft": draft, "url": reverse("yearclose:unit-year", args=[unit.pk, 2026])}


def test_the_page_lists_what_is_still_open_per_table(client, world):
    client.force_login(world["admin"])
    page = client.get(world["url"]).content.decode()
    checks = page.split('id="open-items"', 1)[1].split("</table>", 1)[0]
    assert "<strong>1</strong> 份填报待审核" in checks and "<strong>1</strong> 份草稿未提交" in checks
    assert "<strong>6</strong> 个指标没有实际完成值" in checks  # 宣传 2 of 4, 维修 4 of 4, 培训 none
    rows = {name: checks.split(name, 1)[1].split("</tr>", 1)[0] for name in ("培训项目", "宣传项目", "维修项目")}
    training_table = world["tables"]["培训项目"]
    assert f"/tables/{training_table.pk}/report/?as_of=2026-08-31#review" in rows["培训项目"]
    assert "负责人 提交" in rows["培训项目"]
    assert "截至 2026-07-31" in rows["宣传项目"] and "满意度" in rows["宣传项目"] and "培训人次" not in rows["宣传项目"]
    assert "培训人次、合格率、人均成本、满意度" in rows["维修项目"]
    assert "仍有待审核的填报，确认关账" in page and "确认关账 2026 年度" in page


def test_the_service_refuses_to_close_while_reports_wait_unless_forced(world):
    unit, admin = world["unit"], world["admin"]
    with pytest.raises(ValidationError) as refused:
        unit_year_close(unit=unit, year=2026, user=admin)
    assert "仍有 1 份填报已提交、等待审核" in refused.value.message_dict["force"][0]
    assert not UnitYear.objects.filter(unit=unit, year=2026, closed=True).exists()
    assert set(GoalTable.objects.filter(unit=unit).values_list("status", flat=True)) == {"approved"}

    unit_year_close(unit=unit, year=2026, user=admin, force=True)
    assert UnitYear.objects.get(unit=unit, year=2026).closed


def test_drafts_and_missing_actuals_do_not_stop_a_close(world):
    report_approve(report=world["waiting"], user=world["admin"])
    unit_year_close(unit=world["unit"], year=2026, user=world["admin"])  # the page listed them; no word needed
    assert UnitYear.objects.get(unit=world["unit"], year=2026).closed


def test_the_page_refuses_beside_the_checkbox_then_closes_when_told(client, world):
    client.force_login(world["admin"])
    response = client.post(world["url"], {"action": "close"})
    page = response.content.decode()
    assert response.status_code == 200
    form = page.split('class="close-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="force"' in form and "仍有 1 份填报已提交、等待审核" in form
    assert "如确需现在关账，请勾选“仍有待审核的填报，确认关账”" in form
    assert "培训项目" in page  # the open items are still listed
    assert not UnitYear.objects.filter(unit=world["unit"], year=2026, closed=True).exists()

    page = client.post(world["url"], {"action": "close", "force": "on"}, follow=True).content.decode()
    assert "2026 年度已关账。" in page and "审核通过和退回也不能再进行" in page
    assert UnitYear.objects.get(unit=world["unit"], year=2026).closed


def test_after_the_close_approving_and_returning_are_refused_in_chinese(client, world):
    unit_year_close(unit=world["unit"], year=2026, user=world["admin"], force=True)
    review = reverse("reports:review", args=[world["waiting"].pk])
    client.force_login(world["admin"])
    page = client.post(review, {"action": "approve"}, follow=True).content.decode()
    assert "2026 年度已关账，数据只读" in page
    client.force_login(world["reviewer"])
    page = client.post(review, {"action": "return", "reason": "数据有误"}, follow=True).content.decode()
    assert "2026 年度已关账，数据只读" in page
    world["waiting"].refresh_from_db()
    assert world["waiting"].status == Report.Status.SUBMITTED


def test_reopening_gives_every_table_its_status_back_even_one_set_without_history(world):
    unit, admin = world["unit"], world["admin"]
    draft_table, _ = table_with_indicators(ProjectFactory(unit=unit, name="草稿项目"))
    silent, _ = table_with_indicators(ProjectFactory(unit=unit, name="无记录批复项目"))
    GoalTable.objects.filter(pk=silent.pk).update(status=GoalTable.Status.APPROVED)  # no history record

    unit_year_close(unit=unit, year=2026, user=admin, force=True)
    unit_year_reopen(unit=unit, year=2026, user=admin, reason="补录")

    statuses = dict(GoalTable.objects.filter(unit=unit).values_list("project__name", "status"))
    assert statuses == {"培训项目": "approved", "宣传项目": "approved", "维修项目": "approved", "草稿项目": "draft",
                        "无记录批复项目": "approved"}


def test_a_close_whose_status_before_is_nowhere_recorded_reopens_as_a_draft_not_closed(world):
    unit, admin = world["unit"], world["admin"]
    table = world["tables"]["维修项目"]
    unit_year_close(unit=unit, year=2026, user=admin, force=True)
    # As an older close left it: nothing before the close record.
    GoalTable.history.filter(id=table.pk).exclude(history_change_reason=YEAR_CLOSE_REASON).delete()

    unit_year_reopen(unit=unit, year=2026, user=admin, reason="补录")
    table.refresh_from_db()
    assert table.status == GoalTable.Status.DRAFT
    assert table.history.first().history_change_reason == f"{RESTORED_UNKNOWN}：补录"


def test_the_demo_year_closed_and_reopened_keeps_its_approved_tables(settings):
    settings.JIXIAO_ALLOW_DEMO_DATA = True
    call_command("load_demo", stdout=StringIO())
    unit = Unit.objects.get(code="DEMO-SB")
    admin = UserFactory(username="liumin")
    before = dict(GoalTable.objects.filter(unit=unit).values_list("pk", "status"))
    assert set(before.values()) == {"approved"}
    assert all(GoalTable.history.filter(id=pk, status="approved").exists() for pk in before)  # approved with history

    unit_year_close(unit=unit, year=2026, user=admin, force=True)
    unit_year_reopen(unit=unit, year=2026, user=admin, reason="演示重新开放")
    assert dict(GoalTable.objects.filter(unit=unit).values_list("pk", "status")) == before


def test_the_page_query_count_does_not_grow_with_tables(client, world, django_assert_num_queries):
    client.force_login(world["admin"])
    from tests.kpi.scorecards.builders import count_queries

    first, _ = count_queries(client, world["url"])
    for n in range(4):
        table, indicators = table_with_indicators(ProjectFactory(unit=world["unit"], name=f"新增项目{n}"))
        actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("120"), deviation_reason="测试")
    # Session and user 2, the unit through the scoping 3, may close 1, the year 1, the tables 1, open reports 1,
    # indicators without actuals 1, the year's history 1; navigation 3 (may see scorecards 1, the count 1,
    # may import 1).
    with django_assert_num_queries(14):
        response = client.get(world["url"])
    assert first == 14 and response.content.decode().count("新增项目") >= 4
