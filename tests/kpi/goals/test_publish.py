"""Publishing (部门预算公开): the approved tables as the disclosure text and the published workbook, and back.

Each round trip builds tables, exports them, imports the export into a fresh unit (the original unit is
renamed first, so the import creates a new one) and compares every field the published tables hold."""
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from budgets.models import Project, Unit, UnitBudget
from budgets.services import project_create
from kpi.goals.publishing import disclosure_text, disclosure_xlsx
from kpi.goals.services import goal_table_approve, goal_table_create, indicator_create
from kpi.importers.services import import_file
from kpi.models import GoalTable
from kpi.rescoring.tasks import rescore_table
from tests.factories import UnitBudgetFactory, UnitFactory

pytestmark = pytest.mark.django_db
DEMO = Path(__file__).resolve().parents[3] / "kpi" / "demo" / "demo-disclosure-2026.txt"
SEED_2026 = "disclosure-2026-changji-social-insurance-center.txt"
SEED_2025 = "disclosure-2025-urumqi-social-insurance-center.txt"
YEAR = 2026


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def snapshot(unit: Unit, year: int) -> dict:
    """Everything the published tables hold, per table (the 部门整体 table under "部门整体")."""
    tables = {}
    for table in GoalTable.objects.filter(unit=unit, year=year).select_related("project"):
        key = table.project.name if table.project_id else "部门整体"
        head = {"scope": table.scope, "goal": table.overall_goal}
        if table.project_id:
            p = table.project
            head.update(lead=p.lead_name, total=p.budget_initial, fiscal=p.fiscal, other=p.other)
        tables[key] = {
            **head,
            "rows": [
                (i.order, i.level1, i.level2, i.name, i.target_raw, i.basis, i.last_year, i.weight, i.rule,
                 i.evidence)
                for i in table.indicators.order_by("order")
            ],
        }
    budget = UnitBudget.objects.filter(unit=unit, year=year).first()
    return {
        "contact": (unit.contact, unit.phone),
        "budget": budget and (budget.fiscal_superior, budget.fiscal_local, budget.other),
        "tables": tables,
    }


def approve_all(unit: Unit, year: int = YEAR) -> None:
    """已批复: imported tables through goal_table_approve (their 批复 happened outside Jixiao); tables written
    here go through the workflow, which is not under test: their status is set directly."""
    for table in GoalTable.objects.filter(unit=unit, year=year):
        if table.source:
            goal_table_approve(table=table)
        else:
            GoalTable.objects.filter(pk=table.pk).update(status=GoalTable.Status.APPROVED)


def reimport(unit: Unit, data: bytes, filename: str) -> Unit:
    """Import an export into a fresh unit of the same name (the original is renamed out of the way)."""
    name = unit.name
    Unit.objects.filter(pk=unit.pk).update(name=f"{name}（原）", code=f"{unit.code}-OLD")
    document, outcome = import_file(data=data, filename=filename)
    assert all(t.imported for t in outcome.tables), [t.summary() for t in outcome.tables]
    fresh = Unit.objects.get(name=name)
    assert fresh.pk != unit.pk
    return fresh


