"""`parse_disclosure`: the three published seeds, read cell by cell, and small texts for each quirk.

The expected values below were read off the seed files by hand (line numbers are 1-based source lines).
"""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.importers.disclosure import parse_disclosure
from kpi.importers.parsed import PROJECT, UNIT, NotADisclosure, ParsedDocument

D = Decimal
SEED_2026 = "disclosure-2026-changji-social-insurance-center.txt"
SEED_2025 = "disclosure-2025-urumqi-social-insurance-center.txt"
SEED_2021 = "disclosure-2021-changji-social-insurance-bureau.txt"


def read_seed(seeds_dir, name) -> ParsedDocument:
    path = seeds_dir / name
    if not path.is_file():
        pytest.skip(f"seed {name} not found in {seeds_dir}")
    return parse_disclosure(path.read_text(encoding="utf-8"), source=name)


def rows(table):
    """(level1, level2, name, target, weight, rule) per indicator; weight as int, or None when unpublished."""
    return [
        (i.level1, i.level2, i.name, i.target, None if i.weight is None else int(i.weight), i.rule)
        for i in table.indicators
    ]


def table_named(document, project):
    return next(t for t in document.tables if t.project == project)


def weight_sum(table):
    return sum(i.weight for i in table.indicators)


# --- 2026: tab layout with <b>/<p> tags and markdown headings --------------------------------------------

@pytest.fixture
def doc2026(seeds_dir):
    return read_seed(seeds_dir, SEED_2026)


def test_2026_document(doc2026):
    assert doc2026.unit == "昌吉回族自治州社会保险中心"
    assert doc2026.year == 2026
    assert doc2026.source == SEED_2026
    assert [t.scope for t in doc2026.tables] == [UNIT] + [PROJECT] * 8
    assert doc2026.warnings == []
    assert [w for t in doc2026.tables for w in t.warnings] == []


def test_2026_project_headers(doc2026):
    # project, lead, total, fiscal, other, number of indicators
    assert [(t.project, t.lead, t.total, t.fiscal, t.other, len(t.indicators)) for t in doc2026.tables[1:]] == [
        ("1995年前退休（退职）人员2026年4月-2027年3月生活补贴资金", "李树峰", D("11.00"), D("11.00"), D("0.00"), 7),
        ("2026年国有企业办职教幼教退休教师生活待遇中央财政补助资金", "李树峰", D("6.73"), D("6.73"), D("0.00"), 6),
        ("95年以前退休人员生活费及州直破产企业退休职工采暖费项目", "李树峰", D("177.58"), D("177.58"), D("0.00"), 6),
        ("“金保工程”系统维护项目", "郭钧", D("42.00"), D("42.00"), D("0.00"), 12),
        ("个人权益告知、经办业务通知通信等费用", "郭钧", D("17.00"), D("17.00"), D("0.00"), 8),
        ("机构运行补助经费", "陈小平", D("56.30"), D("56.30"), D("0.00"), 7),
        ("社保卡发放、宣传及评估项目", "邹路", D("40.50"), D("40.50"), D("0.00"), 13),
        ("社会保险基金风险防控工作经费", "刘斌", D("18.00"), D("18.00"), D("0.00"), 7),
    ]
    assert [t.line for t in doc2026.tables] == [727, 748, 765, 781, 797, 822, 840, 857, 882]


def test_2026_every_table_weighs_90(doc2026):
    assert [weight_sum(t) for t in doc2026.tables] == [D(90)] * 9


def test_2026_unit_table(doc2026):
    unit = doc2026.tables[0]
    assert unit.label == "部门整体绩效目标表"
    assert (unit.project, unit.lead, unit.contact, unit.phone) == (None, None, "张旖轩", "15292582251")
    assert unit.overall_goal.startswith("坚持以习近平新时代中国特色社会主义思想为指导")
    assert "<p>" not in unit.overall_goal and "审计1次" in unit.overall_goal  # tags gone, OCR spaces dropped
    assert (unit.total, unit.fiscal_superior, unit.fiscal_local, unit.fiscal, unit.other) == (
        D("1622.85"), D("8.77"), D("1614.08"), D("1622.85"), D("0.00"))
    # no rule column in the unit table: rule stays "" (checks.finalize fills the default)
    assert rows(unit) == [
        ("履职效能", "数量指标", "对县市社保业务工作开展审计次数", "=1 次", 16, ""),
        ("履职效能", "质量指标", "基本养老保险参保率", ">=95%", 20, ""),
        ("履职效能", "质量指标", "扩面任务完成率", ">=99%", 18, ""),
        ("履职效能", "质量指标", "养老资格认证率", r"$\geq 98\%$", 14, ""),  # after a blank line
        ("履职效能", "质量指标", "线上办件率", r"$\geq 92\%$", 12, ""),
        ("服务对象满意度", "满意度指标", "参保群众满意度", r"$\geq 99\%$", 10, ""),
    ]
    first = unit.indicators[0]
    assert first.basis.startswith("人力资源和社会保障部办公厅关于印发《社会保险经办审计办法》")
    assert (first.last_year, first.evidence, first.line) == ("", "", 740)
    assert [i.line for i in unit.indicators] == [740, 741, 742, 744, 745, 746]


