"""Celery tasks: what they enqueue, and bulk rescoring with stored, idempotent progress."""
import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from kpi.models import RescoreBatch, RescoreJob, Score, TableScore
from kpi.reports.services import actual_record
from kpi.rescoring import services as rescoring
from kpi.rescoring.services import rescore_batch_run, rescore_job_create, rescore_job_plan
from kpi.rescoring.tasks import rescore_all_nightly, rescore_batch, rescore_job_start, rescore_table
from tests.factories import ProjectFactory, RescoreJobFactory, UnitFactory, approve_reports, table_with_indicators

pytestmark = pytest.mark.django_db
JULY = dt.date(2026, 7, 31)


@pytest.fixture
def sent(monkeypatch):
    """Capture task messages instead of sending them to the broker."""
    messages = []
    for task in (rescore_table, rescore_job_start, rescore_batch):
        monkeypatch.setattr(task, "delay", lambda *args, _name=task.name: messages.append((_name, args)))
    return messages


def tables_with_actuals(count, unit=None, year=2026):
    unit = unit or UnitFactory()
    tables = []
    for _ in range(count):
        table, indicators = table_with_indicators(ProjectFactory(unit=unit, year=year))
        actual_record(indicator=indicators[0], as_of=dt.date(year, 7, 31), value=Decimal("50"))
        approve_reports(table)
        tables.append(table)
    return tables


def test_rescore_table_task_scores_the_table(sent):
    table, = tables_with_actuals(1)
    rescore_table.apply(args=[table.pk]).get()
    assert Score.objects.get(table=table).points == Decimal("20.00")
    rescore_table.apply(args=[table.pk]).get()  # twice: same single row
    assert Score.objects.filter(table=table).count() == 1


def test_bulk_job_fans_out_fixed_batches_and_reports_progress(sent, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(rescoring, "RESCORE_BATCH_SIZE", 2)
    unit = UnitFactory()
    tables = tables_with_actuals(5, unit=unit)
    tables_with_actuals(1)  # another unit: not part of the job
    with django_capture_on_commit_callbacks(execute=True):
        job = rescore_job_create(unit=unit, year=2026)
    assert sent[-1] == ("kpi.tasks.rescore_job_start", (job.pk,))

    sent.clear()
    rescore_job_start.apply(args=[job.pk]).get()
    assert sent == [("kpi.tasks.rescore_batch", (job.pk, i)) for i in range(3)]
    job.refresh_from_db()
    assert (job.status, job.total_tables, job.done_tables, job.percent) == ("running", 5, 0, 0)

    rescore_batch.apply(args=[job.pk, 0]).get()
    job.refresh_from_db()
    assert (job.done_tables, job.percent) == (2, 40)
    rescore_batch.apply(args=[job.pk, 0]).get()  # a redelivered batch counts once
    job.refresh_from_db()
    assert job.done_tables == 2

    for index in (1, 2):
        rescore_batch.apply(args=[job.pk, index]).get()
    job.refresh_from_db()
    assert (job.status, job.done_tables, job.percent) == ("done", 5, 100)
    assert job.finished_at is not None
    assert set(TableScore.objects.values_list("table_id", flat=True)) == {t.pk for t in tables}


def test_planning_twice_keeps_the_batches_and_returns_only_unfinished_ones(sent, monkeypatch):
    monkeypatch.setattr(rescoring, "RESCORE_BATCH_SIZE", 2)
    tables_with_actuals(3)
    job = RescoreJobFactory(year=2026)
    assert rescore_job_plan(job_id=job.pk) == [0, 1]
    rescore_batch_run(job_id=job.pk, index=0)
    assert rescore_job_plan(job_id=job.pk) == [1]
    assert RescoreBatch.objects.filter(job=job).count() == 2


def test_a_job_with_nothing_to_do_is_done_at_once(sent):
    job = RescoreJobFactory(year=1999)
    assert rescore_job_plan(job_id=job.pk) == []
    job.refresh_from_db()
    assert job.status == "done" and job.percent == 100


def test_nightly_task_queues_a_job_for_everything(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = rescore_all_nightly.apply().get()
    job = RescoreJob.objects.get(pk=job_id)
    assert job.unit is None and job.year is None
    assert sent == [("kpi.tasks.rescore_job_start", (job_id,))]


def test_nightly_rescore_is_scheduled_and_tasks_are_json_only():
    entry = settings.CELERY_BEAT_SCHEDULE["rescore-all-nightly"]
    assert entry["task"] == rescore_all_nightly.name
    assert entry["schedule"].hour == {2}
    assert settings.CELERY_TASK_SERIALIZER == "json" and settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_TIME_LIMIT > 0
    assert rescore_table.acks_late and rescore_batch.acks_late
