"""What a policy change does, said before it is saved: the preview's figures are exactly what the rescore then
writes (indicator scores, totals, grades, the largest changes), it writes nothing, and `rescore --diff` prints
the same as JSON."""
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpi.models import GoalTable, Score, ScoringPolicy, TableScore
from kpi.rescoring.services import policy_change_preview, scoring_policy_save, tables_rescore_diff
from tests.factories import ScoringPolicyFactory, rescore_stale

from .conftest import scored_project

pytestmark = pytest.mark.django_db
D = Decimal
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def stored():
    """Every stored indicator score and total, keyed as the rescore writes them."""
    return (
        {(s.indicator_id, s.as_of, s.official): s.points for s in Score.objects.all()},
        {(t.table_id, t.as_of, t.official): (t.total, t.grade) for t in TableScore.objects.all()},
    )


def changed(before: dict, after: dict, pick=lambda v: v) -> int:
    return sum(1 for key in before.keys() | after.keys()
               if key not in before or key not in after or pick(before[key]) != pick(after[key]))


def latest_official(totals: dict, table_id: int):
    keys = [k for k in totals if k[0] == table_id and k[2]]
    return totals[max(keys, key=lambda k: k[1])] if keys else (None, "")


def assert_preview_is_what_the_rescore_writes(preview, before, after):
    scores_before, totals_before = before
    scores_after, totals_after = after
    assert preview.scores_changed == changed(scores_before, scores_after)
    assert preview.totals_changed == changed(totals_before, totals_after, lambda v: v[0])
    assert preview.grades_changed == changed(totals_before, totals_after, lambda v: v[1])
    for change in preview.changes:
        assert (change.old_total, change.old_grade) == latest_official(totals_before, change.table_id)
        assert (change.new_total, change.new_grade) == latest_official(totals_after, change.table_id)
    moved = {pk for pk, *_ in totals_before | totals_after
             if latest_official(totals_before, pk) != latest_official(totals_after, pk)}
    assert {c.table_id for c in preview.changes} == moved


def regional(**overrides) -> ScoringPolicy:
    settings = {"name": "新疆2026", "region": "新疆", "year": 2026, "execution_weight": D(20),
                "execution_caps": [[80, 89], [70, 79], [60, 69], [50, 59]], "overachievement_deduction": D(2),
                "whole_points": True}
    return ScoringPolicy(**{**settings, **overrides})


def test_a_new_policy_preview_is_what_the_rescore_then_writes(world):
    policy = regional()
    before = stored()
    with CaptureQueriesContext(connection) as queries:
        preview = policy_change_preview(policy=policy)
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert stored() == before and ScoringPolicy.objects.count() == 0

    assert preview.tables == 2 and preview.totals_changed and preview.grades_changed and preview.scores_changed
    scoring_policy_save(policy=policy)
    rescore_stale()
    assert_preview_is_what_the_rescore_writes(preview, before, stored())
    assert set(Score.objects.values_list("policy_version", flat=True)) == {"新疆2026@v1"}


def test_the_largest_change_comes_first_and_says_why(world):
    preview = policy_change_preview(policy=regional())
    first, second = preview.largest
    assert first.size >= second.size
    good = next(c for c in preview.changes if c.table_id == world.good[1].pk)
    # 培训项目 executed 75 of 100: below 80% its total is at most 89; 150 人次 is over 50%: 2 points off
    assert any("预算执行率 75% 低于 80%，总分最高 89 分" in r for r in good.reasons)
    assert any("培训人次" in r and "扣 2 分" in r for r in good.reasons)
    # 38 + 20 + 20 + 10 for the indicators (whole points), 20 × 75% = 15 for 执行率: 103, capped at 89
    assert (good.old_total, good.new_total, good.new_grade) == (D("97.50"), D("89.00"), "良")