def test_2026_first_project_every_cell(doc2026):
    table = doc2026.tables[1]
    assert rows(table) == [
        ("产出指标", "数量指标", "发放补助单位数量", ">=2 个", 14, "按照完成比例赋分"),
        ("产出指标", "质量指标", "补助发放准确率", "=100%", 13, "按照完成比例赋分"),
        ("产出指标", "时效指标", "补助发放及时率", "=100%", 13, "按照完成比例赋分"),
        ("成本指标", "经济成本指标", "路桥二处补助成本", "<=9 万元", 14, "按照完成比例赋分"),
        ("成本指标", "经济成本指标", "新疆公路建设集团补助成本", "<=2 万元", 6, "按照完成比例赋分"),  # both carried
        ("效益指标", "社会效益指标", "提高退休人员生活质量", "有效 提高", 20, "按评判等级赋分"),
        ("满意度指标", "满意度指标", "享受待遇人员满意度", "> =99%", 10, "满意度赋分"),
    ]
    first = table.indicators[0]
    assert (first.basis, first.last_year, first.evidence, first.line) == ("计划标准", "/", "工作资料", 757)
    assert table.indicators[1].last_year == "=100%"
    assert table.overall_goal.startswith("按照《关于提前下达2025年4月-2026年3月1995年前退休（退职）人员")


def test_2026_row_wrapped_onto_the_next_line(doc2026):
    """Line 817 `满意度指\t满意度指\t…`, then a blank line, then line 819 `标\t标` and a separator."""
    table = table_named(doc2026, "“金保工程”系统维护项目")
    assert rows(table) == [
        ("产出指标", "数量指标", "社会保险信息系统网络年巡检维护数", "=4次", 10, "按照完成比例赋分"),
        ("产出指标", "数量指标", "社会保险信息系统数据中心机房托管服务月数", "=12月", 5, "按照完成比例赋分"),
        ("产出指标", "数量指标", "数据中心网络和安全设备质保服务月数", "=12月", 5, "按照完成比例赋分"),
        ("产出指标", "质量指标", "故障排除率", "=100%", 5, "按照完成比例赋分"),
        ("产出指标", "质量指标", "机房托管服务达标率", "=100%", 5, "按照完成比例赋分"),
        ("产出指标", "质量指标", "设备质保服务问题解决率", "=100%", 5, "按照完成比例赋分"),
        ("产出指标", "时效指标", "系统故障修复处理时间", "<=8小时", 5, "直接赋分"),
        ("成本指标", "经济成本指标", "社会保险信息系统网络运行维护", "<=3.25万元/季度", 5, "按照完成比例赋分"),
        ("成本指标", "经济成本指标", "社会保险信息系统数据中心机房托管", "<=1.42万元/月", 10, "按照完成比例赋分"),
        ("成本指标", "经济成本指标", "数据中心网络和安全设备购买质保服务", "<=1万元/月", 5, "按照完成比例赋分"),
        ("效益指标", "社会效益指标", "提升社保业务经办效率与服务质量", "有效提升", 20, "按评判等级赋分"),
        ("满意度指标", "满意度指标", "设备使用者满意率", ">=99%", 10, "满意度赋分"),
    ]
    assert table.indicators[-1].line == 817
    assert table.indicators[-1].evidence == "工作资料"


def test_2026_level_names_split_by_spaces(doc2026):
    """机构运行补助经费: `产出 指标\t数量 指标`, `成本 指标\t经济 成本 指标`; no satisfaction row."""
    table = table_named(doc2026, "机构运行补助经费")
    assert rows(table) == [
        ("产出指标", "数量指标", "物业服务时长", "=12个月", 12, "按照完成比例赋分"),
        ("产出指标", "数量指标", "物业服务面积", ">=18173.63平方米", 8, "按照完成比例赋分"),
        ("产出指标", "质量指标", "物业服务质量达标率", "=100%", 10, "按照完成比例赋分"),
        ("产出指标", "时效指标", "物业服务及时率", "=100%", 10, "按照完成比例赋分"),
        ("成本指标", "经济成本指标", "物业服务月均成本", "<=4.33万元/月", 12, "按照完成比例赋分"),
        ("成本指标", "经济成本指标", "其他运行成本", "<=4.3万元", 8, "按照完成比例赋分"),
        ("效益指标", "社会效益指标", "保障部门单位工作正常开展", "有效保障", 30, "按评判等级赋分"),
    ]


