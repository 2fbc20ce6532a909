"""A rescore keeps the stored score rows whose values did not change and replaces only the others (issue 12:
"a delete + re-insert of unchanged scores"), and what it leaves stored is always what a rescore from
nothing writes."""
import random

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from kpi.models import GoalTable, Indicator, Report, Score
from kpi.reports.services import actual_record, report_approve, report_return, report_submit
from kpi.rescoring.services import tables_rescore
from tests.factories import rescore_stale

from .test_summaries import DATES, _step, world  # noqa: F401  (world: the random year's fixture)

pytestmark = pytest.mark.django_db

COLUMNS = ("indicator_id", "table_id", "actual_id", "as_of", "official", "points", "ratio", "explanation",
           "flags", "policy_version")


def _scores() -> dict[tuple, dict]:
    return {(s["indicator_id"], s["as_of"], s["official"]): s
            for s in Score.objects.values("id", "computed_at", *COLUMNS)}


def _values(scores: dict) -> dict:
    return {key: {name: row[name] for name in COLUMNS} for key, row in scores.items()}


def _score_writes(queries) -> list[str]:
    return [q["sql"] for q in queries
            if ("INSERT INTO" in q["sql"] or "DELETE FROM" in q["sql"] or "COPY" in q["sql"])
            and '"kpi_score"' in q["sql"]]


def test_a_rescore_that_changes_nothing_writes_no_score_row(world):
    unit, tables = world
    rng = random.Random(3)
    for _ in range(30):
        _step(rng, unit, tables)
    rescore_stale()
    before = _scores()
    assert before, "the random year scored nothing"
    ids = [table.pk for table, _ in tables]
    with CaptureQueriesContext(connection) as queries:
        tables_rescore(table_ids=ids)
    assert _score_writes(queries.captured_queries) == []
    assert _scores() == before  # the same rows: ids and computed_at kept


def test_only_the_changed_indicator_s_rows_are_replaced(world):
    unit, tables = world
    table, indicators = tables[0]
    for indicator in indicators[:3]:
        actual_record(indicator=indicator, as_of=DATES[1], **_value_for(indicator, high=True))
    report = report_submit(report=Report.objects.get(table=table, as_of=DATES[1]))
    report_approve(report=report)
    rescore_stale()
    before = _scores()
    changed = indicators[0]
    actual_record(indicator=changed, as_of=DATES[1], **_value_for(changed, high=False))
    rescore_stale()
    after = _scores()
    kept = {key for key in before if key in after and after[key]["id"] == before[key]["id"]}
    # the official rows of the other two indicators are kept; the changed indicator gains a provisional row
    assert {key[0] for key in set(before) - kept} == set()
    new = set(after) - set(before)
    assert {key[0] for key in new} == {changed.pk} and all(not official for _, _, official in new)
    assert all(after[key] == before[key] for key in kept)


def test_a_score_whose_points_change_for_the_same_actual_is_replaced(world):
    unit, tables = world
    table, indicators = tables[2]
    for indicator in indicators[:2]:
        actual_record(indicator=indicator, as_of=DATES[1], **_value_for(indicator, high=False))
    rescore_stale()
    before = _scores()
    # the weight moves (as an adjustment would): same actual, other points and explanation
    Indicator.objects.filter(pk=indicators[0].pk).update(weight=F("weight") * 2)
    tables_rescore(table_ids=[table.pk])
    after = _scores()
    changed = {key for key in after if after[key]["id"] != before[key]["id"]}
    assert changed and {key[0] for key in changed} == {indicators[0].pk}
    assert all(after[key]["actual_id"] == before[key]["actual_id"] for key in changed)
    assert all(after[key]["points"] != before[key]["points"] for key in changed)


def test_a_withdrawn_actual_s_scores_are_deleted(world):
    unit, tables = world
    table, indicators = tables[1]
    actual_record(indicator=indicators[0], as_of=DATES[0], **_value_for(indicators[0], high=True))
    rescore_stale()
    assert Score.objects.filter(indicator=indicators[0]).exists()
    report = report_submit(report=Report.objects.get(table=table, as_of=DATES[0]))
    report_return(report=report, reason="数据有误")
    rescore_stale()
    assert not Score.objects.filter(indicator=indicators[0]).exists()


@pytest.mark.parametrize("seed", range(4))
def test_what_is_kept_is_what_a_rescore_from_nothing_writes(world, seed):
    unit, tables = world
    rng = random.Random(100 + seed)
    ids = [table.pk for table, _ in tables]
    replaced = kept = 0
    for _round in range(4):
        for _ in range(10):
            _step(rng, unit, tables)
        before = _scores()
        rescore_stale()
        tables_rescore(table_ids=ids)  # and once more: nothing changed since
        stored = _scores()
        kept += sum(1 for key, row in stored.items() if key in before and before[key]["id"] == row["id"])
        replaced += sum(1 for key, row in stored.items() if key not in before or before[key]["id"] != row["id"])
        Score.objects.all().delete()
        GoalTable.objects.update(scored_at=None)
        tables_rescore(table_ids=ids)
        assert _values(stored) == _values(_scores()), f"seed {seed}: kept rows differ from a fresh rescore"
    assert kept and replaced, (kept, replaced)


def _value_for(indicator, *, high: bool) -> dict:
    kind = indicator.target_kind
    if kind == "deadline":
        return {"met": high}
    if kind == "qualitative":
        return {"grade": "达成年度指标" if high else "未达成年度指标且效果较差"}
    target = indicator.target_value
    value = target if high else (target / 5).quantize(target)
    extra = {} if high else {"deviation_category": "其他", "deviation_reason": "进度滞后", "likelihood": "有可能"}
    return {"value": value, **extra}