def test_an_edit_preview_is_what_the_rescore_then_writes(world):
    policy = ScoringPolicyFactory(name="示范市2026", year=2026)
    rescore_stale()
    before = stored()
    policy.execution_weight = D(20)
    policy.execution_caps = [[90, 85]]
    preview = policy_change_preview(policy=policy)
    assert ScoringPolicy.objects.get(pk=policy.pk).version == 1  # nothing saved
    scoring_policy_save(policy=policy)
    assert policy.version == 2
    rescore_stale()
    assert_preview_is_what_the_rescore_writes(preview, before, stored())
    assert set(TableScore.objects.values_list("policy_version", flat=True)) == {"示范市2026@v2"}


def test_moving_a_policy_to_another_year_previews_its_old_tables_back_on_the_default(world):
    policy = ScoringPolicyFactory(name="示范市2026", year=2026, execution_weight=D(20))
    rescore_stale()
    before = stored()
    policy.year = 2027
    preview = policy_change_preview(policy=policy)
    assert preview.tables == 2  # the 2026 tables it scored go back to the default policy
    scoring_policy_save(policy=policy)
    rescore_stale()
    assert_preview_is_what_the_rescore_writes(preview, before, stored())
    assert set(TableScore.objects.values_list("policy_version", flat=True)) == {"default"}


def test_a_new_policy_of_a_year_that_has_one_scores_nothing(world):
    ScoringPolicyFactory(name="示范市2026", year=2026)
    rescore_stale()
    preview = policy_change_preview(policy=regional())
    assert (preview.tables, preview.scores_changed, preview.changes) == (0, 0, [])


def test_a_save_marks_only_the_tables_it_concerns(world):
    other_year, _, _ = scored_project(world.unit_a, "明年项目", values=["100", "95", "50", "90"], executed="100",
                                      year=2027, as_of=dt.date(2027, 12, 31))
    rescore_stale()
    scoring_policy_save(policy=regional())
    stale = {t.pk for t in GoalTable.objects.all() if t.is_stale}
    assert stale == {world.good[1].pk, world.fair[1].pk}
    assert other_year.goal_tables.get().pk not in stale


def test_rescore_diff_prints_the_preview_as_json_and_writes_nothing(world):
    ScoringPolicyFactory(name="新疆2026", year=2026, execution_weight=D(20), execution_caps=[[80, 89]],
                         whole_points=True)
    before = stored()
    scored_at = dict(GoalTable.objects.values_list("pk", "scored_at"))
    out = io.StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("rescore", "--year", "2026", "--diff", stdout=out)
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert stored() == before and dict(GoalTable.objects.values_list("pk", "scored_at")) == scored_at
    printed = json.loads(out.getvalue())
    assert set(printed) == {"scores_changed", "totals_changed", "grades_changed", "changes"}
    assert all(set(c) == {"table", "old_total", "new_total", "old_grade", "new_grade"} for c in printed["changes"])
    assert all(isinstance(printed[k], int) for k in ("scores_changed", "totals_changed", "grades_changed"))
    assert printed == tables_rescore_diff(table_ids=GoalTable.objects.values_list("pk", flat=True)).as_json()

    rescore_stale()
    after = stored()
    assert printed["scores_changed"] == changed(before[0], after[0])
    assert printed["totals_changed"] == changed(before[1], after[1], lambda v: v[0])
    assert printed["grades_changed"] == changed(before[1], after[1], lambda v: v[1])
    tables = {str(t): t.pk for t in GoalTable.objects.select_related("project")}
    for change in printed["changes"]:
        total, grade = latest_official(after[1], tables[change["table"]])
        assert (change["new_total"], change["new_grade"]) == (str(total), grade)
    # Once rescored, nothing is left to change.
    again = io.StringIO()
    call_command("rescore", "--year", "2026", "--diff", stdout=again)
    assert json.loads(again.getvalue()) == {"scores_changed": 0, "totals_changed": 0, "grades_changed": 0,
                                            "changes": []}


def test_rescore_diff_of_another_year_is_empty(world):
    out = io.StringIO()
    call_command("rescore", "--year", "2030", "--diff", stdout=out)
    assert json.loads(out.getvalue()) == {"scores_changed": 0, "totals_changed": 0, "grades_changed": 0,
                                          "changes": []}
