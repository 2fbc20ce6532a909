"""Reading documents that are damaged or laid out as other regions publish them (issue 11).

Every document here is a small one written for the test (no published text is copied): the tab layout,
one cell per line, cells separated by spaces, tables titled 申报表 / 批复表, and each defect on its own.
What is read is checked through `parse_disclosure` and, where defaults and errors matter, `finalize`.
"""
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.importers.checks import finalize
from kpi.importers.disclosure import parse_disclosure
from kpi.importers.parsed import PROJECT, UNIT, NotADisclosure

from .documents import HEADER, HEADER9, ROWS, T, head, table_text

D = Decimal
EXPECTED = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", D(30), "按照完成比例赋分"),
    ("产出指标", "质量指标", "考核合格率", "=100%", D(30), "直接赋分"),
    ("效益指标", "社会效益指标", "服务水平", "有效提升", D(20), "按评判等级赋分"),
    ("满意度指标", "满意度指标", "学员满意度", ">=95%", D(10), "满意度赋分"),
]


def rows(table):
    return [(i.level1, i.level2, i.name, i.target, i.weight, i.rule) for i in table.indicators]


def only_table(text, **kwargs):
    document = parse_disclosure(text, **kwargs)
    (table,) = document.tables
    return document, table


# --- 1. never refuse more than the broken piece ---------------------------------------------------------------

def test_a_damaged_label_is_read_by_similarity_with_a_warning():
    document, table = only_table(table_text(*ROWS, project_label="项目各称"))
    assert table.project == "培训项目"
    assert rows(table) == EXPECTED
    assert table.warnings == ["项目“培训项目”第 4 行：表头“项目各称”按“项目名称”读取（疑为识别错误），请核对。"]
    assert table.errors == [] and document.errors == []


@pytest.mark.parametrize(("damaged", "read_as", "field"), [
    ("预箅单位", "预算单位", "unit"),
    ("项目负责入", "项目负责人", "lead"),
    ("年度预箅总额", "年度预算总额", "total"),
])
def test_other_damaged_labels(damaged, read_as, field):
    text = table_text(*ROWS).replace(read_as, damaged, 1)
    document, table = only_table(text)
    value = {"unit": document.unit, "lead": table.lead, "total": table.total}[field]
    assert value == {"unit": "某某县人力资源服务中心", "lead": "赵六", "total": D("12.50")}[field]
    assert any(f"表头“{damaged}”按“{read_as}”读取" in w for w in table.warnings)


def test_an_ambiguous_damaged_label_is_not_guessed():
    """上级安排 and 本级安排 differ by one character: 下级安排 is as close to both, so it is no label."""
    text = "\n".join([
        "部门整体绩效目标表",
        T(["部门名称", "", "某某中心"]),
        T(["", "", "财政资金", "下级安排", "8.00"]),
        T(["一级指标", "二级指标", "三级指标", "指标值", "分值权重"]),
        T(["履职效能", "数量指标", "审计次数", "=1次", "90"]),
    ])
    _, table = only_table(text)
    assert (table.fiscal_superior, table.fiscal_local) == (None, None)
    assert table.warnings == ["部门整体绩效目标表第 3 行：财政资金“下级安排”不是数字，未读取。"]  # not taken for a label


def test_a_value_that_looks_like_a_label_stays_a_value():
    _, table = only_table(table_text(*ROWS, name="项目名单"))  # one character from 项目名称
    assert table.project == "项目名单"
    assert table.warnings == []


def test_money_keeps_three_or_four_decimals_exactly():
    _, table = only_table(table_text(*ROWS, total="438.768"))
    assert str(table.total) == "438.768" and str(table.fiscal) == "438.768"
    _, table = only_table(table_text(*ROWS, total="1,234.5678"))
    assert str(table.total) == "1234.5678"
    assert table.warnings == []


def test_money_with_more_than_four_decimals_is_rounded_with_a_warning():
    _, table = only_table(table_text(*ROWS, total="12.345678"))
    assert table.total == D("12.3457")
    assert "项目“培训项目”第 5 行：年度预算总额“12.345678”超过 4 位小数，已按 12.3457 读取。" in table.warnings


def test_money_that_is_not_a_number_is_a_warning_naming_the_line():
    _, table = only_table(table_text(*ROWS, total="壹拾贰万"))
    assert table.total is None
    assert "项目“培训项目”第 5 行：年度预算总额“壹拾贰万”不是数字，未读取。" in table.warnings


