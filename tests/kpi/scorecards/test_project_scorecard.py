"""The project page as a scorecard: indicators with forecast, ratio, light and evidence; budget execution;
the reports' history; the progress chart; a live score; a fixed number of queries."""
import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kpi.reports.services import (
    actual_record,
    evidence_add,
    execution_report,
    report_approve,
    report_open,
    report_submit,
)
from tests.factories import UserFactory, rescore_stale

from .builders import JULY, count_queries, no_enqueue, scored_project, unit_world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
APRIL = dt.date(2026, 4, 30)


def report_as(table, as_of, lead, admin, values, *, forecast=None):
    """The lead records and submits, the administrator approves."""
    report = report_open(table=table, as_of=as_of, user=lead)
    for indicator, value in zip(table.indicators.order_by("order"), values):
        actual_record(indicator=indicator, as_of=as_of, value=Decimal(value), report=report, user=lead,
                      forecast=forecast)
    report = report_submit(report=report, user=lead)
    return report_approve(report=report, user=admin)


@pytest.fixture
def project(unit_world):
    people = unit_world["people"]
    lead, admin = people["lead"], people["admin"]
    lead.first_name, admin.first_name = "王五", "赵六"
    lead.save(), admin.save()
    project = scored_project(unit_world["unit"], "社保宣传", lead=lead, value=None, executed="20", indicators=3)
    table = project.goal_tables.get()
    report_as(table, APRIL, lead, admin, ["2", "3", "4"])
    report_as(table, JULY, lead, admin, ["6", "7", "8"])
    draft = report_open(table=table, as_of=dt.date(2026, 8, 31), user=lead)
    actual_record(indicator=table.indicators.get(order=1), as_of=draft.as_of, value=Decimal("9"), report=draft,
                  user=lead, forecast=Decimal("15"))
    evidence_add(indicator=table.indicators.get(order=2), upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF"),
                 user=lead, max_bytes=10_000)
    evidence_add(indicator=table.indicators.get(order=2), upload=SimpleUploadedFile("b.pdf", b"%PDF-1.4\n%%EOF"),
                 user=lead, max_bytes=10_000)
    execution_report(project=project, as_of=JULY, executed=Decimal("35"))
    rescore_stale()
    return project


