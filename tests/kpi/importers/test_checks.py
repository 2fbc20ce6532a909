"""checks.finalize: default rules, the old-format weight split, and every review warning (pure Python)."""
from decimal import Decimal

import pytest

from kpi.importers.checks import default_weights, finalize
from kpi.importers.parsed import ParsedDocument, ParsedIndicator, ParsedTable

D = Decimal


def table(*rows, scope="project"):
    """rows: (level1, name, target, weight, rule)."""
    return ParsedTable(
        scope=scope, project="测试项目" if scope == "project" else None, line=7,
        indicators=[
            ParsedIndicator(level1=r[0], level2="数量指标", name=r[1], target=r[2], weight=r[3], rule=r[4], line=10 + n)
            for n, r in enumerate(rows)
        ],
    )


def finalized(t: ParsedTable) -> ParsedTable:
    return finalize(ParsedDocument(unit="测试单位", year=2026, tables=[t])).tables[0]


def test_a_clean_table_has_no_warnings():
    t = finalized(table(
        ("产出指标", "培训人次", ">=100人次", D(60), "按照完成比例赋分"),
        ("效益指标", "服务质量", "有效提升", D(20), "按评判等级赋分"),
        ("满意度指标", "满意度", ">=90%", D(10), "满意度赋分"),
    ))
    assert t.warnings == []
    assert not t.weights_defaulted


def test_weights_not_summing_to_90_are_flagged_not_rejected():
    t = finalized(table(("产出指标", "培训人次", ">=100人次", D(50), "按照完成比例赋分"),
                        ("满意度指标", "满意度", ">=90%", D(10), "满意度赋分")))
    assert t.warnings == ["项目“测试项目”第 7 行：指标分值权重合计为 60，应为 90（预算执行率另占 10 分）。"]
    assert len(t.indicators) == 2


def test_missing_rule_gets_the_default_for_the_kind():
    t = finalized(table(
        ("履职效能", "办结件数", ">=2万件", D(40), ""),
        ("履职效能", "办结时限", "每月25日前", D(20), ""),
        ("履职效能", "服务质量", "持续提高", D(30), ""),
        scope="unit",
    ))
    assert [i.rule for i in t.indicators] == ["按照完成比例赋分", "直接赋分", "按评判等级赋分"]
    assert t.warnings == []


def test_rule_spelling_variants_are_read_and_unknown_rules_warned():
    t = finalized(table(
        ("产出指标", "培训人次", ">=100人次", D(45), "按 完成比例赋分"),
        ("产出指标", "合格率", ">=95%", D(45), "酌情打分"),
    ))
    assert [i.rule for i in t.indicators] == ["按照完成比例赋分", "按照完成比例赋分"]
    assert t.warnings == ["项目“测试项目”第 11 行：指标“合格率”的赋分规则“酌情打分”无法识别，已按“按照完成比例赋分”处理。"]


@pytest.mark.parametrize(("target", "expected"), [
    ("????", "无法识别"),
    ("100%", "只有数值没有比较符号"),
    ("<=500人", "受益对象数量"),
    ("<=3万人次", "受益对象数量"),
])
def test_target_warnings_name_the_table_and_line(target, expected):
    t = finalized(table(("产出指标", "补贴发放人数", target, D(90), "按照完成比例赋分")))
    assert any(expected in w and w.startswith("项目“测试项目”第 10 行") for w in t.warnings), t.warnings


@pytest.mark.parametrize("target", ["<=120元/人/月", "<=5%"])
def test_unit_costs_and_rates_with_a_reverse_comparator_are_fine(target):
    t = finalized(table(("成本指标", "人均补贴标准（发放人数）", target, D(90), "按照完成比例赋分")))
    assert t.warnings == []


def test_old_tables_without_weights_get_the_default_split():
    t = finalized(table(
        ("产出指标", "a", ">=1个", None, ""), ("产出指标", "b", ">=1个", None, ""), ("成本指标", "c", "<=1万元", None, ""),
        ("效益指标", "d", "提高", None, ""), ("效益指标", "e", "长期", None, ""),
        ("满意度指标", "f", ">=95%", None, ""),
    ))
    assert t.weights_defaulted
    assert [i.weight for i in t.indicators] == [D("16.67"), D("16.67"), D("16.66"), D(15), D(15), D(10)]
    assert sum(i.weight for i in t.indicators) == 90
    assert len(t.warnings) == 1 and "默认规则分配" in t.warnings[0]


def test_default_split_with_a_missing_group_says_so():
    t = finalized(table(("产出指标", "a", ">=1个", None, ""), ("效益指标", "b", "提高", None, "")))
    assert [i.weight for i in t.indicators] == [D(50), D(30)]
    assert "没有满意度指标" in t.warnings[0]


