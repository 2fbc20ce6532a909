"""`objects_insert` writes exactly the rows `QuerySet.bulk_create` writes, and sets each instance's pk.

The bulk actuals import inserts its reports and actuals with it (and their history rows with `driver_rows`):
every column of every row, read back through the ORM with its type and digits, must be what bulk_create
stores for the same instances, on whichever database the suite runs."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpi.models import Actual, Report
from kpi.rescoring.bulk import objects_insert
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db

ROWS = [
    ("产出指标", "数量指标", "培训人次", ">=100人次", "30"),
    ("产出指标", "质量指标", "合格率", ">=95.5%", "30"),
    ("产出指标", "时效指标", "完成时间", "2026年10月底前", "30"),
]


@pytest.fixture
def tables():
    unit = UnitFactory()
    return [table_with_indicators(ProjectFactory(unit=unit, year=2026), rows=ROWS) for _ in range(2)]


def _instances(tables, user):
    """Unsaved reports and actuals pointing at them (the reports unsaved too): values of every kind, some blank."""
    reports, actuals = [], []
    for n, (table, indicators) in enumerate(tables):
        report = Report(table=table, as_of=dt.date(2026, 6, 30), created_by=user if n else None,
                        review_indicators=["合格率"] if n else [])
        reports.append(report)
        for i, indicator in enumerate(indicators):
            actuals.append(Actual(
                indicator=indicator, report=report, as_of=report.as_of,
                value=None if i == 2 else Decimal("97.125") + i, met=True if i == 2 else None,
                forecast=Decimal("120") if i == 0 else None, likelihood="有可能" if i else "",
                deviation_category="其他" if i == 1 else "", deviation_reason="进度滞后" if i == 1 else "",
                needs_rectification=bool(i % 2) if n else None, rectification_measures="加快进度" * n,
                recorded_by=user,
            ))
    return reports, actuals


def _stored(model, objs, *, drop=("id",)):
    rows = model.objects.filter(pk__in=[o.pk for o in objs]).order_by("pk").values()
    return [[(k, type(v).__name__, str(v)) for k, v in row.items() if k not in drop] for row in rows]


def _relabel(rows, ids):
    """Foreign keys to the reports of each set, by position: the two sets' reports have different ids."""
    position = {pk: n for n, pk in enumerate(ids)}
    return [[(k, t, str(position[int(v)]) if k in ("report_id",) and v != "None" else v) for k, t, v in row]
            for row in rows]


def test_objects_insert_stores_what_bulk_create_stores(tables):
    user = UserFactory()
    reports, actuals = _instances(tables, user)
    with CaptureQueriesContext(connection) as queries:
        objects_insert(Report, reports)
        objects_insert(Actual, actuals)
    assert len(queries) == 2  # one INSERT … RETURNING per model (under the batch size)
    assert all(r.pk for r in reports) and all(a.pk for a in actuals) and all(not a._state.adding for a in actuals)
    assert [a.report_id for a in actuals] == [a.report.pk for a in actuals]  # taken from the report saved after

    times = ("id", "created_at", "recorded_at")
    written = _stored(Report, reports, drop=times), _relabel(_stored(Actual, actuals, drop=times),
                                                             [r.pk for r in reports])
    # auto_now_add filled as bulk_create fills it, and the instance holds what was stored
    for actual in actuals:
        assert Actual.objects.get(pk=actual.pk).recorded_at == actual.recorded_at is not None
    Actual.objects.all().delete()
    Report.objects.all().delete()  # one open report per table and date: the same ones again

    orm_reports, orm_actuals = _instances(tables, user)
    Report.objects.bulk_create(orm_reports)
    Actual.objects.bulk_create(orm_actuals)
    assert written == (_stored(Report, orm_reports, drop=times),
                       _relabel(_stored(Actual, orm_actuals, drop=times), [r.pk for r in orm_reports]))


def test_objects_insert_batches_within_the_statement_limits(tables):
    reports, actuals = _instances(tables, None)
    objects_insert(Report, reports)
    with CaptureQueriesContext(connection) as queries:
        objects_insert(Actual, actuals, batch_size=4)
    assert len(queries) == 2  # 6 actuals, 4 a statement
    assert sorted(a.pk for a in actuals) == sorted(Actual.objects.values_list("pk", flat=True))
    assert Actual.objects.filter(pk=actuals[5].pk, indicator=actuals[5].indicator).exists()


# --- derived rows: no database constraint, deletes still cascade -------------------------------------

def test_deletes_still_reach_the_derived_rows_without_database_constraints(monkeypatch):
    """Scores, totals and summaries keep no foreign key constraint in the database (kpi.models.DERIVED): a
    delete through Django still removes them with their indicator or table, and an actual's delete
    leaves its score without it (SET_NULL), as the constraints' on_delete said."""
    from kpi.models import GoalTable, Indicator, Score, TableScore, TableSummary
    from kpi.reports.services import actual_record, execution_report
    from kpi.rescoring.services import tables_rescore

    monkeypatch.setattr("kpi.rescoring.tasks.rescore_table.delay", lambda *a, **k: None)
    unit = UnitFactory()
    built = []
    for _ in range(3):
        project = ProjectFactory(unit=unit, year=2026)
        table, indicators = table_with_indicators(project, rows=ROWS[:2])
        for indicator in indicators:
            actual_record(indicator=indicator, as_of=dt.date(2026, 6, 30), value=Decimal("97"))
        execution_report(project=project, as_of=dt.date(2026, 6, 30), executed=Decimal("10"))
        tables_rescore(table_ids=[table.pk])
        built.append((project, table, indicators))
    assert Score.objects.count() == 6 and TableScore.objects.count() and TableSummary.objects.count() == 3

    (_, _, first_indicators), (_, second_table, _), (third_project, third_table, _) = built
    Indicator.objects.filter(pk=first_indicators[0].pk).delete()
    assert not Score.objects.filter(indicator_id=first_indicators[0].pk).exists()
    Actual.objects.filter(indicator__table=second_table).delete()  # a report protects its table
    Report.objects.filter(table=second_table).delete()
    GoalTable.objects.filter(pk=second_table.pk).delete()
    assert not Score.objects.filter(table_id=second_table.pk).exists()
    assert not TableScore.objects.filter(table_id=second_table.pk).exists()
    assert not TableSummary.objects.filter(table_id=second_table.pk).exists()
    actual = Actual.objects.filter(indicator__table=third_table).first()
    score = Score.objects.get(actual=actual)
    Actual.objects.filter(pk=actual.pk).delete()
    score.refresh_from_db()
    assert score.actual_id is None
    assert Score.objects.count() == 1 + 2  # the first table's other indicator, the third table's two
    assert TableSummary.objects.filter(project=third_project).exists()