def test_2026_targets_kept_as_published(doc2026):
    table = table_named(doc2026, "个人权益告知、经办业务通知通信等费用")
    assert [i.target for i in table.indicators] == [
        "> =485.71万条", "=100%", "=100%", "=100%", "0.035元/条", "=99%", "有效提升", "> =99%"]
    assert table.indicators[4].last_year == "> =0.042元/条"
    last = table_named(doc2026, "社保卡发放、宣传及评估项目")
    # a blank line before the last row (line 879), a separator line after it
    assert (last.indicators[-1].name, last.indicators[-1].line) == ("参保群众满意度(%)", 879)


# --- 2025: plain tab layout, projects only ------------------------------------------------------------------

@pytest.fixture
def doc2025(seeds_dir):
    return read_seed(seeds_dir, SEED_2025)


def test_2025_document(doc2025):
    assert doc2025.unit == "乌鲁木齐市社会保险中心"
    assert doc2025.year == 2025
    assert [t.scope for t in doc2025.tables] == [PROJECT] * 9
    assert doc2025.warnings == []
    assert [w for t in doc2025.tables for w in t.warnings] == []
    assert [weight_sum(t) for t in doc2025.tables] == [D(90)] * 9


def test_2025_project_headers(doc2025):
    assert [(t.project, t.lead, t.total, t.fiscal, t.other, len(t.indicators)) for t in doc2025.tables] == [
        ("1995年以前退休人员生活补贴", "周先生", D("1982.45"), D("1982.45"), D("0.00"), 7),
        ("2025年4月-2026年3月1995年前退休（退职）人员生活补贴资金", "周先生", D("1874.31"), D("1874.31"), D("0.00"), 7),
        ("2025年4月-2026年3月国有企业办中小学退休教师生活待遇补贴资金", "周先生", D("7299.00"), D("7299.00"), D("0.00"), 7),
        ("2025年自治区财政社保经办机构业务补助经费", "周先生", D("115.75"), D("115.75"), D("0.00"), 7),
        ("辅助履职人员报酬支出", "周先生", D("44.47"), D("44.47"), D("0.00"), 7),
        ("***离休干部离休补贴", "周先生", D("282.00"), D("282.00"), D("0.00"), 7),
        ("****伤残群众抚恤经费", "周先生", D("280.00"), D("280.00"), D("0.00"), 7),
        ("提前下达2025年国有企业办职教幼教退休教师生活待遇中央财政补助资金", "周先生", D("114.00"), D("114.00"), D("0.00"), 7),
        ("综合业务运行费", "周先生", D("274.39"), D("274.39"), D("0"), 8),  # `其他资金：\t0`
    ]


def test_2025_spaced_level_names(doc2025):
    table = doc2025.tables[0]
    assert rows(table) == [
        ("产出指标", "数量指标", "补贴发放人次", "≥14 万人 次", 10, "按照完成比例赋分"),
        ("产出指标", "数量指标", "补贴发放次数", "≥12 次", 10, "按照完成比例赋分"),
        ("产出指标", "质量指标", "补贴资金足额发放率", "=100%", 10, "直接赋分"),
        ("产出指标", "时效指标", "补贴发放时效", "每月 25 日 前", 10, "直接赋分"),
        ("成本指标", "经济成本指标", "补贴发放标准", "=120 元/人 /月", 20, "直接赋分"),
        ("效益指标", "社会效益指标", "社保经办效率水平不断提升", "持续 提高", 20, "按评判等级赋分"),
        ("满意度指标", "满意度指标", "补贴发放对象对相关工作满意度", "≥95%", 10, "满意度赋分"),  # `满意 度指 标`
    ]
    first = table.indicators[0]
    assert (first.basis, first.last_year, first.evidence, first.line) == ("计划标准", "15.6 万人 次", "原始凭证，工作资料", 739)


