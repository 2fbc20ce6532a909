"""The evaluation data: exactly the engine's official scores, approved values only, missing never zero."""
from decimal import Decimal

import pytest

from kpi.models import GoalTable, Report
from kpi.reports.services import actual_record, budget_adjust, execution_report, report_approve, report_submit
from kpi.rescoring.services import tables_rescore
from kpi.selfeval.data import NoTables, table_evaluation, unit_evaluation
from tests.factories import ProjectFactory, UnitFactory, approve_reports, rescore_stale, table_with_indicators

from .conftest import JULY, OCTOBER, expected_scores

pytestmark = pytest.mark.django_db


def test_scores_are_the_engines(world):
    expected = expected_scores(world.indicators)
    e = table_evaluation(table=world.table)

    assert [row.points for row in e.indicators] == expected.points
    assert e.execution_points == expected.execution.points == Decimal("7.50")
    assert e.rate == expected.execution.rate == Decimal("0.7500")
    assert e.total == expected.total.total
    assert e.indicator_points == expected.total.indicator_points
    assert e.grade == expected.grade
    assert e.as_of == JULY
    assert e.policy_version == "default"


def test_unapproved_values_do_not_count(world):
    e = table_evaluation(table=world.table)
    cost = e.indicators[2]
    assert cost.actual == "40元/人"  # the approved value, not the draft correction (100)
    assert cost.points == Decimal("15.00")


def test_what_is_shown_per_indicator(world):
    e = table_evaluation(table=world.table)
    training, rate, cost, quality, satisfaction, not_applicable = e.indicators
    assert (training.level1, training.level2, training.name, training.target) == ("产出指标", "数量指标", "培训人次",
                                                                                  ">=100人次")
    assert training.actual == "80人次"
    assert training.explanation == "偏差原因（经费保障）：下半年资金到位较晚；改进措施：提前拨付培训资金"
    assert rate.actual == "96%"
    assert quality.actual == "部分达成年度指标并具有一定效果"
    assert satisfaction.actual is None and satisfaction.points is None
    assert not_applicable.actual == "不适用" and not_applicable.points is None
    assert not_applicable.explanation == "不适用：本年度未开展"


def test_missing_is_listed_and_never_zero(world):
    e = table_evaluation(table=world.table)
    assert e.indicators[4].points is None
    assert "指标“参训人员满意度”：缺少实际完成值（未填报）" in e.missing
    # an indicator below full marks with no explanation must be explained
    assert any("就业服务质量" in item and "偏差原因" in item for item in e.missing)
    # the explained one and the not-applicable one are not listed
    assert not any("培训人次" in item or "长效机制建设" in item for item in e.missing)


def test_header_and_funds(world):
    e = table_evaluation(table=world.table)
    assert (e.project_name, e.department_name, e.unit_name) == ("职业技能培训补贴项目", "测试市人社局", "测试市就业服务中心")
    total, fiscal, carryover, other = e.funds
    assert (total.label, total.initial, total.full_year, total.executed, total.weight, total.rate, total.points) == (
        "年度资金总额", Decimal("200.00"), Decimal("200.00"), Decimal("150.00"), Decimal("10"), Decimal("0.7500"),
        Decimal("7.50"))
    assert (fiscal.label, fiscal.initial, fiscal.full_year, fiscal.executed) == (
        "其中：本年财政拨款", Decimal("150.00"), Decimal("150.00"), None)
    assert (carryover.label, carryover.initial) == ("上年结转资金", Decimal("30.00"))
    assert (other.label, other.initial) == ("其他资金", Decimal("20.00"))
    # the 150 executed was recorded without its split: missing per source, listed, never guessed
    assert [row.executed for row in e.funds[1:]] == [None, None, None]
    assert "截至 2026-07-31 的全年执行数未按资金来源（本年财政拨款、上年结转资金、其他资金）登记，请补齐" in e.missing
    assert e.goal_actual.startswith("截至 2026年07月31日（已审核数据），全年执行数 150.00 万元，预算执行率 75.00%")
    assert "参训人员满意度" in e.goal_actual and f"自评得分 {e.total} 分" in e.goal_actual


def test_a_unit_without_parent_is_its_own_department():
    project = ProjectFactory()
    table, _ = table_with_indicators(project)
    assert table_evaluation(table=table).department_name == project.unit.name


def test_stale_tables_are_read_as_stored_and_never_rescored_by_reading(world):
    tables_rescore(table_ids=[world.table.pk])
    assert table_evaluation(table=world.table).indicators[0].points == Decimal("24.00")
    # A correction of the approved actual, approved, and never rescored (the task is not run). It joins the
    # draft that already corrects the cost indicator (100), so that one is approved with it.
    first = world.indicators[0].actuals.get()
    actual_record(indicator=world.indicators[0], as_of=JULY, value=Decimal("90"), replaces=first,
                           deviation_reason="进度略慢", user=world.lead)
    correction = Report.objects.get(table=world.table, as_of=JULY, status=Report.Status.DRAFT)
    report_approve(report=report_submit(report=correction))
    assert GoalTable.objects.get(pk=world.table.pk).is_stale

    # Reading writes nothing: the stored figures, the table still stale, and the evaluation says so.
    stale = table_evaluation(table=world.table)
    assert stale.indicators[0].points == Decimal("24.00")
    assert stale.missing[0].startswith("评分更新中")
    assert GoalTable.objects.get(pk=world.table.pk).is_stale

    rescore_stale()  # what the task enqueued at the change (or the sweep) does
    e = table_evaluation(table=world.table)
    expected = expected_scores(world.indicators, values={0: Decimal("90"), 2: Decimal("100")})
    assert e.indicators[0].actual == "90人次" and e.indicators[2].actual == "100元/人"
    assert e.indicators[0].points == expected.points[0] == Decimal("27.00")
    assert e.total == expected.total.total
    assert not GoalTable.objects.get(pk=world.table.pk).is_stale


