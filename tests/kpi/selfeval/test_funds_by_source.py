"""The 自评表's funds per source (年初预算数 / 全年预算数 / 全年执行数 of 本年财政拨款, 上年结转, 其他资金, and of the
部门整体 table's 财政资金 上级安排 / 本级安排 and 其他资金), and its scoring policy by its Chinese name.

A complete year — every source recorded, every indicator approved — has no 缺失 at all; what is not recorded
is 缺失 and listed with “请补齐”, never guessed."""
import datetime as dt
import shutil
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kpi.goals.services import goal_table_approve
from kpi.models import GoalTable
from kpi.reports.services import budget_adjust, execution_report
from kpi.selfeval import pdf, xlsx
from kpi.selfeval.data import policies_text, policy_text, table_evaluation, unit_evaluation
from kpi.selfeval.services import unit_report_render
from tests.factories import (
    IMPORTED,
    ActualFactory,
    ProjectFactory,
    ScoringPolicyFactory,
    UnitBudgetFactory,
    UnitFactory,
    UnitMembershipFactory,
    approve_reports,
    rescore_stale,
    table_with_indicators,
)

from .test_pdf import pdf_text

pytestmark = pytest.mark.django_db
D = Decimal
DECEMBER = dt.date(2026, 12, 31)
PROJECT_ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", D("45")),
    ("满意度指标", "服务对象满意度指标", "满意度", "$\\geq 90\\%$", D("45"), "满意度赋分"),
]
UNIT_ROWS = [("履职效能", "数量指标", "服务人次", ">=1万人次", D("90"))]


@dataclass
class Year:
    unit: object
    project: object
    table: GoalTable
    unit_table: GoalTable
    admin: object


def complete_year() -> Year:
    """A unit's whole year as the people record it: the published split of every budget, the adjusted budgets
    with their split, execution per source at year end, every indicator approved at full marks."""
    bureau = UnitFactory(name="测试市人社局")
    unit = UnitFactory(name="测试市就业服务中心", parent=bureau)
    admin = UnitMembershipFactory(unit=unit, role="admin").user
    project = ProjectFactory(unit=unit, name="职业技能培训补贴项目", budget_initial=D("200"), fiscal=D("150"),
                             carryover=D("30"), other=D("20"))
    table, indicators = table_with_indicators(project, rows=PROJECT_ROWS, source=IMPORTED)
    goal_table_approve(table=table)
    ActualFactory(indicator=indicators[0], as_of=DECEMBER, value=D("110"))
    ActualFactory(indicator=indicators[1], as_of=DECEMBER, value=D("95"))
    budget_adjust(project=project, adjusted=D("220"), reason="年中追加",
                  by_source={"fiscal": D("170"), "carryover": D("30"), "other": D("20")})
    execution_report(project=project, as_of=DECEMBER, executed=D("210"),
                     by_source={"fiscal": D("165"), "carryover": D("30"), "other": D("15")})
    approve_reports(table)

    UnitBudgetFactory(unit=unit, year=2026, fiscal_superior=D("10"), fiscal_local=D("90"), other=D("0"))
    unit_table, unit_indicators = table_with_indicators(unit=unit, year=2026, rows=UNIT_ROWS, source=IMPORTED)
    goal_table_approve(table=unit_table)
    ActualFactory(indicator=unit_indicators[0], as_of=DECEMBER, value=D("1.2"))
    execution_report(unit=unit, year=2026, as_of=DECEMBER, executed=D("95"),
                     by_source={"fiscal_superior": D("10"), "fiscal_local": D("85"), "other": D("0")})
    approve_reports(unit_table)
    rescore_stale()
    return Year(unit, project, GoalTable.objects.get(pk=table.pk), GoalTable.objects.get(pk=unit_table.pk), admin)


@pytest.fixture
def year(db) -> Year:
    return complete_year()


def funds(e):
    return [(row.label, row.initial, row.full_year, row.executed) for row in e.funds]


def test_a_complete_year_has_nothing_missing(year):
    u = unit_evaluation(unit=year.unit, year=2026)
    assert u.missing == []
    project, unit_table = u.projects[0], u.unit_table
    assert funds(project) == [
        ("年度资金总额", D("200"), D("220"), D("210")),
        ("其中：本年财政拨款", D("150"), D("170"), D("165")),
        ("上年结转资金", D("30"), D("30"), D("30")),
        ("其他资金", D("20"), D("20"), D("15")),
    ]
    assert funds(unit_table) == [
        ("年度资金总额", D("100"), D("100"), D("95")),  # not adjusted: the published split stands
        ("财政资金（上级安排）", D("10"), D("10"), D("10")),
        ("财政资金（本级安排）", D("90"), D("90"), D("85")),
        ("其他资金", D("0"), D("0"), D("0")),
    ]


def test_a_complete_year_shows_no_missing_cell_in_the_workbook_or_the_pdf(year, tmp_path):
    u = unit_evaluation(unit=year.unit, year=2026)
    book = load_workbook(BytesIO(xlsx.unit_workbook(u)))
    for sheet in book.worksheets[1:]:
        cells = [c.value for row in sheet.iter_rows() for c in row]
        assert xlsx.MISSING not in cells, sheet.title
    assert book["缺失项"]["A5"].value == "无缺失项。"
    project = book["职业技能培训补贴项目"]
    assert [project.cell(row=r, column=5).value for r in range(6, 10)] == [210, 165, 30, 15]  # 全年执行数
    assert project["D14"].value == "≥90%"  # the target as a person writes it
    if shutil.which("pdftotext"):
        text = pdf_text(unit_report_render(evaluation=u, fmt="pdf"), tmp_path)
        assert "无缺失项" in text and "缺失 " not in text.replace("缺失项", "")
        assert "≥90%" in text and "geq" not in text


