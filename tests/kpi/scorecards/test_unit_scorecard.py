"""单位绩效看板: sorting, filters, exports, lights, the header, the 部门整体 table, charts, access, queries."""
import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from kpi.models import TableScore
from kpi.monitoring import Light
from kpi.reports.services import actual_record
from tests.factories import UnitFactory, UserFactory, approve_reports, rescore_stale

from .builders import (  # noqa: F401 (fixtures)
    JULY,
    TOTALS,
    YEAR,
    count_queries,
    no_enqueue,
    scored_project,
    unit_table,
    unit_world,
)

pytestmark = pytest.mark.django_db


def url(unit, year=YEAR, **params):
    from urllib.parse import urlencode

    base = reverse("scorecards:unit", args=[unit.pk, year])
    return f"{base}?{urlencode(params)}" if params else base


def names(response) -> list[str]:
    return [row.record.name for row in response.context["table"].paginated_rows]


@pytest.fixture
def admin_client(client, unit_world):
    client.force_login(unit_world["people"]["admin"])
    return client


# --- sorting ------------------------------------------------------------------------------------------

def test_sorting_by_total_orders_the_rows_in_the_database(admin_client, unit_world):
    unit = unit_world["unit"]
    descending = names(admin_client.get(url(unit, sort="-total")))
    assert descending == ["甲项目", "丁项目", "庚项目", "乙项目", "戊项目", "丙项目", "己项目"]  # unscored last
    ascending = names(admin_client.get(url(unit, sort="total")))
    assert ascending == ["丙项目", "戊项目", "乙项目", "庚项目", "丁项目", "甲项目", "己项目"]


def test_the_rows_carry_the_latest_official_totals(admin_client, unit_world):
    response = admin_client.get(url(unit_world["unit"]))
    totals = {row.record.name: row.record.total for row in response.context["table"].paginated_rows}
    assert {name: total for name, total in totals.items() if total is not None} == {
        name: Decimal(total) for name, total in TOTALS.items()
    }
    assert totals["己项目"] is None
    page = response.content.decode()
    assert "<strong>100.00</strong>" in page and "58.00%" in page  # 戊: 58 of 100 executed


def test_sorting_by_grade_light_and_rate(admin_client, unit_world):
    unit = unit_world["unit"]
    by_grade = names(admin_client.get(url(unit, sort="grade")))
    assert by_grade[:3] == ["甲项目", "丁项目", "庚项目"] and by_grade[-1] == "己项目"
    by_light = names(admin_client.get(url(unit, sort="light")))
    assert by_light[:2] == ["丙项目", "戊项目"] and by_light[-1] == "己项目"  # worst first
    by_rate = names(admin_client.get(url(unit, sort="-execution_rate")))
    assert by_rate[:2] == ["甲项目", "庚项目"]
    assert names(admin_client.get(url(unit, sort="-last_update")))[-1] == "己项目"


def test_pagination(admin_client, unit_world):
    for i in range(25):
        scored_project(unit_world["unit"], f"补充项目{i:02d}")
    response = admin_client.get(url(unit_world["unit"], sort="name"))
    assert len(names(response)) == 25
    assert response.context["table"].paginator.count == 32 == response.context["summary"].projects
    second = admin_client.get(url(unit_world["unit"], sort="name", page=2))
    assert len(names(second)) == 7 and "下一页" not in second.content.decode()
    assert "上一页" in second.content.decode()
    assert len(names(admin_client.get(url(unit_world["unit"], sort="name", page=3)))) == 7  # past the end: the last


@pytest.mark.parametrize("params", [{"name": "补充"}, {"name": " 补充 "}, {"light": "nonsense"}, {"grade": "差"}])
def test_a_filtered_page_counts_its_own_rows(admin_client, unit_world, params):
    """Only an unfiltered page takes its count from the header's aggregate; a filter (even an invalid one)
    counts the rows it keeps."""
    for i in range(27):
        scored_project(unit_world["unit"], f"补充项目{i:02d}")
    response = admin_client.get(url(unit_world["unit"], **params))
    table = response.context["table"]
    assert table.paginator.count == table.data.data.count() != response.context["summary"].projects
    assert len(names(response)) == min(25, table.paginator.count)


# --- filters ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "甲"}, {"甲项目"}),
        ({"lead": "李四"}, {"甲项目", "丙项目"}),
        ({"grade": "差"}, {"乙项目", "丙项目", "戊项目"}),
        ({"grade": "优"}, {"甲项目"}),
        ({"grade": "none"}, {"己项目"}),
        ({"light": "red"}, {"丙项目"}),
        ({"light": "yellow"}, {"戊项目"}),
        ({"light": "blue"}, {"甲项目", "丁项目", "庚项目"}),
        ({"light": "green"}, {"乙项目"}),
        ({"light": "none"}, {"己项目"}),
        ({"grade": "差", "light": "red"}, {"丙项目"}),
        ({"name": "项目", "lead": "张三", "grade": "差"}, {"乙项目", "戊项目"}),
    ],
)
def test_filters(admin_client, unit_world, params, expected):
    assert set(names(admin_client.get(url(unit_world["unit"], **params)))) == expected