def test_a_table_without_a_project_name_is_an_error_of_that_table_only():
    text = "\n".join([
        table_text(*ROWS, project_label="备注", name="无"),
        table_text(*ROWS, name="第二个项目"),
    ])
    document = parse_disclosure(text)
    first, second = document.tables
    assert first.project is None and first.errors == [
        "第 1 行开始的项目支出绩效目标表：没有找到项目名称（“项目名称”一栏），该表无法导入；请在表头补上项目名称。"]
    assert second.project == "第二个项目" and second.errors == [] and rows(second) == EXPECTED
    assert document.errors == []


def test_a_table_without_an_indicator_header_is_an_error_of_that_table_only():
    text = "\n".join([
        "项目支出绩效目标表",
        T(["预算单位", "", "某某县人力资源服务中心"]),
        T(["项目名称", "", "没有表头的项目"]),
        T(["产出", "数量", "甲"]),
        table_text(*ROWS),
    ])
    document = parse_disclosure(text)
    broken, good = document.tables
    assert broken.errors == [
        "项目“没有表头的项目”第 1 行：没有找到指标表头（一级指标、二级指标、三级指标、指标值），该表的指标无法读取。"]
    assert good.errors == [] and rows(good) == EXPECTED


def test_messages_never_hold_raw_field_errors():
    text = table_text(["", "", "甲", ">=1个", "计划标准", "/", "-5", "按照完成比例赋分", "工作资料"], *ROWS[2:])
    document = finalize(parse_disclosure(text))
    (table,) = document.tables
    messages = table.errors + table.warnings
    assert table.errors == [
        "项目“培训项目”第 7 行：指标“甲”没有一级指标，也无法从二级指标推断，请补上一级指标。",
        "项目“培训项目”第 7 行：指标“甲”没有二级指标，请补上二级指标。",
        "项目“培训项目”第 7 行：指标“甲”的分值权重为负数（-5），请修正。",
    ]
    for raw in ("null", "此字段不能为空", "确认小数", "Traceback", "Error", "None"):
        assert not any(raw in message for message in messages)


# --- 2. a blank 一级 inferred from its 二级 -------------------------------------------------------------------

@pytest.mark.parametrize(("level2", "level1"), [
    ("数量指标", "产出指标"), ("质量指标", "产出指标"), ("时效指标", "产出指标"),
    ("经济成本指标", "成本指标"), ("社会效益指标", "效益指标"), ("经济效益指标", "效益指标"),
    ("生态效益指标", "效益指标"), ("可持续影响指标", "效益指标"), ("满意度指标", "满意度指标"),
])
def test_a_blank_first_level1_is_inferred_from_level2(level2, level1):
    first = ["", level2, "甲", ">=1个", "计划标准", "/", "90", "按照完成比例赋分", "工作资料"]
    _, table = only_table(table_text(first))
    assert (table.indicators[0].level1, table.indicators[0].level2) == (level1, level2)
    assert table.warnings == [f"项目“培训项目”第 7 行：指标“甲”的一级指标为空，已按二级指标“{level2}”推断为“{level1}”，请核对。"]


@pytest.mark.parametrize(("used", "level1"), [
    (["成本指标", "经济成本指标"], "成本指标"),  # the 2021+ layout: 成本 is a 一级
    (["产出指标", "成本指标"], "产出指标"),  # the older layout: 成本 is a 二级 under 产出
])
def test_cost_goes_where_the_table_puts_it(used, level1):
    first = ["", "成本指标", "甲", "<=1万元", "计划标准", "/", "45", "按照完成比例赋分", "工作资料"]
    other = [*used, "乙", "<=2万元", "计划标准", "/", "45", "按照完成比例赋分", "工作资料"]
    _, table = only_table(table_text(first, other))
    assert table.indicators[0].level1 == level1


def test_a_unit_table_infers_what_the_table_itself_uses():
    text = "\n".join([
        "部门整体绩效目标表",
        T(["部门名称", "", "某某中心"]),
        T(["一级指标", "二级指标", "三级指标", "指标值", "分值权重"]),
        T(["", "数量指标", "审计次数", "=1次", "40"]),
        T(["履职效能", "质量指标", "参保率", ">=95%", "40"]),
        T(["服务对象满意度", "满意度指标", "满意度", ">=99%", "10"]),
    ])
    _, table = only_table(text)
    assert [(i.level1, i.level2) for i in table.indicators] == [
        ("履职效能", "数量指标"), ("履职效能", "质量指标"), ("服务对象满意度", "满意度指标")]