def test_2025_shifted_level(doc2025):
    """Line 777 `时效指标\t\t差额待遇发放时效`: the 一级 cell holds a 二级 name, 产出指标 carries down."""
    table = doc2025.tables[2]
    assert rows(table) == [
        ("产出指标", "数量指标", "发放差额待遇人次数", ">=5000 人次", 10, "按照完成比例赋分"),
        ("产出指标", "数量指标", "补贴发放次数", ">=12 次", 10, "按照完成比例赋分"),
        ("产出指标", "质量指标", "资金足额发放率", "=100%", 10, "直接赋分"),
        ("产出指标", "质量指标", "退休人员待遇年均增长率", ">=2%", 10, "直接赋分"),
        ("产出指标", "时效指标", "差额待遇发放时效", "每月 25 日前", 10, "直接赋分"),
        ("效益指标", "社会效益指标", "社会保险办事效率和水平不断提升", "持续提高", 30, "按评判等级赋分"),
        ("满意度指标", "满意度指标", "社会公众对相关工作的满意度", ">=95%", 10, "满意度赋分"),
    ]
    assert table.indicators[4].line == 777
    assert table.indicators[3].basis == "历史标准"
    assert table.indicators[3].evidence == "正式材料,工作资料"
    other = table_named(doc2025, "提前下达2025年国有企业办职教幼教退休教师生活待遇中央财政补助资金")
    assert rows(other)[4] == ("产出指标", "时效指标", "待遇资金发放时效", "每月 25 日 前", 10, "直接赋分")  # line 862


def test_2025_last_table_ends_before_the_notes(doc2025):
    table = doc2025.tables[-1]
    assert [i.name for i in table.indicators][-2:] == ["社保经办水平不断提高", "社会公众对相关工作的满意度"]
    assert table.indicators[-1].line == 882


def test_year_argument_overrides(seeds_dir):
    path = seeds_dir / SEED_2025
    if not path.is_file():
        pytest.skip(f"seed {SEED_2025} not found")
    assert parse_disclosure(path.read_text(encoding="utf-8"), year=2030).year == 2030


# --- 2021: one cell per line, no weights, no rules ----------------------------------------------------------

@pytest.fixture
def doc2021(seeds_dir):
    return read_seed(seeds_dir, SEED_2021)


def test_2021_document(doc2021):
    assert doc2021.unit == "昌吉回族自治州社会保险管理局"
    assert doc2021.year == 2021
    assert [t.scope for t in doc2021.tables] == [PROJECT] * 15
    assert doc2021.warnings == []
    assert [w for t in doc2021.tables for w in t.warnings] == []


def test_2021_project_headers(doc2021):
    # no 项目负责人 in this layout; 其他资金 is an empty cell: None (nothing published)
    assert {(t.lead, t.other) for t in doc2021.tables} == {(None, None)}
    assert [(t.project, t.total, t.fiscal, len(t.indicators)) for t in doc2021.tables] == [
        ("95年以前企业退休人员生活补贴资金", D(162), D(162), 8),
        ("社会保障卡发放工作经费", D(40), D(40), 7),
        ("2021年度州直破产企业退休职工采暖费", D(84), D(84), 8),
        ("社会保险宣传费", D(15), D(15), 7),
        ("“金保工程”系统维护费", D(95), D(95), 17),
        ("社会保险全民参保计划工作经费", D(20), D(20), 7),
        ("“金保工程”系统运行电力保障、网络线路租用等工作经费", D(15), D(15), 9),
        ("社会保险公共经办服务保障经费", D(62), D(62), 7),
        ("个人权益单发放工作经费", D(15), D(15), 8),
        ("社会保险档案管理工作经费", D(10), D(10), 7),
        ("工本费、邮寄费、经办业务通知通信等经费", D(35), D(35), 7),
        ("社会保险标准化工作经费", D(15), D(15), 8),
        ("离退休生存状况验证工作经费", D(3), D(3), 7),
        ("人力资源和社会保障12333电话咨询服务中心接线员工作经费", D(30), D(30), 9),
        ("“金保工程”社会保险信息系统升级改造经费", D(300), D(300), 14),
    ]
    assert sum(len(t.indicators) for t in doc2021.tables) == 130


def test_2021_no_weights_no_rules(doc2021):
    indicators = [i for t in doc2021.tables for i in t.indicators]
    assert {i.weight for i in indicators} == {None}
    assert {(i.rule, i.basis, i.last_year, i.evidence) for i in indicators} == {("", "", "", "")}


