"""Recording actuals and rescoring tables, through the services, against the database."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kpi.goals.services import indicator_create, indicator_set_not_applicable
from kpi.models import Actual, GoalTable, Indicator, Report, Score, TableScore
from kpi.reports.services import actual_record, execution_report, report_approve, report_return, report_submit
from kpi.rescoring.services import scoring_policy_save, tables_rescore
from kpi.rescoring.tasks import rescore_table
from tests.factories import (
    ProjectFactory,
    ScoringPolicyFactory,
    UnitBudgetFactory,
    UnitFactory,
    approve_reports,
    table_with_indicators,
)

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)
OCTOBER = dt.date(2026, 10, 31)


@pytest.fixture
def no_enqueue(monkeypatch):
    """Record what would be sent to the broker instead of sending it."""
    sent = []
    monkeypatch.setattr(rescore_table, "delay", lambda *args: sent.append(args))
    return sent


@pytest.fixture
def scored_table(no_enqueue):
    project = ProjectFactory(budget_initial=Decimal("100.00"))
    table, (count, rate, cost, satisfaction) = table_with_indicators(project)
    actual_record(indicator=count, as_of=JULY, value=Decimal("80"))
    actual_record(indicator=rate, as_of=JULY, value=Decimal("95"))
    actual_record(indicator=cost, as_of=JULY, value=Decimal("60"))
    actual_record(indicator=satisfaction, as_of=JULY, value=Decimal("85"))
    execution_report(project=project, as_of=JULY, executed=Decimal("61.50"))
    approve_reports(table)
    return table, (count, rate, cost, satisfaction)


def points_by_name(table, as_of, official=True):
    return dict(
        Score.objects.filter(table=table, as_of=as_of, official=official).values_list("indicator__name", "points")
    )


def test_actual_record_enqueues_the_table_rescore_only_after_commit(
    no_enqueue, django_capture_on_commit_callbacks
):
    table, indicators = table_with_indicators()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actual = actual_record(indicator=indicators[1], as_of=JULY, value=Decimal("92"))
    assert Actual.objects.get() == actual
    assert no_enqueue == []
    for callback in callbacks:
        callback()
    assert no_enqueue == [(table.pk,)]


def test_many_changes_in_one_transaction_enqueue_each_table_once(no_enqueue, django_capture_on_commit_callbacks):
    table, indicators = table_with_indicators()
    other, other_indicators = table_with_indicators()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for indicator in indicators[:3]:
                actual_record(indicator=indicator, as_of=JULY, value=Decimal("1"))
            actual_record(indicator=other_indicators[0], as_of=JULY, value=Decimal("1"))
    assert no_enqueue == [(table.pk,), (other.pk,)]


def test_a_rolled_back_change_enqueues_nothing(no_enqueue, django_capture_on_commit_callbacks):
    table, indicators = table_with_indicators()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("1"))
            raise RuntimeError("cancelled")
    assert no_enqueue == [] and not Actual.objects.exists()


def test_report_review_flow(no_enqueue):
    table, indicators = table_with_indicators()
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("50"))
    report = Report.objects.get()
    with pytest.raises(ValidationError, match="不能审核通过"):
        report_approve(report=report)
    report = report_submit(report=report)
    with pytest.raises(ValidationError, match="等待审核"):
        actual_record(indicator=indicators[1], as_of=JULY, value=Decimal("90"))
    with pytest.raises(ValidationError, match="原因"):
        report_return(report=report, reason=" ")
    report = report_return(report=report, reason="人次与台账不符，请核对")
    assert report.status == "returned" and report.review_note == "人次与台账不符，请核对"
    tables_rescore(table_ids=[table.pk])
    assert not Score.objects.exists()  # returned values do not count at all
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("60"))  # a fresh draft
    tables_rescore(table_ids=[table.pk])
    assert points_by_name(table, JULY, official=False) == {"培训人次": Decimal("24.00")}
    assert points_by_name(table, JULY) == {}
    assert TableScore.objects.get(table=table, official=True).missing == 4


def test_rescore_applies_the_formulas_of_each_rule(scored_table):
    table, _ = scored_table
    assert tables_rescore(table_ids=[table.pk]) == 4
    assert points_by_name(table, JULY) == {
        "培训人次": Decimal("32.00"),  # 40 × 80 / 100
        "合格率": Decimal("20.00"),  # reached
        "人均成本": Decimal("16.67"),  # reverse: 20 × 50 / 60
        "满意度": Decimal("9.44"),  # 10 × 85 / 90
    }
    total = TableScore.objects.get(table=table, as_of=JULY)
    assert total.execution_rate == Decimal("0.6150")
    assert total.execution_points == Decimal("6.15")
    assert total.total == Decimal("84.26")
    assert total.grade == "良"
    assert total.missing == 0
    table.refresh_from_db()
    assert not table.is_stale


def test_rescore_is_idempotent(scored_table):
    table, _ = scored_table
    fields = ("indicator_id", "as_of", "official", "points", "ratio", "explanation", "flags", "policy_version")
    tables_rescore(table_ids=[table.pk])
    first = list(Score.objects.order_by("indicator_id").values_list(*fields))
    tables_rescore(table_ids=[table.pk])
    assert list(Score.objects.order_by("indicator_id").values_list(*fields)) == first
    assert len(first) == 4
    assert TableScore.objects.filter(table=table).count() == 1


def test_each_reporting_date_is_scored_with_the_latest_actual_up_to_it(scored_table):
    table, (count, *_rest) = scored_table
    actual_record(indicator=count, as_of=OCTOBER, value=Decimal("120"))
    approve_reports(table)
    tables_rescore(table_ids=[table.pk])
    assert points_by_name(table, JULY)["培训人次"] == Decimal("32.00")
    assert points_by_name(table, OCTOBER)["培训人次"] == Decimal("40.00")
    # Other indicators carry their July values forward to October.
    assert points_by_name(table, OCTOBER)["人均成本"] == Decimal("16.67")
    october = TableScore.objects.get(table=table, as_of=OCTOBER)
    assert october.total == Decimal("92.26")
    assert october.grade == "优"


def test_a_correction_is_a_new_row_and_wins(scored_table):
    table, (count, *_rest) = scored_table
    original = Actual.objects.get(indicator=count)
    actual_record(indicator=count, as_of=JULY, value=Decimal("90"), replaces=original)
    assert Actual.objects.filter(indicator=count).count() == 2
    correction = Actual.objects.filter(indicator=count).latest("id").report
    assert correction.replaces == original.report and correction.status == "draft"
    tables_rescore(table_ids=[table.pk])
    # Until approved the correction only gives a provisional score beside the official one.
    assert points_by_name(table, JULY)["培训人次"] == Decimal("32.00")
    assert points_by_name(table, JULY, official=False) == {"培训人次": Decimal("36.00")}
    assert TableScore.objects.get(table=table, as_of=JULY, official=False).total == Decimal("88.26")
    approve_reports(table)
    tables_rescore(table_ids=[table.pk])
    assert points_by_name(table, JULY)["培训人次"] == Decimal("36.00")
    assert not Score.objects.filter(official=False).exists()
    assert not TableScore.objects.filter(official=False).exists()


def test_not_applicable_indicator_is_dropped_and_the_total_rescaled(scored_table):
    table, (_c, _r, _cost, satisfaction) = scored_table
    tables_rescore(table_ids=[table.pk])
    indicator_set_not_applicable(indicator=satisfaction, not_applicable=True, reason="本年度未开展满意度调查")
    tables_rescore(table_ids=[table.pk])
    assert "满意度" not in points_by_name(table, JULY)
    # (32 + 20 + 16.67 + 6.15) × 100 / 90
    assert TableScore.objects.get(table=table, as_of=JULY).total == Decimal("83.13")


def test_not_applicable_needs_a_reason(scored_table):
    _, (_c, _r, _cost, satisfaction) = scored_table
    with pytest.raises(ValidationError, match="原因"):
        indicator_set_not_applicable(indicator=satisfaction, not_applicable=True, reason="  ")
    satisfaction.refresh_from_db()
    assert not satisfaction.not_applicable


def test_missing_actuals_are_counted_not_scored(no_enqueue):
    table, indicators = table_with_indicators()
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("100"))
    approve_reports(table)
    tables_rescore(table_ids=[table.pk])
    total = TableScore.objects.get(table=table)
    assert total.missing == 3
    assert total.execution_rate is None
    assert total.total == Decimal("40.00")


def test_graded_points_outside_the_band_are_refused_and_nothing_is_saved(no_enqueue):
    table, _ = table_with_indicators(rows=[("效益指标", "社会效益指标", "服务水平", "有效提升", Decimal("20"))])
    indicator = table.indicators.get()
    assert indicator.rule == "按评判等级赋分"
    with pytest.raises(ValidationError) as error:
        actual_record(indicator=indicator, as_of=JULY, grade="部分达成年度指标并具有一定效果", points=Decimal("17"))
    assert "范围" in str(error.value)
    assert not Actual.objects.exists()
    actual_record(indicator=indicator, as_of=JULY, grade="部分达成年度指标并具有一定效果", points=Decimal("13"))
    approve_reports(table)
    tables_rescore(table_ids=[table.pk])
    assert Score.objects.get().points == Decimal("13.00")


def test_deadline_is_scored_all_or_nothing(no_enqueue):
    table, _ = table_with_indicators(
        rows=[("产出指标", "时效指标", "按时发放", "每月25日前", Decimal("10")),
              ("产出指标", "时效指标", "完成验收", "2026年12月31日前", Decimal("10"))]
    )
    on_time, acceptance = table.indicators.order_by("order")
    assert on_time.rule == "直接赋分" and on_time.target_kind == "deadline"
    actual_record(indicator=on_time, as_of=JULY, met=True)
    actual_record(indicator=acceptance, as_of=JULY, met=False)
    approve_reports(table)
    tables_rescore(table_ids=[table.pk])
    assert points_by_name(table, JULY) == {"按时发放": Decimal("10.00"), "完成验收": Decimal("0.00")}


def test_qualitative_target_without_grade_is_refused(no_enqueue):
    table, _ = table_with_indicators(rows=[("效益指标", "社会效益指标", "服务水平", "持续提高", Decimal("20"))])
    with pytest.raises(ValidationError):
        actual_record(indicator=table.indicators.get(), as_of=JULY, value=Decimal("1"))
    assert not Actual.objects.exists()


def test_policy_of_the_year_changes_the_reverse_formula_and_is_recorded(scored_table):
    table, _ = scored_table
    policy = ScoringPolicyFactory(name="示范地区2026", year=2026, reverse_formula="linear_to_double")
    tables_rescore(table_ids=[table.pk])
    assert points_by_name(table, JULY)["人均成本"] == Decimal("16.00")  # 20 × (1 − 10/50)
    assert Score.objects.filter(policy_version="示范地区2026@v1").count() == 4
    policy.satisfaction_floor = Decimal("88")
    scoring_policy_save(policy=policy)
    table.refresh_from_db()
    assert table.is_stale
    tables_rescore(table_ids=[table.pk])
    assert points_by_name(table, JULY)["满意度"] == Decimal("0.00")  # 85 below the floor of 88
    assert set(Score.objects.values_list("policy_version", flat=True)) == {"示范地区2026@v2"}


def test_unit_table_uses_the_unit_budget_and_unit_execution(no_enqueue):
    unit = UnitFactory()
    UnitBudgetFactory(unit=unit, year=2026, fiscal_superior=Decimal("20"), fiscal_local=Decimal("180"))
    table, indicators = table_with_indicators(unit=unit, rows=[("履职效能", "质量指标", "覆盖率", ">=95%", Decimal("90"))])
    assert table.scope == GoalTable.Scope.UNIT
    actual_record(indicator=indicators[0], as_of=JULY, value=Decimal("95"))
    execution_report(unit=unit, year=2026, as_of=JULY, executed=Decimal("150"))
    approve_reports(table)
    tables_rescore(table_ids=[table.pk])
    total = TableScore.objects.get(table=table)
    assert (total.budget, total.execution_rate, total.execution_points, total.total) == (
        Decimal("200.00"), Decimal("0.7500"), Decimal("7.50"), Decimal("97.50"))


def test_adjusted_budget_is_the_base_of_the_execution_rate(no_enqueue):
    project = ProjectFactory(budget_initial=Decimal("100.00"), budget_adjusted=Decimal("80.00"))
    table, _ = table_with_indicators(project)
    execution_report(project=project, as_of=JULY, executed=Decimal("60.00"))
    tables_rescore(table_ids=[table.pk])
    assert TableScore.objects.get(table=table).execution_rate == Decimal("0.7500")


def test_zero_budget_leaves_the_rate_undefined(no_enqueue):
    project = ProjectFactory(budget_initial=Decimal("0"))
    table, _ = table_with_indicators(project)
    execution_report(project=project, as_of=JULY, executed=Decimal("0"))
    tables_rescore(table_ids=[table.pk])
    total = TableScore.objects.get(table=table)
    assert total.execution_rate is None and total.execution_points is None


def test_execution_outside_the_fiscal_year_is_refused(no_enqueue):
    project = ProjectFactory()
    with pytest.raises(ValidationError, match="年度"):
        execution_report(project=project, as_of=dt.date(2025, 12, 31), executed=Decimal("1"))


def test_indicator_create_parses_the_target_and_picks_defaults(no_enqueue):
    table, _ = table_with_indicators(rows=[("产出指标", "数量指标", "认证数据", "> =485.71万条", Decimal("90"))])
    indicator = table.indicators.get()
    assert (indicator.target_kind, indicator.target_value, indicator.unit) == ("positive", Decimal("485.71"), "万条")
    assert indicator.rule == "按照完成比例赋分"
    assert indicator.accumulation == Indicator.Accumulation.CUMULATIVE


def test_database_refuses_negative_weights_and_duplicate_scores(scored_table):
    table, (count, *_rest) = scored_table
    with pytest.raises(IntegrityError), transaction.atomic():
        Indicator.objects.filter(pk=count.pk).update(weight=Decimal("-1"))
    tables_rescore(table_ids=[table.pk])
    score = Score.objects.filter(indicator=count).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(
            indicator=count, table=table, as_of=score.as_of, points=Decimal("1"), explanation="", policy_version="x",
            computed_at=score.computed_at,
        )


def test_indicator_orders_follow_on(no_enqueue):
    table, indicators = table_with_indicators()
    extra = indicator_create(table=table, level1="产出指标", level2="数量指标", name="新增", target_raw=">=1个",
                             weight=Decimal("0"))
    assert extra.order == len(indicators) + 1
