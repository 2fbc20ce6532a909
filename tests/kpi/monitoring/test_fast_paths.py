"""The faster paths of the 监控表 at 1,000 projects (issue 12) give what the plain ones gave: the latest actual
per indicator chosen in SQL (SQLite and PostgreSQL), each actual's report taken from its table's reports
without a query, a light that scores the actual only when the light depends on the score, and the form
built with the cyclic garbage collector paused."""
import datetime as dt
import gc
from decimal import Decimal

import pytest

from kpi import lights, scoring
from kpi.lights import Light, indicator_light, scored_light
from kpi.models import Actual, Report
from kpi.monitoring import xlsx
from kpi.monitoring.selectors import monitoring_report, newest_per_indicator
from kpi.reports.services import actual_record
from kpi.rescoring.tasks import rescore_table
from kpi.targets import parse_target
from tests.factories import ProjectFactory, UnitFactory, approve_reports, table_with_indicators

D = Decimal
YEAR = 2026
MAY, JUNE, JULY = dt.date(YEAR, 5, 31), dt.date(YEAR, 6, 30), dt.date(YEAR, 7, 31)
ROWS = [("产出指标", "数量指标", "培训人次", ">=120人次", D("40")), ("产出指标", "质量指标", "合格率", ">=95%", D("20"))]


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


@pytest.mark.django_db
def test_the_newest_actual_per_indicator_is_the_latest_that_counts_at_the_cut():
    unit = UnitFactory()
    table, (count, rate) = table_with_indicators(ProjectFactory(unit=unit, year=YEAR), rows=ROWS)
    actual_record(indicator=count, as_of=MAY, value=D("30"))
    actual_record(indicator=rate, as_of=MAY, value=D("90"))
    approve_reports(table)
    actual_record(indicator=count, as_of=JUNE, value=D("50"))
    actual_record(indicator=count, as_of=JUNE, value=D("55"))  # a correction of the same date: the later row
    actual_record(indicator=rate, as_of=JULY, value=D("10"))
    Report.objects.filter(table=table, as_of=JULY).update(status=Report.Status.RETURNED, review_note="数据有误")  # ignored

    def newest(cut):
        found = newest_per_indicator(Actual.objects.filter(indicator__table=table, as_of__lte=cut).that_count())
        return dict(found.values_list("indicator_id", "value"))

    assert newest(JULY) == {count.pk: D("55"), rate.pk: D("90")}
    assert newest(MAY) == {count.pk: D("30"), rate.pk: D("90")}
    assert newest(dt.date(YEAR, 4, 30)) == {}
    # The same as the plain reading it replaces: every row in date order, the last one per indicator kept.
    plain = {}
    for actual in Actual.objects.filter(indicator__table=table).that_count().order_by("as_of", "id"):
        plain[actual.indicator_id] = actual.value
    assert newest(JULY) == plain


@pytest.mark.django_db
def test_each_actuals_report_is_read_with_its_tables_reports(django_assert_num_queries):
    unit = UnitFactory()
    table, (count, rate) = table_with_indicators(ProjectFactory(unit=unit, year=YEAR), rows=ROWS)
    actual_record(indicator=count, as_of=JUNE, value=D("50"))
    approve_reports(table)
    actual_record(indicator=rate, as_of=JULY, value=D("96"))  # a draft of July
    report = monitoring_report(unit=unit, year=YEAR, cut=JULY)
    (block,) = report.blocks
    with django_assert_num_queries(0):
        assert [line.status_label for line in block.lines] == ["已审核", "暂报（草稿）"]
    assert [line.actual.report.as_of for line in block.lines] == [JUNE, JULY]


def test_a_light_scores_the_actual_only_when_the_light_depends_on_it(monkeypatch):
    calls = []
    real = scoring.score_indicator

    def counted(**kwargs):
        calls.append(kwargs["rule"])
        return real(**kwargs)

    monkeypatch.setattr(lights.scoring, "score_indicator", counted)
    common = {"weight": D("20"), "met": None, "grade": "", "points": None, "month": 7}
    # A cumulative count is judged by its progress (a × 12 / (t × m)), a reverse target by a ≤ t: no score.
    count = scored_light(rule=scoring.Rule.PROPORTIONAL.value, target=parse_target(">=120人次"), cumulative=True, value=D("70"), **common)
    cheap = scored_light(rule=scoring.Rule.PROPORTIONAL.value, target=parse_target("<=50元/人"), cumulative=False, value=D("40"), **common)
    assert (count, cheap, calls) == (Light.GREEN, Light.GREEN, [])
    # A level rate is judged by the engine's completion ratio: scored once, the same light as before.
    level = scored_light(rule=scoring.Rule.PROPORTIONAL.value, target=parse_target(">=95%"), cumulative=False, value=D("60"), **common)
    ratio = real(rule=scoring.Rule.PROPORTIONAL.value, target=parse_target(">=95%"), actual=D("60"), weight=D("20")).ratio
    assert len(calls) == 1
    assert level == indicator_light(kind="positive", cumulative=False, target_value=D("95"), actual=D("60"),
                                    score_ratio=ratio, month=7) == Light.YELLOW


def test_a_refused_actual_still_has_no_ratio():
    # The engine refuses a text target's number: the light falls back to what indicator_light says of None.
    light = scored_light(rule=scoring.Rule.PROPORTIONAL.value, target=parse_target("有效提升"), cumulative=False, value=None, met=None,
                         grade="", points=None, weight=D("10"), month=7)
    assert light == Light.NONE


def test_the_form_is_built_with_the_cyclic_collector_paused_and_then_restored(monkeypatch):
    seen = []
    monkeypatch.setattr(xlsx, "_workbook", lambda report, progress: seen.append(gc.isenabled()) or b"xlsx")
    assert gc.isenabled()
    assert xlsx.monitoring_workbook(object()) == b"xlsx"
    assert seen == [False] and gc.isenabled()

    def failing(report, progress):
        raise OSError("磁盘已满")

    monkeypatch.setattr(xlsx, "_workbook", failing)
    with pytest.raises(OSError):
        xlsx.monitoring_workbook(object())
    assert gc.isenabled()  # back on after a failure too
    gc.disable()
    try:
        with xlsx.without_cyclic_gc():
            pass
        assert not gc.isenabled()  # left off when it already was (a caller pausing it around more work)
    finally:
        gc.enable()
