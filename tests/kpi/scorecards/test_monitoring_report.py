"""绩效运行监控表 (domain.md §6): the builder at a cut date, the page, the Excel form, queries, permissions."""
import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from budgets.services import membership_grant
from kpi.models import Report
from kpi.monitoring import Light
from kpi.monitoring.selectors import default_cut, monitoring_report
from kpi.reports.services import (
    actual_record,
    budget_adjust,
    execution_report,
    report_approve,
    report_return,
    report_submit,
)
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
D = Decimal
R, Y, G, B, N = Light.RED, Light.YELLOW, Light.GREEN, Light.BLUE, Light.NONE
YEAR = 2026
JUNE, JULY15, JULY20, JULY, AUGUST = (dt.date(YEAR, 6, 30), dt.date(YEAR, 7, 15), dt.date(YEAR, 7, 20),
                                      dt.date(YEAR, 7, 31), dt.date(YEAR, 8, 31))
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=120人次", D("40")),  # cumulative
    ("产出指标", "质量指标", "合格率", ">=95%", D("20")),  # level
    ("成本指标", "经济成本指标", "人均成本", "<=50元/人", D("20")),  # reverse
    ("满意度指标", "服务对象满意度指标", "满意度", ">=90%", D("10"), "满意度赋分"),  # level
]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def report_at(table, as_of):
    return Report.objects.get(table=table, as_of=as_of, status__in=Report.OPEN)


def approve(table, as_of):
    report = report_submit(report=report_at(table, as_of))
    report_approve(report=report)


def record(indicator, as_of, value, **extra):
    return actual_record(indicator=indicator, as_of=as_of, value=D(value), **extra)


@pytest.fixture
def world():
    """A unit with a 部门整体 table, a project monitored through the year and a project with no goal table.

    Project 甲 (全年预算 120 万元):
      执行数 6/30 30, 7/31 42, 8/31 100 (after the cut)
      6/30 report, approved:   培训人次 50, 合格率 90, 满意度 72
      7/20 report, returned:   满意度 45
      7/31 report, submitted:  培训人次 56, 合格率 50 (with 偏差原因 and 整改), 人均成本 48 (预计 49)
      8/31 report, draft:      培训人次 200 (after the cut)
    """
    parent = UnitFactory(name="市教育局")
    unit = UnitFactory(name="市第一中学", parent=parent)
    lead = UserFactory()
    project = ProjectFactory(unit=unit, name="教师培训项目", code="P01", lead=lead, budget_initial=D("120"))
    bare = ProjectFactory(unit=unit, name="校舍维修项目", code="P03", budget_initial=D("50"))
    table, (count, quality, cost, satisfaction) = table_with_indicators(project, rows=ROWS)

    execution_report(project=project, as_of=JUNE, executed=D("30"))
    execution_report(project=project, as_of=JULY, executed=D("42"))
    execution_report(project=project, as_of=AUGUST, executed=D("100"))

    record(count, JUNE, "50")
    record(quality, JUNE, "90")
    record(satisfaction, JUNE, "72")
    approve(table, JUNE)
    record(satisfaction, JULY20, "45")
    report_return(report=report_submit(report=report_at(table, JULY20)), reason="数据有误")
    record(count, JULY, "56")
    record(quality, JULY, "50", deviation_category="制度保障", deviation_reason="考核制度未落实",
           likelihood="有可能", needs_rectification=True, rectification_measures="完善考核制度")
    record(cost, JULY, "48", forecast=D("49"), likelihood="确定能", needs_rectification=False)
    report_submit(report=report_at(table, JULY))
    record(count, AUGUST, "200")

    unit_table, (checks,) = table_with_indicators(
        unit=unit, year=YEAR, rows=[("产出指标", "数量指标", "检查次数", ">=12次", D("20"))]
    )
    budget_adjust(unit=unit, year=YEAR, adjusted=D("200"), reason="年中调整")
    execution_report(unit=unit, year=YEAR, as_of=JULY, executed=D("140"))
    record(checks, JULY, "3")
    approve(unit_table, JULY)
    return {"parent": parent, "unit": unit, "lead": lead, "project": project, "bare": bare, "table": table,
            "indicators": (count, quality, cost, satisfaction), "unit_table": unit_table, "checks": checks}