def indicator_rows(page: str) -> list[str]:
    body = page.split('<table class="grid scorecard">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr(?: class=\"na\")?>\s*(.*?)</tr>", body, re.S)[1:]


def test_every_indicator_shows_its_figures(client, unit_world, project):
    client.force_login(unit_world["people"]["admin"])
    response = client.get(reverse("scorecards:project", args=[project.pk]))
    page = response.content.decode()
    first, second, third = indicator_rows(page)
    # first: the August draft (9, forecast 15 entered) is the latest actual; the official score is July's 6 of 10
    assert "社保宣传指标0" in first and "&gt;=10个" in first and "9个" in first and "2026-08-31 · 草稿" in first
    assert "15个" in first  # the forecast the lead entered
    assert "60.00%" in first and "18.00 / 30.00" in first and "暂算 27.00" in first
    assert "按完成比例" in first or "×" in first  # the one-line explanation
    # second: 7 in July, cumulative: forecast 7 × 12 / 7 = 12; the light is taken at the table's latest date,
    # August: 7 × 12 / (10 × 8) = 1.05 → green
    assert "12个" in second and "70.00%" in second and "21.00 / 30.00" in second and "绿灯" in second
    assert re.search(r'<td class="num">2</td>\s*$', second)  # two evidence files
    assert "8个" in third and "13.71个" in third and re.search(r'<td class="num">0</td>\s*$', third)


def test_budget_execution_total_and_grade(client, unit_world, project):
    client.force_login(unit_world["people"]["admin"])
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    execution = page.split("<h2>预算执行</h2>", 1)[1].split("</table>", 1)[0]
    assert ">100.00<" in execution and ">35.00<" in execution and "2026-07-31" in execution
    assert "35.00%" in execution and "3.50 / 10" in execution
    assert "红灯" in execution  # 0.35 × 12 / 8 = 0.525 at the latest date (August) → red
    assert "<span>总分</span><strong>" in page and "<span>等级</span>" in page


def test_the_reports_history(client, unit_world, project):
    client.force_login(unit_world["people"]["lead"])
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    history = page.split("<h2>填报记录</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>\s*<td>(.*?)</tr>", history, re.S)
    assert [r.split("<", 1)[0] for r in rows] == ["2026-08-31", "2026-07-31", "2026-04-30"]
    assert "草稿" in rows[0] and "已审核" in rows[1] and "王五" in rows[1] and "赵六" in rows[1]


def test_the_progress_chart_data(client, unit_world, project):
    client.force_login(unit_world["people"]["admin"])
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    data = json.loads(re.search(r'<script id="progress-chart-data" type="application/json">(.*?)</script>',
                                page, re.S).group(1))
    assert data["dates"] == ["2026-04-30", "2026-07-31", "2026-08-31"]
    assert data["elapsed"] == [33.33, 58.33, 66.67]
    series = {s["name"]: s["data"] for s in data["series"]}
    assert series["社保宣传指标0"] == [20.0, 60.0, 90.0]  # August: the draft's 9 (provisional)
    assert series["社保宣传指标1"] == [30.0, 70.0, 70.0]
    assert "vendor/echarts/echarts.min.js" in page and "图表需要 JavaScript" in page


def test_the_unit_scorecard_link_shows_to_those_who_may_open_it(client, unit_world, project):
    link = reverse("scorecards:unit", args=[unit_world["unit"].pk, 2026])
    client.force_login(unit_world["people"]["admin"])
    assert link in client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    client.force_login(unit_world["people"]["lead"])
    assert link not in client.get(reverse("scorecards:project", args=[project.pk])).content.decode()


def test_a_stale_table_says_its_scores_are_being_updated(client, unit_world):
    project = scored_project(unit_world["unit"], "未评分项目", value="10", executed="100", rescore=False)
    client.force_login(unit_world["people"]["admin"])
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    assert "评分更新中" in page and "<span>总分</span><strong>100.00</strong>" not in page
    assert project.goal_tables.get().is_stale  # reading rescored nothing
    rescore_stale()  # what the task enqueued at the change (or the periodic sweep) does
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    assert "<span>总分</span><strong>100.00</strong>" in page and "评分更新中" not in page


def test_a_project_without_goal_table(client, unit_world):
    client.force_login(unit_world["people"]["admin"])
    project = unit_world["projects"]["己项目"]
    page = client.get(reverse("scorecards:project", args=[project.pk])).content.decode()
    assert "该项目尚无绩效目标表" in page and "<h2>预算执行</h2>" in page and "填报记录" not in page


def test_the_query_count_does_not_grow_with_indicators_reports_or_evidence(client, unit_world,
                                                                           django_assert_num_queries):
    people = unit_world["people"]
    small = scored_project(unit_world["unit"], "小项目", value="5", executed="50", indicators=2)
    large = scored_project(unit_world["unit"], "大项目", value="5", executed="50", indicators=9)
    table = large.goal_tables.get()
    report_as(table, APRIL, people["lead"], people["admin"], ["1"] * 9)
    for indicator in table.indicators.all()[:4]:
        evidence_add(indicator=indicator, upload=SimpleUploadedFile("e.pdf", b"%PDF-1.4\n%%EOF"), max_bytes=10_000)
    execution_report(project=large, as_of=APRIL, executed=Decimal("10"))
    # The page's queries as in tests/kpi/test_views.py (and the navigation's count of reports waiting for
    # review, and the table's scoring policy); a superuser's scoping and permissions need no memberships or
    # unit tree.
    for user, queries in ((people["admin"], 23), (UserFactory(is_superuser=True), 17)):
        client.force_login(user)
        rescore_stale()
        with django_assert_num_queries(queries):
            before, _ = count_queries(client, reverse("scorecards:project", args=[small.pk]))
        with django_assert_num_queries(before):
            client.get(reverse("scorecards:project", args=[large.pk]))
        print(f"\nproject page ({'superuser' if user.is_superuser else 'unit admin'}): {before} queries")