def test_2021_first_table_every_cell(doc2021):
    table = doc2021.tables[0]
    assert table.overall_goal.startswith("单位职能：贯彻执行国家及区州社会保险法律")
    assert rows(table) == [
        ("产出指标", "数量指标", "核定补助企业1995年以前退休（人次）", "=13440", None, ""),
        ("产出指标", "质量指标", "资金发放到位率（%）", "=100%", None, ""),
        ("产出指标", "时效指标", "全年补助发放时限（月）", "2021年1月-12月", None, ""),
        ("产出指标", "成本指标", "生活费补助金额（元/人/年）", "=1440", None, ""),  # 成本 as a 二级 under 产出
        ("产出指标", "成本指标", "完成1995年以前企业退休人员生活补贴费发放成本（万元）", "=162", None, ""),
        ("效益指标", "社会效益指标", "被补助人群生活质量改善情况", "提高", None, ""),
        ("效益指标", "可持续影响指标", "政策执行力", "长期", None, ""),
        ("满意度指标", "满意度指标", "1995年前企业退休人员满意度", "≥95%", None, ""),
    ]
    assert [i.line for i in table.indicators] == [2157, 2162, 2167, 2172, 2177, 2182, 2187, 2192]


def test_2021_cell_line_with_two_tabs(doc2021):
    """Line 3010 is `\t\t效益指标`: still one cell, the 一级 of its row."""
    table = table_named(doc2021, "社会保险标准化工作经费")
    assert rows(table) == [
        ("产出指标", "数量指标", "社会保险标准修订（项）", "≥10", None, ""),
        ("产出指标", "质量指标", "社会保险政务服务事项公开率", "100%", None, ""),
        ("产出指标", "质量指标", "社会保险标准化贯彻执行率", "100%", None, ""),
        ("产出指标", "时效指标", "项目各项工作完成时间", "2021年2月28日", None, ""),
        ("产出指标", "成本指标", "严格按照项目支出进行（万元/年）", "15", None, ""),
        ("效益指标", "社会效益指标", "社会保险服务水平提升", "提升", None, ""),
        ("效益指标", "可持续影响指标", "群众的获得感、幸福感、安全感提升", "长期", None, ""),
        ("满意度指标", "满意度指标", "社会保险服务对象满意度", "≥95%", None, ""),
    ]
    assert table.indicators[5].line == 3010


def test_2021_last_table(doc2021):
    table = doc2021.tables[-1]
    assert [(i.level1, i.level2, i.name, i.target) for i in table.indicators[-4:]] == [
        ("效益指标", "社会效益指标", "提高社会保险服务质量", "100%"),
        ("效益指标", "可持续影响指标", "系统支出使用年限", "8年"),
        ("效益指标", "可持续影响指标", "保障社会保险经办系统正常运行", "长期"),
        ("满意度指标", "满意度指标", "使用人员满意度", "≥95%"),
    ]


# --- small texts, one quirk each ----------------------------------------------------------------------------

T = "\t".join
HEADER = T(["一级指标", "二级指标", "三级指标", "指标值", "指标值设置依据", "上年完成值", "指标分值权重", "指标赋分规则", "佐证资料"])


def project(*indicator_lines, name="测试项目"):
    """A tab-layout project table; the indicator lines start at line 7."""
    return "\n".join([
        "项目支出绩效目标表",
        "(2026 年)",
        T(["预算单位", "", "某某社会保险中心", "", ""]),
        T(["项目名称", "", name, "", "", "项目负责人", "张三", ""]),
        T(["项目资金（万元）", "", "年度预算总额", "1,000.50", "其中：财政拨款", "900.50", "其他资金", "100"]),
        HEADER,
        *indicator_lines,
    ])


def test_page_break_inside_a_table():
    document = parse_disclosure(project(
        T(["产出指标", "数量指标", "甲", ">=1个", "计划标准", "/", "30", "按照完成比例赋分", "工作资料"]),
        "- 12 -",
        "",
        "-------\t-------\t-------\t---",
        HEADER,
        T(["", "质量指标", "乙", "=100%", "计划标准", "/", "30", "直接赋分", "工作资料"]),
        "第 13 页",
        T(["效益指标", "社会效益指标", "丙", "有效提升", "计划标准", "/", "20", "按评判等级赋分", "说明材料"]),
        T(["满意度指标", "满意度指标", "丁", ">=95%", "计划标准", "/", "10", "满意度赋分", "工作资料"]),
    ))
    (table,) = document.tables
    assert (document.unit, document.year, table.project, table.lead) == ("某某社会保险中心", 2026, "测试项目", "张三")
    assert (table.total, table.fiscal, table.other) == (D("1000.50"), D("900.50"), D(100))
    assert rows(table) == [
        ("产出指标", "数量指标", "甲", ">=1个", 30, "按照完成比例赋分"),
        ("产出指标", "质量指标", "乙", "=100%", 30, "直接赋分"),
        ("效益指标", "社会效益指标", "丙", "有效提升", 20, "按评判等级赋分"),
        ("满意度指标", "满意度指标", "丁", ">=95%", 10, "满意度赋分"),
    ]
    assert [i.line for i in table.indicators] == [7, 12, 14, 15]
    assert table.warnings == [] and document.warnings == []


