"""指标质量审核, the pure rules (kpi.goals.review): one example per rule from published targets (the seeds
under ../shared/seeds), and properties of the whole review (hypothesis)."""
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.goals.review import (
    MUST,
    SHOULD,
    Finding,
    RowFacts,
    TableFacts,
    convert_unit,
    has_blocking,
    review,
)
from kpi.targets import Kind

FAST = settings(database=None, deadline=None, max_examples=150)


def row(line, level1, level2, name, target, weight, **extra):
    return RowFacts.from_text(line=line, level1=level1, level2=level2, name=name, target_raw=target,
                              weight=D(weight), **extra)


def clean_rows():
    """The 2026 Changji table of 1995 年前退休人员生活补贴 (weights 14+13+13+14+6+20+10 = 90): no findings."""
    return [
        row(1, "产出指标", "数量指标", "发放补助单位数量", ">=2 个", 14),
        row(2, "产出指标", "质量指标", "补助发放准确率", "=100%", 13),
        row(3, "产出指标", "时效指标", "补助发放及时率", "=100%", 13),
        row(4, "成本指标", "经济成本指标", "路桥二处补助成本", "<=9 万元", 14),
        row(5, "成本指标", "经济成本指标", "新疆公路建设集团补助成本", "<=2 万元", 6),
        row(6, "效益指标", "社会效益指标", "提高退休人员生活质量", "有效 提高", 20),
        row(7, "满意度指标", "满意度指标", "享受待遇人员满意度", "> =99%", 10),
    ]


def table(rows, **extra):
    return TableFacts(name="1995 年前退休（退职）人员生活补贴资金", rows=tuple(rows), **extra)


def with_row(rows, index, **changes):
    """The rows with one of them re-read from changed texts."""
    old = rows[index]
    fields = {"line": old.line, "level1": old.level1, "level2": old.level2, "name": old.name,
              "target": old.target_raw, "weight": old.weight}
    fields.update(changes)
    rows = list(rows)
    rows[index] = row(fields.pop("line"), fields.pop("level1"), fields.pop("level2"), fields.pop("name"),
                      fields.pop("target"), fields.pop("weight"), **fields)
    return rows


def codes(findings):
    return [f.code for f in findings]


def test_a_published_clean_table_has_no_findings():
    assert review(table(clean_rows())) == []


def test_finding_as_json_has_exactly_the_contract_keys():
    finding = Finding("项目", "指标", 3, MUST, "weight_zero", "说明")
    assert finding.as_json() == {"table": "项目", "indicator": "指标", "line": 3, "severity": "must",
                                 "code": "weight_zero", "message": "说明"}
    assert finding.severity_label == "必须修改"
    assert Finding("项目", None, None, SHOULD, "x", "y").severity_label == "建议修改"


def test_has_blocking_only_for_must():
    assert not has_blocking([])
    assert not has_blocking([Finding("t", None, None, SHOULD, "c", "m")])
    assert has_blocking([Finding("t", None, None, SHOULD, "c", "m"), Finding("t", None, None, MUST, "c", "m")])


# --- one example per rule ------------------------------------------------------------------------------

def test_weights_not_summing_to_the_figure_name_sum_and_figure():
    rows = with_row(clean_rows(), 0, weight=D(4))  # 80 in all
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line, finding.indicator) == ("weight_sum", MUST, None, None)
    assert finding.message == "指标分值权重合计为 80，应为 90（预算执行率另占 10 分）。"


def test_weight_figure_comes_from_the_policy():
    # A policy giving 预算执行率 20 points leaves 80 to the indicators: the published 90 is then wrong.
    [finding] = review(table(clean_rows(), expected_weight_total=D(80)))
    assert finding.code == "weight_sum"
    assert "合计为 90，应为 80（预算执行率另占 20 分）" in finding.message
    assert review(table(with_row(clean_rows(), 0, weight=D(4)), expected_weight_total=D(80))) == []


def test_a_missing_level1_group_of_a_project_table():
    rows = [r for r in clean_rows() if r.level1 != "效益指标"]
    rows = with_row(rows, 0, weight=D(34))  # keep the sum at 90
    findings = review(table(rows))
    assert [(f.code, f.severity, f.message) for f in findings] == [
        ("level1_missing", MUST, "缺少一级指标“效益指标”。")
    ]


def test_cost_does_not_stand_in_for_output():
    rows = [replace(r, level1="成本指标") if r.level1 == "产出指标" else r for r in clean_rows()]
    assert [f.message for f in review(table(rows))] == ["缺少一级指标“产出指标”。"]


def test_level1_names_with_ocr_spaces_count():
    rows = [replace(r, level1=r.level1.replace("指标", " 指标")) for r in clean_rows()]
    assert review(table(rows)) == []


