"""A policy giving 预算执行率 20 points scores a published 20-point table correctly, end to end: the disclosure
imported (its weights, summing to 80, are no warning under it), actuals recorded and approved, 执行数, the
rescore and the 自评表 JSON. The expected figures are worked out here from the published rules."""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from budgets.models import Project
from kpi.goals.services import goal_table_approve
from kpi.importers.services import import_file
from kpi.models import GoalTable, TableScore
from kpi.reports.services import actual_record, execution_report
from kpi.selfeval.data import table_evaluation, unit_evaluation
from tests.factories import ScoringPolicyFactory, UserFactory, approve_reports, rescore_stale

pytestmark = pytest.mark.django_db
D = Decimal
DECEMBER = dt.date(2026, 12, 31)

# A 20-point region's table: the indicators' weights 40 + 25 + 15 = 80, 预算执行率 20.
DISCLOSURE = """2026 年新疆示范县人力资源服务中心

部门预算公开

## 项目支出绩效目标表

(2026 年)

<b>预算单位</b>\t\t新疆示范县人力资源服务中心\t\t\t\t\t\t
<b>项目名称</b>\t\t就业技能培训项目\t\t\t<b>项目负责人</b>\t李娜\t\t
<b>项目资金(万元)</b>\t\t年度预算总额\t100.00\t其中：财政拨款\t100.00\t其他资金\t0.00\t
<b>项目总体目标</b>\t\t开展就业技能培训，提升培训合格率。\t\t\t\t\t\t
<b>一级指标</b>\t<b>二级指标</b>\t<b>三级指标</b>\t<b>指标值</b>\t<b>指标值设置依据</b>\t<b>上年完成值</b>\t<b>指标分值权重</b>\t<b>指标赋分规则</b>\t<b>佐证资料</b>
产出指标\t数量指标\t培训人次\t>=100人次\t年度计划\t/\t40\t按照完成比例赋分\t工作资料
\t质量指标\t培训合格率\t>=95%\t培训标准\t/\t25\t按照完成比例赋分\t工作资料
满意度指标\t服务对象满意度指标\t培训对象满意度\t>=90%\t满意度调查\t/\t15\t满意度赋分\t工作资料
"""
ACTUALS = {"培训人次": D("90"), "培训合格率": D("96"), "培训对象满意度": D("85")}
EXECUTED = D("90")  # of a budget of 100: 执行率 90%


def q2(x: Decimal) -> Decimal:
    return x.quantize(D("0.01"), ROUND_HALF_UP)


def run(policy_weight=None):
    if policy_weight is not None:
        ScoringPolicyFactory(name="新疆2026", region="新疆", year=2026, execution_weight=policy_weight)
    document, outcome = import_file(data=DISCLOSURE.encode(), filename="新疆示范县.txt",
                                    user=UserFactory(is_superuser=True))
    assert not outcome.errors
    project = Project.objects.get(name="就业技能培训项目")
    table = GoalTable.objects.get(project=project)
    goal_table_approve(table=table)
    for indicator in table.indicators.all():
        actual_record(indicator=indicator, as_of=DECEMBER, value=ACTUALS[indicator.name],
                      deviation_category="其他", deviation_reason="部分学员未参加结业考核")
    approve_reports(table)
    execution_report(project=project, as_of=DECEMBER, executed=EXECUTED,
                     by_source={"fiscal": EXECUTED, "carryover": D(0), "other": D(0)})
    rescore_stale()
    return document, project, table


def test_a_20_point_policy_scores_a_published_20_point_table(monkeypatch):
    from kpi.rescoring.tasks import rescore_table

    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    document, project, table = run(policy_weight=D(20))
    # The import checks the weights against what the policy leaves: 80 is right, no warning.
    assert not [w for w in document.tables[0].warnings if "分值权重合计" in w]

    # The published rules: 40 × 90 / 100; 96 ≥ 95 → 25; 15 × 85 / 90; 执行率 90 / 100 → 20 × 0.9.
    indicators = {"培训人次": q2(D(40) * D(90) / D(100)), "培训合格率": D("25.00"),
                  "培训对象满意度": q2(D(15) * D(85) / D(90))}
    execution = q2(D(20) * D("0.9"))
    total = sum(indicators.values()) + execution
    assert (execution, total) == (D("18.00"), D("93.17"))

    data = unit_evaluation(unit=project.unit, year=2026).as_json()
    (entry,) = data["projects"]
    assert entry["execution"] == {"budget": "100.00", "executed": "90.00", "rate": "0.9000", "score": "18.00"}
    assert {row["name"]: (row["weight"], row["score"]) for row in entry["indicators"]} == {
        "培训人次": ("40.00", str(indicators["培训人次"])), "培训合格率": ("25.00", "25.00"),
        "培训对象满意度": ("15.00", str(indicators["培训对象满意度"])),
    }
    assert (entry["total"], entry["grade"], entry["missing"]) == (str(total), "优", [])

    # The 自评表's funds block gives 预算执行率 its 20 points; the table is out of 100.
    evaluation = table_evaluation(table=table)
    assert evaluation.funds[0].weight == D(20) and evaluation.full_points == D(100)
    assert evaluation.policy_name == "新疆2026（第1版）"
    stored = TableScore.objects.get(table=table, as_of=DECEMBER, official=True)
    assert (stored.execution_points, stored.total, stored.policy_version) == (D("18.00"), total, "新疆2026@v1")


def test_the_same_table_under_the_default_policy_is_flagged_and_scored_out_of_90(monkeypatch):
    from kpi.rescoring.tasks import rescore_table

    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)
    document, project, table = run()
    assert "指标分值权重合计为 80，应为 90（预算执行率另占 10 分）" in "".join(document.tables[0].warnings)
    entry = unit_evaluation(unit=project.unit, year=2026).as_json()["projects"][0]
    assert entry["execution"]["score"] == "9.00"
    assert table_evaluation(table=table).funds[0].weight == D(10)
