"""The actuals import in bulk (issue 12): a few queries whatever the number of rows, the same checks, the
same all-or-nothing rule and the same rows written (reports, actuals, their history) as row by row."""
import csv
import datetime as dt
import io
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kpi.importers import actuals as importer
from kpi.importers.actuals import ACTUALS_COLUMNS, ActualsImportError, actuals_import
from kpi.models import Actual, GoalTable, Report
from kpi.reports.services import actual_record, report_submit
from kpi.rescoring.tasks import rescore_table
from tests.factories import ProjectFactory, UnitFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db
PER_TABLE = 10
# The history rows (of the new reports, of the actuals) go in by COPY on PostgreSQL, which the query log does
# not see: two statements fewer.
COPIED = 0 if connection.vendor == "sqlite" else 2
DATES = [dt.date(2026, m + 1, 1) - dt.timedelta(days=1) for m in range(1, 11)]  # 31 Jan … 31 Oct


@pytest.fixture(autouse=True)
def no_enqueue(monkeypatch):
    monkeypatch.setattr(rescore_table, "delay", lambda *args: None)


def build(tables: int):
    unit = UnitFactory(code="U7001", name="市卫健委")
    projects = []
    for number in range(tables):
        project = ProjectFactory(unit=unit, name=f"项目{number:02d}")
        table_with_indicators(project, rows=[("产出指标", "数量指标", f"指标{j}", ">=100人次", Decimal("10"))
                                             for j in range(PER_TABLE)])
        projects.append(project)
    return SimpleNamespace(unit=unit, projects=projects)


@pytest.fixture
def world():
    return build(10)


