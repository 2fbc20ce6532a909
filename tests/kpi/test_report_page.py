"""The report page: entry per indicator, validation in Chinese, corrections, conflicts, review, evidence, execution."""
import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from budgets.models import BudgetExecution
from budgets.services import membership_grant
from kpi.models import Actual, Evidence, Report
from kpi.reports.services import Entry, EntryConflict, actual_record, report_entries_save
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", Decimal("40")),
    ("产出指标", "时效指标", "完成时间", "2026年10月31日前", Decimal("20")),
    ("效益指标", "社会效益指标", "服务质量", "有效提升", Decimal("20")),
    ("满意度指标", "满意度指标", "满意度", ">=90%", Decimal("10"), "满意度赋分"),
]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.fixture
def setup():
    lead, admin, reviewer, stranger = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    project = ProjectFactory(lead=lead)
    membership_grant(user=lead, unit=project.unit, role="lead")
    membership_grant(user=admin, unit=project.unit, role="admin")
    membership_grant(user=reviewer, unit=project.unit, role="reviewer")
    table, indicators = table_with_indicators(project, rows=ROWS)
    return {"lead": lead, "admin": admin, "reviewer": reviewer, "stranger": stranger, "project": project,
            "table": table, "indicators": indicators}


def url(project, as_of=JULY):
    table = project.goal_tables.get()
    return f"{reverse('reports:table', args=[table.pk])}?as_of={as_of:%Y-%m-%d}"


def post(client, project, values: dict, action="save", as_of=JULY, base=None):
    """values: {indicator: {field: value}}; base: {indicator: actual id shown on the page}."""
    data = {"action": action, "as_of": as_of.isoformat()}
    for indicator, fields in values.items():
        data[f"i{indicator.pk}-base"] = str((base or {}).get(indicator.pk, "") or "")
        for name, value in fields.items():
            data[f"i{indicator.pk}-{name}"] = value
    return client.post(url(project, as_of), data)


def test_each_indicator_gets_the_input_its_rule_needs(client, setup):
    client.force_login(setup["lead"])
    page = client.get(url(setup["project"])).content.decode()
    count, deadline, quality, satisfaction = setup["indicators"]
    assert f'name="i{count.pk}-value"' in page and "实际完成值（人次）" in page
    assert f'name="i{deadline.pk}-met"' in page and "达成" in page
    assert f'name="i{quality.pk}-grade"' in page and f'name="i{quality.pk}-points"' in page
    assert "[16.00, 20.00]" in page and "[12.00, 16.00)" in page  # the allowed range of each grade
    assert "满意度" in page and "&gt;=90%" in page


def test_a_lead_records_a_draft_report(client, setup):
    client.force_login(setup["lead"])
    count, deadline, quality, satisfaction = setup["indicators"]
    response = post(client, setup["project"], {
        count: {"value": "80", "forecast": "110", "likelihood": "确定能"},
        deadline: {"met": "1"},
        quality: {"grade": "达成年度指标", "points": "18"},
    })
    assert response.status_code == 302
    report = Report.objects.get(table=setup["table"], as_of=JULY)
    assert report.status == Report.Status.DRAFT
    actuals = {a.indicator_id: a for a in Actual.objects.filter(report=report)}
    assert actuals[count.pk].value == Decimal("80") and actuals[count.pk].forecast == Decimal("110")
    assert actuals[deadline.pk].met is True
    assert (actuals[quality.pk].grade, actuals[quality.pk].points) == ("达成年度指标", Decimal("18"))
    assert satisfaction.pk not in actuals  # left blank: not reported this time
    page = client.get(response.url).content.decode()
    assert 'value="80"' in page and "草稿" in page
    # saving the same again records nothing new
    post(client, setup["project"], {count: {"value": "80", "forecast": "110", "likelihood": "确定能"}},
         base={count.pk: actuals[count.pk].pk})
    assert Actual.objects.filter(indicator=count).count() == 1


def test_bad_input_is_refused_in_chinese_and_nothing_typed_is_lost(client, setup):
    client.force_login(setup["lead"])
    count, deadline, quality, satisfaction = setup["indicators"]
    response = post(client, setup["project"], {
        count: {"value": "八十", "forecast": "120"},
        quality: {"grade": "部分达成年度指标并具有一定效果", "points": "19"},
        satisfaction: {"value": "95"},
    })
    page = response.content.decode()
    assert response.status_code == 200
    assert "请输入数字" in page
    assert "超出等级" in page and "[12.00, 16.00)" in page
    assert 'value="八十"' in page and 'value="120"' in page and 'value="95"' in page  # kept as typed
    assert not Actual.objects.exists()