def test_a_blank_level1_under_a_level1_that_cannot_hold_it_is_inferred():
    _, table = only_table(table_text(
        ROWS[0],
        ["", "社会效益指标", "服务水平", "有效提升", "计划标准", "/", "50", "按评判等级赋分", "工作资料"],
        ["", "", "群众获得感", "提升", "计划标准", "/", "10", "按评判等级赋分", "工作资料"],
    ))
    assert [(i.level1, i.level2) for i in table.indicators] == [
        ("产出指标", "数量指标"), ("效益指标", "社会效益指标"), ("效益指标", "社会效益指标")]
    assert table.warnings == ["项目“培训项目”第 8 行：指标“服务水平”的一级指标为空，上一行的“产出指标”不能包含二级指标"
                              "“社会效益指标”，已按二级指标推断为“效益指标”，请核对。"]


def test_an_unknown_level2_is_not_guessed():
    first = ["", "服务指标", "甲", ">=1个", "计划标准", "/", "90", "按照完成比例赋分", "工作资料"]
    (table,) = finalize(parse_disclosure(table_text(first))).tables
    assert table.indicators[0].level1 == ""
    assert table.errors == ["项目“培训项目”第 7 行：指标“甲”没有一级指标，也无法从二级指标推断，请补上一级指标。"]


# --- 3. cells in the right place ------------------------------------------------------------------------------

def test_a_row_missing_its_blank_level2_cell_is_realigned_and_level2_carried():
    _, table = only_table(table_text(
        ROWS[0],
        ["产出指标", "考核人数", ">=80人", "计划标准", "/", "30", "按照完成比例赋分", "工作资料"],  # 二级 left out
        *ROWS[2:],
    ))
    assert rows(table)[1] == ("产出指标", "数量指标", "考核人数", ">=80人", D(30), "按照完成比例赋分")
    assert table.indicators[1].basis == "计划标准" and table.indicators[1].evidence == "工作资料"
    assert table.warnings == []


@pytest.mark.parametrize("missing", ["basis", "last_year", "evidence"])
def test_a_row_missing_another_cell_is_realigned_by_what_the_cells_hold(missing):
    row = dict(zip(["level1", "level2", "name", "target", "basis", "last_year", "weight", "rule", "evidence"],
                   ["产出指标", "数量指标", "培训人次", ">=100人次", "计划标准", "=90人次", "30", "按照完成比例赋分", "工作资料"]))
    cells = [value for name, value in row.items() if name != missing]
    _, table = only_table(table_text(cells, *ROWS[1:]))
    first = table.indicators[0]
    got = {"basis": first.basis, "last_year": first.last_year, "evidence": first.evidence}
    assert got == {name: ("" if name == missing else row[name]) for name in got}
    assert (first.target, first.weight, first.rule) == (">=100人次", D(30), "按照完成比例赋分")


def test_a_row_with_one_cell_too_many_in_front_is_realigned():
    _, table = only_table(table_text(ROWS[0], ["", "产出指标", "质量指标", "考核合格率", "=100%", "行业标准", "/", "30",
                                               "直接赋分", "说明材料"], *ROWS[2:]))
    assert rows(table) == EXPECTED


def test_a_row_wrapped_across_a_blank_line_is_joined():
    """`满意` + `度指 标` in both level cells, and the target `>` continued by `=98%`."""
    _, table = only_table(table_text(
        *ROWS[:3],
        ["满意", "满意", "学员满意度", ">", "计划标准", "/", "10", "满意度赋分", "问卷调查"],
        "",
        T(["度指 标", "度指 标", "", "=98%"]),
    ))
    assert rows(table)[-1] == ("满意度指标", "满意度指标", "学员满意度", ">=98%", D(10), "满意度赋分")
    assert table.indicators[-1].line == 10
    assert table.warnings == []


def test_a_name_and_a_rule_wrapped_onto_the_next_line_are_joined():
    _, table = only_table(table_text(
        ["产出指标", "数量指标", "社会保险经办", ">=100人次", "计划标准", "/", "80", "按照完成比例", "工作资料"],
        T(["", "", "培训人次", "", "", "", "", "赋分", ""]),
        ROWS[3],
    ))
    assert rows(table)[0] == ("产出指标", "数量指标", "社会保险经办培训人次", ">=100人次", D(80), "按照完成比例赋分")