def file_of(world, *, tables: int, dates: int, value="120", bad: dict | None = None) -> bytes:
    """Rows over the first `tables` projects, every indicator, the first `dates` month ends; `bad` puts a
    value in the row of that index (0-based, data rows)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ACTUALS_COLUMNS)
    index = 0
    for as_of in DATES[:dates]:
        for project in world.projects[:tables]:
            for j in range(PER_TABLE):
                cell = (bad or {}).get(index, value)
                writer.writerow([project.name, f"指标{j}", as_of.isoformat(), cell, "", "", "", "", "", "", "", ""])
                index += 1
    return out.getvalue().encode()


def run(world, data, **kwargs):
    return actuals_import(unit=world.unit, year=2026, rows_source=data, filename="实际完成值.csv", **kwargs)


# --- constant in rows -------------------------------------------------------------------------------

@pytest.mark.parametrize("tables, dates", [(2, 1), (10, 2)])  # 20 rows, 200 rows
def test_an_import_takes_the_same_queries_for_20_rows_as_for_200(world, tables, dates, django_assert_num_queries):
    data = file_of(world, tables=tables, dates=dates)
    # read: projects, tables, indicators; year open; lock the tables, standing actuals, policies, year open
    # again inside, the reports of those dates; write: reports and their history, actuals, their history,
    # the tables marked changed; the import's transaction (a savepoint inside the test's).
    with django_assert_num_queries(16 - COPIED):
        result = run(world, data)
    assert result.recorded == tables * dates * PER_TABLE == Actual.objects.count()


@pytest.mark.parametrize("tables, dates", [(2, 1), (10, 2)])
def test_an_approved_import_and_a_correcting_one_take_constant_queries_too(world, tables, dates,
                                                                           django_assert_num_queries):
    user = UserFactory()
    with django_assert_num_queries(24 - COPIED):
        result = run(world, file_of(world, tables=tables, dates=dates), approve=True, user=user)
    assert result.reports_approved == tables * dates == Report.objects.filter(status=Report.Status.APPROVED).count()
    # every value changed: corrections of the approved actuals, in new drafts correcting the approved reports
    with django_assert_num_queries(16 - COPIED):
        again = run(world, file_of(world, tables=tables, dates=dates, value="130"), user=user)
    assert again.recorded == tables * dates * PER_TABLE
    drafts = Report.objects.filter(status=Report.Status.DRAFT)
    assert drafts.count() == tables * dates and all(d.replaces is not None for d in drafts)
    # and a re-import of that: nothing new, no write at all
    with django_assert_num_queries(9):
        assert run(world, file_of(world, tables=tables, dates=dates, value="130")).unchanged == again.recorded


# --- all or nothing ----------------------------------------------------------------------------------

def test_one_bad_row_among_many_writes_nothing_and_is_named(world):
    before = list(GoalTable.objects.order_by("pk").values_list("changed_at", flat=True))
    with pytest.raises(ActualsImportError) as caught:
        run(world, file_of(world, tables=10, dates=2, bad={137: "四十八"}))
    assert len(caught.value.errors) == 1 and caught.value.errors[0].startswith("第 139 行（实际完成值）：")
    assert Actual.objects.count() == Report.objects.count() == 0
    assert Actual.history.count() == Report.history.count() == 0
    assert list(GoalTable.objects.order_by("pk").values_list("changed_at", flat=True)) == before


def test_a_refusal_of_the_recording_stage_writes_nothing_either_and_lists_every_row(world):
    """A submitted report refuses every changed row of its table and date, as report_open refuses them; the
    other 190 rows, all fine, are not written."""
    first = world.projects[0].goal_tables.get().indicators.order_by("order")
    actual_record(indicator=first[0], as_of=DATES[0], value=Decimal("100"))
    report_submit(report=Report.objects.get())
    with pytest.raises(ActualsImportError) as caught:
        run(world, file_of(world, tables=10, dates=2))
    errors = caught.value.errors
    assert [e.split("：")[0] for e in errors] == [f"第 {n} 行" for n in range(2, 12)]
    assert all("已提交，正在等待审核，暂不能修改" in e for e in errors)
    assert Actual.objects.count() == 1 and Report.objects.count() == 1


def test_a_not_applicable_indicator_is_refused_as_actual_record_refuses_it(world):
    indicator = world.projects[0].goal_tables.get().indicators.get(name="指标3")
    indicator.not_applicable, indicator.not_applicable_reason = True, "本年度不开展"
    indicator.save(update_fields=["not_applicable", "not_applicable_reason"])
    with pytest.raises(ActualsImportError) as caught:
        run(world, file_of(world, tables=1, dates=1))
    assert caught.value.errors == ["第 5 行：该指标已标记为不适用，不能填报实际完成值。"]
    assert Actual.objects.count() == 0


# --- the same rows as row by row ---------------------------------------------------------------------

def test_the_rows_written_are_those_of_actual_record_with_their_history(world):
    user = UserFactory()
    table = world.projects[0].goal_tables.get()
    indicators = list(table.indicators.order_by("order"))
    run(world, file_of(world, tables=1, dates=1), approve=True, user=user)
    approved = Report.objects.get()
    corrected = run(world, file_of(world, tables=1, dates=1, value="150"), user=user)
    assert corrected.recorded == PER_TABLE
    draft = Report.objects.get(status=Report.Status.DRAFT)
    assert (draft.table, draft.as_of, draft.replaces, draft.created_by) == (table, DATES[0], approved, user)
    for indicator in indicators:
        old, new = Actual.objects.filter(indicator=indicator).order_by("id")
        assert (new.value, new.replaces, new.report, new.recorded_by) == (Decimal("150"), old, draft, user)
        assert old.report == approved and new.recorded_at is not None
        history = list(Actual.history.filter(id=new.pk))
        assert len(history) == 1
        row = history[0]
        assert (row.history_type, row.history_user, row.history_change_reason) == ("+", user, None)
        assert (row.value, row.as_of, row.indicator_id, row.report_id, row.replaces_id) == (
            Decimal("150"), DATES[0], indicator.pk, draft.pk, old.pk)
        assert row.recorded_at == new.recorded_at
    # the approved report's history: created, submitted, approved, each by the user who imported
    steps = list(Report.history.filter(id=approved.pk).order_by("history_id").values_list(
        "history_type", "status", "history_user"))
    assert steps == [("+", "draft", user.pk), ("~", "submitted", user.pk), ("~", "approved", user.pk)]
    approved.refresh_from_db()
    assert (approved.submitted_by, approved.reviewed_by) == (user, user)
    assert approved.submitted_at <= approved.reviewed_at
    assert list(Report.history.filter(id=draft.pk).values_list("history_type", flat=True)) == ["+"]


def test_the_tables_are_marked_and_rescored_once_each(world, monkeypatch, django_capture_on_commit_callbacks):
    calls = []
    real = importer.goal_tables_rescore_soon
    monkeypatch.setattr(importer, "goal_tables_rescore_soon", lambda *, table_ids: (calls.append(list(table_ids)),
                                                                                    real(table_ids=table_ids)))
    sent = []
    monkeypatch.setattr(rescore_table, "delay", lambda table_id: sent.append(table_id))
    with django_capture_on_commit_callbacks(execute=True):
        run(world, file_of(world, tables=3, dates=2))
    ids = [p.goal_tables.get().pk for p in world.projects[:3]]
    assert calls == [ids]
    assert sorted(sent) == sorted(ids)
    assert all(t.changed_at is not None for t in GoalTable.objects.filter(pk__in=ids))


# --- the check constraints, evaluated in Python -------------------------------------------------------

@pytest.mark.parametrize("fields", [
    {"value": Decimal("1")}, {"met": False}, {"grade": "达成年度指标", "points": Decimal("3")},
    {}, {"value": Decimal("1"), "points": Decimal("-1")}, {"points": Decimal("-2")}, {"grade": "", "met": None},
])
def test_the_constraints_are_judged_as_the_database_judges_them(world, fields):
    indicator = world.projects[0].goal_tables.get().indicators.first()
    actual = Actual(indicator=indicator, as_of=DATES[0], **fields)
    for constraint in Actual._meta.constraints:
        try:
            constraint.validate(Actual, actual)  # the database's verdict (SELECT 1 WHERE …)
            database = True
        except ValidationError:
            database = False
        assert (importer._condition(constraint.condition, actual) is not False) is database, constraint.name


def test_a_broken_constraint_is_a_message_of_the_row(world):
    indicator = world.projects[0].goal_tables.get().indicators.first()
    with pytest.raises(ValidationError) as caught:
        importer._actual_cleaned(Actual(indicator=indicator, as_of=DATES[0], points=Decimal("-1")))
    assert len(caught.value.messages) == 2


# --- how fast ------------------------------------------------------------------------------------------

def test_two_thousand_rows_per_second_printed(capsys):
    world = build(20)
    data = file_of(world, tables=20, dates=10)
    started = time.perf_counter()
    result = run(world, data)
    seconds = time.perf_counter() - started
    assert result.recorded == 2000
    with capsys.disabled():
        print(f"\nimport_actuals: 2000 rows in {seconds:.2f} s = {2000 / seconds:.0f} rows/s")