def unit_rows():
    """The 2026 Changji 部门整体绩效目标表: 履职效能 and 服务对象满意度, no 效益 level (16+20+18+14+12+10)."""
    return [
        row(1, "履职效能", "数量指标", "对县市社保业务工作开展审计次数", "=1 次", 16),
        row(2, "履职效能", "质量指标", "基本养老保险参保率", ">=95%", 20),
        row(3, "履职效能", "质量指标", "扩面任务完成率", ">=99%", 18),
        row(4, "履职效能", "质量指标", "养老资格认证率", "$\\geq 98\\%$", 14),
        row(5, "履职效能", "质量指标", "线上办件率", "$\\geq 92\\%$", 12),
        row(6, "服务对象满意度", "满意度指标", "参保群众满意度", "$\\geq 99\\%$", 10),
    ]


def test_a_unit_table_needs_a_performance_and_a_satisfaction_group_not_the_project_ones():
    facts = TableFacts(name="昌吉回族自治州社会保险中心", rows=tuple(unit_rows()), scope="unit")
    assert review(facts) == []
    # The same rows as a project table lack 产出, 效益 and 满意度 (服务对象满意度 counts as 满意度).
    assert [f.message for f in review(replace(facts, scope="project"))] == [
        "缺少一级指标“产出指标”。", "缺少一级指标“效益指标”。",
    ]
    only_performance = replace(facts, rows=tuple(with_row(unit_rows()[:5], 0, weight=D(26))))
    assert [f.message for f in review(only_performance)] == ["缺少满意度一级指标（服务对象满意度）。"]
    only_satisfaction = replace(facts, rows=(replace(unit_rows()[5], weight=D(90)),))
    assert [f.code for f in review(only_satisfaction)] == ["level1_missing"]


@pytest.mark.parametrize("target", ["", "  ", "≤****000元", "M.8万元"])
def test_an_indicator_without_a_measurable_target(target):
    [finding] = review(table(with_row(clean_rows(), 1, target=target)))
    assert (finding.code, finding.severity, finding.line, finding.indicator) == (
        "target_unmeasurable", MUST, 2, "补助发放准确率")
    assert finding.message.startswith("第 2 行“补助发放准确率”")


@pytest.mark.parametrize("target", ["每月25日前", "2021年12月31日", "有效提升", "持续提高"])
def test_deadlines_and_grade_descriptions_are_measurable(target):
    assert review(table(with_row(clean_rows(), 5, target=target))) == []


def test_a_bare_number_without_comparator_must_be_fixed():
    # Published in the 2026 Changji 个人权益告知 table.
    rows = with_row(clean_rows(), 3, name="个人权益告知经办业务通知通信费", target="0.035元/条")
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line) == ("target_no_comparator", MUST, 4)
    assert "“0.035元/条”只有数值，没有比较符" in finding.message


def test_a_reverse_comparator_on_a_count_of_beneficiaries():
    # 2025 Urumqi: "补贴发放人次 ≥14 万人次", written the wrong way round.
    rows = with_row(clean_rows(), 0, name="补贴发放人次", target="≤14 万人次")
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line) == ("beneficiaries_reverse", SHOULD, 1)
    assert "第 1 行“补贴发放人次”是受益对象数量" in finding.message
    # Counted in people under 数量指标, without a telling name.
    rows = with_row(clean_rows(), 0, name="发放离休干部", target="<=83人")
    assert codes(review(table(rows))) == ["beneficiaries_reverse"]


def test_fewer_is_fine_for_complaints_and_unit_costs():
    assert review(table(with_row(clean_rows(), 0, name="投诉人次", target="<=5人次"))) == []
    assert review(table(with_row(clean_rows(), 3, name="补助人数人均标准", target="<=109元/人/月"))) == []


def test_a_positive_comparator_on_a_cost():
    rows = with_row(clean_rows(), 3, target=">=9 万元")
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line) == ("cost_positive", SHOULD, 4)
    assert "第 4 行“路桥二处补助成本”是成本指标" in finding.message
    # By its name, outside a 成本 level.
    rows = with_row(clean_rows(), 0, name="宣传手册印刷费用", target=">=9.5万元")
    assert codes(review(table(rows))) == ["cost_positive"]


def test_a_saving_rate_under_cost_may_be_positive():
    assert review(table(with_row(clean_rows(), 3, name="成本节约率", target=">=5%"))) == []


def test_a_qualitative_target_where_the_library_is_quantitative():
    rows = with_row(clean_rows(), 5, name="提升社会保险政策知晓率", target="有效提升", library_kind=Kind.POSITIVE)
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line) == ("qualitative_vs_library", SHOULD, 6)
    for kind in (None, Kind.QUALITATIVE, Kind.DEADLINE):
        assert review(table(with_row(clean_rows(), 5, target="有效提升", library_kind=kind))) == []


def test_a_positive_target_below_last_years_actual():
    # 2025 Urumqi: "补贴发放人数 > =576 人次", 上年完成值 580 人次.
    rows = with_row(clean_rows(), 0, name="补贴发放人数", target="> =576 人次", last_year_actual=D(580))
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line) == ("below_last_year", SHOULD, 1)
    assert finding.message == ("第 1 行“补贴发放人数”的目标值“≥576人次”低于上年完成值 580人次，"
                               "正向指标的目标一般不应低于上年实际。")
    assert review(table(with_row(clean_rows(), 0, target="> =576 人次", last_year_actual=D(576)))) == []


