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