def block_of(report, project):
    return next(b for b in report.blocks if b.project == project)


def line_of(block, indicator):
    return next(line for line in block.lines if line.indicator == indicator)


# --- the builder -------------------------------------------------------------------------------------

def test_lights_at_the_mid_year_cut_follow_domain_section_6(world):
    report = monitoring_report(unit=world["unit"], year=YEAR, cut=JULY)
    assert report.month == 7 and report.time_share == D("0.5833")
    block = block_of(report, world["project"])
    # budget: 42 / 120 = 35 %; 0.35 / (7/12) = 0.6 exactly → yellow (60–80 %)
    assert (block.budget, block.executed, block.execution_rate) == (D("120"), D("42"), D("0.3500"))
    assert block.execution_as_of == JULY and block.budget_light is Y
    count, quality, cost, satisfaction = world["indicators"]
    lights = {line.indicator: line.light for line in block.lines}
    assert lights == {
        count: G,  # cumulative: 56 / (120 × 7/12 = 70) = 0.8 → green (80–120 %)
        quality: R,  # level: 50 / 95 = 0.53 → red (< 60 %)
        cost: G,  # reverse: 48 ≤ 50 → green
        satisfaction: G,  # level: 72 / 90 = 0.8 → green (the returned 45 would be red)
    }
    assert block.light is R  # the worst of yellow, green, red, green, green


def test_the_value_used_is_the_latest_on_or_before_the_cut(world):
    count, quality, *_ = world["indicators"]
    july = block_of(monitoring_report(unit=world["unit"], year=YEAR, cut=JULY), world["project"])
    assert line_of(july, count).value == D("56")  # the 8/31 value (200) and 8/31 执行数 (100) are ignored
    assert line_of(july, count).actual.as_of == JULY

    june = block_of(monitoring_report(unit=world["unit"], year=YEAR, cut=JUNE), world["project"])
    assert june.executed == D("30") and june.execution_rate == D("0.2500")
    assert june.budget_light is R  # 0.25 / (6/12) = 0.5 → red
    assert line_of(june, count).value == D("50") and line_of(june, count).light is G  # 50 / 60 = 0.83
    assert line_of(june, quality).value == D("90") and line_of(june, quality).light is G  # 90 / 95 = 0.95
    assert june.light is R


def test_forecast_is_the_entered_one_else_linear_for_cumulative_indicators(world):
    count, quality, cost, satisfaction = world["indicators"]
    block = block_of(monitoring_report(unit=world["unit"], year=YEAR, cut=JULY), world["project"])
    assert (line_of(block, count).forecast, line_of(block, count).forecast_projected) == (D("96.00"), True)  # 56×12/7
    assert (line_of(block, quality).forecast, line_of(block, quality).forecast_projected) == (D("50"), True)  # holds
    assert (line_of(block, cost).forecast, line_of(block, cost).forecast_projected) == (D("49"), False)  # entered

    # On 7/15 the latest figure is June's: it covers six months, and is judged against July's plan.
    mid = block_of(monitoring_report(unit=world["unit"], year=YEAR, cut=JULY15), world["project"])
    assert line_of(mid, count).value == D("50") and line_of(mid, count).forecast == D("100.00")  # 50 × 12 / 6
    assert line_of(mid, count).light is Y  # 50 / 70 = 0.71
    assert mid.executed == D("30") and mid.budget_light is R  # 0.25 / (7/12) = 0.43