def test_the_lead_filter_matches_the_lead_users_name(admin_client, unit_world):
    lead = unit_world["people"]["lead"]
    assert names(admin_client.get(url(unit_world["unit"], lead=lead.username))) == ["乙项目"]


def test_an_unknown_choice_shows_no_rows_and_the_error(admin_client, unit_world):
    response = admin_client.get(url(unit_world["unit"], light="purple"))
    assert names(response) == []
    assert response.context["filter"].errors


# --- exports ------------------------------------------------------------------------------------------

def test_the_xlsx_export_opens_with_openpyxl_and_has_the_rows(admin_client, unit_world):
    response = admin_client.get(url(unit_world["unit"], sort="-total", _export="xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == (
        f'attachment; filename="scorecard-unit{unit_world["unit"].pk}-{YEAR}.xlsx"'
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("项目", "项目负责人", "全年预算数（万元）", "执行数（万元）", "执行率（%）", "执行率得分",
                       "指标得分", "总分", "等级", "监控", "最近更新")
    assert [r[0] for r in rows[1:]] == ["甲项目", "丁项目", "庚项目", "乙项目", "戊项目", "丙项目", "己项目"]
    first = dict(zip(rows[0], rows[1]))
    assert first["总分"] == 100 and first["等级"] == "优" and first["执行率（%）"] == 100
    assert first["监控"] == Light.BLUE.label and first["项目负责人"] == "李四" and first["最近更新"]
    unscored = dict(zip(rows[0], rows[-1]))
    assert unscored["总分"] is None and unscored["监控"] == "未填报"


def test_the_csv_export_follows_the_filter(admin_client, unit_world):
    response = admin_client.get(url(unit_world["unit"], grade="差", sort="total", _export="csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the Chinese as UTF-8
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "项目" and [r[0] for r in rows[1:]] == ["丙项目", "戊项目", "乙项目"]
    assert rows[2][rows[0].index("总分")] == "41.80" and rows[2][rows[0].index("执行率（%）")] == "58.00"


def test_exports_never_carry_a_formula(admin_client, unit_world):
    scored_project(unit_world["unit"], '=HYPERLINK("http://example.invalid","点我")', value="5", executed="50")
    text = admin_client.get(url(unit_world["unit"], name="HYPERLINK", _export="csv")).content.decode()
    assert "\n'=HYPERLINK" in text.replace("\r\n", "\n").replace('"\'=', "'=")
    book = admin_client.get(url(unit_world["unit"], name="HYPERLINK", _export="xlsx")).content
    cell = openpyxl.load_workbook(io.BytesIO(book)).active.cell(row=2, column=1)
    # the exact name, stored as a text: never a formula, and not altered to keep it from being one
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://example.invalid","点我")'


def test_only_the_offered_formats_are_exported(admin_client, unit_world):
    response = admin_client.get(url(unit_world["unit"], _export="yaml"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")


# --- the header: totals, lights, the 部门整体 table, charts ----------------------------------------------

def test_the_header_counts_the_lights_and_adds_up_the_unit(admin_client, unit_world):
    response = admin_client.get(url(unit_world["unit"], grade="优"))  # the header ignores the filter
    summary = response.context["summary"]
    assert dict(summary.light_counts) == {Light.RED: 1, Light.YELLOW: 1, Light.BLUE: 3, Light.GREEN: 1, Light.NONE: 1}
    assert summary.projects == 7
    assert summary.budget == Decimal("700")
    assert summary.executed == Decimal("378")
    assert summary.execution_rate == Decimal("0.5400")
    assert summary.average_total == Decimal("63.30")  # (100 + 86 + 71 + 51 + 41.8 + 30) / 6
    page = response.content.decode()
    assert "54.00%" in page and "63.30" in page
    assert '<span class="light light-blue"></span>蓝灯<span class="count">3</span>' in page


def test_the_unit_table_is_scored_on_the_page(admin_client, unit_world):
    unit_table(unit_world["unit"])
    page = admin_client.get(url(unit_world["unit"])).content.decode()
    assert "部门整体绩效目标表" in page and "服务人次" in page and "群众满意度" in page
    # 60 × 800 / 1000 = 48 and 30 for satisfaction; no execution figure for the unit yet
    total = TableScore.objects.get(table__unit=unit_world["unit"], table__scope="unit", official=True)
    assert f"<strong>{total.total}</strong>" in page and f"<strong>{total.grade}</strong>" in page
    assert "48.00 / 60" in page


def test_a_stale_table_says_its_scores_are_being_updated_and_the_page_writes_nothing(admin_client, unit_world):
    late = scored_project(unit_world["unit"], "新项目", value="10", executed="100", rescore=False)
    response = admin_client.get(url(unit_world["unit"], name="新项目"))
    assert [row.record.total for row in response.context["table"].paginated_rows] == [None]
    assert "评分更新中" in response.content.decode()
    assert late.goal_tables.get().is_stale is True  # reading rescored nothing

    rescore_stale()  # what the task enqueued at the change (or the periodic sweep) does
    response = admin_client.get(url(unit_world["unit"], name="新项目"))
    assert [row.record.total for row in response.context["table"].paginated_rows] == [Decimal("100")]
    assert late.goal_tables.get().is_stale is False
    assert "评分更新中" not in response.content.decode()


def test_the_chart_data_is_in_the_page(admin_client, unit_world):
    response = admin_client.get(url(unit_world["unit"]))
    chart = response.context["chart"]
    execution = dict(zip(chart["execution"]["projects"], zip(chart["execution"]["rate"], chart["execution"]["elapsed"])))
    assert execution["甲项目"] == (100.0, 58.33) and execution["戊项目"] == (58.0, 58.33)
    assert execution["己项目"] == (None, None)
    assert dict(zip(chart["grades"]["labels"], chart["grades"]["counts"])) == {"优": 1, "良": 1, "中": 1, "差": 3,
                                                                                 "未评分": 1}
    page = response.content.decode()
    assert 'id="scorecard-chart-data"' in page and "vendor/echarts/echarts.min.js" in page
    assert "图表需要 JavaScript" in page  # what a browser without JavaScript shows


# --- access -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("reviewer", 200), ("lead", 404), ("other_admin", 404), ("child_reviewer", 404),
])
def test_who_may_open_the_unit_scorecard(client, unit_world, who, status):
    if who == "child_reviewer":  # a reviewer of a unit under this one sees nothing above
        from budgets.services import membership_grant

        membership_grant(user=unit_world["people"][who], unit=UnitFactory(parent=unit_world["unit"]), role="reviewer")
    client.force_login(unit_world["people"][who])
    assert client.get(url(unit_world["unit"])).status_code == status
    assert client.get(url(unit_world["unit"], _export="csv")).status_code == status


def test_a_superuser_sees_every_unit_and_anonymous_visitors_log_in(client, unit_world):
    assert client.get(url(unit_world["unit"])).status_code == 302
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(url(unit_world["unit"])).status_code == 200


# --- queries ------------------------------------------------------------------------------------------

def test_the_query_count_does_not_grow_with_projects_or_indicators(admin_client, unit_world,
                                                                   django_assert_num_queries):
    unit = unit_world["unit"]
    unit_table(unit)
    # Session and user 2, the unit through the scoping 3, page 1 of the rows (the stored summaries joined; their
    # count is the header's when nothing is filtered), the header's figures aggregated 1, the 部门整体 table 1, its scorecard 4 and lights 3
    # (execution, unit budget, reports: judged from the scorecard's indicators), the years 1, the chart's
    # values 1, navigation 3
    # (with the count of reports waiting for review), the tables' scoring policies 2 (the distinct policies
    # they name with the count of stale tables, grouped by policy in one query; the policy rows).
    with django_assert_num_queries(22):
        before, _ = count_queries(admin_client, url(unit))
    with django_assert_num_queries(8):  # the export: no 部门整体 table, header, chart or navigation
        export_before, _ = count_queries(admin_client, url(unit, _export="xlsx"))
    for i in range(6):
        scored_project(unit, f"更多项目{i}", value="6", executed="40", indicators=7)
    with django_assert_num_queries(before):
        response = admin_client.get(url(unit))
    assert len(names(response)) == 13
    with django_assert_num_queries(export_before):
        admin_client.get(url(unit, _export="xlsx"))
    with django_assert_num_queries(23):  # and the filtered rows' count: the sort and the filter are in the SQL
        sorted_before, _ = count_queries(admin_client, url(unit, sort="-total", light="blue"))
    for i in range(3):
        scored_project(unit, f"再多项目{i}", value="9", executed="90")
    with django_assert_num_queries(sorted_before):
        admin_client.get(url(unit, sort="-total", light="blue"))
    print(f"\nunit scorecard: {before} queries; sorted and filtered: {sorted_before}; xlsx: {export_before}")


def test_a_rescore_on_the_page_costs_a_fixed_number_of_queries(admin_client, unit_world, django_assert_num_queries):
    unit = unit_world["unit"]
    scored_project(unit, "待评分一", value="5", executed="50", rescore=False)
    stale_one, _ = count_queries(admin_client, url(unit))
    for i in range(4):
        project = scored_project(unit, f"待评分{i}", value="5", executed="50", rescore=False)
    for table in (project.goal_tables.get(),):
        actual_record(indicator=table.indicators.first(), as_of=JULY.replace(day=30), value=Decimal("6"))
        approve_reports(table)
    with django_assert_num_queries(stale_one):
        admin_client.get(url(unit))


def test_a_year_without_projects_shows_an_empty_scorecard(admin_client, unit_world):
    response = admin_client.get(url(unit_world["unit"], year=2030))
    assert response.status_code == 200 and names(response) == []
    assert response.context["summary"].projects == 0 and response.context["summary"].average_total is None
    page = response.content.decode()
    assert "没有符合条件的项目" in page and "2030 年度尚无部门整体绩效目标表" in page
    assert reverse("scorecards:unit", args=[unit_world["unit"].pk, 2026]) in page  # the other years