def test_tags_entities_and_markdown_heading():
    text = "\n".join([
        "## 部门整体绩效目标表",
        "",
        "(2026 年)",
        "<b>部门名称 (盖章)</b>\t\t某某 社会保险 中心\t\t\t",
        "<b>部门联系人</b>\t\t王五\t<b>联系电话</b>\t0994-1234567\t",
        "<b>年度绩效目标</b>\t\t<p>确保 参保率 不低于 95%。</p>\t\t\t",
        "<b>年度预算(万元)</b>\t\t资金来源\t\t资金总额 (万元)\t",
        "\t\t财政资金 (万元)\t上级安排\t8.77\t",
        "\t\t\t本级安排\t1,614.08\t",
        "\t\t其他资金 (万元)\t其他\t1.00\t",
        "\t\t合计：\t\t1,623.85\t",
        T(["<b>一级指标</b>", "<b>二级指标</b>", "<b>三级指标</b>", "<b>指标值</b>", "<b>指标设定依据</b>", "<b>分值权重</b>"]),
        T(["履职效能", "数量指标", "审计次数", "=1 次", "文件", "40"]),
        T(["", "质量指标", "参保率", "&gt;=95%", "规划", "40"]),
        T(["服务对象满意度", "满意度指标", "满意度", "<b>≥99%</b>", "计划", "10"]),
    ])
    document = parse_disclosure(text)
    (unit,) = document.tables
    assert (document.unit, unit.scope, unit.contact, unit.phone) == ("某某社会保险中心", UNIT, "王五", "0994-1234567")
    assert unit.overall_goal == "确保参保率不低于95%。"
    assert (unit.fiscal_superior, unit.fiscal_local, unit.fiscal, unit.other, unit.total) == (
        D("8.77"), D("1614.08"), D("1622.85"), D("1.00"), D("1623.85"))
    assert rows(unit) == [
        ("履职效能", "数量指标", "审计次数", "=1 次", 40, ""),
        ("履职效能", "质量指标", "参保率", ">=95%", 40, ""),
        ("服务对象满意度", "满意度指标", "满意度", "≥99%", 10, ""),
    ]
    assert unit.indicators[0].basis == "文件"


def test_row_continued_on_the_next_line():
    document = parse_disclosure(project(
        T(["产出指标", "数量指标", "社会保险信息系统数据中心机房托", "=12月", "计划标准", "/", "80", "按照完成比例赋分", "工作资料"]),
        T(["", "", "管服务月数", "", "", "", "", "", ""]),
        T(["满意度指", "满意度指", "设备使用者满意率", ">=99%", "计划标准", "=100%", "10", "满意度赋分", "工作资料"]),
        "",
        T(["标", "标", "", "", "", "", "", "", ""]),
    ))
    (table,) = document.tables
    assert rows(table) == [
        ("产出指标", "数量指标", "社会保险信息系统数据中心机房托管服务月数", "=12月", 80, "按照完成比例赋分"),
        ("满意度指标", "满意度指标", "设备使用者满意率", ">=99%", 10, "满意度赋分"),
    ]
    assert [i.line for i in table.indicators] == [7, 9]
    assert table.warnings == []


def test_shifted_levels():
    document = parse_disclosure(project(
        T(["产出指标", "数量指标", "甲", ">=1个", "计划标准", "/", "20", "按照完成比例赋分", "工作资料"]),
        T(["时效指标", "", "乙", "每月25日前", "计划标准", "/", "20", "直接赋分", "说明材料"]),  # 一级 cell holds 二级
        T(["质量指标", "丙", "=100%", "计划标准", "/", "20", "直接赋分", "说明材料"]),  # the 一级 cell is missing
        T(["", "效益指标", "社会效益指标", "丁", "有效提升", "计划标准", "/", "20", "按评判等级赋分", "说明材料"]),  # one too many
        T(["满意度指标", "", "戊", ">=95%", "计划标准", "/", "10", "满意度赋分", "工作资料"]),  # 满意度指标 is both levels
    ))
    (table,) = document.tables
    assert rows(table) == [
        ("产出指标", "数量指标", "甲", ">=1个", 20, "按照完成比例赋分"),
        ("产出指标", "时效指标", "乙", "每月25日前", 20, "直接赋分"),
        ("产出指标", "质量指标", "丙", "=100%", 20, "直接赋分"),
        ("效益指标", "社会效益指标", "丁", "有效提升", 20, "按评判等级赋分"),
        ("满意度指标", "满意度指标", "戊", ">=95%", 10, "满意度赋分"),
    ]
    assert table.warnings == []