def test_returned_reports_are_ignored_and_provisional_values_are_marked(world):
    count, quality, cost, satisfaction = world["indicators"]
    block = block_of(monitoring_report(unit=world["unit"], year=YEAR, cut=JULY), world["project"])
    kept = line_of(block, satisfaction)
    assert kept.value == D("72") and kept.actual.as_of == JUNE
    assert kept.approved is True and kept.status_label == "已审核"
    pending = line_of(block, quality)
    assert pending.approved is False and pending.status_label == "暂报（已提交）"
    assert pending.deviation == "制度保障：考核制度未落实" and pending.likelihood == "有可能"
    assert pending.needs_rectification is True and pending.rectification_measures == "完善考核制度"
    assert line_of(block, cost).needs_rectification is False


def test_the_unit_table_comes_first_and_the_unit_counts_tables_per_colour(world):
    report = monitoring_report(unit=world["unit"], year=YEAR, cut=JULY)
    assert [b.title for b in report.blocks] == ["市第一中学（部门整体）", "教师培训项目", "校舍维修项目"]
    unit_block, _, bare = report.blocks
    # 部门整体: 140 / 200 = 70 %; 0.7 / (7/12) = 1.2 → green (no blue for spending ahead)
    assert (unit_block.budget, unit_block.executed, unit_block.budget_light) == (D("200"), D("140"), G)
    assert line_of(unit_block, world["checks"]).light is R  # 3 / (12 × 7/12 = 7) = 0.43
    assert unit_block.light is R
    assert bare.table is None and bare.lines == [] and bare.executed is None
    assert bare.budget_light is N and bare.light is N
    assert report.counts == {R: 2, Y: 0, G: 0, B: 0, N: 1}
    assert report.indicator_counts == {R: 2, Y: 0, G: 3, B: 0, N: 0}


def test_an_indicator_without_an_actual_is_unreported(world):
    _, _, cost, _ = world["indicators"]
    block = block_of(monitoring_report(unit=world["unit"], year=YEAR, cut=JUNE), world["project"])
    line = line_of(block, cost)  # nothing for 人均成本 before July
    assert line.actual is None and line.value is None and line.forecast is None
    assert line.light is N and line.status_label == "未填报"


def test_the_default_cut_is_july_31_and_a_cut_must_lie_in_the_year(world):
    assert default_cut(YEAR) == JULY
    with pytest.raises(ValueError, match="不在 2026 年度内"):
        monitoring_report(unit=world["unit"], year=YEAR, cut=dt.date(2025, 7, 31))


# --- the page ----------------------------------------------------------------------------------------

def page_url(unit, cut=None, name="monitoring:unit"):
    url = reverse(name, args=[unit.pk, YEAR])
    return url if cut is None else f"{url}?cut={cut}"


@pytest.fixture
def admin(world):
    user = UserFactory()
    membership_grant(user=user, unit=world["unit"], role="admin")
    return user