def test_a_reverse_target_above_last_years_actual():
    rows = with_row(clean_rows(), 3, target="<=9 万元", last_year_actual=D("8.5"))
    assert codes(review(table(rows))) == ["above_last_year"]
    assert review(table(with_row(clean_rows(), 3, target="<=9 万元", last_year_actual=D(10)))) == []


def test_a_duplicate_indicator_names_the_first_row():
    rows = clean_rows()
    rows.append(row(8, "满意度指标", "满意度 指标", "享受待遇人员 满意度", ">=99%", 0, not_applicable=True))
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line) == ("duplicate_indicator", MUST, 8)
    assert "与第 7 行是同一指标" in finding.message


def test_a_satisfaction_target_under_80_percent():
    rows = with_row(clean_rows(), 6, target=">=75%")
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line) == ("satisfaction_low", SHOULD, 7)
    assert review(table(with_row(clean_rows(), 6, target=">=80%"))) == []
    assert review(table(with_row(clean_rows(), 6, target="≥8分"))) == []  # not a percentage


def test_a_weight_of_zero_unless_not_applicable():
    rows = with_row(clean_rows(), 4, weight=D(0))
    rows = with_row(rows, 3, weight=D(20))
    [finding] = review(table(rows))
    assert (finding.code, finding.severity, finding.line) == ("weight_zero", MUST, 5)
    rows = with_row(rows, 4, not_applicable=True)
    assert review(table(rows)) == []


def test_not_applicable_rows_skip_the_target_rules():
    rows = with_row(clean_rows(), 1, target="", not_applicable=True)
    assert review(table(rows)) == []


def test_findings_come_table_first_then_by_line():
    rows = with_row(clean_rows(), 6, target=">=75%")
    rows = with_row(rows, 0, target="2", weight=D(1))
    assert [(f.line, f.code) for f in review(table(rows))] == [
        (None, "weight_sum"), (1, "target_no_comparator"), (7, "satisfaction_low"),
    ]


def test_convert_unit_handles_multipliers_only():
    assert convert_unit(D("1.70"), "万人次", "人次") == D(17000)
    assert convert_unit(D(4632), "元", "万元") == D("0.4632")
    assert convert_unit(D(95), "%", "%") == D(95)
    assert convert_unit(D(87), "人", "人次") is None
    assert convert_unit(D(3), "万元", "%") is None


# --- properties ----------------------------------------------------------------------------------------

LEVELS = [("产出指标", "数量指标"), ("产出指标", "质量指标"), ("成本指标", "经济成本指标"),
          ("效益指标", "社会效益指标"), ("满意度指标", "满意度指标"), ("履职效能", "质量指标")]
TARGETS = [">=95%", "=100%", "<=9 万元", "有效提升", "每月25日前", "100%", "", "≤****000元", ">=75%",
           "≤14 万人次", ">=2 个", "≥0.042元/条"]
NAMES = ["补贴发放人次", "路桥二处补助成本", "参保群众满意度", "补助发放准确率", "提高退休人员生活质量", "通信费"]

weights = st.decimals(min_value=0, max_value=60, places=2)
rows_strategy = st.lists(
    st.tuples(st.sampled_from(LEVELS), st.sampled_from(NAMES), st.sampled_from(TARGETS), weights,
              st.none() | st.decimals(min_value=0, max_value=200, places=1), st.booleans()),
    min_size=1, max_size=10,
)


def build(drawn):
    return [row(i + 1, l1, l2, name, target, weight, last_year_actual=last, not_applicable=na)
            for i, ((l1, l2), name, target, weight, last, na) in enumerate(drawn)]


@FAST
@given(drawn=rows_strategy, figure=st.sampled_from([D(90), D(80)]), scope=st.sampled_from(["project", "unit"]))
def test_weights_summing_to_the_figure_never_give_the_weight_finding(drawn, figure, scope):
    rows = build(drawn)
    rest = figure - sum((r.weight for r in rows[1:]), D(0))
    rows[0] = replace(rows[0], weight=rest)
    assert "weight_sum" not in codes(review(TableFacts("表", tuple(rows), scope=scope, expected_weight_total=figure)))


@FAST
@given(drawn=rows_strategy, data=st.data())
def test_the_order_of_rows_does_not_change_the_set_of_codes(drawn, data):
    rows = build(drawn)
    shuffled = data.draw(st.permutations(rows))
    renumbered = [replace(r, line=i + 1) for i, r in enumerate(shuffled)]
    assert set(codes(review(table(rows)))) == set(codes(review(table(renumbered))))


@FAST
@given(drawn=rows_strategy)
def test_every_row_finding_names_its_row_and_blocking_means_a_must(drawn):
    rows = build(drawn)
    findings = review(table(rows))
    by_line = {r.line: r for r in rows}
    for finding in findings:
        assert finding.severity in (MUST, SHOULD)
        if finding.line is not None:
            assert finding.indicator == by_line[finding.line].name
            assert finding.message.startswith(f"第 {finding.line} 行“{finding.indicator}”")
    assert has_blocking(findings) == any(f.severity == MUST for f in findings)