def test_unplaceable_rows_become_warnings_with_line_numbers():
    text = "\n".join([
        T(["产出指标", "数量指标", "孤儿", ">=1个"]),  # line 1: before any table
        project(
            T(["产出指标", "数量指标", "甲", ">=1个", "计划标准", "/", "80", "按照完成比例赋分", "工作资料"]),  # line 8
            T(["产出指标", "数量指标"]),  # line 9: too few cells
            T(["", "", "", "", "", "", "5"]),  # line 10: a weight alone
            T(["满意度指标", "满意度指标", "乙", ">=95%", "计划标准", "/", "10", "满意度赋分", "工作资料"]),
            name="XX",
        ),
    ])
    document = parse_disclosure(text)
    (table,) = document.tables
    assert document.warnings == ["第 1 行：绩效目标表之外的指标行，已跳过：产出指标 | 数量指标 | 孤儿 | >=1个"]
    assert table.warnings == [
        "项目“XX”第 9 行：无法识别的指标行，已跳过：产出指标 | 数量指标",
        "项目“XX”第 10 行：无法识别的指标行，已跳过：5",
    ]
    assert [i.name for i in table.indicators] == ["甲", "乙"]


def test_indicator_row_before_the_column_header():
    text = "\n".join([
        "项目支出绩效目标表",
        T(["预算单位", "", "某单位"]),
        T(["项目名称", "", "YY"]),
        T(["产出指标", "数量指标", "早到", ">=1个"]),  # line 4
        "一级指标\t二级指标\t三级指标\t指标值",
        T(["产出指标", "数量指标", "甲", "=1"]),
    ])
    document = parse_disclosure(text, year=2024)
    (table,) = document.tables
    assert document.year == 2024
    assert table.warnings == ["项目“YY”第 4 行：指标行出现在指标表头（一级指标、二级指标……）之前，已跳过：产出指标 | 数量指标 | 早到 | >=1个"]
    assert rows(table) == [("产出指标", "数量指标", "甲", "=1", None, "")]  # no weight column: None


def test_section_heading_ends_the_last_table():
    text = project(
        T(["产出指标", "数量指标", "甲", ">=1个", "计划标准", "/", "90", "按照完成比例赋分", "工作资料"]),
        "(五) 其他需说明的事项",
        T(["产出指标", "数量指标", "后来", ">=1个", "计划标准", "/", "5", "按照完成比例赋分", "工作资料"]),  # line 9
    )
    document = parse_disclosure(text)
    assert [i.name for i in document.tables[0].indicators] == ["甲"]
    (warning,) = document.warnings
    assert warning.startswith("第 9 行：绩效目标表之外的指标行，已跳过：产出指标 | 数量指标 | 后来 | >=1个")


def test_several_tables_under_one_title_and_a_sum_row():
    text = project(
        T(["产出指标", "数量指标", "甲", ">=1个", "计划标准", "/", "90", "按照完成比例赋分", "工作资料"]),
        T(["合计", "", "", "", "", "", "90", "", ""]),
        T(["预算单位", "", "某某社会保险中心"]),  # same unit: the header block starts again
        T(["项目名称", "", "第二个项目", "", "项目负责人", "李四"]),  # line 10
        T(["项目资金（万元）", "", "年度预算总额", "5", "其中：财政拨款", "5", "其他资金", "0"]),
        HEADER,
        T(["产出指标", "数量指标", "乙", "=1次", "计划标准", "/", "90", "直接赋分", "工作资料"]),
    )
    document = parse_disclosure(text)
    assert [(t.project, t.lead, t.total, t.line, len(t.indicators)) for t in document.tables] == [
        ("测试项目", "张三", D("1000.50"), 1, 1),
        ("第二个项目", "李四", D(5), 10, 1),
    ]
    assert [w for t in document.tables for w in t.warnings] == []