def test_the_page_shows_each_project_with_its_lights(client, world, admin):
    client.force_login(admin)
    response = client.get(page_url(world["unit"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "市第一中学 2026年 绩效运行监控表（1–7月）" in page
    assert "教师培训项目" in page and "校舍维修项目" in page and "市第一中学（部门整体）" in page
    assert 'class="light light-red"' in page and 'class="light light-yellow"' in page
    assert "暂报（已提交）" in page and "已审核" in page
    assert "制度保障：考核制度未落实" in page and "完善考核制度" in page
    assert "96" in page and "按进度推算" in page
    assert "35.00%" in page and "58.33%" in page
    assert "未填报" in page and "该项目尚未编制绩效目标表" in page
    assert '<option value="2026-07-31" selected>' in page  # the month picker
    assert 'data-light="red">2<' in page  # two tables red in the unit summary
    assert reverse("monitoring:unit-xlsx", args=[world["unit"].pk, YEAR]) + "?cut=2026-07-31" in page


def test_the_month_picker_sets_the_cut(client, world, admin):
    client.force_login(admin)
    page = client.get(page_url(world["unit"], "2026-06-30")).content.decode()
    assert "绩效运行监控表（1–6月）" in page and '<option value="2026-06-30" selected>' in page


@pytest.mark.parametrize("cut", ["2026-13-45", "yesterday", "2025-07-31"])
def test_an_invalid_cut_says_so_and_shows_the_default(client, world, admin, cut):
    client.force_login(admin)
    response = client.get(page_url(world["unit"], cut))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"截至日期“{cut}”无效" in page and "已按默认的 1–7月" in page
    assert response.context["cut"] == JULY and "绩效运行监控表（1–7月）" in page


# --- the Excel form ----------------------------------------------------------------------------------

def sheet_of(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(BytesIO(response.content)).active


def rows_by_first_cell(ws):
    return {row[0].value: row for row in ws.iter_rows() if row[0].value is not None}


def test_the_xlsx_is_the_monitoring_form(client, world, admin):
    client.force_login(admin)
    response = client.get(page_url(world["unit"], "2026-07-31", name="monitoring:unit-xlsx"))
    assert "attachment" in response["Content-Disposition"]
    ws = sheet_of(response)
    assert ws.title == "绩效运行监控表"
    assert ws["A1"].value == "市第一中学 2026年 绩效运行监控表（1–7月）"
    assert "A1:K1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage

    rows = list(ws.iter_rows())
    name_rows = [i for i, row in enumerate(rows) if row[0].value == "项目名称"]
    project = next(i for i in name_rows if rows[i][1].value == "教师培训项目")
    head, budget, header = rows[project], rows[project + 1], rows[project + 2]
    assert head[9].value == "红"
    assert [c.value for c in budget[:10]] == ["全年预算数", 120, "执行数", 42, "执行率", 0.35, "时间进度", 0.5833,
                                             "预算执行灯", "黄"]
    assert budget[5].number_format == "0.00%" and budget[9].fill.fgColor.rgb.endswith("FFE27A")
    assert [c.value for c in header] == ["一级指标", "二级指标", "三级指标", "年度指标值", "1–7月完成值", "全年预计完成值",
                                         "偏差原因", "完成目标可能性", "是否需要整改", "整改措施", "监控灯"]
    lines = {row[2].value: [c.value for c in row] for row in rows[project + 3:project + 7]}
    assert lines["培训人次"][3:6] == [">=120人次", 56, 96] and lines["培训人次"][10] == "绿"
    assert lines["合格率"][4:] == [50, 50, "制度保障：考核制度未落实", "有可能", "是", "完善考核制度", "红"]
    assert lines["人均成本"][5] == 49 and lines["人均成本"][8] == "否"
    assert lines["满意度"][4] == 72 and lines["满意度"][10] == "绿"
    assert rows[project + 3][0].value == "产出指标"  # merged over 培训人次 and 合格率
    assert rows[project + 3][4].comment is not None  # provisional: 暂报（已提交）
    assert rows[project + 6][4].comment is None  # approved

    bare = next(i for i in name_rows if rows[i][1].value == "校舍维修项目")
    assert [c.value for c in rows[bare + 1][:4]] == ["全年预算数", 50, "执行数", "未填报"]  # never 0
    assert rows[bare + 1][9].value == "未填报"
    assert rows[bare + 3][0].value == "该项目尚未编制绩效目标表。"
    unit_head = next(i for i, row in enumerate(rows) if row[0].value == "部门名称")
    assert rows[unit_head][1].value == "市第一中学（部门整体）"


def test_the_xlsx_shows_unreported_values_as_such(client, world, admin):
    client.force_login(admin)
    ws = sheet_of(client.get(page_url(world["unit"], "2026-06-30", name="monitoring:unit-xlsx")))
    assert ws["A1"].value.endswith("（1–6月）")
    cost = next(row for row in ws.iter_rows() if row[2].value == "人均成本")
    assert [c.value for c in cost[4:6]] == ["未填报", "未填报"] and cost[10].value == "未填报"


def test_the_xlsx_falls_back_to_the_default_cut(client, world, admin):
    client.force_login(admin)
    ws = sheet_of(client.get(page_url(world["unit"], "2026-02-30", name="monitoring:unit-xlsx")))
    assert ws["A1"].value == "市第一中学 2026年 绩效运行监控表（1–7月）"


# --- queries -----------------------------------------------------------------------------------------

def populate(unit, projects: int):
    for n in range(projects):
        project = ProjectFactory(unit=unit, name=f"项目{n}")
        table, indicators = table_with_indicators(project, rows=ROWS)
        execution_report(project=project, as_of=JULY, executed=D("50"))
        for indicator in indicators:
            record(indicator, JULY, "60")
        approve(table, JULY)
    table_with_indicators(unit=unit, year=YEAR, rows=ROWS[:1])


def test_the_query_count_does_not_grow_with_projects_or_indicators(client, django_assert_num_queries):
    small, large = UnitFactory(), UnitFactory()
    populate(small, 1)
    populate(large, 4)
    with CaptureQueriesContext(connection) as one:
        report = monitoring_report(unit=small, year=YEAR, cut=JULY)
        [line.status_label for block in report.blocks for line in block.lines]
    with django_assert_num_queries(len(one)):
        report = monitoring_report(unit=large, year=YEAR, cut=JULY)
        assert len(report.blocks) == 5 and sum(len(b.lines) for b in report.blocks) == 17
        [line.status_label for block in report.blocks for line in block.lines]

    user = UserFactory(is_superuser=True)
    client.force_login(user)
    # Session and user 2, the unit 1, the page 13 (issue 12: one page of projects, the unit's counts from plain
    # rows — projects, tables, the projects' history for their budgets at the cut, the lights at the cut
    # (indicators, actuals, execution), the page's projects and tables, then the page's tables' indicators,
    # actuals, execution, the unit budget's history, reports), navigation 2 (a superuser's: the review
    # count, may import). Was 14 when every project's table was built.
    with django_assert_num_queries(18) as page_one:
        assert client.get(page_url(small)).status_code == 200
    with django_assert_num_queries(len(page_one)):
        assert client.get(page_url(large)).status_code == 200
    with django_assert_num_queries(11) as xlsx_one:  # the page's, without the navigation
        assert client.get(page_url(small, name="monitoring:unit-xlsx")).status_code == 200
    with django_assert_num_queries(len(xlsx_one)):
        assert client.get(page_url(large, name="monitoring:unit-xlsx")).status_code == 200


# --- permissions -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),  # the unit's 单位管理员
        ("reviewer", 200),  # 主管部门 reviewer of the parent unit
        ("superuser", 200),
        ("lead", 404),  # a project lead sees their projects, not the unit's monitoring
        ("other_admin", 404),  # another unit's administrator
        ("nobody", 404),
    ],
)
@pytest.mark.parametrize("name", ["monitoring:unit", "monitoring:unit-xlsx"])
def test_who_may_see_the_monitoring_of_a_unit(client, world, who, status, name):
    user = UserFactory(is_superuser=who == "superuser")
    if who == "admin":
        membership_grant(user=user, unit=world["unit"], role="admin")
    elif who == "reviewer":
        membership_grant(user=user, unit=world["parent"], role="reviewer")
    elif who == "lead":
        user = world["lead"]
        membership_grant(user=user, unit=world["unit"], role="lead")
    elif who == "other_admin":
        membership_grant(user=user, unit=UnitFactory(), role="admin")
    client.force_login(user)
    assert client.get(page_url(world["unit"], name=name)).status_code == status


def test_anonymous_users_are_sent_to_log_in(client, world):
    response = client.get(page_url(world["unit"]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