def tricky_unit() -> Unit:
    """A unit with a 部门整体 table and two projects whose contents test every cell of the text."""
    unit = UnitFactory(name="示范县医疗保障服务中心", contact="李娜", phone="0994-1234567")
    UnitBudgetFactory(unit=unit, year=YEAR, fiscal_superior=Decimal("35.5"), fiscal_local=Decimal("438.768"),
                      other=Decimal("0"))
    whole = goal_table_create(unit=unit, year=YEAR, overall_goal="第一行目标；\n第二行：保障待遇按时足额发放。")
    for row in (
        ("履职效能", "数量指标", "参保登记办理件数", ">=2.8万件", "30", "", "上年度业务量", "96.5%", ""),
        ("履职效能", "质量指标", "基金稽核覆盖率", "≥95%", "30", "直接赋分", "基金监督要求", "", "稽核报告"),
        ("履职效能", "时效指标", "业务办结时限", "<=5个工作日", "20", "", "", "", ""),
        ("服务对象满意度", "服务对象满意度指标", "服务对象满意度", ">=90%", "10", "满意度赋分", "年度测评", "", ""),
    ):
        indicator_create(table=whole, level1=row[0], level2=row[1], name=row[2], target_raw=row[3],
                         weight=Decimal(row[4]), rule=row[5] or None, basis=row[6], last_year=row[7], evidence=row[8])
    first = project_create(unit=unit, year=YEAR, name="城乡居民医保待遇结算项目", lead_name="王芳",
                           budget_initial=Decimal("438.768"), fiscal=Decimal("400.5"), other=Decimal("38.268"))
    table = goal_table_create(unit=unit, year=YEAR, project=first,
                              overall_goal="按月足额结算待遇，\n做到应结尽结。\n\t第三行 & 说明 <b>粗体</b> &amp; 实体")
    for row in (
        ("产出指标", "数量指标", "结算人次", ">=3.2万人次", "20", "", "上年度结算人次", "3.1万人次", "工作资料"),
        ("产出指标", "数量指标", "新增定点机构数", "≥12个", "12.5", "", "", "", "工作资料"),
        ("产出指标", "质量指标", "结算准确率", "=100%", "12.5", "", "医保法", "/", "工作资料"),
        ("产出指标", "时效指标", "待遇结算完成时间", "每月25日前", "10", "直接赋分", "经办规程", "已完成", "工作资料"),
        ("成本指标", "经济成本指标", "人均结算成本", "<=4.33万元/月", "10", "", "上年度实际成本", "4.1万元/月", "原始凭证"),
        ("效益指标", "社会效益指标", "群众办事便利度", "有效提升", "15", "按评判等级赋分", "年度工作要点", "",
         "说明材料"),
        ("满意度指标", "服务对象满意度指标", "参保群众满意度", ">=90%", "10", "满意度赋分", "满意度调查", "92%", "问卷"),
    ):
        indicator_create(table=table, level1=row[0], level2=row[1], name=row[2], target_raw=row[3],
                         weight=Decimal(row[4]), rule=row[5] or None, basis=row[6], last_year=row[7], evidence=row[8])
    second = project_create(unit=unit, year=YEAR, name="医保信息系统运维项目", budget_initial=Decimal("48.6"),
                            fiscal=Decimal("48.6"))
    table = goal_table_create(unit=unit, year=YEAR, project=second, overall_goal="")
    for row in (
        ("产出指标", "质量指标", "系统可用率", ">=99.9%", "60"),
        ("效益指标", "可持续影响指标", "系统故障恢复时间", "<=4小时", "20"),
        ("满意度指标", "满意度指标", "使用人员满意度", ">=85%", "10"),
    ):
        indicator_create(table=table, level1=row[0], level2=row[1], name=row[2], target_raw=row[3],
                         weight=Decimal(row[4]))
    return unit


def one_line(text: str) -> str:
    """What a cell of the published text keeps of a multi-line text (the importer drops the spaces beside
    Chinese characters, as in every published text)."""
    import re

    return re.sub(r"(?<=[\u2e80-\u9fff\uff00-\uffef，。；：]) | (?=[\u2e80-\u9fff\uff00-\uffef，。；：])", "",
                  " ".join(text.split()))


def test_text_round_trip_keeps_every_field():
    unit = tricky_unit()
    approve_all(unit)
    before = snapshot(unit, YEAR)
    text = disclosure_text(unit.pk, YEAR)
    fresh = reimport(unit, text.encode(), "公开.txt")
    after = snapshot(fresh, YEAR)
    for table in before["tables"].values():  # a cell is one line: the line breaks of the goals become spaces
        table["goal"] = one_line(table["goal"])
    assert after == before
    # the decimals and the odd targets, as published
    assert Project.objects.get(unit=fresh, name="城乡居民医保待遇结算项目").budget_initial == Decimal("438.768")
    assert "<=4.33万元/月" in text and "每月25日前" in text and "438.768" in text
    # markup-like text is text: neither stripped as a tag nor unescaped as an entity
    assert after["tables"]["城乡居民医保待遇结算项目"]["goal"].endswith("第三行&说明<b>粗体</b> &amp;实体")


def test_text_is_the_official_layout():
    unit = tricky_unit()
    approve_all(unit)
    text = disclosure_text(unit.pk, YEAR)
    assert text.index("## 部门整体绩效目标表") < text.index("## 项目支出绩效目标表")
    assert text.count("## 项目支出绩效目标表") == 2
    assert "（2026 年）" in text
    assert "项目名称\t城乡居民医保待遇结算项目\t项目负责人\t王芳" in text
    assert "项目资金（万元）\t年度预算总额\t438.768\t其中：财政拨款\t400.50\t其他资金\t38.268" in text
    # the 部门整体 table: the official columns, plus those a row needs (a non-default rule, evidence, 上年完成值)
    unit_part = text.split("## 部门整体绩效目标表")[1].split("## 项目支出绩效目标表")[0]
    assert "一级指标\t二级指标\t三级指标\t指标值\t指标设定依据\t上年完成值\t分值权重\t指标赋分规则\t佐证资料" in unit_part
    assert "上级安排\t35.50" in unit_part and "本级安排\t438.768" in unit_part and "合计\t474.268" in unit_part
    assert "第一行目标； 第二行" in unit_part  # one line


def test_unit_table_without_extras_has_the_six_official_columns():
    unit = UnitFactory(name="示范县就业服务中心")
    whole = goal_table_create(unit=unit, year=YEAR, overall_goal="促进就业。")
    indicator_create(table=whole, level1="履职效能", level2="数量指标", name="城镇新增就业人数",
                     target_raw=">=1200人", weight=Decimal("90"), basis="年度计划")
    approve_all(unit)
    text = disclosure_text(unit.pk, YEAR)
    assert "一级指标\t二级指标\t三级指标\t指标值\t指标设定依据\t分值权重\n" in text
    fresh = reimport(unit, text.encode(), "公开.txt")
    assert snapshot(fresh, YEAR)["tables"] == snapshot(Unit.objects.get(pk=unit.pk), YEAR)["tables"]