def test_a_complete_target_below_is_a_row_of_its_own_not_a_wrap():
    _, table = only_table(table_text(*ROWS[:2], T(["", "", "", "=50%"]), *ROWS[2:]))
    assert rows(table) == EXPECTED
    assert table.warnings == ["项目“培训项目”第 9 行：无法识别的指标行，已跳过：=50%"]


def test_a_row_of_levels_only_sets_them_for_the_rows_that_follow():
    _, table = only_table(table_text(
        T(["产出指标", "数量指标"]),
        T(["", "", "培训人次", ">=100人次", "计划标准", "/", "30", "按照完成比例赋分", "工作资料"]),
        T(["", "质量指标", "考核合格率", "=100%", "行业标准", "/", "30", "直接赋分", "说明材料"]),
        T(["效益指标", "社会效益指标"]),
        T(["", "", "服务水平", "有效提升", "计划标准", "/", "20", "按评判等级赋分", "工作资料"]),
        T(["满意度指标", "满意度指标", "学员满意度", ">=95%", "计划标准", "/", "10", "满意度赋分", "问卷调查"]),
    ))
    assert rows(table) == EXPECTED
    assert [i.line for i in table.indicators] == [8, 9, 11, 12]
    assert table.warnings == []


def test_a_table_laid_out_with_spaces():
    text = "\n".join([
        "项目支出绩效目标表",
        "（2024年）",
        "预算单位      某某县人力资源服务中心",
        "项目名称      培训项目          项目负责人    赵六",
        "项目资金（万元）   年度预算总额   12.50   其中：财政拨款   12.50   其他资金   0",
        "一级指标   二级指标   三级指标   指标值   指标值设置依据   上年完成值   指标分值权重   指标赋分规则   佐证资料",
        "产出指标   数量指标   培训人次   >=100人次   计划标准   90人次   30   按照完成比例赋分   工作资料",
        "           质量指标   考核合格率   =100%   行业标准   /   30   直接赋分   说明材料",
        "效益指标   社会效益指标   服务水平   有效提升   计划标准   20   按评判等级赋分   工作资料",  # no 上年完成值
        "满意度指标\u3000满意度指标\u3000学员满意度\u3000>=95%\u3000计划标准\u3000/\u300010\u3000满意度赋分\u3000问卷调查",
    ])
    document, table = only_table(text)
    assert (document.unit, document.year, table.project, table.lead, table.total) == (
        "某某县人力资源服务中心", 2024, "培训项目", "赵六", D("12.50"))
    assert rows(table) == EXPECTED
    assert table.indicators[0].last_year == "90人次" and table.indicators[2].last_year == ""
    assert table.warnings == []


def test_a_space_layout_row_wrapped_onto_the_next_line():
    text = "\n".join([
        "项目支出绩效目标表",
        "预算单位    某某局",
        "项目名称    空格折行",
        "一级指标   二级指标   三级指标   指标值   指标分值权重",
        "产出指标   数量指标   培训人次   ≥100 人次   80",
        "满意   满意   学员满意度   >   10",
        "",
        "度指 标   度指 标   =98%",
    ])
    _, table = only_table(text, year=2024)
    assert rows(table) == [("产出指标", "数量指标", "培训人次", "≥100 人次", D(80), ""),
                           ("满意度指标", "满意度指标", "学员满意度", ">=98%", D(10), "")]


def test_one_space_separated_row_in_a_tab_table_and_prose_is_not_a_row():
    _, table = only_table(table_text(
        ROWS[0],
        "            质量指标    考核合格率    =100%    行业标准    /    30    直接赋分    说明材料",
        "注：  本表数据  来源于  预算批复文件",
        *ROWS[2:],
    ))
    assert rows(table) == EXPECTED
    assert table.warnings == []


# --- 7. other layouts of the same tables ------------------------------------------------------------------------

@pytest.mark.parametrize("title", [
    "项目支出绩效目标申报表", "项目支出绩效目标批复表", "2024年度项目支出绩效目标申报表", "## 项目绩效目标表",
    "绩效目标申报表",
])
def test_tables_titled_shenbao_or_pifu(title):
    document, table = only_table(table_text(*ROWS, title=title))
    assert (table.scope, table.project, rows(table)) == (PROJECT, "培训项目", EXPECTED)


