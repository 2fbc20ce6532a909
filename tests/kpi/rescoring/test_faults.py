"""When the broker or a worker fails: what was saved stays saved, the user is told it was saved, and the
sweep finishes what the lost messages would have done."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from budgets.services import membership_grant
from kpi.models import Actual, GoalTable, RescoreJob, SelfEvalReport
from kpi.rescoring.services import rescore_job_create, rescore_job_plan, stale_tables_sweep, stalled_jobs_resume
from kpi.rescoring.tasks import rescore_batch, rescore_job_start, rescore_table
from tests.factories import ProjectFactory, UserFactory, table_with_indicators

pytestmark = pytest.mark.django_db


def broker_down(*args):
    raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")


def test_a_save_while_the_broker_is_down_succeeds_and_says_so(client, monkeypatch, caplog,
                                                             django_capture_on_commit_callbacks):
    monkeypatch.setattr(rescore_table, "delay", broker_down)
    lead = UserFactory()
    project = ProjectFactory(lead=lead)
    membership_grant(user=lead, unit=project.unit, role="lead")
    table, indicators = table_with_indicators(project)
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{reverse('reports:table', args=[table.pk])}?as_of=2026-07-31", {
            "action": "save", "as_of": "2026-07-31", f"i{indicators[1].pk}-value": "96",
        }, follow=True)
    assert response.status_code == 200
    assert "已保存 1 项" in response.content.decode()
    assert Actual.objects.filter(indicator=indicators[1], value=Decimal("96")).exists()
    assert any(getattr(r, "event", "") == "enqueue_failed" for r in caplog.records)
    assert GoalTable.objects.get(pk=table.pk).is_stale  # the sweep will rescore it
    assert stale_tables_sweep() == 1 and not GoalTable.objects.get(pk=table.pk).is_stale


def test_a_job_whose_start_message_was_lost_is_started_by_the_sweep(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(rescore_job_start, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        job = rescore_job_create(year=2026)
    assert RescoreJob.objects.get(pk=job.pk).status == "pending"
    sent = []
    monkeypatch.setattr(rescore_job_start, "delay", lambda *args: sent.append(args))
    assert stalled_jobs_resume() == 0  # too young to be called lost
    assert stalled_jobs_resume(now=timezone.now() + dt.timedelta(minutes=3)) == 1 and sent == [(job.pk,)]


def test_a_job_whose_worker_was_killed_gets_its_unfinished_batches_again(monkeypatch):
    for _ in range(3):
        table_with_indicators(ProjectFactory())
    monkeypatch.setattr("kpi.rescoring.services.RESCORE_BATCH_SIZE", 2)
    monkeypatch.setattr(rescore_job_start, "delay", lambda *args: None)
    job = rescore_job_create(year=2026)
    assert rescore_job_plan(job_id=job.pk) == [0, 1]  # running, two batches, no worker ever finishes them
    sent = []
    monkeypatch.setattr(rescore_batch, "delay", lambda *args: sent.append(args))
    assert stalled_jobs_resume() == 0  # still young
    later = timezone.now() + dt.timedelta(minutes=11)
    assert stalled_jobs_resume(now=later) == 1 and sent == [(job.pk, 0), (job.pk, 1)]
    rescore_batch.apply(args=[job.pk, 0]).get()
    rescore_batch.apply(args=[job.pk, 0]).get()  # delivered twice: counted once
    rescore_batch.apply(args=[job.pk, 1]).get()
    job.refresh_from_db()
    assert (job.status, job.done_tables, job.total_tables) == ("done", 3, 3)


def test_a_bundle_asked_for_while_the_broker_is_down_fails_at_once_and_says_why(
        client, monkeypatch, caplog, django_capture_on_commit_callbacks):
    from kpi.selfeval.services import BROKER_DOWN
    from kpi.selfeval.tasks import selfeval_bundle_run

    monkeypatch.setattr(selfeval_bundle_run, "delay", broker_down)
    admin = UserFactory()
    project = ProjectFactory()
    membership_grant(user=admin, unit=project.unit, role="admin")
    table_with_indicators(project)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("selfeval:bundle", args=[project.unit.pk, 2026]))
    assert response.status_code == 302  # the request itself succeeds
    bundle = SelfEvalReport.objects.get(unit=project.unit, table__isnull=True)
    assert (bundle.status, bundle.error) == ("failed", BROKER_DOWN)  # not 排队中 for an hour
    assert any(getattr(r, "event", "") == "enqueue_failed" for r in caplog.records)
    page = client.get(response["Location"]).content.decode()
    assert "任务队列暂时无法连接" in page and "失败" in page


def test_a_stalled_job_is_resent_once_per_interval_not_at_every_sweep(monkeypatch, settings):
    settings.JIXIAO_RESCORE_STALLED_SECONDS = 30  # the threshold comes from the settings
    table_with_indicators(ProjectFactory())
    monkeypatch.setattr(rescore_job_start, "delay", lambda *args: None)
    job = rescore_job_create(year=2026)
    assert rescore_job_plan(job_id=job.pk) == [0]
    sent = []
    monkeypatch.setattr(rescore_batch, "delay", lambda *args: sent.append(args))
    assert stalled_jobs_resume(now=timezone.now() + dt.timedelta(seconds=20)) == 0  # within the threshold
    later = timezone.now() + dt.timedelta(seconds=40)
    assert stalled_jobs_resume(now=later) == 1 and sent == [(job.pk, 0)]
    assert stalled_jobs_resume(now=later) == 0 and sent == [(job.pk, 0)]  # the next sweep: not again yet


def test_a_job_not_yet_planned_shows_0_percent_not_100(monkeypatch):
    monkeypatch.setattr(rescore_job_start, "delay", lambda *args: None)
    job = rescore_job_create(year=2026)  # its start message not yet run: no tables counted
    assert (job.status, job.total_tables, job.percent) == ("pending", 0, 0)
    assert rescore_job_plan(job_id=job.pk) == []  # nothing to do: done at once
    job.refresh_from_db()
    assert (job.status, job.percent) == ("done", 100)
