"""The import's weight checks follow the policy the year's tables will be scored under (pure Python): the
indicators' total is 100 − its 预算执行率 points, and an old table's default split shares that much."""
from decimal import Decimal

import pytest

from kpi import scoring
from kpi.importers.checks import DEFAULT_SPLIT, finalize
from kpi.importers.parsed import ParsedDocument, ParsedIndicator, ParsedTable

D = Decimal
TWENTY = scoring.Policy(execution_weight=D("20.00"))


def finalized(*rows, policy=scoring.DEFAULT_POLICY) -> ParsedTable:
    table = ParsedTable(scope="project", project="测试项目", line=7, indicators=[
        ParsedIndicator(level1=r[0], level2="数量指标", name=r[1], target=">=100人次", weight=r[2],
                        rule="按照完成比例赋分", line=10 + n)
        for n, r in enumerate(rows)
    ])
    return finalize(ParsedDocument(unit="测试单位", year=2026, tables=[table]), policy=policy).tables[0]


@pytest.mark.parametrize(("weights", "policy", "warned"), [
    ((D(50), D(30)), TWENTY, False),  # 80 under a 20-point policy: right
    ((D(50), D(40)), TWENTY, True),  # 90 under it: flagged
    ((D(50), D(40)), scoring.DEFAULT_POLICY, False),
    ((D(50), D(30)), scoring.DEFAULT_POLICY, True),
])
def test_the_weights_are_checked_against_the_policy(weights, policy, warned):
    t = finalized(*[("产出指标", f"指标{i}", w) for i, w in enumerate(weights)], policy=policy)
    expected = 100 - policy.execution_weight
    message = (f"项目“测试项目”第 7 行：指标分值权重合计为 {sum(weights)}，应为 {expected.normalize():f}"
               f"（预算执行率另占 {policy.execution_weight.normalize():f} 分）。")
    assert t.warnings == ([message] if warned else [])


def test_an_old_table_shares_what_the_policy_leaves_in_the_default_proportions():
    t = finalized(("产出指标", "甲", None), ("产出指标", "乙", None), ("效益指标", "丙", None),
                  ("满意度指标", "丁", None), policy=TWENTY)
    assert t.weights_defaulted
    # 产出 50 : 效益 30 : 满意度 10 of 80 (not 90): 44.44, 26.66, 8.88 and the 2 cents left to the first groups
    shares = {group: points * D(80) / D(90) for group, points in DEFAULT_SPLIT}
    weights = [i.weight for i in t.indicators]
    assert sum(weights) == D(80)
    assert abs(weights[0] + weights[1] - shares["产出"]) < D("0.02")
    assert abs(weights[2] - shares["效益"]) < D("0.02") and abs(weights[3] - shares["满意度"]) < D("0.02")
    assert any("已按默认规则分配（产出 44.45、效益 26.67、满意度 8.88" in w for w in t.warnings), t.warnings
    # the default policy keeps the published split
    default = finalized(("产出指标", "甲", None), ("效益指标", "丙", None), ("满意度指标", "丁", None))
    assert [i.weight for i in default.indicators] == [D(50), D(30), D(10)]