def test_a_bare_shenbao_title_with_a_department_header_is_the_unit_table():
    text = "\n".join([
        "2024年绩效目标申报表",
        T(["部门名称", "", "某某中心"]),
        T(["部门联系人", "", "王五", "联系电话", "0990-1234567"]),
        T(["一级指标", "二级指标", "三级指标", "指标值", "分值权重"]),
        T(["履职效能", "数量指标", "审计次数", "=1次", "80"]),
        T(["服务对象满意度", "满意度指标", "满意度", ">=99%", "10"]),
    ])
    document, table = only_table(text)
    assert (document.unit, document.year, table.scope, table.contact) == ("某某中心", 2024, UNIT, "王五")


def test_the_year_comes_from_a_title_that_holds_it():
    document = parse_disclosure(table_text(*ROWS, title="2023年度项目支出绩效目标批复表").replace("(2024 年)\n", ""))
    assert document.year == 2023


def test_a_unit_named_in_a_line_above_the_table_and_separate_unit_and_nature_columns():
    text = "\n".join([
        "项目支出绩效目标申报表",
        "（2023年度）",
        "单位名称：某某县社会保险中心      金额单位：万元",
        T(["项目名称", "申报项目", "", "项目负责人", "王五"]),
        T(["项目资金（万元）", "年度资金总额", "50", "其中：财政拨款", "50", "其他资金", "0"]),
        T(["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "计量单位", "指标值设置依据"]),
        T(["产出指标", "数量指标", "参保人数", "正向", "80.9", "万人", "计划标准"]),
        T(["", "质量指标", "准确率", "≥", "98", "%", "计划标准"]),
        T(["满意度指标", "满意度指标", "满意度", "", "≥95%", "%", "计划标准"]),
    ])
    document, table = only_table(text)
    assert (document.unit, document.year, table.project, table.total) == ("某某县社会保险中心", 2023, "申报项目", D(50))
    assert [(i.name, i.target, i.direction, i.unit) for i in table.indicators] == [
        ("参保人数", "80.9", "正向", "万人"), ("准确率", "98", "≥", "%"), ("满意度", "≥95%", "", "%")]
    (final,) = finalize(document).tables
    assert [(i.target, i.target_published, i.unit) for i in final.indicators] == [
        ("≥80.9", "80.9", "万人"), ("≥98", "98", "%"), ("≥95%", "", "")]
    assert "项目“申报项目”第 7 行：指标“参保人数”的指标值“80.9”没有比较符号，已按指标性质“正向”补为“≥80.9”。" in final.warnings


def test_a_unit_line_before_the_title_names_the_unit():
    text = "\n".join(["单位名称：某某县就业局", "", *head()[:2], T(["项目名称", "", "培训项目"]), HEADER, T(ROWS[0])])
    document, table = only_table(text)
    assert document.unit == "某某县就业局"


def test_one_cell_per_line_without_tabs_and_with_blank_cells_left_out():
    text = "\n".join([
        "项目支出绩效目标批复表", "", "（2022年）", "",
        "预算单位", "某某局", "项目名称", "批复项目", "",
        "项目资金（万元）", "年度资金总额：", "10.5", "其中：财政拨款", "10.5", "",
        "一级指标", "二级指标", "三级指标", "指标值", "",
        "产出指标", "数量指标", "培训人次", "≥100人次", "",
        "质量指标", "考核合格率", "=100%", "",  # the blank 一级 line is left out
        "- 2 -", "",
        "效益指标", "社会效益指标", "服务水平", "有效提升", "",
        "满意度指标", "满意度指标", "学员满意度", "≥95%", "",
    ])
    document, table = only_table(text)
    assert (document.unit, document.year, table.project, table.total) == ("某某局", 2022, "批复项目", D("10.5"))
    assert [(i.level1, i.level2, i.name, i.target) for i in table.indicators] == [
        ("产出指标", "数量指标", "培训人次", "≥100人次"), ("产出指标", "质量指标", "考核合格率", "=100%"),
        ("效益指标", "社会效益指标", "服务水平", "有效提升"), ("满意度指标", "满意度指标", "学员满意度", "≥95%")]
    assert table.warnings == []


def test_one_cell_per_line_with_weights_rules_and_a_wrapped_name():
    cells = ["\t" + c for c in HEADER9]
    text = "\n".join([
        "项目支出绩效目标表", "", "\t（2024年）", "", "\t预算单位", "\t某某局", "\t项目名称", "\t九列项目", "",
        *cells, "",
        "\t产出指标", "\t数量指标", "\t社会保险经办业务", "\t培训人次", "\t≥100人次", "\t计划标准", "\t/", "\t80",
        "\t按照完成比例赋分", "\t工作资料", "",  # the name wrapped onto two lines
        "\t满意度指标", "\t满意度指标", "\t满意度", "\t≥95%", "\t计划标准", "\t10", "\t满意度赋分", "\t问卷调查", "",
    ])
    _, table = only_table(text)
    assert rows(table) == [
        ("产出指标", "数量指标", "社会保险经办业务培训人次", "≥100人次", D(80), "按照完成比例赋分"),
        ("满意度指标", "满意度指标", "满意度", "≥95%", D(10), "满意度赋分"),
    ]
    assert table.indicators[1].last_year == "" and table.indicators[1].evidence == "问卷调查"


@pytest.mark.parametrize(("text", "message"), [
    ("项目支出绩效目标表\n预算单位\t\t某局\n项目名称\t\t某项目\n产出\t数量\t甲\n",
     "找到了“项目支出绩效目标表”标题（第 1 行），但没有找到指标表头（一级指标、二级指标、三级指标、指标值），无法读取指标。"),
    ("目录\n项目支出绩效目标表\n第四部分 名词解释\n",
     "找到了“项目支出绩效目标表”标题（第 2 行），但没有读到任何表格内容：没有找到表头（预算单位、项目名称）和指标表头"
     "（一级指标、二级指标、三级指标、指标值）。"),
    ("说明\n一级指标\t二级指标\t三级指标\t指标值\n产出指标\t数量指标\t甲\t>=1\n",
     "找到了指标表头（第 2 行：一级指标、二级指标、三级指标、指标值），但没有找到“项目支出绩效目标表”或“部门整体绩效目标表”"
     "标题，无法确定是哪一张表。"),
])
def test_an_unknown_layout_fails_with_one_message_saying_what_was_found_and_missing(text, message):
    with pytest.raises(NotADisclosure) as raised:
        parse_disclosure(text)
    assert str(raised.value) == message


# --- 8. two tables of one project -------------------------------------------------------------------------------

def test_two_tables_for_the_same_project_are_both_kept_and_reported():
    document = finalize(parse_disclosure("\n".join([table_text(*ROWS), table_text(ROWS[0], ROWS[3])])))
    first, second = document.tables
    assert (first.project, second.project) == ("培训项目", "培训项目")
    assert (len(first.indicators), len(second.indicators)) == (4, 2)  # not merged
    conflict = ("项目“培训项目”在文件中有 2 张绩效目标表（第 1 行、第 11 行开始），无法确定以哪一张为准，均未导入："
                "请删去多余的一张或改正项目名称后再导入。")
    assert first.errors == [conflict] and second.errors == [conflict]
    assert document.errors == []


def test_two_unit_tables_are_reported_too():
    unit = "\n".join(["部门整体绩效目标表", T(["部门名称", "", "某某中心"]), T(["一级指标", "二级指标", "三级指标", "指标值"]),
                      T(["履职效能", "数量指标", "审计次数", "=1次"])])
    document = finalize(parse_disclosure(unit + "\n" + unit))
    assert len(document.tables) == 2
    assert [t.errors for t in document.tables] == [[
        "部门整体绩效目标表在文件中有 2 张绩效目标表（第 1 行、第 5 行开始），无法确定以哪一张为准，均未导入："
        "请删去多余的一张或改正项目名称后再导入。"]] * 2


def test_two_projects_of_different_names_do_not_conflict():
    document = finalize(parse_disclosure("\n".join([table_text(*ROWS), table_text(ROWS[0], ROWS[3], name="另一个项目")])))
    assert [t.errors for t in document.tables] == [[], []]


# --- the seeds: nothing of this changes what they read ----------------------------------------------------------

def test_the_seeds_finalize_without_errors(seeds_dir):
    for path in sorted(seeds_dir.glob("*.txt")):
        document = finalize(parse_disclosure(path.read_text(encoding="utf-8"), source=path.name))
        assert document.errors == [], path.name
        assert [e for t in document.tables for e in t.errors] == [], path.name


def test_the_2021_seed_takes_units_from_the_names(seeds_dir):
    path = seeds_dir / "disclosure-2021-changji-social-insurance-bureau.txt"
    if not path.is_file():
        pytest.skip("2021 seed not found")
    document = finalize(parse_disclosure(path.read_text(encoding="utf-8")))
    units = {(i.name, i.target): i.unit for t in document.tables for i in t.indicators if i.unit}
    assert len(units) >= 20
    assert all(unit in name for (name, _), unit in units.items())
    assert all(i.target_published == "" for t in document.tables for i in t.indicators)


# --- properties -------------------------------------------------------------------------------------------------

def _variants(rng: random.Random, rows_: list[list[str]]) -> list[str]:
    """The same indicator rows as another extraction might give them: blank lines, page footers, a repeated
    header, a blank 一级 cell left out, a row laid out with spaces, a name wrapped onto the next line."""
    lines = []
    for index, row in enumerate(rows_):
        cells = list(row)
        choice = rng.randrange(6)
        if choice == 0 and cells[0] == "" and cells[1]:
            lines.append(T(cells[1:]))  # the blank 一级 cell left out
        elif choice == 1:
            lines.append("    ".join(c for c in cells if c) if cells[0] else "          " + "    ".join(c for c in cells if c))
        elif choice == 2 and len(cells[2]) >= 4:
            cut = len(cells[2]) // 2
            lines.append(T(cells[:2] + [cells[2][:cut]] + cells[3:]))
            lines.append(T(["", "", cells[2][cut:]]))
        else:
            lines.append(T(cells))
        if rng.random() < 0.3:
            lines.append("")
        if rng.random() < 0.15:
            lines.extend([f"- {index + 3} -", "", HEADER])
    return lines


_NAMES = ["培训人次", "考核合格率", "服务窗口数量", "办结时限", "群众获得感", "系统运行稳定性", "学员满意度"]


@st.composite
def indicator_rows(draw):
    count = draw(st.integers(2, 6))
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=count, max_size=count, unique=True))
    plan = [("产出指标", "数量指标", ">=100人次"), ("产出指标", "质量指标", "=100%"), ("产出指标", "时效指标", "每月25日前"),
            ("效益指标", "社会效益指标", "有效提升"), ("满意度指标", "满意度指标", ">=95%")]
    levels = sorted(draw(st.lists(st.sampled_from(plan), min_size=count, max_size=count)), key=plan.index)
    result, above1, above2 = [], "", ""
    for name, (level1, level2, target) in zip(names, levels):
        shown1 = "" if level1 == above1 else level1
        shown2 = "" if (level1, level2) == (above1, above2) else level2
        result.append([shown1, shown2, name, target, "计划标准", "/", "10", "按照完成比例赋分", "工作资料"])
        above1, above2 = level1, level2
    return result