def test_only_approved_values_count_at_the_latest_date(world):
    """A later report that is only submitted changes no value (its date is scored with approved values only);
    once approved, its values count."""
    actual_record(indicator=world.indicators[4], as_of=OCTOBER, value=Decimal("95"), user=world.lead)
    october = Report.objects.get(table=world.table, as_of=OCTOBER)
    report_submit(report=october)
    rescore_stale()
    e = table_evaluation(table=world.table)
    assert e.as_of == OCTOBER and e.indicators[4].points is None
    assert e.indicators[0].points == Decimal("24.00")
    assert "指标“参训人员满意度”：实际完成值尚未审核通过，缺少已审核的实际完成值" in e.missing
    report_approve(report=october)
    rescore_stale()
    e = table_evaluation(table=world.table)
    assert e.as_of == OCTOBER and e.indicators[4].points == Decimal("10.00")
    assert e.indicators[0].points == Decimal("24.00")  # July's approved values still stand


def test_zero_budget_leaves_the_rate_undefined():
    project = ProjectFactory(budget_initial=Decimal("0"), fiscal=Decimal("0"))
    table, indicators = table_with_indicators(project)
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("100"))
    approve_reports(table)
    execution_report(project=project, as_of=JULY, executed=Decimal("5"))
    rescore_stale()
    e = table_evaluation(table=table)
    assert e.budget == Decimal("0.00") and e.executed == Decimal("5.00")
    assert e.rate is None and e.execution_points is None
    assert "全年预算数为 0，预算执行率无法计算（执行率未定义，不计分）" in e.missing
    assert e.as_json()["execution"] == {"budget": "0.00", "executed": "5.00", "rate": None, "score": None}


def test_no_execution_figure_is_missing():
    project = ProjectFactory()
    table, indicators = table_with_indicators(project)
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("100"))
    approve_reports(table)
    rescore_stale()
    e = table_evaluation(table=table)
    assert e.executed is None and e.rate is None and e.execution_points is None
    assert "缺少全年执行数（截至 2026-07-31 未登记预算执行数），预算执行率无法计算" in e.missing
    assert e.total is not None  # the engine's total: the indicators that were scored


def test_nothing_approved_shows_everything_missing():
    project = ProjectFactory()
    table, indicators = table_with_indicators(project)
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("100"))  # a draft only
    rescore_stale()
    e = table_evaluation(table=table)
    assert e.as_of == JULY  # the official figures of the only date: nothing approved in them
    assert all(row.points is None and row.actual is None for row in e.indicators)
    assert "尚无已审核的填报" in e.missing and "绩效目标表尚未批复（仍为草稿）" in e.missing


def test_adjusted_budget_split_is_missing_not_guessed(world):
    budget_adjust(project=world.project, adjusted=Decimal("250.00"), reason="追加预算")
    rescore_stale()
    e = table_evaluation(table=world.table)
    assert e.budget == Decimal("250.00") and e.rate == Decimal("0.6000")
    assert [row.full_year for row in e.funds] == [Decimal("250.00"), None, None, None]
    assert any("全年预算数已调整" in item for item in e.missing)


def test_unit_evaluation_has_the_unit_table(world):
    unit_table, indicators = table_with_indicators(unit=world.unit, year=2026, rows=[
        ("履职效能", "数量指标", "职业介绍人次", ">=1万人次", Decimal("90")),
    ])
    budget_adjust(unit=world.unit, year=2026, adjusted=Decimal("800"), reason="年中调整")
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("0.8"))
    approve_reports(unit_table)
    execution_report(unit=world.unit, year=2026, as_of=JULY, executed=Decimal("400"))

    rescore_stale()
    u = unit_evaluation(unit=world.unit, year=2026)
    assert [e.label for e in u.evaluations] == ["测试市就业服务中心（部门整体）", "职业技能培训补贴项目"]
    e = u.unit_table
    assert e.is_unit_table and e.project_name is None and e.title == "部门整体绩效自评表"
    assert (e.budget, e.executed, e.rate, e.execution_points) == (
        Decimal("800.00"), Decimal("400.00"), Decimal("0.5000"), Decimal("5.00"))
    assert e.indicators[0].points == Decimal("72.00")
    assert [row.label for row in e.funds] == ["年度资金总额", "财政资金（上级安排）", "财政资金（本级安排）", "其他资金"]
    assert u.projects_total == (Decimal("200.00"), Decimal("150.00"), Decimal("0.7500"))


def test_a_unit_without_tables_is_refused():
    unit = UnitFactory()
    with pytest.raises(NoTables, match="没有绩效目标表"):
        unit_evaluation(unit=unit, year=2026)


def test_query_count_does_not_grow_with_tables(django_assert_max_num_queries, django_assert_num_queries):
    small, large = UnitFactory(), UnitFactory()
    for unit, count in ((small, 1), (large, 4)):
        for _ in range(count):
            table, indicators = table_with_indicators(ProjectFactory(unit=unit))
            actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("100"))
            approve_reports(table)
        tables_rescore(table_ids=GoalTable.objects.filter(unit=unit).values_list("pk", flat=True))
    # Tables, approved reports, official totals, scores, indicators, actuals, execution figures, the tables'
    # scoring policies (the 分值 of 预算执行率).
    with django_assert_num_queries(8) as queries:
        unit_evaluation(unit=small, year=2026)
    with django_assert_max_num_queries(len(queries)):
        unit_evaluation(unit=large, year=2026)

