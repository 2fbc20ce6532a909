"""The bulk rescore's fast paths give exactly what the plain ORM and the engine give.

The rescore reads indicators and actuals with a plain cursor (values converted as the ORM converts them,
memoised), scores each distinct (policy, rule, target, weight, actual) once per batch, and builds each target
and light once. These tests compare its rows and the stored scores with a straightforward computation, on
whichever database the suite runs (SQLite by default, PostgreSQL with DATABASE_URL).
"""
import datetime as dt
from decimal import Decimal

import pytest

from kpi import scoring
from kpi.formatting import tidy_decimal
from kpi.models import Actual, GoalTable, Indicator, Report, Score, TableSummary
from kpi.reports.services import actual_record, execution_report, report_approve, report_return, report_submit
from kpi.rescoring import services
from kpi.rescoring.services import tables_rescore
from tests.factories import ProjectFactory, ScoringPolicyFactory, UnitFactory, table_with_indicators

pytestmark = pytest.mark.django_db

YEAR = 2026
ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", "12.5"),
    ("产出指标", "质量指标", "合格率", ">=95.5%", "15"),
    ("成本指标", "经济成本指标", "人均成本", "<=50.25元/人", "15"),
    ("产出指标", "时效指标", "完成时间", "2026年10月底前", "10"),
    ("效益指标", "社会效益指标", "群众获得感", "有效提升", "20", "按评判等级赋分"),
    ("满意度指标", "服务对象满意度指标", "满意度", ">=90%", "7.25", "满意度赋分"),
]
APRIL, JUNE, SEPTEMBER = dt.date(YEAR, 4, 30), dt.date(YEAR, 6, 30), dt.date(YEAR, 9, 30)


def _record(indicator, as_of, value):
    if indicator.target_kind == "deadline":
        return actual_record(indicator=indicator, as_of=as_of, met=value > 50)
    if indicator.target_kind == "qualitative":
        return actual_record(indicator=indicator, as_of=as_of, grade="部分达成年度指标并具有一定效果",
                             points=(indicator.weight * Decimal("0.65")).quantize(Decimal("0.01")))
    return actual_record(indicator=indicator, as_of=as_of, value=value, deviation_category="其他",
                         deviation_reason="进度滞后", likelihood="有可能")


def _submit(table, as_of):
    return report_submit(report=Report.objects.get(table=table, as_of=as_of, status=Report.Status.DRAFT))


@pytest.fixture
def world(monkeypatch):
    """Tables that repeat the same indicators and actuals (what the memos share) and differ in places: an
    approved April, a returned June, a September awaiting approval; one table under a whole-points policy."""
    monkeypatch.setattr("kpi.rescoring.tasks.rescore_table.delay", lambda *a, **k: None)
    unit = UnitFactory()
    whole = ScoringPolicyFactory(whole_points=True, year=YEAR + 5)  # governs only the table naming it
    for n in range(4):
        project = ProjectFactory(unit=unit, year=YEAR, budget_initial=Decimal("100.5"), fiscal=Decimal("100.5"))
        table, indicators = table_with_indicators(project, rows=ROWS)
        if n == 3:
            GoalTable.objects.filter(pk=table.pk).update(policy=whole)
        for i, indicator in enumerate(indicators):
            _record(indicator, APRIL, Decimal("88.125") + (i % 2))  # the same in every table
        report_approve(report=_submit(table, APRIL))
        for indicator in indicators[:3]:
            _record(indicator, JUNE, Decimal("97.3"))
        report_return(report=_submit(table, JUNE), reason="数据有误")
        for indicator in indicators[n % 2:4]:
            _record(indicator, SEPTEMBER, Decimal(60 + 10 * n) + Decimal("0.0001"))
        _submit(table, SEPTEMBER)
        execution_report(project=project, as_of=JUNE, executed=Decimal("40.1234"))
    return list(GoalTable.objects.order_by("pk"))