@settings(max_examples=150, deadline=None)
@given(indicator_rows(), st.integers(0, 10**6))
def test_blank_lines_wraps_footers_and_shifts_keep_the_same_indicators(rows_, seed):
    plain = parse_disclosure(table_text(*rows_)).tables[0]
    varied = parse_disclosure("\n".join([*head(), *_variants(random.Random(seed), rows_)])).tables[0]
    assert rows(varied) == rows(plain)
    assert [(i.basis, i.evidence) for i in varied.indicators] == [(i.basis, i.evidence) for i in plain.indicators]
    assert varied.errors == []


_PIECES = st.sampled_from([
    "\t", "\n", " ", "   ", "\u3000", "项目支出绩效目标表", "绩效目标申报表", "部门整体绩效目标表", "(2026 年)", "预算单位",
    "单位名称：", "项目名称", "项目各称", "部门名称", "项目负责人", "一级指标\t二级指标\t三级指标\t指标值",
    "一级指标   二级指标   三级指标   指标值   计量单位", "指标性质", "产出指标", "满意", "度指 标", "满意度指", "标",
    "数量指标", "时效指标", "=100%", ">", "=98%", "10", "438.768", "1,982.45", "按照完成比例赋分", "计划标准",
    "工作资料", "<b>", "-------", "- 3 -", "（五）", "甲", "乙（万人）", "≥**平方米", "正向", "\ufffd",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=80).map("".join))
def test_any_text_gives_a_document_or_one_message(text):
    try:
        document = parse_disclosure(text)
    except NotADisclosure as refused:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(refused))
        return
    finalize(document)
    for table in document.tables:
        for message in table.errors + table.warnings:
            assert isinstance(message, str) and any("\u4e00" <= ch <= "\u9fff" for ch in message)
        for indicator in table.indicators:
            assert indicator.name and indicator.target and indicator.line >= 1