def test_an_off_track_indicator_needs_a_deviation_reason(client, setup):
    client.force_login(setup["lead"])
    count = setup["indicators"][0]
    # 30 of 100 by July (cumulative): 30 / (100 × 7/12) = 51% → red
    page = post(client, setup["project"], {count: {"value": "30"}}).content.decode()
    assert "请填写偏差原因" in page and "红灯" in page and "请选择偏差原因类别" in page
    assert not Actual.objects.exists()
    post(client, setup["project"], {count: {"value": "30", "deviation_category": "经费保障",
                                            "deviation_reason": "培训经费7月才到位"}})
    actual = Actual.objects.get()
    assert (actual.deviation_category, actual.deviation_reason) == ("经费保障", "培训经费7月才到位")


def test_submit_approve_then_correct(client, setup):
    count = setup["indicators"][0]
    client.force_login(setup["lead"])
    post(client, setup["project"], {count: {"value": "70"}}, action="submit")
    report = Report.objects.get()
    assert report.status == Report.Status.SUBMITTED
    # a submitted report takes no changes
    page = post(client, setup["project"], {count: {"value": "75"}}, base={count.pk: Actual.objects.get().pk})
    assert "等待审核" in page.content.decode() or "暂不能修改" in client.get(page.url).content.decode()
    assert Actual.objects.count() == 1

    client.force_login(setup["admin"])
    client.post(reverse("reports:review", args=[report.pk]), {"action": "approve"})
    report.refresh_from_db()
    assert report.status == Report.Status.APPROVED

    client.force_login(setup["lead"])
    first = Actual.objects.get()
    post(client, setup["project"], {count: {"value": "72"}}, base={count.pk: first.pk})
    correction = Actual.objects.exclude(pk=first.pk).get()
    assert correction.replaces == first and correction.value == Decimal("72")
    assert correction.report.replaces == report and correction.report.status == Report.Status.DRAFT
    assert Actual.objects.get(pk=first.pk).value == Decimal("70")  # the approved value is kept


def test_return_with_a_reason_is_shown_to_the_lead(client, setup):
    count = setup["indicators"][0]
    client.force_login(setup["lead"])
    post(client, setup["project"], {count: {"value": "70"}}, action="submit")
    report = Report.objects.get()
    client.force_login(setup["reviewer"])
    assert client.post(reverse("reports:review", args=[report.pk]), {"action": "approve"}).status_code == 403
    client.post(reverse("reports:review", args=[report.pk]), {"action": "return", "reason": ""})
    assert Report.objects.get().status == Report.Status.SUBMITTED  # no reason, no return
    client.post(reverse("reports:review", args=[report.pk]), {"action": "return", "reason": "人次与签到表不符"})
    assert Report.objects.get().status == Report.Status.RETURNED
    client.force_login(setup["lead"])
    assert "退回原因：人次与签到表不符" in client.get(url(setup["project"])).content.decode()