def test_what_is_not_recorded_per_source_is_missing_and_listed(year):
    # the budget adjusted again, without its split; an execution figure without its split
    budget_adjust(project=year.project, adjusted=D("230"), reason="再次追加")
    execution_report(project=year.project, as_of=DECEMBER, executed=D("215"))
    rescore_stale()
    e = table_evaluation(table=year.table)
    assert funds(e) == [
        ("年度资金总额", D("200"), D("230"), D("215")),
        ("其中：本年财政拨款", D("150"), None, None),
        ("上年结转资金", D("30"), None, None),
        ("其他资金", D("20"), None, None),
    ]
    assert e.missing == [
        "全年预算数已调整（年初 200.00 万元 → 全年 230.00 万元），各资金来源（本年财政拨款、上年结转资金、其他资金）的全年预算数未登记，请补齐",
        "截至 2026-12-31 的全年执行数未按资金来源（本年财政拨款、上年结转资金、其他资金）登记，请补齐",
    ]
    sheet = load_workbook(BytesIO(xlsx.table_workbook(e))).worksheets[0]
    assert [sheet.cell(row=7, column=c).value for c in range(2, 9)] == [
        "其中：本年财政拨款", 150, "缺失", "缺失", "—", "—", "—"]

    # recorded with their split, nothing is missing again: the latest figure of the date counts
    budget_adjust(project=year.project, adjusted=D("230"), reason="再次追加",
                  by_source={"fiscal": D("180"), "carryover": D("30"), "other": D("20")})
    execution_report(project=year.project, as_of=DECEMBER, executed=D("215"),
                     by_source={"fiscal": D("170"), "carryover": D("30"), "other": D("15")})
    rescore_stale()
    e = table_evaluation(table=year.table)
    assert e.missing == [] and [row.executed for row in e.funds] == [D("215"), D("170"), D("30"), D("15")]


def test_a_published_split_that_does_not_make_the_initial_budget_is_missing(db):
    project = ProjectFactory(budget_initial=D("200"), fiscal=D("150"))  # 50 万元 of no stated source
    table, _ = table_with_indicators(project)
    e = table_evaluation(table=table)
    assert [row.initial for row in e.funds] == [D("200"), None, None, None]
    assert [row.full_year for row in e.funds] == [D("200"), None, None, None]
    assert ("年初预算数未按资金来源登记完整（本年财政拨款 150.00 万元、上年结转资金 0.00 万元、其他资金 0.00 万元，合计 150.00 万元，"
            "年初预算数 200.00 万元），请补齐各资金来源的年初预算数") in e.missing


def test_a_unit_without_its_budget_is_missing_per_source(db):
    unit = UnitFactory()
    table, _ = table_with_indicators(unit=unit, year=2026, rows=UNIT_ROWS)
    e = table_evaluation(table=table)
    assert funds(e)[1:] == [("财政资金（上级安排）", None, None, None), ("财政资金（本级安排）", None, None, None),
                            ("其他资金", None, None, None)]
    assert "未登记部门年度预算（年初预算数、全年预算数）" in e.missing


# --- the policy by its Chinese name --------------------------------------------------------------------

@pytest.mark.parametrize("version, text", [
    ("default", "默认评分政策"), ("", "默认评分政策"), ("昌吉州政策@v2", "昌吉州政策（第2版）"),
    ("a@b@v10", "a@b（第10版）"), ("odd", "odd"),
])
def test_policy_text(version, text):
    assert policy_text(version) == text


def test_policies_text():
    assert policies_text("default、昌吉州政策@v2") == "默认评分政策、昌吉州政策（第2版）"
    assert policies_text("") == ""


def test_the_footer_names_the_policy_in_chinese_everywhere(year, client, tmp_path):
    e = table_evaluation(table=year.table)
    assert e.policy_version == "default" and e.policy_name == "默认评分政策"
    sheet = load_workbook(BytesIO(xlsx.table_workbook(e))).worksheets[0]
    notes = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "评分政策" in c.value]
    assert notes and all("评分政策：默认评分政策" in n and "default" not in n for n in notes)
    if shutil.which("pdftotext"):
        text = pdf_text(pdf.table_pdf(e), tmp_path)
        assert "默认评分政策" in text and "default" not in text

    policy = ScoringPolicyFactory(name="昌吉州政策", year=2026)
    policy.satisfaction_floor = D("60")
    from kpi.rescoring.services import scoring_policy_save

    scoring_policy_save(policy=policy)  # an edit: version 2
    rescore_stale()
    u = unit_evaluation(unit=year.unit, year=2026)
    assert u.policy_name == "昌吉州政策（第2版）"
    cover = load_workbook(BytesIO(xlsx.unit_workbook(u)))["缺失项"]
    assert "评分政策：昌吉州政策（第2版）" in cover["A2"].value
    # the JSON keeps its fields as they are
    assert set(u.as_json()) == {"unit", "year", "projects", "unit_table"}

    client.force_login(year.admin)
    client.post(reverse("selfeval:download", args=[year.table.pk]), {"format": "xlsx"})  # 存档: kept with its policy
    page = client.get(reverse("selfeval:unit", args=[year.unit.pk, 2026])).content.decode()
    assert "评分政策：昌吉州政策（第2版）" in page and "<td>昌吉州政策（第2版）</td>" in page
    assert "@v2" not in page