def test_default_split_of_an_unknown_level_is_zero_and_warned():
    t = finalized(table(("产出指标", "a", ">=1个", None, ""), ("其他指标", "b", "提高", None, "")))
    assert [i.weight for i in t.indicators] == [D(50), D(0)]
    assert any("不属于产出、效益或满意度" in w for w in t.warnings)


@pytest.mark.parametrize("n", range(1, 12))
def test_default_weights_share_each_group_exactly(n):
    weights = default_weights(["产出指标"] * n + ["效益指标"] * n + ["满意度指标"] * n)
    assert sum(weights) == 90
    assert max(weights[:n]) - min(weights[:n]) <= D("0.01")
    assert all(w == w.quantize(D("0.01")) for w in weights)


def test_an_empty_table_is_warned():
    assert finalized(table()).warnings == ["项目“测试项目”第 7 行：没有读到任何指标行。"]


# --- issue 11: the comparator or unit published beside a target, levels, rows refused, field errors ----------

def indicator(name="参保人数", target="80.9", **fields):
    return ParsedIndicator(level1=fields.pop("level1", "产出指标"), level2=fields.pop("level2", "数量指标"), name=name,
                           target=target, weight=fields.pop("weight", D(90)), rule=fields.pop("rule", "按照完成比例赋分"),
                           line=fields.pop("line", 10), **fields)


def one(*indicators, **table_fields) -> ParsedTable:
    return finalized(ParsedTable(scope="project", project="测试项目", line=7, indicators=list(indicators), **table_fields))


@pytest.mark.parametrize(("direction", "target"), [
    ("正向", "≥80.9"), ("正向指标", "≥80.9"), ("≥", "≥80.9"), (">=", "≥80.9"), ("反向", "≤80.9"), ("逆向", "≤80.9"),
    ("≤", "≤80.9"), ("=", "=80.9"), ("大于", ">80.9"),
])
def test_a_comparator_in_the_nature_column_is_applied_with_a_warning(direction, target):
    t = one(indicator(name="月均成本", direction=direction, unit="万元"))
    (i,) = t.indicators
    assert (i.target, i.target_published, i.published, i.unit) == (target, "80.9", "80.9", "万元")
    assert t.warnings == [f"项目“测试项目”第 10 行：指标“月均成本”的指标值“80.9”没有比较符号，已按指标性质“{direction}”补为“{target}”。"]


def test_a_nature_that_disagrees_with_the_target_is_warned_and_the_target_wins():
    t = one(indicator(target="≤5%", direction="正向"))
    assert t.indicators[0].target == "≤5%" and t.indicators[0].target_published == ""
    assert t.warnings == ["项目“测试项目”第 10 行：指标“参保人数”的指标值“≤5%”与指标性质“正向”方向不一致，以指标值为准，请核对。"]


def test_an_unknown_nature_and_a_qualitative_target_are_left_alone():
    t = one(indicator(target="有效提升", direction="定性", rule="按评判等级赋分", weight=D(45)),
            indicator(name="乙", target="=100%", direction="双向", line=11, weight=D(45)))
    assert [i.target for i in t.indicators] == ["有效提升", "=100%"]
    assert t.warnings == ["项目“测试项目”第 11 行：指标“乙”的指标性质“双向”无法识别，未使用。"]


def test_a_target_without_unit_takes_it_from_the_name_with_a_warning():
    t = one(indicator(name="参保人数（万人）", target="≥80.9"))
    (i,) = t.indicators
    assert (i.target, i.unit) == ("≥80.9", "万人")
    assert t.warnings == ["项目“测试项目”第 10 行：指标“参保人数（万人）”的指标值“≥80.9”没有计量单位，已按指标名称中的“万人”记录，请核对。"]


def test_a_comparator_and_unit_in_the_name_are_applied():
    t = one(indicator(name="绿化面积（≥**平方米）", target="5000"))
    (i,) = t.indicators
    assert (i.target, i.target_published, i.unit) == ("≥5000", "5000", "平方米")
    assert len(t.warnings) == 2 and "指标名称中的“≥”补为“≥5000”" in t.warnings[0] and "“平方米”记录" in t.warnings[1]


@pytest.mark.parametrize(("name", "hint"), [
    ("参保人数（万人）", ("", "万人")),
    ("资金发放到位率(%)", ("", "%")),
    ("生活费补助金额（元/人/年）", ("", "元/人/年")),
    ("绿化面积（≥**平方米）", ("≥", "平方米")),
    ("培训人次(不低于500人次)", ("≥", "人次")),
    ("办结时限（≤3个工作日）", ("≤", "个工作日")),
    ("1995年前退休（退职）人员补贴", ("", "")),
    ("城乡居民养老保险（含丧葬费）", ("", "")),
    ("系统运行（2021年）", ("", "")),
    ("满意度", ("", "")),
])
def test_name_hint(name, hint):
    from kpi.importers.checks import name_hint

    assert name_hint(name) == hint