def test_cell_per_line_layout_with_a_page_break_inside_a_row():
    text = "\n".join([
        "项  目  支  出  绩  效  目  标  表",
        "",
        "\t（2021年）",
        "",
        "\t预算单位", "\t某某局", "\t项目名称", "\t某 项目",
        "",
        "\t项目资金（万元）", "\t年度资金总额：", "\t10", "\t其中：财政拨款", "\t8", "\t其他资金", "\t2",
        "",
        "\t一级指标", "\t二级指标", "\t三级指标", "\t指标值（包含数字及文字描述）",
        "",
        "\t产出 指标", "\t数量指标", "\t甲", "\t>=1",  # line 23
        "",
        "\t", "\t质量指标",  # line 28: the row is cut by a page break…
        "",
        "- 3 -",
        "",
        "\t乙", "\t=100%",  # …and resumes here
        "",
        "\t", "\t", "\t丙", "\t≥95%",
        "",
        "\t",
    ])
    document = parse_disclosure(text)
    (table,) = document.tables
    assert (document.unit, document.year, table.project, table.lead) == ("某某局", 2021, "某项目", None)
    assert (table.total, table.fiscal, table.other) == (D(10), D(8), D(2))
    assert rows(table) == [
        ("产出指标", "数量指标", "甲", ">=1", None, ""),
        ("产出指标", "质量指标", "乙", "=100%", None, ""),
        ("产出指标", "质量指标", "丙", "≥95%", None, ""),
    ]
    assert [i.line for i in table.indicators] == [23, 28, 36]
    assert table.warnings == []


def test_markdown_pipe_table():
    text = "\n".join([
        "# 项目支出绩效目标表",
        "（2025年）",
        "| 预算单位 | 某单位 | | |",
        "| 项目名称 | 管道项目 | 项目负责人 | 赵六 |",
        "| 一级指标 | 二级指标 | 三级指标 | 指标值 | 分值权重 |",
        "| --- | --- | --- | --- | --- |",
        "| 产出指标 | 数量指标 | 甲 | >=1 | 80 |",
        "| 满意度指标 | 满意度指标 | 乙 | >=95% | 10 |",
    ])
    document = parse_disclosure(text)
    (table,) = document.tables
    assert (document.year, table.project, table.lead) == (2025, "管道项目", "赵六")
    assert rows(table) == [("产出指标", "数量指标", "甲", ">=1", 80, ""), ("满意度指标", "满意度指标", "乙", ">=95%", 10, "")]


def test_year_from_the_document_title_when_no_subtitle():
    text = "\n".join([
        "2024 年某某局部门预算公开",
        "项目支出绩效目标表",
        T(["预算单位", "", "某某局"]),
        T(["项目名称", "", "甲项目"]),
        "一级指标\t二级指标\t三级指标\t指标值",
        T(["产出指标", "数量指标", "甲", "=1"]),
    ])
    assert parse_disclosure(text).year == 2024


# --- not a disclosure ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "",
    "   \n\t\n",
    "今天天气很好，我们去公园散步。\n这是一段随机的中文文字，没有任何表格。\n",
    "本单位的项目支出绩效目标表已按要求公开，详见附件。",  # a sentence that mentions the table
    "\x00\x01binary",
    "\x01\x02\x03\x04" * 50 + "项目支出绩效目标表",
])
def test_not_a_disclosure(text):
    with pytest.raises(NotADisclosure) as raised:
        parse_disclosure(text)
    assert raised.value.args[0]  # a message, in Chinese
    assert any("\u4e00" <= ch <= "\u9fff" for ch in raised.value.args[0])


def test_not_a_disclosure_message_names_the_tables():
    with pytest.raises(NotADisclosure, match="没有找到“项目支出绩效目标表”或“部门整体绩效目标表”，不是部门预算公开文件"):
        parse_disclosure("随便一段文字")


def test_a_title_without_any_table_is_refused():
    with pytest.raises(NotADisclosure, match="没有读到任何表格内容"):
        parse_disclosure("目录\n项目支出绩效目标表\n第四部分 名词解释\n")


_PIECES = st.sampled_from([
    "\t", "\n", " ", "项目支出绩效目标表", "部门整体绩效目标表", "(2026 年)", "预算单位", "项目名称", "项目负责人",
    "一级指标\t二级指标\t三级指标\t指标值", "产出指标", "满意度指", "标", "时效指标", "=100%", "10", "1,982.45",
    "<b>", "</b>", "-------", "|", "（五）", "甲",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_any_text_gives_a_document_or_not_a_disclosure(text):
    try:
        document = parse_disclosure(text)
    except NotADisclosure:
        return
    for table in document.tables:
        for indicator in table.indicators:
            assert indicator.name and indicator.target and indicator.line >= 1


@pytest.mark.parametrize("name", [SEED_2026, SEED_2025, SEED_2021])
def test_the_seeds_read_without_errors(seeds_dir, name):
    document = read_seed(seeds_dir, name)
    assert document.errors == []
    assert [e for t in document.tables for e in t.errors] == []
    assert {(i.direction, i.unit, i.target_published) for t in document.tables for i in t.indicators} == {("", "", "")}