def test_a_save_made_on_a_stale_page_is_a_conflict_not_an_overwrite(client, setup):
    count, deadline = setup["indicators"][:2]
    admin_client = client.__class__()
    admin_client.force_login(setup["admin"])
    client.force_login(setup["lead"])
    # both open the empty page; the administrator saves first
    post(admin_client, setup["project"], {count: {"value": "90"}})
    response = post(client, setup["project"], {count: {"value": "85"}, deadline: {"met": "1"}})
    page = response.content.decode()
    assert response.status_code == 200 and "已更新该指标" in page and 'value="85"' in page
    assert list(Actual.objects.values_list("value", flat=True)) == [Decimal("90")]  # nothing of the lead's saved yet
    # the page now carries the administrator's value as its base: saving again is a deliberate correction
    theirs = Actual.objects.get()
    post(client, setup["project"], {count: {"value": "85"}, deadline: {"met": "1"}}, base={count.pk: theirs.pk})
    mine = Actual.objects.get(indicator=count, value=Decimal("85"))
    assert mine.replaces == theirs and Actual.objects.filter(indicator=deadline, met=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_at_once_lose_nothing(setup):
    """Two threads save the same table at the same moment: different indicators both land; the same
    indicator lands once and the other save is refused as a conflict (and can be made again)."""
    count, deadline, _quality, satisfaction = setup["indicators"]
    table = setup["table"]
    barrier = threading.Barrier(2)
    outcomes = {}

    def save(name, user, entries):
        barrier.wait()
        try:
            report_entries_save(table=table, as_of=JULY, entries=entries, user=user)
            outcomes[name] = "saved"
        except EntryConflict:
            outcomes[name] = "conflict"
        finally:
            connection.close()

    def entry(indicator, **values):
        base = {"value": None, "met": None, "grade": "", "points": None, "forecast": None, "likelihood": "",
                "deviation_category": "", "deviation_reason": "", "needs_rectification": None,
                "rectification_measures": ""}
        return Entry(indicator=indicator, base_actual_id=None, values={**base, **values})

    threads = [
        threading.Thread(target=save, args=("lead", setup["lead"], [entry(count, value=Decimal("80"))])),
        threading.Thread(target=save, args=("admin", setup["admin"], [entry(satisfaction, value=Decimal("95"))])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {"lead": "saved", "admin": "saved"}
    assert set(Actual.objects.values_list("indicator_id", flat=True)) == {count.pk, satisfaction.pk}

    threads = [
        threading.Thread(target=save, args=("lead", setup["lead"], [entry(deadline, met=True)])),
        threading.Thread(target=save, args=("admin", setup["admin"], [entry(deadline, met=False)])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["conflict", "saved"]
    assert Actual.objects.filter(indicator=deadline).count() == 1
    assert Report.objects.filter(table=table, as_of=JULY).count() == 1


def test_who_may_do_what(client, setup):
    project = setup["project"]
    count = setup["indicators"][0]
    client.force_login(setup["stranger"])
    assert client.get(url(project)).status_code == 404
    assert post(client, project, {count: {"value": "80"}}).status_code == 404
    client.force_login(setup["reviewer"])
    assert client.get(url(project)).status_code == 200  # read-only across the units under them
    assert post(client, project, {count: {"value": "80"}}).status_code == 403
    other_lead = UserFactory()
    membership_grant(user=other_lead, unit=project.unit, role="lead")
    client.force_login(other_lead)
    assert client.get(url(project)).status_code == 404  # a lead sees only the projects they lead
    client.force_login(setup["admin"])
    assert post(client, project, {count: {"value": "80"}}).status_code == 302
    assert not Actual.objects.exclude(recorded_by=setup["admin"]).exists()


def test_evidence_upload_is_checked_by_content_and_downloaded_only_by_those_who_see_the_project(client, setup):
    count = setup["indicators"][0]
    upload_url = reverse("reports:evidence-upload", args=[setup["table"].pk, count.pk])
    client.force_login(setup["lead"])
    pdf = SimpleUploadedFile("签到表.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    client.post(upload_url, {"file": pdf, "as_of": "2026-07-31"})
    evidence = Evidence.objects.get()
    assert evidence.original_name == "签到表.pdf" and evidence.content_type == "application/pdf"
    assert "签到表" not in evidence.file.name and len(evidence.file.name.split("/")[-1]) == 32
    fake = SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 this is an executable, not a PDF")
    response = client.post(upload_url, {"file": fake, "as_of": "2026-07-31"}, follow=True)
    assert "不支持的文件类型" in response.content.decode()
    assert Evidence.objects.count() == 1
    with override_settings(UPLOAD_MAX_BYTES=10):
        big = SimpleUploadedFile("大文件.pdf", b"%PDF-1.4 " + b"x" * 100)
        response = client.post(upload_url, {"file": big, "as_of": "2026-07-31"}, follow=True)
    assert "文件过大" in response.content.decode() and Evidence.objects.count() == 1

    download = client.get(reverse("reports:evidence", args=[evidence.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    assert "attachment" in download["Content-Disposition"]
    client.force_login(setup["stranger"])
    assert client.get(reverse("reports:evidence", args=[evidence.pk])).status_code == 404
    client.force_login(setup["reviewer"])
    assert client.post(upload_url, {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4"), "as_of": ""}).status_code == 403


def test_budget_execution_and_adjustment(client, setup):
    project = setup["project"]
    execution_url = reverse("reports:execution", args=[setup["table"].pk])
    client.force_login(setup["lead"])
    client.post(execution_url, {"as_of": "2026-07-31", "executed": "45.50", "budget_adjusted": "200"})
    execution = BudgetExecution.objects.get()
    assert execution.executed == Decimal("45.50")
    project.refresh_from_db()
    assert project.budget_adjusted is None  # a lead may not adjust the budget
    client.force_login(setup["admin"])
    response = client.post(execution_url, {"as_of": "2026-07-31", "executed": "46.00", "budget_adjusted": "120"},
                           follow=True)
    assert "必须填写调整原因" in response.content.decode()
    client.post(execution_url, {"as_of": "2026-07-31", "executed": "46.00", "budget_adjusted": "120",
                                "adjustment_reason": "年中追加培训经费"})
    project.refresh_from_db()
    assert (project.budget_adjusted, project.adjustment_reason) == (Decimal("120.00"), "年中追加培训经费")
    latest = BudgetExecution.objects.order_by("-id").first()
    assert latest.executed == Decimal("46.00") and latest.replaces == execution  # a correction, not an overwrite
    response = client.post(execution_url, {"as_of": "2026-07-31", "executed": "-1"}, follow=True)
    assert "执行数不能为负数" in response.content.decode()


def test_report_page_query_count_does_not_grow_with_indicators(client, setup, django_assert_num_queries):
    client.force_login(setup["lead"])
    page = url(setup["project"])
    # Session and user 2, the table through the scoping 5, the permissions 4, the form's data 7 (indicators,
    # current and previous actuals, evidence, reports, execution, closed year), the table's scoring policy 1,
    # navigation 2.
    with django_assert_num_queries(21) as small:
        client.get(page)
    bigger = ProjectFactory(lead=setup["lead"], unit=setup["project"].unit)
    table_with_indicators(bigger, rows=ROWS * 3 + [(r[0], r[1], r[2] + "B", *r[3:]) for r in ROWS])
    page = url(bigger)
    with CaptureQueriesContext(connection) as large:
        client.get(page)
    assert len(large) == len(small)


def test_home_shows_status_and_light(client, setup):
    count = setup["indicators"][0]
    actual_record(indicator=count, as_of=JULY, value=Decimal("30"), deviation_reason="经费晚到",
                           deviation_category="经费保障")
    client.force_login(setup["lead"])
    page = client.get(reverse("home")).content.decode()
    assert "light-red" in page and "红灯" in page and "草稿" in page
    assert reverse("reports:table", args=[setup["table"].pk]) in page


def test_the_units_own_table_is_filled_in_by_its_administrators(client, setup):
    from budgets.models import UnitBudget
    from tests.factories import GoalTableFactory, IndicatorFactory, UnitBudgetFactory

    unit = setup["project"].unit
    UnitBudgetFactory(unit=unit, year=2026, fiscal_local=Decimal("300"))
    table = GoalTableFactory(project=None, unit=unit, year=2026)
    indicator = IndicatorFactory(table=table, level1="履职效能", level2="质量指标", name="稽核覆盖率",
                                 target_raw=">=95%", weight=Decimal("90"))
    page_url = f"{reverse('reports:table', args=[table.pk])}?as_of=2026-07-31"
    client.force_login(setup["lead"])
    assert client.get(page_url).status_code == 404  # a lead does not see the unit's own table
    client.force_login(setup["admin"])
    assert "部门整体绩效目标表" in client.get(reverse("home")).content.decode()
    client.post(page_url, {"action": "save", "as_of": "2026-07-31", f"i{indicator.pk}-base": "",
                           f"i{indicator.pk}-value": "97"})
    assert Actual.objects.get(indicator=indicator).value == Decimal("97")
    client.post(reverse("reports:execution", args=[table.pk]), {"as_of": "2026-07-31", "executed": "150",
                                                              "budget_adjusted": "320", "adjustment_reason": "追加"})
    execution = BudgetExecution.objects.get(project__isnull=True)
    assert (execution.unit, execution.executed) == (unit, Decimal("150.00"))
    assert UnitBudget.objects.get(unit=unit).adjusted == Decimal("320.00")