def test_tables_not_approved_are_not_published():
    unit = tricky_unit()
    draft = GoalTable.objects.get(unit=unit, project__name="医保信息系统运维项目")
    GoalTable.objects.filter(unit=unit).exclude(pk=draft.pk).update(status=GoalTable.Status.APPROVED)
    text = disclosure_text(unit.pk, YEAR)
    assert "城乡居民医保待遇结算项目" in text and "医保信息系统运维项目" not in text
    workbook = load_workbook(filename=__import__("io").BytesIO(disclosure_xlsx(unit.pk, YEAR)))
    assert workbook.sheetnames == ["部门整体绩效目标表", "城乡居民医保待遇结算项目"]


def test_demo_disclosure_round_trip():
    document, outcome = import_file(data=DEMO.read_bytes(), filename=DEMO.name)
    unit = Unit.objects.get(name=document.unit)
    approve_all(unit)
    before = snapshot(unit, YEAR)
    assert len(before["tables"]) == 3 and before["budget"] == (Decimal("35"), Decimal("612.4"), Decimal("0"))
    fresh = reimport(unit, disclosure_text(unit.pk, YEAR).encode(), "demo-export.txt")
    assert snapshot(fresh, YEAR) == before


@pytest.mark.parametrize("seed", [SEED_2026, SEED_2025])
def test_seed_disclosure_round_trip(seeds_dir, seed):
    path = seeds_dir / seed
    if not path.exists():
        pytest.skip(f"seed {seed} not found in {seeds_dir}")
    document, outcome = import_file(data=path.read_bytes(), filename=path.name)
    unit = Unit.objects.get(name=document.unit)
    year = document.year
    approve_all(unit, year)
    before = snapshot(unit, year)
    assert before["tables"]
    fresh = reimport(unit, disclosure_text(unit.pk, year).encode(), "seed-export.txt")
    assert snapshot(fresh, year) == before


def test_xlsx_round_trip_through_the_xlsx_importer():
    unit = tricky_unit()
    approve_all(unit)
    before = snapshot(unit, YEAR)
    data = disclosure_xlsx(unit.pk, YEAR)
    fresh = reimport(unit, data, "公开.xlsx")
    after = snapshot(fresh, YEAR)
    # a cell of the workbook keeps line breaks; the reader strips each text's ends
    for table in before["tables"].values():
        table["goal"] = table["goal"].strip()
    assert after == before


def test_xlsx_is_the_published_layout_with_merged_levels():
    unit = tricky_unit()
    approve_all(unit)
    workbook = load_workbook(filename=__import__("io").BytesIO(disclosure_xlsx(unit.pk, YEAR)))
    assert workbook.sheetnames == ["部门整体绩效目标表", "医保信息系统运维项目", "城乡居民医保待遇结算项目"]
    ws = workbook["城乡居民医保待遇结算项目"]
    assert ws["A1"].value == "项目支出绩效目标表" and ws["A2"].value == "（2026 年）"
    assert ws["A4"].value == "项目名称" and ws["B4"].value == "城乡居民医保待遇结算项目"
    header = [ws.cell(row=7, column=c).value for c in range(1, 10)]
    assert header == ["一级指标", "二级指标", "三级指标", "指标值", "指标值设置依据", "上年完成值", "指标分值权重",
                      "指标赋分规则", "佐证资料"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A8:A11" in merged  # 产出指标 over four rows
    assert "B8:B9" in merged  # 数量指标 over two
    assert ws["A8"].value == "产出指标" and ws["A12"].value == "成本指标"
    assert ws["D10"].value == "=100%" and ws["D10"].data_type == "s"  # a text, never a formula
    unit_ws = workbook["部门整体绩效目标表"]
    labels = [unit_ws.cell(row=r, column=2).value for r in range(7, 11)]
    assert labels == ["财政资金（上级安排）", "财政资金（本级安排）", "其他资金", "合计"]
    assert unit_ws["D8"].value == Decimal("438.768") or float(unit_ws["D8"].value) == 438.768


def test_next_years_tables_started_from_this_year_publish_and_import_back():
    from kpi.goals.rollover import tables_start_next_year

    unit = tricky_unit()
    approve_all(unit)
    tables_start_next_year(unit=unit, from_year=YEAR, user=None)
    approve_all(unit, YEAR + 1)
    before = snapshot(unit, YEAR + 1)
    assert len(before["tables"]) == 3
    fresh = reimport(unit, disclosure_text(unit.pk, YEAR + 1).encode(), "2027.txt")
    for table in before["tables"].values():
        table["goal"] = one_line(table["goal"])
    assert snapshot(fresh, YEAR + 1) == before