def _orm_rows(tables):
    """What the rescore read before the plain cursor: the ORM's values_list rows."""
    ids = [t.pk for t in tables]
    indicators = sorted(
        Indicator.objects.filter(table_id__in=ids).order_by("order", "id").values_list(*services._INDICATOR_COLUMNS),
        key=lambda r: r[0])
    actuals = list(Actual.objects.filter(indicator__table_id__in=ids).that_count()
                   .order_by("as_of", "id").values_list(*services._ACTUAL_COLUMNS))
    return indicators, actuals


def _typed(values):
    """Values compared with their types and exact digits (Decimal("9.00") is not Decimal("9"))."""
    return [(type(v).__name__, str(v)) for v in values]


def test_the_plain_reads_equal_the_orms_values_exactly(world):
    rows = services._read_batch(world)
    want_indicators, want_actuals = _orm_rows(world)

    got_indicators = sorted((r for table_rows in rows.indicators.values() for r in table_rows), key=lambda r: r[0])
    assert [_typed(r) for r in got_indicators] == [_typed(r) for r in want_indicators]

    got_actuals = sorted((r for actuals in rows.provisional_actuals.values() for r in actuals),
                         key=lambda r: (r.as_of, r.id))
    assert len(got_actuals) == len(want_actuals) > 0
    for got, want in zip(got_actuals, want_actuals, strict=True):
        assert _typed(got[:-1]) == _typed(want[:-1])
        assert rows.stamp(got.recorded_at) == want[-1]  # the stamp, read raw, converts to the ORM's datetime
    assert Report.Status.RETURNED not in {r.report_status for r in got_actuals}
    approved = sorted((r for actuals in rows.approved_actuals.values() for r in actuals), key=lambda r: r.id)
    assert [r.id for r in approved] == sorted(r[1] for r in want_actuals if r[7] == Report.Status.APPROVED)
    # each indicator's actuals stay in date order, as _latest_until needs them
    for actuals in rows.provisional_actuals.values():
        assert actuals == sorted(actuals, key=lambda r: (r.as_of, r.id))


def test_stored_scores_equal_the_engine_called_for_each_one(world):
    """The per-batch memo of engine results: every stored score is what a direct call gives, under the
    table's own policy (the whole-points table shares inputs with the others but not their results)."""
    tables_rescore(table_ids=[t.pk for t in world])
    policies = services.policies_by_table(world)
    scores = list(Score.objects.select_related("indicator", "actual", "table"))
    assert len(scores) > 40
    assert {s.official for s in scores} == {True, False}
    for score in scores:
        indicator, actual = score.indicator, score.actual
        policy = policies[score.table_id]
        want = scoring.score_indicator(
            rule=indicator.rule, target=indicator.target,
            actual=tidy_decimal(actual.value) if actual.value is not None else actual.met,
            weight=indicator.weight, policy=policy, grade=actual.grade or None, points=actual.points,
        )
        assert (score.points, score.ratio, score.explanation, score.flags, score.policy_version) == (
            want.points, want.ratio, want.explanation[:500], list(want.flags), policy.version), score
    whole_table = next(t for t in world if t.policy_id)
    assert all("按整数计分" in s.explanation for s in scores if s.table_id == whole_table.pk)
    assert not any("按整数计分" in s.explanation for s in scores if s.table_id != whole_table.pk)


def test_each_summary_last_update_is_the_latest_stamp(world):
    """Only each table's latest actual stamp is converted: it is the latest of what counts, or the 执行数's."""
    tables_rescore(table_ids=[t.pk for t in world])
    for table in world:
        latest = {}
        for actual in Actual.objects.filter(indicator__table=table).that_count().order_by("as_of", "id"):
            latest[actual.indicator_id] = actual.recorded_at
        stamps = list(latest.values()) + list(
            table.project.executions.values_list("recorded_at", flat=True).order_by("-as_of", "-id")[:1])
        assert TableSummary.objects.get(table=table).last_update == max(stamps)


def test_equal_targets_share_one_parsed_target_whatever_their_places():
    first = services._target("positive", Decimal("95.5000"), None, "%", ">=95.5%")
    assert services._target("positive", Decimal("95.5"), None, "%", ">=95.5%") is first
    assert (first.value, str(first.value)) == (Decimal("95.5"), "95.5")
    assert services._target("positive", Decimal("96"), None, "%", ">=95.5%") is not first