def test_a_unit_column_that_disagrees_with_the_target_is_warned():
    t = one(indicator(target="≥95%", unit="人"))
    assert t.indicators[0].unit == ""
    assert t.warnings == ["项目“测试项目”第 10 行：指标“参保人数”的计量单位“人”与指标值“≥95%”中的单位“%”不同，以指标值为准。"]


def test_the_unit_of_a_qualitative_or_deadline_target_is_not_taken_from_the_name():
    t = one(indicator(name="完成时限（月）", target="2024年12月31日前", rule="直接赋分"))
    assert t.indicators[0].unit == "" and t.warnings == []


def test_a_target_longer_than_300_characters_refuses_its_row_only():
    t = one(indicator(name="甲", target="提高" * 151, weight=D(80)),
            indicator(name="乙", target=">=95%", weight=D(10), line=11))
    assert [i.name for i in t.indicators] == ["乙"]
    assert t.warnings[0] == "项目“测试项目”第 10 行：指标“甲”的指标值有 302 个字符（超过 300 个），不像是指标值，该行未导入，请核对原表。"
    assert t.errors == []


def test_a_blank_level1_left_by_an_importer_is_inferred_or_an_error():
    t = one(indicator(name="甲", level1="", level2="时效指标", target="每月25日前", rule="直接赋分", weight=D(45)),
            indicator(name="乙", level1="", level2="某某指标", target=">=1个", weight=D(45), line=11))
    assert [i.level1 for i in t.indicators] == ["产出指标", ""]
    assert "项目“测试项目”第 10 行：指标“甲”的一级指标为空，已按二级指标“时效指标”推断为“产出指标”，请核对。" in t.warnings
    assert t.errors == ["项目“测试项目”第 11 行：指标“乙”没有一级指标，也无法从二级指标推断，请补上一级指标。"]


@pytest.mark.parametrize(("level2", "used", "expected"), [
    ("数量指标", [], "产出指标"),
    ("可持续影响指标", [], "效益指标"),
    ("经济成本指标", [], "成本指标"),
    ("成本指标", [], None),  # the table does not show where 成本 goes
    ("成本指标", [("成本指标", "经济成本指标")], "成本指标"),
    ("成本指标", [("产出指标", "数量指标")], "产出指标"),
    ("数量指标", [("履职效能", "质量指标")], "履职效能"),
    ("数量指标", [("履职效能", "数量指标"), ("管理效率", "数量指标")], None),  # the table says two things
    ("服务对象满意度指标", [], "满意度指标"),
    ("未知指标", [], None),
])
def test_infer_level1(level2, used, expected):
    from kpi.importers.checks import infer_level1

    assert infer_level1(level2, used) == expected


def test_what_the_database_would_refuse_is_an_error_naming_line_and_field():
    t = one(
        indicator(name="甲" * 301, target=">=1个", weight=D(40)),
        indicator(name="乙", level2="", target=">=1个", weight=D("-5"), line=11),
        indicator(name="丙", target=">=1个", weight=D("55.555"), last_year="上" * 201, line=12),
        total=D(-1),
    )
    assert t.errors == [
        "项目“测试项目”第 7 行：年度预算总额为负数（-1 万元），请修正。",
        f"项目“测试项目”第 10 行：指标“{'甲' * 39}…”的三级指标（指标名称）超过 300 个字符（301 个），请核对。",
        "项目“测试项目”第 11 行：指标“乙”没有二级指标，请补上二级指标。",
        "项目“测试项目”第 11 行：指标“乙”的分值权重为负数（-5），请修正。",
        "项目“测试项目”第 12 行：指标“丙”的上年完成值超过 200 个字符（201 个），请核对。",
    ]
    assert t.indicators[2].weight == D("55.56")
    assert "项目“测试项目”第 12 行：指标“丙”的分值权重“55.555”超过 2 位小数，已按 55.56 记录。" in t.warnings


def test_a_project_name_too_long_and_a_unit_name_too_long():
    document = finalize(ParsedDocument(unit="单" * 201, year=2026, tables=[
        ParsedTable(scope="project", project="项" * 201, line=3, lead="负" * 51,
                    indicators=[indicator(target=">=1个")])]))
    assert document.errors == ["预算单位名称超过 200 个字符（201 个），请核对。"]
    (t,) = document.tables
    assert [e.split("：")[1] for e in t.errors] == ["项目名称超过 200 个字符（201 个），请核对。", "项目负责人超过 50 个字符（51 个），请核对。"]


def test_finalize_never_raises_and_keeps_every_message_in_chinese():
    weird = ParsedTable(scope="project", project=None, line=0, indicators=[
        ParsedIndicator("", "", "", "", weight=D("NaN")), ParsedIndicator("产出指标", "数量指标", "甲", "≥", weight=None),
    ])
    t = finalized(weird)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in message) for message in t.warnings + t.errors)
